"""Where and on what a run happened: commit, python, platform.

CI systems tell the commit through variables (a detached or shallow checkout may not
know its branch); a laptop asks git. A working tree with changes that git would commit
(modified, staged or untracked files that are not ignored, other than what the tiers
themselves write: ``.nox``, ``build``, caches) is not its HEAD: its runs are filed as
``<sha>+dirty``, never as the commit. Nothing here fails: unknown is a value.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "DIRTY_SUFFIX",
    "base_branch",
    "ci_job",
    "commit_sha",
    "commit_time",
    "current_branch",
    "host_name",
    "platform_tag",
    "python_version",
]

#: Marks the results of a working tree that is not exactly its commit.
DIRTY_SUFFIX = "+dirty"

# In order of trust: the CI system's own statement of what it is testing.
_COMMIT_VARIABLES = ("TIERCI_COMMIT", "GITHUB_SHA", "GIT_COMMIT", "CI_COMMIT_SHA")


_BRANCH_VARIABLES = (
    "TIERCI_BRANCH",
    "GITHUB_HEAD_REF",
    "GITHUB_REF_NAME",
    "BRANCH_NAME",
    "GIT_BRANCH",
)
_JOB_VARIABLES = ("TIERCI_JOB", "GITHUB_JOB", "JOB_NAME", "CI_JOB_NAME")


def _first_variable(names: tuple[str, ...]) -> str:
    return next((os.environ[n].strip() for n in names if os.environ.get(n, "").strip()), "")


def _git(cwd: Path | None, *args: str) -> str:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return completed.stdout.strip() if completed.returncode == 0 else ""


def commit_sha(cwd: Path | None = None) -> str:
    """The commit under test (``<sha>+dirty`` for a changed working tree), or
    ``"unknown"`` outside a git checkout."""
    given = _first_variable(_COMMIT_VARIABLES)
    if given:
        return given
    head = _git(cwd, "rev-parse", "HEAD")
    if not head:
        return "unknown"
    changed = _git(cwd, "status", "--porcelain", "--untracked-files=all", "--", ":/", *_OUTPUTS)
    return head + DIRTY_SUFFIX if changed else head


#: What tiers and tools write into a project while they run, ignored by .gitignore or
#: not: never a change to what is tested (pathspecs, relative to the project folder).
_OUTPUTS = (
    ":!.nox",
    ":!build",
    ":!dist",
    ":!.wheelhouse",
    ":!.venv",
    ":(exclude,glob)**/__pycache__/**",
    ":(exclude,glob)**/.pytest_cache/**",
    ":(exclude,glob)**/.mypy_cache/**",
    ":(exclude,glob)**/.ruff_cache/**",
    ":(exclude,glob)**/*.egg-info/**",
)


def current_branch(cwd: Path | None = None) -> str:
    branch = _first_variable(_BRANCH_VARIABLES) or _git(cwd, "rev-parse", "--abbrev-ref", "HEAD")
    return "" if branch == "HEAD" else branch


def commit_time(sha: str | None, cwd: Path | None = None) -> str:
    """The commit's committer time (ISO 8601), or empty when git does not know it (a
    dirty tree's results have no commit time: they are ordered by when they came)."""
    if sha is not None and sha.endswith(DIRTY_SUFFIX):
        return ""
    return _git(cwd, "show", "-s", "--format=%cI", sha or "HEAD")


_BASE_VARIABLES = ("TIERCI_BASE_BRANCH", "GITHUB_BASE_REF", "CHANGE_TARGET")


def base_branch(root: Path | None = None, configured: str = "") -> str:
    """The branch failures are compared against: the configured one, else the pull
    request's target as CI names it, else the repository's default branch, else main."""
    if configured:
        return configured
    found = _first_variable(_BASE_VARIABLES)
    if found:
        return found
    default = _git(root, "symbolic-ref", "--short", "refs/remotes/origin/HEAD")
    return default.split("/", 1)[1] if "/" in default else "main"


def ci_job() -> str:
    return _first_variable(_JOB_VARIABLES) or "local"


def host_name() -> str:
    return socket.gethostname()


def python_version() -> str:
    return ".".join(str(part) for part in sys.version_info[:3])


def platform_tag() -> str:
    """``linux-x86_64`` style: the OS and machine a result belongs to."""
    return f"{sys.platform}-{platform.machine().lower() or 'unknown'}"
