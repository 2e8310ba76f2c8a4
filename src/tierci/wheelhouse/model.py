"""A validated wheelhouse: every locked requirement as a wheel, checked against the lock.

This module knows what a wheelhouse must hold and checks it:

- ``validate`` proves that the folder covers the locks for a target Python/platform:
  a compatible wheel for every pin whose hash the repository vouches for (the lock's,
  or for a wheel built here from a hash-checked sdist the one committed beside the
  locks: ``trust``), and the required packages present. Hashes are remembered by stat
  signature (``hashes``), so a warm check reads no wheel;
- ``check_manifest`` is the manifest's schema. The manifest is a packing list that
  catches a damaged archive; it vouches for nothing;
- ``cache_key`` names the wheelhouse for a cache: lock digest + Python + platform +
  variant.

Filling it is ``wheelhouse_build``, installing from it ``wheelhouse_install``, packing
it for CI caches ``wheelhouse_archive``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
import sys
import sysconfig
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.markers import default_environment
from packaging.tags import Tag, compatible_tags, cpython_tags, sys_tags
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)

from tierci.errors import WheelhouseError
from tierci.escape import clip, show_invisible
from tierci.locks.lockfile import Lock, LockedRequirement, lock_digest
from tierci.wheelhouse.hashes import HashCache, file_sha256
from tierci.wheelhouse.trust import Trust

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from packaging.version import Version

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_MAX_BYTES",
    "MANIFEST_NAME",
    "Problem",
    "ProblemKind",
    "Target",
    "Validation",
    "cache_key",
    "check_manifest",
    "file_sha256",
    "locked_pins",
    "read_manifest",
    "validate",
    "variant_of",
]

MANIFEST_NAME = "tierci-wheelhouse.json"
MANIFEST_FORMAT = 1
#: A manifest of thousands of wheels is a few hundred kB.
MANIFEST_MAX_BYTES = 1 << 20
# What a wheel file name may hold (PEP 427 names, versions and tags, ASCII).
_WHEEL_FILENAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+!-]*\.whl")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, kw_only=True)
class Target:
    """The interpreter and platform a wheelhouse is for."""

    python: tuple[int, int]
    platform: str  # sysconfig's, normalised: linux_x86_64
    tags: frozenset[Tag]
    environment: dict[str, str]
    is_host: bool
    platforms: tuple[str, ...] = ()  # a foreign platform's tags, for pip --platform

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
    def for_python(cls, version: str, platform: str | None = None) -> Target:
        """CPython ``X.Y`` on this platform or on ``platform`` (``manylinux_2_28_aarch64``)."""
        try:
            major, minor = (int(part) for part in version.split("."))
        except ValueError:
            raise WheelhouseError(
                f"--python-version {version!r} is not MAJOR.MINOR", fix="write e.g. 3.12"
            ) from None
        if (major, minor) == sys.version_info[:2] and platform is None:
            return cls.host()
        environment = _marker_environment()
        environment.update(python_version=version, python_full_version=f"{version}.0")
        platforms = _compatible_platforms(platform) if platform else None
        if platforms:
            environment["platform_machine"] = platforms[-1].removeprefix("linux_")
        return cls(
            python=(major, minor),
            platform=platform or _host_platform(),
            tags=frozenset(
                [
                    *cpython_tags((major, minor), platforms=platforms),
                    *compatible_tags((major, minor), platforms=platforms),
                ]
            ),
            environment=environment,
            is_host=False,
            platforms=tuple(platforms or ()),
        )

    @property
    def python_tag(self) -> str:
        return f"cp{self.python[0]}{self.python[1]}"

    def pip_args(self) -> list[str]:
        """pip's cross-target options; none for the host interpreter."""
        if self.is_host:
            return []
        python = [
            "--python-version",
            f"{self.python[0]}.{self.python[1]}",
            "--implementation",
            "cp",
        ]
        return python + [arg for p in self.platforms for arg in ("--platform", p)]


_MANYLINUX = re.compile(r"^manylinux_2_(?P<minor>\d+)_(?P<arch>\w+)$")


def _compatible_platforms(platform: str) -> list[str]:
    """``manylinux_2_28_aarch64`` runs wheels for glibc 2.28 down to 2.17, and linux_*."""
    match = _MANYLINUX.match(platform)
    if match is None:
        return [platform]
    arch, newest = match["arch"], int(match["minor"])
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(newest, 16, -1)]
    if newest >= 17:  # noqa: PLR2004 - glibc 2.17 is manylinux2014
        tags.append(f"manylinux2014_{arch}")
    return [*tags, f"linux_{arch}"]


def _marker_environment() -> dict[str, str]:
    return {name: str(value) for name, value in default_environment().items()}


def _host_platform() -> str:
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


