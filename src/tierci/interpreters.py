"""Finding the Pythons a tier runs on: one way for every session, lock and CI job.

``pythonX.Y`` on PATH first (a pyenv shim for a version pyenv does not select fails,
and is passed over), then pyenv's own copies (``$PYENV_ROOT/versions/X.Y.*``). nox, uv
and virtualenv look only on PATH, and uv would download an interpreter it does not
find: :func:`make_findable` puts each found one's folder on PATH and forbids those
downloads, so a missing Python is one line that says how to get it, never a download
attempt (a CI machine reaches no interpreter index; a laptop should not fetch one
behind its owner's back).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["find_python", "how_to_get", "make_findable"]

#: uv's switch for fetching interpreters it does not find (its default: automatic).
_UV_DOWNLOADS = "UV_PYTHON_DOWNLOADS"


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` (``3.12``) that runs, or None."""
    candidates = [
        Path(folder) / f"python{version}"
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if folder
    ]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(pyenv.glob(f"{version}.*/bin/python{version}"), key=_newest_first)
    for candidate in candidates:
        if os.access(candidate, os.X_OK) and _runs_as(candidate, version):
            return str(candidate)
    return None


def how_to_get(version: str) -> str:
    return (
        f"install Python {version}: python{version} on PATH (your system's package, or "
        f"`uv python install {version}` and its folder on PATH), or `pyenv install {version}`"
    )


def make_findable(versions: Iterable[str]) -> list[str]:
    """Put the folder of each of ``versions`` that :func:`find_python` finds on PATH
    (after everything else), and turn uv's interpreter downloads off unless the caller
    chose otherwise; return the versions found nowhere."""
    os.environ.setdefault(_UV_DOWNLOADS, "never")
    missing = []
    for version in dict.fromkeys(versions):
        found = find_python(version)
        if found is None:
            missing.append(version)
            continue
        folder = str(Path(found).parent)
        path = os.environ.get("PATH", "")
        if folder not in path.split(os.pathsep):
            os.environ["PATH"] = f"{path}{os.pathsep}{folder}" if path else folder
    return missing


def _runs_as(candidate: Path, version: str) -> bool:
    try:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and probe.stdout.strip() == version


def _newest_first(path: Path) -> tuple[int, ...]:
    """``3.12.10`` before ``3.12.9``: pyenv's folders by their patch number, newest first."""
    patch = path.parents[1].name.split(".")[2:3]
    return (-int(patch[0]),) if patch and patch[0].isdigit() else (0,)
