"""Helpers of the tests that drive real processes: nox, invoke, tierci, git, in real
projects and virtual environments. Their fixtures are in tests/conftest.py."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).parents[1]
SAMPLE = REPO / "tests" / "fixtures" / "sample-project"

#: What a CI system, a terminal or a user's shell sets and tierci (or a tool it runs)
#: reads: which commit, branch, tag, job or run this is, where the history lives, how
#: wide and colourful output is. A test that needs one sets it itself.
_AMBIENT_PREFIXES = (
    "GITHUB_",
    "RUNNER_",
    "ACTIONS_",
    "JENKINS_",
    "HUDSON_",
    "BUILD_",
    "CHANGE_",
    "GIT_",
    "CI_",
    "GITLAB_",
    "BUILDKITE",
    "CIRCLE",
    "TRAVIS",
    "TIERCI_",
)
_AMBIENT_NAMES = frozenset(
    {
        "CI",
        "BRANCH_NAME",
        "TAG_NAME",
        "TAG_TIMESTAMP",
        "TAG_DATE",
        "JOB_NAME",
        "JOB_BASE_NAME",
        "JOB_URL",
        "NODE_NAME",
        "NODE_LABELS",
        "EXECUTOR_NUMBER",
        "WORKSPACE",
        "COLUMNS",
        "LINES",
        "FORCE_COLOR",
        "NO_COLOR",
        "TTY_COMPATIBLE",
        "TTY_INTERACTIVE",
        "VIRTUAL_ENV",
    }
)
#: The test harness's own switches (.ci/run sets them), and the machine's mirror of the
#: wheelhouse's sources: what the suite must do here, never who or where it runs.
HARNESS_VARIABLES = frozenset(
    {"TIERCI_REQUIRE_POSTGRES", "TIERCI_REQUIRE_CI_LINTERS", "TIERCI_WHEELHOUSE_PIP_ARGS"}
)


def is_ambient(name: str) -> bool:
    """Whether ``name`` is a variable of the machine's CI, shell or terminal that no
    test may depend on (see ``_AMBIENT_PREFIXES``)."""
    if name in HARNESS_VARIABLES:
        return False
    return name in _AMBIENT_NAMES or name.startswith(_AMBIENT_PREFIXES)


#: Every test runs in this locale, whatever the machine's: tools' messages read alike.
LOCALE = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "LANGUAGE": ""}


@dataclass
class Ran:
    returncode: int
    output: str

    def __str__(self) -> str:
        return f"exit {self.returncode}\n{self.output}"


def run(command: list[str], cwd: Path, **env: str) -> Ran:
    """``command`` in ``cwd`` with ``env`` added, its output (stderr into stdout) kept."""
    return run_within(command, cwd, 600, env)


def run_within(
    command: list[str], cwd: Path, timeout_s: float, env: Mapping[str, str] | None = None
) -> Ran:
    """:func:`run`, which may take at most ``timeout_s``: a hang fails the test."""
    # The inner nox makes its own environments (no VIRTUAL_ENV), and the commit is the
    # project's own (git), never the one CI is testing.
    environment = {k: v for k, v in os.environ.items() if not is_ambient(k)}
    environment.update(LOCALE)
    environment.update(env or {})
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=timeout_s,
    )
    return Ran(completed.returncode, completed.stdout)


def tierci_command(project: Path, *args: str) -> list[str]:
    """``tierci --project PROJECT ARGS`` as this interpreter runs it."""
    return [sys.executable, "-m", "tierci.cli", "--project", str(project), *args]


def tierci(project: Path, *args: str, **env: str) -> Ran:
    return run(tierci_command(project, *args), project, **env)


def nox(*args: str, cwd: Path) -> Ran:
    return run([sys.executable, "-m", "nox", *args], cwd)


def inv(*args: str, cwd: Path) -> Ran:
    return run([sys.executable, "-m", "invoke", *args], cwd)


def write_files(root: Path, files: Mapping[str, str]) -> None:
    """A project's files (path → text, dedented), folders made as needed."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def head_commit(project: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()


def commit_all(project: Path) -> None:
    """A git repository with everything committed: tierci reads the commit from it."""
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        [
            "git",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-qm",
            "sample",
        ],
    ):
        subprocess.run(command, cwd=project, check=True)


_TIERCI_PIN = re.compile(r"^tierci==\S+ \\\n(?:\s+--hash=\S+(?: \\)?\n)+", re.MULTILINE)


def pin_tierci(locks: Path, wheel: Path) -> None:
    """Point every lock's ``tierci==`` pin at ``wheel`` (until tierci is on an index).

    The locks were compiled against some build of tierci; the tests must run this one.
    """
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    line = f"tierci @ {wheel.as_uri()} \\\n    --hash=sha256:{digest}\n"
    for lock in locks.glob("*.txt"):
        text = lock.read_text(encoding="utf-8")
        lock.write_text(_TIERCI_PIN.sub(lambda _: line, text), encoding="utf-8")


_OPEN_CONNECTIONS: list[sqlite3.Connection] = []


def sqlite_connect(database: Path | str, **options: Any) -> sqlite3.Connection:
    """``sqlite3.connect`` for a test's own look at a history file, closed when the test
    ends (by the ``_close_sqlite_connections`` fixture): Python 3.13 warns about a
    connection that is only garbage-collected, and the tests run with warnings as errors."""
    connection: sqlite3.Connection = sqlite3.connect(database, **options)
    _OPEN_CONNECTIONS.append(connection)
    return connection


def close_sqlite_connections() -> None:
    while _OPEN_CONNECTIONS:
        _OPEN_CONNECTIONS.pop().close()
