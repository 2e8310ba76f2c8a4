"""Import-verifying a built wheel where it will really be used: installed, elsewhere.

A wheel that lacks a module (or its compiled core) imports fine from the source tree
and fails after install. So: a fresh virtual environment in a temporary folder outside
the source tree, the wheel installed into it, every module of the package imported
from there by an isolated interpreter (``python -I``: no PYTHONPATH, no cwd on sys.path).
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tierci._proc import find_uv, run, venv_python_of
from tierci.errors import CommandFailedError
from tierci.locks.lockfile import read_locks

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator, Sequence

__all__ = [
    "WheelCheck",
    "fresh_venv",
    "installed_wheel",
    "source_modules",
    "verify_wheel_imports",
]

# Runs inside the fresh environment: imports every module of the package and reports.
_IMPORT_ALL = r"""
import importlib, json, pkgutil, sys, traceback
package_name = sys.argv[1]
report = {"location": None, "imported": [], "failed": {}, "needs": {}}
try:
    package = importlib.import_module(package_name)
except Exception:
    report["failed"][package_name] = traceback.format_exc(limit=3)
else:
    report["location"] = package.__file__
    report["imported"].append(package_name)
    for info in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
        try:
            importlib.import_module(info.name)
            report["imported"].append(info.name)
        except ModuleNotFoundError as exc:
            needed = (exc.name or "").split(".")[0]
            report["needs"][info.name] = [needed, traceback.format_exc(limit=3)]
        except Exception:
            report["failed"][info.name] = traceback.format_exc(limit=3)
import importlib.machinery
report["native"] = {}
for name in json.loads(sys.argv[2]):
    try:
        path = importlib.import_module(name).__file__ or ""
    except Exception:
        report["native"][name] = "import failed: " + traceback.format_exc(limit=2)
        continue
    compiled = path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    report["native"][name] = "" if compiled else f"imported from {path}, not a compiled module"
