"""Hashed lock files per tier: ``requirements/<name>.in`` → ``requirements/<name>.txt``.

Compiling uses pip-tools (``pip-compile --generate-hashes``). Each lock carries a
digest of everything it was compiled from (its ``.in``, the locks it is layered on
with ``-c``/``-r``, and the project's own dependencies where the lock includes them),
so ``check`` tells a stale lock offline, instantly, and without re-resolving. It also
checks the wheelhouse's built-wheel file beside the locks (``wheelhouse-built.txt``):
an entry whose pin no lock has, or whose sdist its lock no longer lists, is stale.

The project's runtime dependencies (``[project].dependencies``) are compiled into every
lock except those used only by tiers with ``install_project = false``: an environment
that installs the project must hold everything it imports.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING

from tierci import _proc, interpreters
from tierci.errors import CommandFailedError, ConfigError, LockError
from tierci.locks.matrix import merge_for_pythons

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from tierci.config import TierciConfig

__all__ = [
    "DIGEST_PREFIX",
    "LockSpec",
    "StaleLock",
    "compile_lock",
    "compile_locks",
    "find_stale",
    "input_digest",
    "lock_specs",
    "recorded_digest",
]

DIGEST_PREFIX = "# tierci-input-digest: "
_REFERENCE = re.compile(r"^\s*(?:-c|-r|--constraint|--requirement)[\s=]+(\S+)")


@dataclass(frozen=True, kw_only=True)
class LockSpec:
    """One lock to keep: its input, its output and whether the project's deps are in it."""

    source: Path
    lock: Path
    includes_project: bool
    #: The Pythons its tiers run on: compiled on each, merged (locks/matrix.py).
    pythons: tuple[str, ...] = ()
    #: Extras of the project whose dependencies it holds too (with the project's).
    extras: tuple[str, ...] = ()
    #: Option lines naming where packages PyPI lacks come from (locks/sources.py),
    #: written into the lock, and pip-compile's arguments for the same sources.
    source_lines: tuple[str, ...] = ()
    source_arguments: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.lock.stem


@dataclass(frozen=True, kw_only=True)
class StaleLock:
    spec: LockSpec
    reason: str


def lock_specs(config: TierciConfig, requirements_dir: Path | None = None) -> list[LockSpec]:
    """Every ``*.in`` under the requirements folder, in layering order (``-c`` targets first).

    The folder is where the tiers' locks live (``requirements/`` by default).
    """
    folder = requirements_dir or _requirements_dir(config)
    tiers_by_lock: dict[Path, list[bool]] = {}
    pythons_by_lock: dict[Path, list[str]] = {}
    for tier in config.tiers.values():
        tiers_by_lock.setdefault(tier.lock.resolve(), []).append(tier.install_project)
        pythons = pythons_by_lock.setdefault(tier.lock.resolve(), [])
        pythons += [python for python in tier.pythons if python not in pythons]
    # heavy(env=NAME) sessions sync an env's lock and install the project like heavy does.
    heavy = config.tiers.get("heavy")
    for env in config.envs.values():
        tiers_by_lock.setdefault(env.lock.resolve(), []).append(
            heavy.install_project if heavy else True
        )
    specs = {}
    for source in sorted(folder.glob("*.in")):
        lock = source.with_suffix(".txt")
        installs = tiers_by_lock.get(lock.resolve())
        # A tier lock includes the project's dependencies whenever one of its tiers
        # installs the project; any other lock only when the config names it.
        includes_project = (
            any(installs) if installs else lock.stem in config.project_dependency_locks
        )
        specs[lock.resolve()] = LockSpec(
            source=source,
            lock=lock,
            includes_project=includes_project,
            pythons=tuple(pythons_by_lock.get(lock.resolve(), ())),
            extras=config.project_extras if includes_project else (),
            source_lines=config.sources.option_lines(lock.parent) if config.sources else (),
            source_arguments=tuple(config.sources.compile_arguments() if config.sources else ()),
        )
    return _layering_order(specs)


def _requirements_dir(config: TierciConfig) -> Path:
    folders = {tier.lock.parent for tier in config.tiers.values()}
    return folders.pop() if len(folders) == 1 else config.root / "requirements"