class ProblemKind(enum.StrEnum):
    MISSING = "missing"  # no compatible wheel for a pin
    HASH = "hash"  # a wheel whose hash neither the lock nor the committed built entry lists
    REQUIRED = "required"  # a required package that no lock pins


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One reason a wheelhouse does not cover its locks."""

    kind: ProblemKind
    package: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.value:8} {self.package}: {self.detail}"


@dataclass(kw_only=True)
class Validation:
    target: Target
    checked: int
    wheels: dict[str, Path] = field(default_factory=dict)  # pin -> wheel file
    sha256: dict[str, str] = field(default_factory=dict)  # pin -> its wheel's hex digest
    built_hashes: dict[str, str] = field(default_factory=dict)  # pin -> "sha256:..."
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def missing(self) -> list[str]:
        return [p.package for p in self.problems if p.kind is ProblemKind.MISSING]


def locked_pins(locks: Iterable[Lock], target: Target) -> dict[str, LockedRequirement]:
    """``name==version`` → its pin, for every lock line whose marker selects ``target``.

    The same pin in two locks merges its hashes; two versions of one package (envs that
    conflict on purpose) are two pins, both kept.
    """
    pins: dict[str, LockedRequirement] = {}
    for lock in locks:
        for requirement in lock:
            if not requirement.applies_to(target.environment):
                continue
            known = pins.get(requirement.pin)
            pins[requirement.pin] = (
                requirement
                if known is None
                else dataclasses.replace(known, hashes=known.hashes | requirement.hashes)
            )
    return pins


def variant_of(locks: Iterable[Lock]) -> str:
    """cpu / cu126 / ... from the local version labels the locks pin (``torch==2.13.0+cpu``)."""
    labels = sorted({r.version.local for lock in locks for r in lock if r.version.local})
    return "+".join(str(label) for label in labels) or "default"


def cache_key(locks: Sequence[Lock], target: Target, variant: str = "") -> str:
    """``cp311-linux_x86_64-cpu-<16 hex>``: changes exactly when what is installed would."""
    return "-".join(
        [target.python_tag, target.platform, variant or variant_of(locks), lock_digest(locks)[:16]]
    )


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest, or an empty one (a plain folder of wheels is allowed)."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {"format": MANIFEST_FORMAT, "wheels": {}}
    fix = "rebuild the wheelhouse (`tierci wheelhouse build` or `nox -s wheelhouse`)"
    if path.stat().st_size > MANIFEST_MAX_BYTES:
        raise WheelhouseError(
            f"{path}: the wheelhouse manifest is over {MANIFEST_MAX_BYTES} bytes", fix=fix
        )
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        raise WheelhouseError(
            f"{path}: the wheelhouse manifest is not valid JSON ({exc})", fix=fix
        ) from exc
    return check_manifest(data, str(path), fix=fix)


def check_manifest(data: object, where: str, *, fix: str) -> dict[str, Any]:
    """``data`` if it is a manifest: format, and per wheel a file name, its sha256 and
    size; else a WheelhouseError saying ``where`` and which record is wrong."""
    if (
        not isinstance(data, dict)
        or data.get("format") != MANIFEST_FORMAT
        or not isinstance(data.get("wheels"), dict)
    ):
        raise WheelhouseError(
            f"{where}: not a tierci wheelhouse manifest of format {MANIFEST_FORMAT} "
            '(an object with "format" and "wheels")',
            fix=fix,
        )
    if not isinstance(data.get("key", ""), str):
        raise WheelhouseError(f"{where}: its key is not a string", fix=fix)
    for filename, record in data["wheels"].items():
        shown = show_invisible(clip(filename, 120))
        if not _WHEEL_FILENAME.fullmatch(filename) or not _parses(filename):
            raise WheelhouseError(f"{where}: '{shown}' is not a wheel file name", fix=fix)
        if not isinstance(record, dict):
            raise WheelhouseError(
                f"{where}: the record of {shown} is a {type(record).__name__}, not an object",
                fix=fix,
            )
        digest = record.get("sha256")
        if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
            raise WheelhouseError(
                f"{where}: the record of {shown} has no sha256 (64 lowercase hex digits)",
                fix=fix,
            )
        size = record.get("size")
        if type(size) is not int or size < 0:
            raise WheelhouseError(
                f"{where}: the record of {shown} has no size (a whole number of bytes)",
                fix=fix,
            )
    return data


def _parses(filename: str) -> bool:
    try:
        parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return False
    return True


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
    locks: Sequence[Lock],
    target: Target,
    *,
    required: Iterable[str] = (),
    hashes: HashCache | None = None,
) -> Validation:
    """Check that ``folder`` holds a good wheel for every pin of ``locks`` on ``target``.

    Good: its hash is the lock's, or for a wheel built from the sdist, the one committed
    beside the locks (``trust``). Nothing in the folder is trusted. ``hashes``: where
    hashes are remembered (default: the user cache).
    """
    pins = locked_pins(locks, target)
    result = Validation(target=target, checked=len(pins))
    if not folder.is_dir():
        result.problems.append(
            Problem(
                kind=ProblemKind.MISSING,
                package="(all)",
                detail=f"no wheelhouse folder at {folder}",
            )
        )
        return result
    trust = Trust.of(locks)
    cache = hashes or HashCache(folder)
    available = _wheels_by_pin(folder)
    for pin, requirement in sorted(pins.items()):
        candidates = available.get((requirement.name, requirement.version), [])
        compatible = [path for path in candidates if _compatible(path, target)]
        if not compatible:
            other = f" (only for other targets: {candidates[0].name})" if candidates else ""
            result.problems.append(
                Problem(
                    kind=ProblemKind.MISSING,
                    package=pin,
                    detail=f"no wheel for {target.python_tag} {target.platform}{other}",
                )
            )
            continue
        wheel = compatible[0]
        digest = cache.sha256(wheel)
        result.sha256[pin] = digest  # kept: build() records it without hashing again
        verdict = trust.check(requirement, wheel.name, digest)
        if not verdict.trusted:
            result.problems.append(
                Problem(kind=ProblemKind.HASH, package=pin, detail=verdict.detail)
            )
            continue
        result.wheels[pin] = wheel
        if verdict.by == "built":
            result.built_hashes[pin] = f"sha256:{digest}"
    cache.save()
    present = {requirement.name for requirement in pins.values()}
    for name in required:
        if canonicalize_name(name) not in present:
            result.problems.append(
                Problem(
                    kind=ProblemKind.REQUIRED,
                    package=name,
                    detail="required, but pinned in no lock",
                )
            )
    return result


def _compatible(path: Path, target: Target) -> bool:
    return not target.tags.isdisjoint(parse_wheel_filename(path.name)[3])
