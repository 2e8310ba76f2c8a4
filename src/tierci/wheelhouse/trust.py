"""What the repository vouches for: the one trust root of a wheelhouse.

A wheel is trusted by the hash in a committed lock, or (built here from a hash-checked
sdist, since no index publishes a wheel for it) by a hash committed in the repository
beside the locks, in ``wheelhouse-built.txt``. Never by anything inside a wheelhouse
folder, its manifest, an archive or a cache.

``tierci wheelhouse build`` writes that file; it is reviewed and committed like a lock.
It is in requirements-file syntax, one line per built wheel, the comment saying where
the wheel came from::

    NAME==VERSION --hash=sha256:WHEEL  # FILE.whl from sdist sha256:SDIST, SOURCE_DATE_EPOCH=N

An entry trusts its wheel only while the lock still lists that sdist hash for the pin;
``tierci lock --check`` reports an entry whose sdist the lock no longer lists, or whose
pin no lock has.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from tierci.errors import LockError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from tierci.locks.lockfile import Lock, LockedRequirement

__all__ = [
    "BUILT_FILE",
    "BuiltWheel",
    "Trust",
    "Verdict",
    "all_pins",
    "built_file",
    "read_built",
    "stale_entries",
    "write_built",
]

BUILT_FILE = "wheelhouse-built.txt"

_HEADER = """\
# Wheels tierci built from hash-checked sdists (their packages publish no wheel).
# A wheelhouse trusts such a wheel only by its hash here: review changes like a lock.
# Written by `tierci wheelhouse build`; `tierci lock --check` checks it against the locks.
"""
_ENTRY = re.compile(
    r"(?P<pin>\S+) --hash=sha256:(?P<sha256>[0-9a-f]{64}) +# (?P<filename>\S+\.whl) "
    r"from sdist sha256:(?P<sdist>[0-9a-f]{64}), SOURCE_DATE_EPOCH=(?P<epoch>\d+)"
)


@dataclass(frozen=True, kw_only=True)
class BuiltWheel:
    """One line of ``wheelhouse-built.txt``: a wheel built here, and what from."""

    filename: str
    name: NormalizedName
    version: Version
    sha256: str  # hex, the built wheel's
    sdist_sha256: str  # hex, the sdist pip checked against the lock and built from
    source_date_epoch: int

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"

    def line(self) -> str:
        return (
            f"{self.pin} --hash=sha256:{self.sha256}  # {self.filename} from sdist "
            f"sha256:{self.sdist_sha256}, SOURCE_DATE_EPOCH={self.source_date_epoch}"
        )


def built_file(lock: Lock) -> Path:
    """The built-wheel file beside ``lock``."""
    return lock.path.parent / BUILT_FILE


def read_built(path: Path) -> dict[str, BuiltWheel]:
    """wheel filename → its entry; an absent file has none. A line that is not an entry
    is a LockError naming ``file:line``."""
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LockError(
            f"cannot read {path}: {exc}",
            fix="restore it from git, or rewrite it with `tierci wheelhouse build`",
        ) from exc
    entries: dict[str, BuiltWheel] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        entry = _parse_entry(line, f"{path}:{number}")
        if entry.filename in entries:
            raise LockError(
                f"{path}:{number}: {entry.filename} has a second entry",
                fix="keep one line per wheel (`tierci wheelhouse build` rewrites the file)",
            )
        entries[entry.filename] = entry
    return entries


def _parse_entry(line: str, where: str) -> BuiltWheel:
    fix = "restore the line from git, or rewrite the file with `tierci wheelhouse build`"
    match = _ENTRY.fullmatch(line)
    if match is None:
        raise LockError(
            f"{where}: not a built-wheel entry: {line[:120]!r}",
            fix=f"{fix}; an entry reads `NAME==VERSION --hash=sha256:HEX  # FILE.whl from "
            "sdist sha256:HEX, SOURCE_DATE_EPOCH=N`",
        )
    name, _, version = match["pin"].partition("==")
    try:
        wheel_name, wheel_version, _build, _tags = parse_wheel_filename(match["filename"])
        pinned = Version(version)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise LockError(f"{where}: {exc}", fix=fix) from exc
    if (canonicalize_name(name), pinned) != (wheel_name, wheel_version):
        raise LockError(
            f"{where}: the pin {match['pin']} is not the wheel's ({match['filename']})",
            fix=fix,
        )
    return BuiltWheel(
        filename=match["filename"],
        name=wheel_name,
        version=wheel_version,
        sha256=match["sha256"],
        sdist_sha256=match["sdist"],
        source_date_epoch=int(match["epoch"]),
    )


def write_built(path: Path, entries: Iterable[BuiltWheel]) -> bool:
    """Write the file (removed when it has no entry); True if its content changed."""
    lines = sorted(entry.line() for entry in entries)
    text = _HEADER + "".join(f"{line}\n" for line in lines) if lines else None
    old = path.read_text(encoding="utf-8") if path.is_file() else None
    if text == old:
        return False
    if text is None:
        path.unlink()
    else:
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return True


def stale_entries(entries: Mapping[str, BuiltWheel], locks: Iterable[Lock]) -> list[str]:
    """Why each entry that trusts nothing any more is stale: no lock pins it, or its
    lock no longer lists the sdist it was built from."""
    pins = all_pins(locks)
    reasons = []
    for entry in sorted(entries.values(), key=lambda e: e.filename):
        requirement = pins.get(entry.pin)
        if requirement is None:
            reasons.append(
                f"{entry.pin} ({entry.filename}): no lock pins it; delete the line, or run "
                "`tierci wheelhouse build` and commit the file"
            )
        elif f"sha256:{entry.sdist_sha256}" not in requirement.hashes:
            reasons.append(
                f"{entry.pin} ({entry.filename}): built from sdist "
                f"sha256:{entry.sdist_sha256[:12]}..., which the lock no longer lists; "
                "run `tierci wheelhouse build` and commit the file"
            )
    return reasons


def all_pins(locks: Iterable[Lock]) -> dict[str, LockedRequirement]:
    """Every pin of ``locks`` whatever its marker; one pin in two locks merges hashes."""
    pins: dict[str, LockedRequirement] = {}
    for lock in locks:
        for requirement in lock:
            known = pins.get(requirement.pin)
            pins[requirement.pin] = (
                requirement
                if known is None
                else dataclasses.replace(known, hashes=known.hashes | requirement.hashes)
            )
    return pins


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """Whether the repository vouches for a wheel file, and by what."""

    by: str | None  # "lock", "built", or None: not trusted
    detail: str = ""  # why not, when not

    @property
    def trusted(self) -> bool:
        return self.by is not None


@dataclass(frozen=True, kw_only=True)
class Trust:
    """The hashes the repository vouches for: the locks', and the built-wheel entries
    beside them."""

    pins: Mapping[str, LockedRequirement]  # every pin of the locks, whatever the marker
    built: Mapping[str, tuple[BuiltWheel, ...]]  # pin -> its entries
    files: tuple[Path, ...]  # the built-wheel files, one per lock folder

    @classmethod
    def of(cls, locks: Sequence[Lock]) -> Trust:
        files = tuple(dict.fromkeys(built_file(lock) for lock in locks))
        built: dict[str, list[BuiltWheel]] = {}
        for path in files:
            for entry in read_built(path).values():
                built.setdefault(entry.pin, []).append(entry)
        return cls(
            pins=all_pins(locks),
            built={pin: tuple(entries) for pin, entries in built.items()},
            files=files,
        )

    def pinned(self, filename: str) -> LockedRequirement | None:
        """The pin a wheel file provides, if a lock pins it (any marker)."""
        try:
            name, version, _build, _tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            return None
        return self.pins.get(f"{name}=={version}")

    def check(self, requirement: LockedRequirement, filename: str, sha256: str) -> Verdict:
        """Whether ``filename``, whose content hashes to ``sha256`` (hex), may stand for
        ``requirement``."""
        actual = f"sha256:{sha256}"
        if actual in requirement.hashes:
            return Verdict(by="lock")
        entries = self.built.get(requirement.pin, ())
        for entry in entries:
            if entry.sha256 != sha256:
                continue
            if f"sha256:{entry.sdist_sha256}" in requirement.hashes:
                return Verdict(by="built")
            return Verdict(
                by=None,
                detail=f"{filename} was built from sdist sha256:{entry.sdist_sha256[:12]}..., "
                f"which the lock no longer lists: its entry in {self._where()} is stale",
            )
        committed = (
            f"; {self._where()} commits another hash for it (built again since?)" if entries else ""
        )
        return Verdict(
            by=None,
            detail=f"{filename} has {actual[:19]}..., which neither the lock nor "
            f"{self._where()} lists{committed}",
        )

    def _where(self) -> str:
        return " or ".join(_shown_path(path) for path in self.files) or BUILT_FILE


def _shown_path(path: Path) -> str:
    """Relative to the working folder when inside it (the project root, usually)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)