def _layering_order(specs: dict[Path, LockSpec]) -> list[LockSpec]:
    graph: dict[Path, set[Path]] = {}
    for key, spec in specs.items():
        graph[key] = {ref for ref in _references(spec.source) if ref in specs}
    try:
        return [specs[key] for key in TopologicalSorter(graph).static_order()]
    except CycleError as exc:
        raise LockError(
            f"requirements files constrain each other in a cycle: {exc.args[1]}",
            fix="layer them one way only, e.g. heavy.in has -c unit.txt, unit.in has no -c",
        ) from exc


def _references(source: Path) -> list[Path]:
    """Files named by ``-c``/``-r`` lines, as the lock paths they stand for."""
    refs = []
    for line in source.read_text(encoding="utf-8").splitlines():
        match = _REFERENCE.match(line)
        if match:
            refs.append((source.parent / match.group(1)).with_suffix(".txt").resolve())
    return refs


def _requirement_lines(path: Path) -> list[str]:
    """A requirements file without comments, blank lines and surrounding whitespace."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            lines.append(line)
    return lines


def _project_dependencies(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    return [
        f"requires-python {project.get('requires-python', '')}",
        *sorted(project.get("dependencies", [])),
        *(
            f"[{extra}] {dep}"
            for extra, deps in sorted(project.get("optional-dependencies", {}).items())
            for dep in sorted(deps)
        ),
    ]


def input_digest(spec: LockSpec, pyproject: Path) -> str:
    """sha256 over what ``spec``'s lock is compiled from; comments do not count."""
    digest = hashlib.sha256()
    for line in _requirement_lines(spec.source):
        digest.update(f"in {line}\n".encode())
        match = _REFERENCE.match(line)
        if match:
            referenced = spec.source.parent / match.group(1)
            if referenced.is_file():
                for ref_line in _requirement_lines(referenced):
                    digest.update(f"ref {ref_line}\n".encode())
    if spec.includes_project:
        for dep in _project_dependencies(pyproject):
            digest.update(f"project {dep}\n".encode())
    if spec.extras:
        digest.update(f"extras {' '.join(spec.extras)}\n".encode())
    if spec.pythons:  # another set of Pythons is another lock
        digest.update(f"pythons {' '.join(spec.pythons)}\n".encode())
    for line in spec.source_lines:
        digest.update(f"source {line}\n".encode())
    return f"sha256:{digest.hexdigest()}"


def recorded_digest(lock: Path) -> str | None:
    """The input digest a lock was stamped with, or None if it has none."""
    with lock.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(DIGEST_PREFIX):
                return line[len(DIGEST_PREFIX) :].strip()
            if not line.startswith("#"):
                return None
    return None


def find_stale(
    specs: Iterable[LockSpec], pyproject: Path, *, lock_options: Iterable[str] | None = None
) -> list[StaleLock]:
    """Locks missing, unstamped, or compiled from inputs that have changed since; and
    stale entries of a ``wheelhouse-built.txt`` beside them.

    ``lock_options``: ``[tool.tierci] lock_options`` (read from ``pyproject`` if None and
    a built-wheel file is there to check).
    """
    specs = list(specs)
    stale = []
    for spec in specs:
        if not spec.lock.is_file():
            stale.append(StaleLock(spec=spec, reason=f"{spec.lock.name} does not exist"))
            continue
        recorded = recorded_digest(spec.lock)
        if recorded is None:
            stale.append(StaleLock(spec=spec, reason="no tierci input digest in its header"))
        elif recorded != input_digest(spec, pyproject):
            stale.append(StaleLock(spec=spec, reason=f"{spec.source.name} changed since"))
        stale += [
            StaleLock(spec=spec, reason=why) for why in _machine_paths(spec.lock, pyproject.parent)
        ]
    return stale + _stale_built_entries(specs, pyproject, lock_options)


_LOCATION_OPTION = re.compile(
    r"(?:^|\s)(?:-f|-i|--find(?:-links?)?|--(?:extra-)?index(?:-url?)?)(?:[\s=]+|(?=[/~]))(\S+)",
    re.IGNORECASE,
)


