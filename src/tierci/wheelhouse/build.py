"""Filling a wheelhouse from its locks.

For each pin, ``pip download --only-binary=:all: --no-deps --require-hashes`` (pip
checks the file against the lock); for a package that publishes only a source
distribution, ``pip download`` of its sdist (checked against the lock), then ``pip
wheel`` from exactly that file under ``SOURCE_DATE_EPOCH``, so the wheel is
reproducible. No lock can know that wheel's hash: it goes, with the sdist's hash and
the epoch, into ``wheelhouse-built.txt`` beside the locks (``trust``), which is reviewed
and committed; only that committed hash makes the wheel trusted anywhere else.

Pins are fetched in parallel; valid wheels already there are kept (an interrupted
build resumes) and wheels no lock pins any more are removed. The manifest (a packing
list for the archive, trusted by nothing) is written last.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tierci.wheelhouse.hashes import file_sha256
from tierci.wheelhouse.model import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    Problem,
    ProblemKind,
    Target,
    cache_key,
    locked_pins,
    validate,
)
from tierci.wheelhouse.trust import BuiltWheel, all_pins, built_file, read_built, write_built

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from packaging.utils import NormalizedName

    from tierci.locks.lockfile import Lock, LockedRequirement

__all__ = ["WheelRecord", "build"]

#: 1980-01-01, the earliest time a zip file can record: reproducible wheel timestamps.
_DEFAULT_SOURCE_DATE_EPOCH = "315532800"


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
class _Fetched:
    wheel: Path
    sha256: str
    built: BuiltWheel | None  # None: the published wheel the lock hashes


def build(
    folder: Path,
    locks: Sequence[Lock],
    target: Target,
    *,
    pip_args: Sequence[str] = (),
    variant: str = "",
    jobs: int = 4,
    log: Callable[[str], object] = print,
    progress: Callable[[int, int, str], object] | None = None,
    prune_built: bool = True,
) -> list[Problem]:
    """Fill ``folder`` with a wheel for every pin; returns the pins that could not be had.

    Wheels already there and valid are kept (an interrupted build resumes); wheels no
    lock asks for any more are removed. Wheels built from an sdist are recorded in
    ``wheelhouse-built.txt`` beside the locks; ``prune_built`` also drops its entries
    for pins none of ``locks`` has (leave it off when ``locks`` are not all the
    wheelhouse's). The manifest is written last.
    """
    folder.mkdir(parents=True, exist_ok=True)
    current = validate(folder, locks, target)
    pins = locked_pins(locks, target)
    # A pin with a problem (missing, or a file with the wrong hash) is fetched again;
    # validate() never lists such a pin among the good wheels.
    todo = [pins[p.package] for p in current.problems if p.package in pins]
    records: dict[str, WheelRecord] = {}
    for pin, wheel in current.wheels.items():
        origin = "built" if pin in current.built_hashes else "index"
        records[wheel.name] = _record(wheel, pins[pin], origin, current.sha256[pin])
    log(
        f"wheelhouse {folder}: {len(pins)} pins, {len(records)} already present, "
        f"{len(todo)} to fetch"
    )
    failures: list[Problem] = []
    built_now: list[BuiltWheel] = []
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
                wheel, origin = outcome.wheel, "built" if outcome.built else "index"
                records[wheel.name] = _record(wheel, requirement, origin, outcome.sha256)
                if outcome.built:
                    built_now.append(outcome.built)
                log(f"  {origin:7} {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB)")
            if progress is not None:
                progress(done, len(todo), requirement.pin)
    for stray in sorted(set(folder.glob("*.whl")) - {folder / name for name in records}):
        log(f"  removed {stray.name} (no lock pins it)")
        stray.unlink()
    _record_built(locks, built_now, prune=prune_built, log=log)
    _write_manifest(folder, records, locks, target, variant)
    return failures


def _record_built(
    locks: Sequence[Lock],
    built_now: Sequence[BuiltWheel],
    *,
    prune: bool,
    log: Callable[[str], object],
) -> None:
    """Bring each ``wheelhouse-built.txt`` beside the locks up to date: the wheels just
    built in, entries whose sdist their lock no longer lists out."""
    by_file: dict[Path, list[Lock]] = {}
    for lock in locks:
        by_file.setdefault(built_file(lock), []).append(lock)
    for path, its_locks in by_file.items():
        pins = all_pins(its_locks)
        entries = {}
        for filename, entry in read_built(path).items():
            requirement = pins.get(entry.pin)
            if requirement is None and prune:
                continue
            if requirement is not None and f"sha256:{entry.sdist_sha256}" not in requirement.hashes:
                continue
            entries[filename] = entry
        for entry in built_now:
            if entry.pin not in pins:
                continue
            before = entries.get(entry.filename)
            if before is not None and before.sha256 != entry.sha256:
                log(
                    f"  NOTE    {entry.filename} built again with another hash than the one "
                    f"in {path}: is the build reproducible?"
                )
            entries[entry.filename] = entry
        if write_built(path, entries.values()):
            log(
                f"  wrote   {path}: review and commit it; a wheel built from an sdist is "
                "trusted only by its hash there"
            )


def _record(
    wheel: Path, requirement: LockedRequirement, origin: str, sha256: str | None = None
) -> WheelRecord:
    return WheelRecord(
        filename=wheel.name,
        name=requirement.name,
        version=str(requirement.version),
        sha256=sha256 or file_sha256(wheel),
        size=wheel.stat().st_size,
        origin=origin,
    )


def _write_manifest(
    folder: Path,
    records: dict[str, WheelRecord],
    locks: Sequence[Lock],
    target: Target,
    variant: str,
) -> None:
    manifest = {
        "format": MANIFEST_FORMAT,
        "key": cache_key(locks, target, variant),
        "python": target.python_tag,
        "platform": target.platform,
        "locks": {lock.name: lock.digest for lock in locks},
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
) -> _Fetched | Problem:
    """One pin into ``folder``: its published wheel, else a wheel built from its sdist."""
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=folder) as scratch:
        work = Path(scratch)
        requirements = work / "requirement.txt"
        requirements.write_text(requirement.requirement_line() + "\n", encoding="utf-8")
        common = ["--no-deps", "--require-hashes", *pip_args]
        download = _pip(
            "download",
            "--only-binary=:all:",
            *target.pip_args(),
            "--dest",
            str(work / "out"),
            *common,
            "-r",
            str(requirements),
        )
        if download.returncode == 0:
            wheel = _produced(work / "out", requirement)
            if isinstance(wheel, Problem):
                return wheel
            destination = folder / wheel.name
            shutil.move(wheel, destination)
            return _Fetched(wheel=destination, sha256=file_sha256(destination), built=None)
        if not target.is_host:
            return Problem(
                kind=ProblemKind.MISSING,
                package=requirement.pin,
                detail="no binary wheel for the target: " + _last_line(download),
            )
        return _build_from_sdist(requirement, folder, work, common, requirements)


def _build_from_sdist(
    requirement: LockedRequirement,
    folder: Path,
    work: Path,
    common: Sequence[str],
    requirements: Path,
) -> _Fetched | Problem:
    """No published wheel: fetch the sdist (pip checks it against the lock), then build a
    wheel from exactly that file, reproducibly, and say what it came from."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", _DEFAULT_SOURCE_DATE_EPOCH)
    if not epoch.isdigit():
        return Problem(
            kind=ProblemKind.MISSING,
            package=requirement.pin,
            detail=f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds",
        )
    fetched = _pip(
        "download",
        f"--no-binary={requirement.name}",
        "--dest",
        str(work / "sdist"),
        *common,
        "-r",
        str(requirements),
    )
    sdists = sorted((work / "sdist").glob("*")) if fetched.returncode == 0 else []
    if len(sdists) != 1:
        return Problem(
            kind=ProblemKind.MISSING,
            package=requirement.pin,
            detail="no binary wheel, and no sdist could be fetched: " + _last_line(fetched),
        )
    sdist_sha256 = file_sha256(sdists[0])
    source = work / "sdist.txt"
    source.write_text(
        f"{requirement.name} @ {sdists[0].as_uri()} --hash=sha256:{sdist_sha256}\n",
        encoding="utf-8",
    )
    built = _pip(
        "wheel",
        "--wheel-dir",
        str(work / "out"),
        *common,
        "-r",
        str(source),
        env={**os.environ, "SOURCE_DATE_EPOCH": epoch},
    )
    if built.returncode != 0:
        return Problem(
            kind=ProblemKind.MISSING,
            package=requirement.pin,
            detail="no binary wheel, and building one failed: " + _last_line(built),
        )
    wheel = _produced(work / "out", requirement)
    if isinstance(wheel, Problem):
        return wheel
    destination = folder / wheel.name
    shutil.move(wheel, destination)
    digest = file_sha256(destination)
    return _Fetched(
        wheel=destination,
        sha256=digest,
        built=BuiltWheel(
            filename=destination.name,
            name=requirement.name,
            version=requirement.version,
            sha256=digest,
            sdist_sha256=sdist_sha256,
            source_date_epoch=int(epoch),
        ),
    )


