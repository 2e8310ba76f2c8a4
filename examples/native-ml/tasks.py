"""Invoke tasks for Jenkins stages: `inv unit` runs exactly `nox -s unit`; `inv ci` all."""

from pathlib import Path

from tierci.invoke_tasks import nox_collection

ns = nox_collection(Path(__file__).parent)
