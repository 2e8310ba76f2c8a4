"""Filling a wheelhouse from its locks.

For each pin, ``pip download --only-binary=:all: --no-deps --require-hashes`` (pip
checks the file against the lock); for a package that publishes only a source
distribution, ``pip wheel`` from its hash-checked sdist under ``SOURCE_DATE_EPOCH``,
so the wheel is reproducible. That wheel's own hash is recorded in the manifest, since
no lock can know it. Pins are fetched in parallel; valid wheels already there are kept
(an interrupted build resumes) and wheels no lock pins any more are removed. The
manifest is written last.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tierci.wheelhouse.model import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    Problem,
    ProblemKind,
    Target,
    cache_key,
    file_sha256,
    locked_pins,
    validate,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

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
) -> list[Problem]:
    """Fill ``folder`` with a wheel for every pin; returns the pins that could not be had.

    Wheels already there and valid are kept (an interrupted build resumes); wheels no
    lock asks for any more are removed. The manifest is written last.
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
                    kind=ProblemKind.MISSING,
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
                    kind=ProblemKind.MISSING,
                    package=requirement.pin,
                    detail="no binary wheel, and building one failed: " + _last_line(wheel),
                )
            origin = "built"
        produced = sorted((work / "out").glob("*.whl"))
        if len(produced) != 1:
            return Problem(
                kind=ProblemKind.MISSING,
                package=requirement.pin,
                detail=f"pip produced {len(produced)} wheels, expected 1",
            )
        destination = folder / produced[0].name
        shutil.move(produced[0], destination)
        return destination, origin


def _last_line(completed: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit {completed.returncode}"
