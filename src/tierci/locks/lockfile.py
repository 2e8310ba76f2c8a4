"""Reading hashed lock files (pip-compile ``--generate-hashes`` output).

A lock is a list of ``name==version`` pins, each with the sha256 hashes of the files
that may provide it and, sometimes, an environment marker. The wheelhouse and the
environment manager need exactly that, and a digest of it that ignores comments (the
"via" lines change when nothing installable does).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from tierci.errors import LockError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from pathlib import Path

__all__ = ["Lock", "LockedRequirement", "lock_digest", "read_lock", "read_locks"]


@dataclass(frozen=True, kw_only=True)
class LockedRequirement:
    """One pinned distribution of a lock."""

    name: NormalizedName
    version: Version
    hashes: frozenset[str]  # "sha256:<hex>"
    marker: Marker | None
    source: Path
    #: A direct reference (``name @ file:///…/name-1.0-py3-none-any.whl``), else None.
    url: str | None = None

    @property
    def pin(self) -> str:
        """``name==version``, the form pip and uv accept on a requirements line."""
        return f"{self.name}=={self.version}"

    def applies_to(self, environment: Mapping[str, str]) -> bool:
        """Whether the marker (if any) selects this pin for ``environment``."""
        return self.marker is None or self.marker.evaluate(dict(environment))

    def requirement_line(self, extra_hashes: Iterable[str] = ()) -> str:
        hashes = sorted(self.hashes | set(extra_hashes))
        what = f"{self.name} @ {self.url}" if self.url else self.pin
        return " ".join([what, *(f"--hash={h}" for h in hashes)])


@dataclass(frozen=True, kw_only=True)
class Lock:
    """A lock file, read and checked once: its path and its pins, in file order.

    Read it at the entry point (a session, a command) and pass it down: the wheelhouse,
    its cache key and the environments all work from this one reading.
    """

    path: Path
    requirements: tuple[LockedRequirement, ...]

    def __iter__(self) -> Iterator[LockedRequirement]:
        return iter(self.requirements)

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def digest(self) -> str:
        """sha256 (hex) over what this lock installs (see :func:`lock_digest`)."""
        return lock_digest([self])


def read_lock(path: Path) -> Lock:
    """Every pin of ``path``; an unpinned or unhashed line is an error naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LockError(
            f"cannot read lock file {path}: {exc.strerror}",
            fix="run `nox -s lock` to create it, or correct the path in [tool.tierci]",
        ) from exc
    return Lock(
        path=path,
        requirements=tuple(
            _parse_line(line, path, number) for number, line in _logical_lines(text)
        ),
    )


def read_locks(paths: Iterable[Path]) -> tuple[Lock, ...]:
    """Each of ``paths`` read once, in order."""
    return tuple(read_lock(path) for path in paths)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined and comments dropped, with line numbers."""
    logical: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not pending:
            start = number
        continued = line.endswith("\\")
        pending.append(line.removesuffix("\\").strip())
        if not continued:
            joined = " ".join(part for part in pending if part)
            pending = []
            if joined and not joined.startswith("-"):  # options (--index-url ...) pin nothing
                logical.append((start, joined))
    return logical


def _parse_line(line: str, path: Path, number: int) -> LockedRequirement:
    where = f"{path}:{number}"
    words = line.split()
    hashes = frozenset(word.removeprefix("--hash=") for word in words if word.startswith("--hash="))
    requirement_text = " ".join(word for word in words if not word.startswith("--hash="))
    try:
        requirement = Requirement(requirement_text)
    except (InvalidRequirement, InvalidMarker) as exc:
        raise LockError(
            f"{where}: not a requirement line: {requirement_text!r} ({exc})",
            fix="regenerate the lock with `nox -s lock`",
        ) from exc
    if requirement.url:
        return _direct_wheel(requirement, hashes, path, where)
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
        raise LockError(
            f"{where}: {requirement.name} is not pinned to one version ({requirement.specifier})",
            fix="a lock pins every package with ==; regenerate it with `nox -s lock`",
        )
    if not hashes:
        raise LockError(
            f"{where}: {requirement.name} has no --hash",
            fix="compile locks with hashes (`nox -s lock` runs pip-compile --generate-hashes)",
        )
    try:
        version = Version(specifiers[0].version)
    except InvalidVersion as exc:  # pragma: no cover - packaging validated the specifier
        raise LockError(f"{where}: {exc}", fix="regenerate the lock") from exc
    return LockedRequirement(
        name=canonicalize_name(requirement.name),
        version=version,
        hashes=hashes,
        marker=requirement.marker,
        source=path,
    )


def _direct_wheel(
    requirement: Requirement, hashes: frozenset[str], path: Path, where: str
) -> LockedRequirement:
    """``name @ URL-of-a-wheel``: pinned by the wheel's file name and its hash."""
    filename = requirement.url.rsplit("/", 1)[-1] if requirement.url else ""
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        raise LockError(
            f"{where}: {requirement.name} @ {requirement.url} is not a wheel file",
            fix="a lock may point at a wheel (name-version-tags.whl); pin anything else with ==",
        ) from None
    if not hashes:
        raise LockError(f"{where}: {name} has no --hash", fix="add the wheel's sha256 hash")
    return LockedRequirement(
        name=name,
        version=version,
        hashes=hashes,
        marker=requirement.marker,
        source=path,
        url=requirement.url,
    )


def lock_digest(locks: Iterable[Lock]) -> str:
    """sha256 (hex) over what the locks install: pins, markers and hashes, not comments."""
    digest = hashlib.sha256()
    for lock in sorted(locks, key=lambda lock: lock.name):
        digest.update(f"lock {lock.name}\n".encode())
        for requirement in sorted(lock, key=lambda r: (r.name, str(r.version))):
            marker = f"; {requirement.marker}" if requirement.marker else ""
            digest.update(f"{requirement.requirement_line()}{marker}\n".encode())
    return digest.hexdigest()
