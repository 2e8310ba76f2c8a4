"""The one way tierci runs another program, finds uv, and names a venv's interpreter.

``run`` takes an argv list (never a shell string), and on a non-zero exit raises the
*caller's* error class with the caller's fix: a failed ``uv pip sync`` inside a
wheelhouse install is a ``CommandFailedError``, a failed build inside a release a
``ReleaseError``, each with the exit code of its kind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from tierci.errors import CommandFailedError, TierciError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["find_uv", "run", "venv_environment", "venv_python_of"]

_SHOWN_ARGS = 4  # of a failed command, enough words to recognise it


def run(
    command: Sequence[str],
    *,
    what: str = "",
    fix: str = "read the tool's output above",
    error: type[TierciError] = CommandFailedError,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = False,
    redact: Callable[[str], str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command``; a non-zero exit raises ``error(what failed, fix=fix)``.

    With ``capture`` the output is kept (and quoted in the error, through ``redact``
    where it may hold a secret); otherwise it goes to this process's stdout/stderr as
    it happens.
    """
    completed = subprocess.run(
        list(command),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=capture,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        shown = what or " ".join([Path(command[0]).name, *command[1:_SHOWN_ARGS]])
        output = f"\n{completed.stdout or ''}{completed.stderr or ''}".rstrip() if capture else ""
        if redact is not None:
            output = redact(output)
        raise error(f"{shown} failed (exit {completed.returncode}){output}", fix=fix)
    return completed


@cache
def find_uv() -> str:
    """uv from the ``uv`` package of this interpreter, else from PATH."""
    try:
        from uv import find_uv_bin  # noqa: PLC0415 - optional: uv may be a system binary

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found is None:
        raise CommandFailedError(
            "uv was not found: tierci syncs every tier's environment with `uv pip sync`",
            fix="pip install -r requirements/bootstrap.txt (it pins uv), or put uv on PATH",
        )
    return found


def venv_python_of(venv: Path) -> Path:
    """The interpreter of the virtual environment at ``venv``."""
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def venv_environment(venv: Path) -> dict[str, str]:
    """This process's environment with ``venv`` activated (and no PYTHONPATH leaking in)."""
    environment = {
        **os.environ,
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv_python_of(venv).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    environment.pop("PYTHONPATH", None)
    return environment