def _machine_paths(lock: Path, root: Path) -> list[str]:
    """A committed lock that names a path of one machine (``file:///home/me/x.whl``,
    ``--find-links /srv/wheels``, a folder outside the repository) installs nowhere else."""
    found = []
    for number, line in enumerate(lock.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        locations = [m.group(1) for m in _LOCATION_OPTION.finditer(line)]
        local = re.search(r"@\s*file:", line, re.IGNORECASE) is not None or any(
            _outside(location, lock.parent, root) for location in locations
        )
        if local:
            found.append(
                f"line {number} names a path of this machine ({line.strip()[:80]}), which no "
                "other machine has: put the wheel in a folder named in [tool.tierci] find_links"
            )
    return found


def _outside(location: str, folder: Path, root: Path) -> bool:
    if re.match(r"(?i)https?://", location):
        return False
    if re.match(r"(?i)file:|[/~\\]|[A-Za-z]:", location):
        return True
    return not (folder / location).resolve().is_relative_to(root.resolve())


def _stale_built_entries(
    specs: Sequence[LockSpec], pyproject: Path, lock_options: Iterable[str] | None
) -> list[StaleLock]:
    """Each stale entry of the built-wheel file in the locks' folder, as a StaleLock of
    that file (``spec.lock`` is the file: what the callers name)."""
    from tierci.config import load_config  # noqa: PLC0415 - only with a built-wheel file
    from tierci.locks.lockfile import read_locks  # noqa: PLC0415
    from tierci.wheelhouse.trust import BUILT_FILE, read_built, stale_entries  # noqa: PLC0415

    stale = []
    for folder in sorted({spec.lock.parent for spec in specs}):
        path = folder / BUILT_FILE
        if not path.is_file():
            continue
        entry = StaleLock(spec=LockSpec(source=path, lock=path, includes_project=False), reason="")
        if lock_options is None:
            lock_options = load_config(pyproject.parent).lock_options
        try:
            built = read_built(path)
            locks = read_locks(
                [s.lock for s in specs if s.lock.parent == folder and s.lock.is_file()],
                allowed_options=lock_options,
            )
        except LockError as exc:  # reported like the others, so they are still checked
            stale.append(dataclasses.replace(entry, reason=exc.message))
            continue
        stale += [dataclasses.replace(entry, reason=why) for why in stale_entries(built, locks)]
    return stale


def compile_locks(
    specs: Sequence[LockSpec],
    pyproject: Path,
    *,
    python: str = sys.executable,
    upgrade: Sequence[str] = (),
) -> None:
    """Compile every lock in layering order, so ``-c`` targets are fresh first."""
    for spec in specs:
        compile_lock(spec, pyproject, python=python, upgrade=upgrade)


def compile_lock(
    spec: LockSpec, pyproject: Path, *, python: str = sys.executable, upgrade: Sequence[str] = ()
) -> None:
    """pip-compile (from ``python``'s environment) one lock with hashes, then stamp it.

    A lock whose tiers run on several Pythons is compiled on each (pip-tools from the
    lock session's own lock, in an environment per Python beside ``python``'s) and
    merged: what differs carries markers naming its Pythons."""
    running = _version_of(python)
    _pip_compile(spec, pyproject, python=python, output=spec.lock, upgrade=upgrade)
    others = [version for version in spec.pythons if version != running]
    if others:
        compiled = {running: spec.lock.read_text(encoding="utf-8")}
        tools_lock = spec.lock.with_name("lock.txt")
        for version in others:
            interpreter = compile_environment(version, tools_lock, Path(python).parent.parent)
            with tempfile.TemporaryDirectory() as scratch:
                output = Path(scratch) / spec.lock.name
                output.write_text(compiled[running], encoding="utf-8")  # its pins preferred
                _pip_compile(spec, pyproject, python=interpreter, output=output, upgrade=upgrade)
                compiled[version] = output.read_text(encoding="utf-8")
        spec.lock.write_text(merge_for_pythons(compiled), encoding="utf-8")
    _stamp(spec.lock, input_digest(spec, pyproject), spec.source_lines)


def _version_of(python: str) -> str:
    completed = _proc.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        what=f"{python} (to read its version)",
        fix="check the interpreter of the lock session",
        capture=True,
    )
    return completed.stdout.strip()


