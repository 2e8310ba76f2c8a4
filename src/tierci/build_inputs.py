"""What a project's compiled modules are built from, as one digest.

A reused environment holds the project installed (editable) with its extension modules
built at install time; an edited C file or header changes nothing pyproject.toml says,
so without this digest the stale build would be tested. The inputs are the project's
files that build tools read: sources and headers of C, C++, Cython, Rust, Fortran and
CUDA, and the build configuration (setup.py, setup.cfg, pyproject.toml, CMake, Meson,
Cargo), among the files git tracks or would track (untracked, not ignored), read from
the working tree so that an uncommitted edit counts. Outside a git checkout, every such
file under the project but build output folders.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

__all__ = ["build_inputs", "build_inputs_digest", "project_name"]

_SOURCE_SUFFIXES = frozenset(
    [
        ".c",
        ".h",
        ".cc",
        ".cpp",
        ".cxx",
        ".hh",
        ".hpp",
        ".hxx",
        ".ipp",
        ".pyx",
        ".pxd",
        ".pxi",
        ".rs",
        ".f",
        ".f90",
        ".f95",
        ".cu",
        ".cuh",
        ".m",
        ".mm",
    ]
)
_CONFIG_NAMES = frozenset(
    [
        "setup.py",
        "setup.cfg",
        "pyproject.toml",
        "MANIFEST.in",
        "CMakeLists.txt",
        "meson.build",
        "meson.options",
        "meson_options.txt",
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
    ]
)
_NOT_SOURCES = frozenset({".git", ".nox", ".tox", ".venv", "build", "dist", "__pycache__"})


def build_inputs(project: Path) -> list[Path]:
    """The files the build reads, relative to ``project``, sorted."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=project,
        capture_output=True,
        check=False,
    )
    if listed.returncode == 0:
        candidates = [Path(name) for name in listed.stdout.decode().split("\0") if name]
    else:
        candidates = [
            path.relative_to(project)
            for path in project.rglob("*")
            if not _NOT_SOURCES.intersection(path.relative_to(project).parts)
        ]
    return sorted(
        path
        for path in candidates
        if (path.suffix in _SOURCE_SUFFIXES or path.name in _CONFIG_NAMES)
        and (project / path).is_file()
    )


def build_inputs_digest(project: Path) -> str:
    digest = hashlib.sha256()
    for path in build_inputs(project):
        digest.update(f"{path.as_posix()}\0".encode())
        digest.update(hashlib.sha256((project / path).read_bytes()).digest())
    return digest.hexdigest()


def project_name(project: Path) -> str:
    """``[project].name`` of ``project``'s pyproject.toml (the folder's name without one)."""
    import tomllib  # noqa: PLC0415 - only for projects with compiled modules

    try:
        data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return project.name
    name = data.get("project", {}).get("name")
    return name if isinstance(name, str) and name else project.name
