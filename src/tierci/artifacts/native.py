"""Native wheels: cibuildwheel where a container engine runs, an honest fallback elsewhere.

cibuildwheel builds manylinux wheels inside containers (docker or podman) and runs the
project's ``[tool.cibuildwheel] test-command`` against each installed wheel. Where no
engine answers (a laptop without docker, this kind of CI host), the fallback says so
and does what can be done for this interpreter: ``python -m build --wheel``,
``auditwheel repair`` to a manylinux tag, import verification of every declared native
module, and the same test-command against the repaired wheel in a fresh environment.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tomllib
from typing import TYPE_CHECKING

from tierci._proc import run, venv_environment
from tierci.artifacts.verify import installed_wheel
from tierci.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

__all__ = ["container_engine", "run_test_command", "test_command"]

_ENGINES = ("docker", "podman")


def container_engine() -> str | None:
    """The engine cibuildwheel would use, if one really answers (a client alone is not)."""
    preferred = os.environ.get("CIBW_CONTAINER_ENGINE", "").split(";")[0].strip()
    for engine in (preferred,) if preferred else _ENGINES:
        binary = shutil.which(engine)
        if binary is None:
            continue
        try:
            answered = (
                subprocess.run(
                    [binary, "info"], capture_output=True, check=False, timeout=30
                ).returncode
                == 0
            )
        except (OSError, subprocess.TimeoutExpired):
            answered = False
        if answered:
            return engine
    return None


def test_command(pyproject: Path) -> str:
    """``[tool.cibuildwheel] test-command`` of the project (required: wheels are tested)."""
    table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    command = table.get("tool", {}).get("cibuildwheel", {}).get("test-command")
    if not isinstance(command, str) or not command.strip():
        raise ConfigError(
            f"{pyproject}: [tool.cibuildwheel] has no test-command",
            fix='add test-command = "pytest {project}/tests --tier=unit": a wheel nobody '
            "tested is not a release candidate",
        )
    return command


def run_test_command(
    wheel: Path,
    *,
    project: Path,
    python: str,
    dependency_locks: Sequence[Path],
    log: Callable[[str], object],
    allowed_options: Sequence[str] = (),
) -> None:
    """The project's test-command against ``wheel`` installed in a fresh environment.

    As cibuildwheel does: ``{project}`` and ``{package}`` stand for the project folder,
    and the command runs outside it, so the installed wheel is what gets imported.
    """
    with installed_wheel(
        wheel, python=python, dependency_locks=dependency_locks, allowed_options=allowed_options
    ) as venv:
        workdir = venv.parent
        command = test_command(project / "pyproject.toml")
        expanded = command.replace("{project}", str(project)).replace("{package}", str(project))
        log(f"test-command against {wheel.name}: {expanded}")
        run(
            shlex.split(expanded),
            what=f"the test-command against the built wheel {wheel.name}",
            fix="the tests pass from the source tree but not from the wheel: "
            "something is missing from the wheel, or only works in the checkout",
            cwd=workdir,
            env=venv_environment(venv),
        )