def find_python(version: str) -> str:
    """An interpreter of ``version`` that runs (:func:`tierci.interpreters.find_python`)."""
    found = interpreters.find_python(version)
    if found is None:
        raise ConfigError(
            f"no Python {version} here, which a tier's pythons names: its lock is compiled "
            "on each Python the tier runs on",
            fix=f"{interpreters.how_to_get(version)}; or remove it from the tier's pythons",
        )
    return found


def compile_environment(version: str, tools_lock: Path, beside: Path) -> str:
    """pip-tools, from the lock session's own lock, in a virtual environment of Python
    ``version`` at ``<beside>-py<version>`` (kept: later compiles reuse it)."""
    venv = beside.with_name(f"{beside.name}-py{version}")
    interpreter = _proc.venv_python_of(venv)
    marker = venv / "tierci-tools.sha256"
    wanted = hashlib.sha256(tools_lock.read_bytes()).hexdigest()
    if interpreter.is_file() and marker.is_file() and marker.read_text().strip() == wanted:
        return str(interpreter)
    uv = _proc.find_uv()
    environment = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    _proc.run(
        [uv, "venv", "--quiet", "--seed", "--python", find_python(version), str(venv)],
        what=f"creating the Python {version} environment for pip-compile",
        env=environment,
    )
    _proc.run(
        [
            uv,
            "pip",
            "sync",
            "--quiet",
            "--require-hashes",
            "--python",
            str(interpreter),
            str(tools_lock),
        ],
        what=f"installing {tools_lock.name} into the Python {version} environment",
        env=environment,
    )
    marker.write_text(wanted + "\n", encoding="utf-8")
    return str(interpreter)


def _pip_compile(
    spec: LockSpec, pyproject: Path, *, python: str, output: Path, upgrade: Sequence[str]
) -> None:
    command = [
        python,
        "-m",
        "piptools",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--allow-unsafe",  # pin pip/setuptools too: a lock that leaves them out is not a lock
        "--strip-extras",
        "--no-emit-index-url",  # index URLs are the machine's business, not the lock's
        "--no-emit-trusted-host",
        "--no-emit-find-links",
        "--output-file",
        os.path.relpath(output, pyproject.parent),
    ]
    for package in upgrade:
        command += ["--upgrade-package", package]
    command += spec.source_arguments
    root = pyproject.parent
    # Paths relative to the project root: pip-compile writes them into "via" lines,
    # and an absolute path would differ on every machine.
    if spec.includes_project:
        for extra in spec.extras:
            command += ["--extra", extra]
        command.append(pyproject.name)
    command.append(os.path.relpath(spec.source, root))
    completed = subprocess.run(
        command,
        cwd=root,
        # pip-tools reads the command its header recommends from this variable.
        env={**os.environ, "CUSTOM_COMPILE_COMMAND": "nox -s lock"},
        check=False,
        text=True,
    )
    if completed.returncode != 0:
        raise CommandFailedError(
            f"pip-compile failed for {spec.source} (exit {completed.returncode})",
            fix="read pip-compile's message above: usually a version conflict between "
            f"{spec.source.name} and the lock it is layered on",
        )


def _stamp(lock: Path, digest: str, source_lines: Sequence[str] = ()) -> None:
    """Put the digest line after pip-compile's header comment, and the package sources'
    option lines after it (pip-compile was told not to write any)."""
    lines = [
        line
        for line in lock.read_text(encoding="utf-8").splitlines(keepends=True)
        if not line.startswith((DIGEST_PREFIX, "--find-links ", "--extra-index-url "))
    ]
    header_end = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    lines[header_end:header_end] = [
        f"{DIGEST_PREFIX}{digest}\n",
        *(f"{line}\n" for line in source_lines),
    ]
    lock.write_text("".join(lines), encoding="utf-8")
