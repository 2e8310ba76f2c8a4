"""A validated wheelhouse: every locked requirement as a wheel, checked against the lock.

- ``build`` fills the folder from the locks: ``pip download --only-binary`` for each
  pin (hash-checked by pip against the lock), ``pip wheel`` with ``SOURCE_DATE_EPOCH``
  for a package that publishes only a source distribution (its sdist is hash-checked;
  the built wheel's own hash is recorded in the manifest, since no lock can know it).
- ``validate`` proves that the folder covers the locks for a target Python/platform:
  a compatible wheel for every pin whose hash is the lock's (or the manifest's, for a
  wheel built here from a hash-checked sdist), and the required packages present.
- ``key`` names the wheelhouse for a cache: lock digest + Python + platform + variant.
- ``install`` syncs an environment offline (uv, ``--no-index --offline``); a package
  missing from the wheelhouse comes from the index only where the user allows it, and
  every such fallback is logged by name.

``wheelhouse_archive`` packs and unpacks it for CI caches and artifacts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.markers import default_environment
from packaging.tags import Tag, compatible_tags, cpython_tags, sys_tags
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)

from tierci.errors import CommandFailedError, WheelhouseError
from tierci.lockfile import LockedRequirement, lock_digest, read_lock
from tierci.uvbin import find_uv

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from packaging.version import Version

__all__ = [
    "MANIFEST_NAME",
    "InstallReport",
    "Problem",
    "Target",
    "Validation",
    "WheelRecord",
    "build",
    "cache_key",
    "file_sha256",
    "install",
    "read_manifest",
    "validate",
]

MANIFEST_NAME = "tierci-wheelhouse.json"
MANIFEST_FORMAT = 1
#: 1980-01-01, the earliest time a zip file can record: reproducible wheel timestamps.
_DEFAULT_SOURCE_DATE_EPOCH = "315532800"


@dataclass(frozen=True, kw_only=True)
class Target:
    """The interpreter and platform a wheelhouse is for."""

    python: tuple[int, int]
    platform: str  # sysconfig's, normalised: linux_x86_64
    tags: frozenset[Tag]
    environment: dict[str, str]
    is_host: bool

    @classmethod
    def host(cls) -> Target:
        return cls(
            python=(sys.version_info.major, sys.version_info.minor),
            platform=_host_platform(),
            tags=frozenset(sys_tags()),
            environment=_marker_environment(),
            is_host=True,
        )

    @classmethod
    def for_python(cls, version: str) -> Target:
        """CPython ``X.Y`` on this machine's platform (``--python-version``)."""
        try:
            major, minor = (int(part) for part in version.split("."))
        except ValueError:
            raise WheelhouseError(
                f"--python-version {version!r} is not MAJOR.MINOR", fix="write e.g. 3.12"
            ) from None
        if (major, minor) == sys.version_info[:2]:
            return cls.host()
        environment = _marker_environment()
        environment.update(python_version=version, python_full_version=f"{version}.0")
        return cls(
            python=(major, minor),
            platform=_host_platform(),
            tags=frozenset([*cpython_tags((major, minor)), *compatible_tags((major, minor))]),
            environment=environment,
            is_host=False,
        )

    @property
    def python_tag(self) -> str:
        return f"cp{self.python[0]}{self.python[1]}"

    def pip_args(self) -> list[str]:
        """pip's cross-target options; none for the host interpreter."""
        if self.is_host:
            return []
        return ["--python-version", f"{self.python[0]}.{self.python[1]}", "--implementation", "cp"]


def _marker_environment() -> dict[str, str]:
    return {name: str(value) for name, value in default_environment().items()}


def _host_platform() -> str:
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


