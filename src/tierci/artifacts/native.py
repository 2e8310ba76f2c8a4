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
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tierci._proc import run, venv_environment
from tierci.artifacts.verify import installed_wheel
from tierci.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

__all__ = ["WheelTestStep", "container_engine", "run_test_command", "test_command", "test_step"]

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


@dataclass(frozen=True, kw_only=True)
class WheelTestStep:
    """``[tool.cibuildwheel]``'s test settings, as cibuildwheel reads them."""

    command: str
    #: Requirements the tests need beside the wheel (``test-requires``).
    requires: tuple[str, ...] = ()
    #: Extras of the wheel installed with it (``test-extras``).
    extras: tuple[str, ...] = ()
    #: Files and folders copied (relative to the project) into the folder the command
    #: runs in (``test-sources``).
    sources: tuple[str, ...] = ()


def _words(value: object, *, separator: str | None, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(word.strip() for word in value.split(separator) if word.strip())
    if isinstance(value, list) and all(isinstance(word, str) for word in value):
        return tuple(word.strip() for word in value if word.strip())
    raise ConfigError(
        f"{where} is neither a string nor a list of strings",
        fix='write it as cibuildwheel documents it, e.g. test-requires = ["pytest"]',
    )


def test_step(pyproject: Path) -> WheelTestStep:
    """The project's test step (a test-command is required: wheels are tested)."""
    table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    settings = table.get("tool", {}).get("cibuildwheel", {})
    command = settings.get("test-command")
    if isinstance(command, list):  # cibuildwheel joins a list with " && "
        command = " && ".join(str(part) for part in command)
    if not isinstance(command, str) or not command.strip():
        raise ConfigError(
            f"{pyproject}: [tool.cibuildwheel] has no test-command",
            fix='add test-command = "pytest {project}/tests --tier=unit": a wheel nobody '
            "tested is not a release candidate",
        )
    where = f"{pyproject}: [tool.cibuildwheel]"
    return WheelTestStep(
        command=command,
        requires=_words(
            settings.get("test-requires"), separator=None, where=f"{where} test-requires"
        ),
        extras=_words(settings.get("test-extras"), separator=",", where=f"{where} test-extras"),
        sources=_words(settings.get("test-sources"), separator=None, where=f"{where} test-sources"),
    )


def test_command(pyproject: Path) -> str:
    """``[tool.cibuildwheel] test-command`` of the project."""
    return test_step(pyproject).command


def run_test_command(
    wheel: Path,
    *,
    project: Path,
    python: str,
    dependency_locks: Sequence[Path],
    log: Callable[[str], object],
    allowed_options: Sequence[str] = (),
) -> None:
    """The project's test step against ``wheel`` installed in a fresh environment, as
    cibuildwheel runs it: ``{project}`` and ``{package}`` stand for the project folder;
    ``test-sources`` are copied into an empty folder the command runs in (never the
    checkout, so the installed wheel is what gets imported); the command runs through
    ``sh -c``. ``test-requires`` and ``test-extras`` are not resolved here: what they
    name must already be among the pinned dependencies (the locks), or the step fails
    naming them, since an unpinned install is not the set the tests were locked with.
    """
    step = test_step(project / "pyproject.toml")
    with installed_wheel(
        wheel, python=python, dependency_locks=dependency_locks, allowed_options=allowed_options
    ) as venv:
        _check_pinned(step, wheel, venv, dependency_locks)
        workdir = venv.parent / "test-sources"
        workdir.mkdir()
        for source in step.sources:
            origin = project / source
            if not origin.exists():
                raise ConfigError(
                    f"{project / 'pyproject.toml'}: test-sources names {source}, which "
                    f"{project} does not have",
                    fix="list paths relative to the project folder",
                )
            target = workdir / source
            target.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                shutil.copytree(origin, target)
            else:
                shutil.copy2(origin, target)
        expanded = step.command.replace("{project}", str(project)).replace(
            "{package}", str(project)
        )
        log(f"test-command against {wheel.name}: sh -c {shlex.quote(expanded)}")
        run(
            ["sh", "-c", expanded],
            what=f"the test-command against the built wheel {wheel.name}",
            fix="the tests pass from the source tree but not from the wheel: "
            "something is missing from the wheel, or only works in the checkout",
            cwd=workdir,
            env=venv_environment(venv),
        )


def _check_pinned(step: WheelTestStep, wheel: Path, venv: Path, locks: Sequence[Path]) -> None:
    """test-requires, and the requirements of test-extras, must be installed already."""
    installed = _installed(venv)
    wanted = [Requirement(text) for text in step.requires]
    if step.extras:
        with zipfile.ZipFile(wheel) as archive:
            metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            lines = archive.read(metadata).decode("utf-8").splitlines()
        for line in lines:
            if not line.startswith("Requires-Dist:"):
                continue
            requirement = Requirement(line.partition(":")[2].strip())
            marker = requirement.marker
            if marker is not None and any(
                marker.evaluate({"extra": extra}) for extra in step.extras
            ):
                wanted.append(requirement)
    missing = [
        str(requirement)
        for requirement in wanted
        if canonicalize_name(requirement.name) not in installed
        or (
            requirement.specifier
            and not requirement.specifier.contains(
                installed[canonicalize_name(requirement.name)], prereleases=True
            )
        )
    ]
    if missing:
        raise ConfigError(
            f"the wheel's test step needs {', '.join(missing)} (test-requires / test-extras), "
            f"which the pinned dependencies ({', '.join(lock.name for lock in locks)}) do not have",
            fix="add them to the test tier's .in and run `nox -s lock`: the wheel is tested "
            "with pinned packages only",
        )


def _installed(venv: Path) -> dict[str, str]:
    """name -> version of what the venv holds, from its dist-info folders."""
    found: dict[str, str] = {}
    for info in venv.glob("lib/*/site-packages/*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        found[canonicalize_name(name)] = version
    return found
