"""Invoke tasks, one per nox session (Jenkins stages call these), plus `inv ci`."""

from __future__ import annotations

import sys
from pathlib import Path

# Like noxfile.py: the bootstrap interpreter uses this checkout's tierci.
sys.path.insert(0, str(Path(__file__).parent / "src"))

from tierci.invoke_tasks import nox_collection

ns = nox_collection(Path(__file__).parent)