@dataclass(frozen=True, kw_only=True)
class WheelRecord:
    """A wheel in the manifest: what it is, its hash, and where it came from."""

    filename: str
    name: NormalizedName
    version: str
    sha256: str
    size: int
    origin: str  # "index" (a file the lock hashes) or "built" (from the hash-checked sdist)


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One reason a wheelhouse does not cover its locks."""

    kind: str  # missing | hash | required
    package: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind:8} {self.package}: {self.detail}"


@dataclass(kw_only=True)
class Validation:
    target: Target
    checked: int
    wheels: dict[str, Path] = field(default_factory=dict)  # pin -> wheel file
    built_hashes: dict[str, str] = field(default_factory=dict)  # pin -> "sha256:..."
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def missing(self) -> list[str]:
        return [p.package for p in self.problems if p.kind == "missing"]


@dataclass(frozen=True, kw_only=True)
class InstallReport:
    from_wheelhouse: int
    from_index: tuple[str, ...]  # pins that fell back to the index (allowed, logged)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def locked_pins(locks: Iterable[Path], target: Target) -> dict[str, LockedRequirement]:
    """``name==version`` → its pin, for every lock line whose marker selects ``target``.

    The same pin in two locks merges its hashes; two versions of one package (envs that
    conflict on purpose) are two pins, both kept.
    """
    pins: dict[str, LockedRequirement] = {}
    for lock in locks:
        for requirement in read_lock(lock):
            if not requirement.applies_to(target.environment):
                continue
            known = pins.get(requirement.pin)
            pins[requirement.pin] = (
                requirement
                if known is None
                else dataclasses.replace(known, hashes=known.hashes | requirement.hashes)
            )
    return pins


def variant_of(locks: Iterable[Path]) -> str:
    """cpu / cu126 / ... from the local version labels the locks pin (``torch==2.13.0+cpu``)."""
    labels = sorted({r.version.local for lock in locks for r in read_lock(lock) if r.version.local})
    return "+".join(str(label) for label in labels) or "default"


def cache_key(locks: Sequence[Path], target: Target, variant: str = "") -> str:
    """``cp311-linux_x86_64-cpu-<16 hex>``: changes exactly when what is installed would."""
    return "-".join(
        [target.python_tag, target.platform, variant or variant_of(locks), lock_digest(locks)[:16]]
    )


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest, or an empty one (a plain folder of wheels is allowed)."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {"format": MANIFEST_FORMAT, "wheels": {}}
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise WheelhouseError(
            f"{path}: the wheelhouse manifest is not valid JSON ({exc})",
            fix="rebuild the wheelhouse (`tierci wheelhouse build` or `nox -s wheelhouse`)",
        ) from exc
    if manifest.get("format") != MANIFEST_FORMAT or not isinstance(manifest.get("wheels"), dict):
        raise WheelhouseError(
            f"{path}: not a tierci wheelhouse manifest of format {MANIFEST_FORMAT}",
            fix="rebuild the wheelhouse with this tierci",
        )
    return manifest


def _wheels_by_pin(folder: Path) -> dict[tuple[NormalizedName, Version], list[Path]]:
    found: dict[tuple[NormalizedName, Version], list[Path]] = {}
    for path in sorted(folder.glob("*.whl")):
        try:
            name, version, _build, _tags = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            continue
        found.setdefault((name, version), []).append(path)
    return found


def validate(
    folder: Path,
    locks: Sequence[Path],
    target: Target,
    *,
    required: Iterable[str] = (),
) -> Validation:
    """Check that ``folder`` holds a good wheel for every pin of ``locks`` on ``target``."""
    pins = locked_pins(locks, target)
    result = Validation(target=target, checked=len(pins))
    if not folder.is_dir():
        result.problems.append(
            Problem(kind="missing", package="(all)", detail=f"no wheelhouse folder at {folder}")
        )
        return result
    built = {
        filename: record
        for filename, record in read_manifest(folder)["wheels"].items()
        if record.get("origin") == "built"
    }
    available = _wheels_by_pin(folder)
    for pin, requirement in sorted(pins.items()):
        candidates = available.get((requirement.name, requirement.version), [])
        compatible = [path for path in candidates if _compatible(path, target)]
        if not compatible:
            other = f" (only for other targets: {candidates[0].name})" if candidates else ""
            result.problems.append(
                Problem(
                    kind="missing",
                    package=pin,
                    detail=f"no wheel for {target.python_tag} {target.platform}{other}",
                )
            )
            continue
        problem = _hash_problem(compatible[0], requirement, built, result)
        if problem:
            result.problems.append(problem)
        else:
            result.wheels[pin] = compatible[0]
    present = {requirement.name for requirement in pins.values()}
    for name in required:
        if canonicalize_name(name) not in present:
            result.problems.append(
                Problem(kind="required", package=name, detail="required, but pinned in no lock")
            )
    return result


def _compatible(path: Path, target: Target) -> bool:
    return not target.tags.isdisjoint(parse_wheel_filename(path.name)[3])


def _hash_problem(
    wheel: Path, requirement: LockedRequirement, built: dict[str, Any], result: Validation
) -> Problem | None:
    actual = f"sha256:{file_sha256(wheel)}"
    if actual in requirement.hashes:
        return None
    record = built.get(wheel.name)
    if record is not None and f"sha256:{record['sha256']}" == actual:
        result.built_hashes[requirement.pin] = actual
        return None
    detail = (
        "built here, but the file changed since (its hash is not the manifest's)"
        if record is not None
        else f"{wheel.name} has {actual[:19]}..., which the lock does not list"
    )
    return Problem(kind="hash", package=requirement.pin, detail=detail)


def build(
    folder: Path,
    locks: Sequence[Path],
    target: Target,
    *,
    pip_args: Sequence[str] = (),
    variant: str = "",
    jobs: int = 4,
    log: Callable[[str], object] = print,
    progress: Callable[[int, int, str], object] | None = None,
) -> list[Problem]:
    """Fill ``folder`` with a wheel for every pin; returns the pins that could not be had.

    Wheels already there and valid are kept (an interrupted build resumes); wheels no
    lock asks for any more are removed. The manifest is written last.
    """
    folder.mkdir(parents=True, exist_ok=True)
    current = validate(folder, locks, target)
    pins = locked_pins(locks, target)
    todo = [pins[p.package] for p in current.problems if p.package in pins]
    for problem in current.problems:
        if problem.kind == "hash" and problem.package in current.wheels:
            current.wheels.pop(problem.package)
    records: dict[str, WheelRecord] = {}
    for pin, wheel in current.wheels.items():
        origin = "built" if pin in current.built_hashes else "index"
        records[wheel.name] = _record(wheel, pins[pin], origin)
    log(
        f"wheelhouse {folder}: {len(pins)} pins, {len(records)} already present, "
        f"{len(todo)} to fetch"
    )
    failures: list[Problem] = []
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            pool.submit(_fetch, requirement, folder, target, pip_args): requirement
            for requirement in todo
        }
        for future in as_completed(futures):
            requirement = futures[future]
            done += 1
            outcome = future.result()
            if isinstance(outcome, Problem):
                failures.append(outcome)
                log(f"  FAILED  {requirement.pin}: {outcome.detail}")
            else:
                wheel, origin = outcome
                records[wheel.name] = _record(wheel, requirement, origin)
                log(f"  {origin:7} {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB)")
            if progress is not None:
                progress(done, len(todo), requirement.pin)
    for stray in sorted(set(folder.glob("*.whl")) - {folder / name for name in records}):
        log(f"  removed {stray.name} (no lock pins it)")
        stray.unlink()
    _write_manifest(folder, records, locks, target, variant)
    return failures


def _record(wheel: Path, requirement: LockedRequirement, origin: str) -> WheelRecord:
    return WheelRecord(
        filename=wheel.name,
        name=requirement.name,
        version=str(requirement.version),
        sha256=file_sha256(wheel),
        size=wheel.stat().st_size,
        origin=origin,
    )


def _write_manifest(
    folder: Path,
    records: dict[str, WheelRecord],
    locks: Sequence[Path],
    target: Target,
    variant: str,
) -> None:
    manifest = {
        "format": MANIFEST_FORMAT,
        "key": cache_key(locks, target, variant),
        "python": target.python_tag,
        "platform": target.platform,
        "locks": {lock.name: lock_digest([lock]) for lock in locks},
        "wheels": {
            name: {
                "name": record.name,
                "version": record.version,
                "sha256": record.sha256,
                "size": record.size,
                "origin": record.origin,
            }
            for name, record in sorted(records.items())
        },
    }
    partial = folder / f".{MANIFEST_NAME}.partial"
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    partial.replace(folder / MANIFEST_NAME)


def _fetch(
    requirement: LockedRequirement, folder: Path, target: Target, pip_args: Sequence[str]
) -> tuple[Path, str] | Problem:
    """One pin into ``folder``: its published wheel, else a wheel built from its sdist."""
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=folder) as scratch:
        work = Path(scratch)
        requirements = work / "requirement.txt"
        requirements.write_text(requirement.requirement_line() + "\n", encoding="utf-8")
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
        common = ["--no-deps", "--require-hashes", *pip_args, "-r", str(requirements)]
        download = subprocess.run(
            [
                *pip,
                "download",
                "--only-binary=:all:",
                *target.pip_args(),
                "--dest",
                str(work / "out"),
                *common,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        origin = "index"
        if download.returncode != 0:
            if not target.is_host:
                return Problem(
                    kind="missing",
                    package=requirement.pin,
                    detail="no binary wheel for the target: " + _last_line(download),
                )
            # No published wheel: build one, reproducibly, from the hash-checked sdist.
            environment = {
                **os.environ,
                "SOURCE_DATE_EPOCH": os.environ.get(
                    "SOURCE_DATE_EPOCH", _DEFAULT_SOURCE_DATE_EPOCH
                ),
            }
            wheel = subprocess.run(
                [
                    *pip,
                    "wheel",
                    f"--no-binary={requirement.name}",
                    "--wheel-dir",
                    str(work / "out"),
                    *common,
                ],
                capture_output=True,
                text=True,
                check=False,
                env=environment,
            )
            if wheel.returncode != 0:
                return Problem(
                    kind="missing",
                    package=requirement.pin,
                    detail="no binary wheel, and building one failed: " + _last_line(wheel),
                )
            origin = "built"
        produced = sorted((work / "out").glob("*.whl"))
        if len(produced) != 1:
            return Problem(
                kind="missing",
                package=requirement.pin,
                detail=f"pip produced {len(produced)} wheels, expected 1",
            )
        destination = folder / produced[0].name
        shutil.move(produced[0], destination)
        return destination, origin


def _last_line(completed: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit {completed.returncode}"


def install(
    folder: Path,
    locks: Sequence[Path],
    python: str,
    *,
    allow_fallback: bool = False,
    index_args: Sequence[str] = (),
    exact: bool = True,
    log: Callable[[str], object] = print,
) -> InstallReport:
    """Install ``locks`` into ``python``'s environment from the wheelhouse, offline.

    ``exact`` syncs (removes whatever the locks do not pin). A pin missing from the
    wheelhouse is an error, unless ``allow_fallback``: then it is installed from the
    index, hash-checked against the lock, and named in the log. A wheel whose hash does
    not match is never installed, fallback or not.
    """
    if not folder.is_dir() and not allow_fallback:
        raise WheelhouseError(
            f"no wheelhouse at {folder}",
            fix="build it (`nox -s wheelhouse`) or restore the CI cache's archive "
            "(`tierci wheelhouse unpack wheelhouse-<key>.tar.gz`)",
        )
    target = _target_of(python)
    check = validate(folder, locks, target)
    tampered = [p for p in check.problems if p.kind == "hash"]
    if tampered:
        raise WheelhouseError(
            f"{len(tampered)} wheel(s) in {folder} do not match the lock; refusing to install:\n"
            + "\n".join(f"  {p}" for p in tampered),
            fix="rebuild the wheelhouse (`nox -s wheelhouse`); never edit wheels in place",
        )
    pins = locked_pins(locks, target)
    missing = [pin for pin in pins if pin not in check.wheels]
    if missing and not allow_fallback:
        raise WheelhouseError(
            f"{len(missing)} locked package(s) are not in the wheelhouse {folder}: "
            + ", ".join(missing),
            fix="rebuild it (`nox -s wheelhouse`), restore it from the CI cache, or allow "
            "the index as a fallback (fallback = true in [tool.tierci.wheelhouse])",
        )
    uv = find_uv()
    with tempfile.TemporaryDirectory(prefix="tierci-install-") as scratch:
        offline = Path(scratch) / "wheelhouse.txt"
        offline.write_text(
            "".join(
                pins[pin].requirement_line(
                    [check.built_hashes[pin]] if pin in check.built_hashes else []
                )
                + "\n"
                for pin in sorted(check.wheels)
            ),
            encoding="utf-8",
        )
        verb = "sync" if exact else "install"
        if check.wheels:
            _run(
                [
                    uv,
                    "pip",
                    verb,
                    "--python",
                    python,
                    "--offline",
                    "--no-index",
                    "--find-links",
                    str(folder),
                    "--require-hashes",
                    str(offline),
                ],
                what="offline install",
            )
            verb = "install"  # the fallback adds to what the sync made exact
        if missing:
            log(
                f"wheelhouse: FALLBACK to the index for {len(missing)} package(s) missing from "
                f"{folder}: {', '.join(missing)}"
            )
            from_index = Path(scratch) / "index.txt"
            from_index.write_text(
                "".join(pins[pin].requirement_line() + "\n" for pin in missing), encoding="utf-8"
            )
            _run(
                [
                    uv,
                    "pip",
                    verb,
                    "--python",
                    python,
                    "--require-hashes",
                    *index_args,
                    # sync installs exactly the file; install must not resolve beyond it
                    *(["--no-deps", "-r"] if verb == "install" else []),
                    str(from_index),
                ],
                what="index fallback install",
            )
    log(f"wheelhouse: installed {len(check.wheels)} package(s) offline from {folder}")
    return InstallReport(from_wheelhouse=len(check.wheels), from_index=tuple(missing))


def _run(command: list[str], *, what: str) -> None:
    completed = subprocess.run(command, check=False)
    if completed.returncode != 0:
        raise CommandFailedError(
            f"{what} failed (exit {completed.returncode}): {' '.join(command[:4])} ...",
            fix="read uv's message above",
        )


def _target_of(python: str) -> Target:
    """The target that ``python`` (an interpreter path) installs for."""
    if Path(python).resolve() == Path(sys.executable).resolve():
        return Target.host()
    completed = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise WheelhouseError(f"cannot run the interpreter {python}", fix="check the path")
    return Target.for_python(completed.stdout.strip())
