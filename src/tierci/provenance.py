"""Where and on what a run happened: commit, python, platform.

CI systems tell the commit through variables (a detached or shallow checkout may not
know its branch); a laptop asks git. Nothing here fails: unknown is a value.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["commit_sha", "platform_tag", "python_version"]

# In order of trust: the CI system's own statement of what it is testing.
_COMMIT_VARIABLES = ("TIERCI_COMMIT", "GITHUB_SHA", "GIT_COMMIT", "CI_COMMIT_SHA")


def commit_sha(cwd: Path | None = None) -> str:
    """The commit under test, or ``"unknown"`` outside a git checkout."""
    for variable in _COMMIT_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    sha = completed.stdout.strip()
    return sha if completed.returncode == 0 and sha else "unknown"


def python_version() -> str:
    return ".".join(str(part) for part in sys.version_info[:3])


def platform_tag() -> str:
    """``linux-x86_64`` style: the OS and machine a result belongs to."""
    return f"{sys.platform}-{platform.machine().lower() or 'unknown'}"