print(json.dumps(report))
"""


@dataclass(frozen=True, kw_only=True)
class WheelCheck:
    wheel: Path
    location: str
    imported: tuple[str, ...]
    #: Modules not imported because they need an optional extra's dependency (torch).
    needs_extras: tuple[str, ...] = ()


def source_modules(package_dir: Path) -> set[str]:
    """Dotted names of every module under a source package folder."""
    names = set()
    for path in package_dir.rglob("*.py"):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def verify_wheel_imports(
    wheel: Path,
    *,
    package: str,
    python: str = sys.executable,
    dependency_locks: Sequence[Path] = (),
    expected_modules: set[str] | None = None,
    native_modules: Sequence[str] = (),
    allowed_options: Sequence[str] = (),
) -> WheelCheck:
    """Install ``wheel`` (``installed_wheel``) and import all of it, from outside the tree.

    Every module in ``native_modules`` must be in the wheel as a compiled file and
    import as one.
    """
    _check_native_files(wheel, native_modules)
    with installed_wheel(
        wheel, python=python, dependency_locks=dependency_locks, allowed_options=allowed_options
    ) as venv:
        workdir = venv.parent
        venv_python = str(venv_python_of(venv))
        completed = _step(
            [venv_python, "-I", "-c", _IMPORT_ALL, package, json.dumps(list(native_modules))],
            cwd=workdir,
        )
        report = json.loads(completed.stdout.strip().splitlines()[-1])
        needs_extras = _sort_missing_dependencies(wheel, report)
        _judge(wheel, package, report, venv, (expected_modules or set()) - set(needs_extras))
        return WheelCheck(
            wheel=wheel,
            location=str(report["location"]),
            imported=tuple(report["imported"]),
            needs_extras=tuple(needs_extras),
        )


@contextlib.contextmanager
def fresh_venv(python: str) -> Iterator[Path]:
    """A new venv (uv) in a temporary folder outside any source tree; removed after."""
    with tempfile.TemporaryDirectory(prefix="tierci-venv-") as scratch:
        venv = Path(scratch) / "venv"
        _step([find_uv(), "venv", "--quiet", "--python", python, str(venv)], cwd=venv.parent)
        yield venv


@contextlib.contextmanager
def installed_wheel(
    wheel: Path,
    *,
    python: str,
    dependency_locks: Sequence[Path] = (),
    allowed_options: Sequence[str] = (),
) -> Iterator[Path]:
    """A ``fresh_venv`` holding ``wheel``.

    Dependencies come from hashed locks (the wheel itself goes in with ``--no-deps``),
    so nothing is resolved and exactly the pinned set is tested. Each lock is read
    strictly first (``allowed_options``: ``[tool.tierci] lock_options``), so a bad one
    fails before any environment is made. Yields the venv.
    """
    read_locks(dependency_locks, allowed_options=allowed_options)
    uv = find_uv()
    with fresh_venv(python) as venv:
        workdir = venv.parent
        venv_python = str(venv_python_of(venv))
        pip_install = [uv, "pip", "install", "--quiet", "--python", venv_python]
        for lock in dependency_locks:
            _step([*pip_install, "--require-hashes", "-r", str(lock)], cwd=workdir)
        _step([*pip_install, "--no-deps", str(wheel)], cwd=workdir)
        yield venv


def _check_native_files(wheel: Path, native_modules: Sequence[str]) -> None:
    """Each native module must be a compiled file in the wheel (``pkg/_core*.so``)."""
    if not native_modules:
        return
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    compiled = (".so", ".pyd")
    absent = [
        module
        for module in native_modules
        if not any(
            name.startswith(module.replace(".", "/") + ".") and name.endswith(compiled)
            for name in names
        )
    ]
    if absent:
        raise CommandFailedError(
            f"{wheel.name} lacks its compiled module(s) {', '.join(absent)}: no "
            f"{absent[0].replace('.', '/')}.*.so (or .pyd) in the wheel. Installed, it would "
            "fail to import, or silently run a slow fallback",
            fix="check that the build compiled the extension (a compiler, the ext_modules / "
            "build-backend configuration) and that nothing disabled it",
        )


def _sort_missing_dependencies(wheel: Path, report: dict[str, Any]) -> list[str]:
    """A module that needs an optional extra's dependency is not a broken wheel.

    ``native_ml.torch_ops`` needs torch, which only ``native-ml[torch]`` installs: it is
    noted, not failed. A missing dependency that no extra declares is a failure.
    """
    optional = _optional_dependencies(wheel)
    needs_extras = []
    for module, (dependency, trace) in sorted(report["needs"].items()):
        if canonicalize_name(dependency) in optional:
            needs_extras.append(module)
        else:
            report["failed"][module] = trace
    return needs_extras


def _optional_dependencies(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        metadata = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
        text = archive.read(metadata).decode("utf-8") if metadata else ""
    optional: set[str] = set()
    for line in text.splitlines():
        if line.startswith("Requires-Dist:"):
            requirement = Requirement(line.removeprefix("Requires-Dist:").strip())
            if requirement.marker is not None and "extra" in str(requirement.marker):
                optional.add(canonicalize_name(requirement.name))
    return optional


def _judge(
    wheel: Path,
    package: str,
    report: dict[str, object],
    venv: Path,
    expected_modules: set[str] | None,
) -> None:
    failed = report["failed"]
    assert isinstance(failed, dict)  # noqa: S101 - the shape our own script prints
    if failed:
        details = "\n".join(f"  {name}:\n{error}" for name, error in sorted(failed.items()))
        raise CommandFailedError(
            f"{wheel.name}: {len(failed)} module(s) failed to import after install:\n{details}",
            fix="a module imports something the wheel does not ship or declare: add the "
            "file to the wheel, or the dependency to [project].dependencies",
        )
    native = report.get("native", {})
    assert isinstance(native, dict)  # noqa: S101 - the shape our own script prints
    broken = {name: why for name, why in native.items() if why}
    if broken:
        details = "\n".join(f"  {name}: {why}" for name, why in sorted(broken.items()))
        raise CommandFailedError(
            f"{wheel.name}: native module(s) did not import as compiled code:\n{details}",
            fix="the compiled module must be built for this interpreter and platform",
        )
    location = str(report["location"])
    if not Path(location).resolve().is_relative_to(venv.resolve()):
        raise CommandFailedError(
            f"{wheel.name}: {package} was imported from {location}, not from the fresh env",
            fix="something puts the source tree on sys.path (a .pth file or PYTHONPATH)",
        )
    imported = report["imported"]
    assert isinstance(imported, list)  # noqa: S101 - the shape our own script prints
    missing = sorted((expected_modules or set()) - set(imported))
    if missing:
        raise CommandFailedError(
            f"{wheel.name}: the wheel lacks modules the source tree has: {', '.join(missing)}",
            fix="include them in the wheel (e.g. [tool.hatch.build.targets.wheel] packages)",
        )


def _step(command: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(
        command,
        what=f"import verification step {' '.join(command[:4])} …",
        capture=True,
        cwd=cwd,
    )
