"""What `tierci init` reads from an existing project before writing anything: its
package, layout, compiled extensions, tests and markers, mypy, CI files."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tierci.config import import_name
from tierci.errors import ConfigError
from tierci.project_files import read_utf8

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ProjectFacts", "detect"]

#: Build backends tierci init knows, by the module ``build-backend`` names.
BACKENDS = {
    "setuptools.build_meta": "setuptools",
    "hatchling.build": "hatchling",
    "mesonpy": "meson-python",
    "scikit_build_core.build": "scikit-build-core",
    "maturin": "maturin",
    "flit_core.buildapi": "flit",
    "pdm.backend": "pdm",
    "poetry.core.masonry.api": "poetry",
}
_SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".pyx", ".rs")
_PYINIT = re.compile(r"\bPyInit_(\w+)|#\[pymodule\]\s*(?:#\[[^\]]*\]\s*)*fn\s+(\w+)")
_SETUP_EXTENSION = re.compile(r"Extension\(\s*(?:name\s*=\s*)?['\"]([\w.]+)['\"]")
_MARKER = re.compile(r"\bmark\.(heavy|device|e2e)\b")
_TEST_EXTRAS = ("test", "tests", "testing")
_SKIPPED_FOLDERS = {".git", ".nox", ".venv", "venv", "build", "dist", "node_modules", ".tox"}


@dataclass(frozen=True, kw_only=True)
class ProjectFacts:
    root: Path
    name: str
    #: The import name of the top-level package.
    package: str
    #: "src" or "flat".
    layout: str
    backend: str
    #: Compiled modules (``pkg._core``) the wheel must contain.
    native_modules: tuple[str, ...]
    tests_dir: str | None
    #: Markers of tierci's tiers the tests use: heavy, device, e2e.
    markers: frozenset[str]
    #: Requirements of the project's test extra or dependency group.
    test_requirements: tuple[str, ...]
    mypy: bool
    github: bool
    jenkins: bool
    has_tierci_table: bool
    has_cibuildwheel_table: bool


def detect(root: Path) -> ProjectFacts:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        raise ConfigError(
            f"{root} has no pyproject.toml: tierci init adopts a pyproject-based project",
            fix="run it in the project's folder, or add a pyproject.toml with [project] first",
        )
    try:
        data = tomllib.loads(read_utf8(pyproject))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{pyproject}: not valid TOML: {exc}", fix="correct the syntax at the named line"
        ) from exc
    project: dict[str, Any] = data.get("project", {})
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"{pyproject}: no [project] name",
            fix='add [project] with name = "…" and version (PEP 621)',
        )
    tool: dict[str, Any] = data.get("tool", {})
    backend_module = data.get("build-system", {}).get("build-backend", "setuptools.build_meta")
    layout, package_dir = _package(root, name, tool)
    tests_dir = next((d for d in ("tests", "test") if (root / d).is_dir()), None)
    return ProjectFacts(
        root=root,
        name=name,
        package=package_dir.name,
        layout=layout,
        backend=BACKENDS.get(backend_module, backend_module),
        native_modules=_native_modules(root, package_dir, tool),
        tests_dir=tests_dir,
        markers=_markers(root / tests_dir) if tests_dir else frozenset(),
        test_requirements=_test_requirements(data),
        mypy="mypy" in tool or any((root / f).is_file() for f in ("mypy.ini", ".mypy.ini")),
        github=(root / ".github").is_dir(),
        jenkins=(root / "Jenkinsfile").is_file(),
        has_tierci_table="tierci" in tool,
        has_cibuildwheel_table="cibuildwheel" in tool,
    )


def _package(root: Path, name: str, tool: dict[str, Any]) -> tuple[str, Path]:
    conventional = import_name(name)
    module_name = str(tool.get("maturin", {}).get("module-name", "")).split(".")[0]
    wanted = [n for n in (module_name, conventional) if n]
    for layout, base in (("src", root / "src"), ("flat", root)):
        for candidate in wanted:
            if (base / candidate).is_dir():
                return layout, base / candidate
    packages = sorted(p.parent for p in (root / "src").glob("*/__init__.py"))
    if packages:
        return "src", packages[0]
    packages = sorted(
        p.parent for p in root.glob("*/__init__.py") if p.parent.name not in ("tests", "test")
    )
    if packages:
        return "flat", packages[0]
    raise ConfigError(
        f"{root}: no package folder for {name!r} (looked for src/{conventional}/ and "
        f"{conventional}/)",
        fix='name the import package in [tool.tierci] package = "…" and run init again',
    )


def _native_modules(root: Path, package_dir: Path, tool: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    setup_py = root / "setup.py"
    if setup_py.is_file():
        found += _SETUP_EXTENSION.findall(setup_py.read_text(encoding="utf-8", errors="replace"))
    for entry in tool.get("setuptools", {}).get("ext-modules", []):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            found.append(entry["name"])
    module_name = tool.get("maturin", {}).get("module-name")
    if isinstance(module_name, str) and "." in module_name:
        found.append(module_name)
    if not found:
        found += _modules_from_sources(root, package_dir)
    return tuple(dict.fromkeys(found))


def _modules_from_sources(root: Path, package_dir: Path) -> list[str]:
    """``PyInit_x`` (C, C++), ``#[pymodule] fn x`` (Rust), ``x.pyx``: modules named by
    their sources, placed in the package folder the source sits in (else the top).

    Only the package's own sources count (a vendored library's or a test's ``.c``
    is not a module of the package), and Rust's where a ``Cargo.toml`` builds them."""
    sources = [p for p in _files(package_dir, _SOURCE_SUFFIXES) if p.suffix != ".rs"]
    if (root / "Cargo.toml").is_file():
        sources += _files(root, (".rs",))
    modules = []
    for source in sorted(sources):
        if {"tests", "test", "third_party", "vendor"} & set(source.relative_to(root).parts):
            continue
        text = source.read_text(encoding="utf-8", errors="replace")
        names = [a or b for a, b in _PYINIT.findall(text)]
        if source.suffix == ".pyx":
            names = [source.stem]
        for name in names:
            inside = source.parent
            if inside.is_relative_to(package_dir):
                parts = (package_dir.name, *inside.relative_to(package_dir).parts)
                modules.append(".".join((*parts, name)))
            else:
                modules.append(f"{package_dir.name}.{name}")
    return modules


def _markers(tests: Path) -> frozenset[str]:
    found: set[str] = set()
    for path in _files(tests, (".py",)):
        found |= set(_MARKER.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(found)


def _test_requirements(data: dict[str, Any]) -> tuple[str, ...]:
    extras = data.get("project", {}).get("optional-dependencies", {})
    groups = data.get("dependency-groups", {})
    for name in _TEST_EXTRAS:
        for table in (groups, extras):
            entries = table.get(name)
            if isinstance(entries, list):
                return tuple(e for e in entries if isinstance(e, str))
    return ()


def _files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root).parts
        if any(part in _SKIPPED_FOLDERS or part.startswith(".") for part in relative[:-1]):
            continue
        if path.suffix in suffixes and path.is_file():
            found.append(path)
    return found
