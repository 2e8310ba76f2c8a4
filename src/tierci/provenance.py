"""Where and on what a run happened: commit, python, platform.

CI systems tell the commit through variables (a detached or shallow checkout may not
know its branch); a laptop asks git. A working tree with changes that git would commit
(modified, staged or untracked files that are not ignored, other than what the tiers
themselves write: ``.nox``, ``build``, caches) is not its HEAD: its runs are filed as
``<sha>+dirty.<state>``, never as the commit, where ``<state>`` is a digest of what
differs from HEAD: two different edits are two rows, and one edit's results never fill
another's cells. Nothing here fails: unknown is a value.
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "COMMIT_VARIABLE",
    "DIRTY_SUFFIX",
    "base_branch",
    "ci_job",
    "commit_sha",
    "commit_time",
    "current_branch",
    "host_name",
    "is_dirty",
    "pin_commit",
    "platform_tag",
    "python_version",
    "short_commit",
    "stated_commit",
]

#: Marks the results of a working tree that is not exactly its commit (``<sha>+dirty.<state>``).
DIRTY_SUFFIX = "+dirty"
#: The commit under test, as a person or an invocation states it (first in trust).
COMMIT_VARIABLE = "TIERCI_COMMIT"

# In order of trust: the CI system's own statement of what it is testing.
_COMMIT_VARIABLES = (COMMIT_VARIABLE, "GITHUB_SHA", "GIT_COMMIT", "CI_COMMIT_SHA")
# Files larger than this stand in the digest by size and modification time: a dataset
# someone left untracked must not make every invocation read gigabytes.
_HASHED_BYTES_MAX = 16 * 1024 * 1024
_STATE_DIGITS = 8


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


def _git_bytes(cwd: Path | None, *args: str) -> bytes | None:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, check=False, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout if completed.returncode == 0 else None


def _git(cwd: Path | None, *args: str) -> str:
    output = _git_bytes(cwd, *args)
    return "" if output is None else output.decode("utf-8", "replace").strip()


def is_dirty(sha: str) -> bool:
    """Whether ``sha`` names a working tree's results rather than a commit's."""
    return DIRTY_SUFFIX in sha


def short_commit(sha: str) -> str:
    """The abbreviated commit, as people read it; a working tree's keeps its mark and
    state (``0123456789ab+dirty.1f2e3d4c``)."""
    head, mark, state = sha.partition(DIRTY_SUFFIX)
    return head[:12] + mark + state


def commit_sha(cwd: Path | None = None) -> str:
    """The commit under test (``<sha>+dirty.<state>`` for a changed working tree), or
    ``"unknown"`` outside a git checkout."""
    given = _first_variable(_COMMIT_VARIABLES)
    if given:
        return given
    head = _git(cwd, "rev-parse", "HEAD")
    if not head:
        return "unknown"
    state = _working_tree_state(cwd)
    return f"{head}{DIRTY_SUFFIX}.{state}" if state else head


def stated_commit() -> str:
    """The commit CI (or ``TIERCI_COMMIT``) says is under test; empty where none does."""
    return _first_variable(_COMMIT_VARIABLES)


def pin_commit(cwd: Path | None = None) -> str:
    """State this invocation's commit once, for every tier and process it starts:
    the tree as it was when the invocation began is what it tests, and an edit made
    while it runs must not split one run's results over two rows. CI states its own
    commit, so this pins nothing there."""
    given = _first_variable(_COMMIT_VARIABLES)
    if given:
        return given
    sha = commit_sha(cwd)
    if sha != "unknown":
        os.environ[COMMIT_VARIABLE] = sha
    return sha


def _working_tree_state(cwd: Path | None) -> str:
    """A digest of how the working tree differs from HEAD (empty: it does not).

    Read-only: git lists what changed, and each changed file's bytes are hashed here,
    so nothing is written into the repository."""
    listing = _git_bytes(
        cwd,
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--no-renames",
        "--",
        ":/",
        *_OUTPUTS,
    )
    if not listing:
        return ""
    top = _git(cwd, "rev-parse", "--show-toplevel")
    root = Path(top) if top else Path(cwd or ".")
    digest = hashlib.sha256()
    for code, path in sorted(_changed_paths(listing)):
        digest.update(code + b"\0" + path + b"\0" + _content_digest(root / os.fsdecode(path)))
    return digest.hexdigest()[:_STATE_DIGITS]


def _changed_paths(listing: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(status code, path from the repository root) for each entry of ``status -z``."""
    for entry in listing.split(b"\0"):
        code, separator, path = entry[:2], entry[2:3], entry[3:]
        if separator == b" " and path:  # "XY path"
            yield code, path


def _content_digest(path: Path) -> bytes:
    try:
        status = path.lstat()
    except OSError:
        return b"absent"
    if path.is_symlink():
        return b"link:" + os.fsencode(path.readlink())
    if not path.is_file():  # a submodule or another repository: its own HEAD
        return b"folder:" + _git(path, "rev-parse", "HEAD").encode()
    if status.st_size > _HASHED_BYTES_MAX:
        return f"large:{status.st_size}:{status.st_mtime_ns}".encode()
    try:
        with path.open("rb") as stream:
            return hashlib.file_digest(stream, "sha256").digest()
    except OSError:
        return b"unreadable"


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
    if sha is not None and is_dirty(sha):
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