def _produced(out: Path, requirement: LockedRequirement) -> Path | Problem:
    produced = sorted(out.glob("*.whl"))
    if len(produced) != 1:
        return Problem(
            kind=ProblemKind.MISSING,
            package=requirement.pin,
            detail=f"pip produced {len(produced)} wheels, expected 1",
        )
    return produced[0]


#: Where a machine mirrors the configured sources (an internal index, a find-links
#: folder): pip arguments replacing ``[tool.tierci.wheelhouse] pip_args`` there.
SOURCES_VARIABLE = "TIERCI_WHEELHOUSE_PIP_ARGS"


def wheel_sources(configured: Sequence[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """The pip arguments naming where wheels come from: ``$TIERCI_WHEELHOUSE_PIP_ARGS``
    on a machine that mirrors them, else the project's ``pip_args`` (else PyPI)."""
    override = (os.environ if environ is None else environ).get(SOURCES_VARIABLE, "").strip()
    return shlex.split(override) if override else list(configured)


def isolated_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """pip with no configuration but its arguments: no pip.conf (global, user or site),
    no ``PIP_*`` variable. A wheelhouse built on a laptop with a find-links folder of
    its own must fail there as it would on a fresh runner, not succeed by accident."""
    environment = {
        key: value
        for key, value in (os.environ if base is None else base).items()
        if not key.startswith("PIP_")
    }
    environment["PIP_CONFIG_FILE"] = os.devnull
    return environment


def _pip(*arguments: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=isolated_environment(env),
    )


def _last_line(completed: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit {completed.returncode}"
