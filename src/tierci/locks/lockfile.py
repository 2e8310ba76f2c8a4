"""Reading hashed lock files (pip-compile ``--generate-hashes`` output).

A lock is a list of ``name==version`` pins, each with the sha256 hashes of the files
that may provide it and, sometimes, an environment marker. The wheelhouse and the
environment manager need exactly that, and a digest of it that ignores comments (the
"via" lines change when nothing installable does).

The reader is the gate before uv and pip see a lock, so it refuses what they would
obey but nobody reviewed:

- an option line (``--index-url``, ``--extra-index-url``, ``--find-links``,
  ``--trusted-host``, ``--no-binary``, anything starting with ``-``) is an error naming
  ``file:line``, unless the project allows exactly that line in ``[tool.tierci]
  lock_options``. ``-r``, ``-c`` and ``-e`` are never allowed: an included file is
  neither read here nor covered by the lock's digest, and ``-e`` installs unpinned code;
- a hash must be ``sha256``, ``sha384`` or ``sha512`` with lowercase hex of the right
  length (md5 and sha1 can be forged by collision);
- any other option on a requirement line is an error too.
"""

from __future__ import annotations

import hashlib
import re
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

__all__ = [
    "HASH_HEX_LENGTHS",
    "Lock",
    "LockedRequirement",
    "can_be_allowed",
    "lock_digest",
    "normalise_option",
    "read_lock",
    "read_locks",
]

#: The hash algorithms a lock may use, with the length of their hex digests: sha256
#: (what pip-compile writes) and stronger.
HASH_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_LOWER_HEX = re.compile(r"[0-9a-f]+")
#: Options no configuration can allow: see the module docstring.
_NEVER_ALLOWED = ("--requirement", "--constraint", "--editable", "--hash")
_NEVER_ALLOWED_SHORT = ("-r", "-c", "-e")
# pip's rule: "#" at the start of a line or after whitespace starts a comment.
_COMMENT = re.compile(r"(^|\s)#.*$")


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
    #: The option lines the project allowed (``[tool.tierci] lock_options``), normalised.
    options: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[LockedRequirement]:
        return iter(self.requirements)

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def digest(self) -> str:
        """sha256 (hex) over what this lock installs (see :func:`lock_digest`)."""
        return lock_digest([self])


def read_lock(path: Path, *, allowed_options: Iterable[str] = ()) -> Lock:
    """Every pin of ``path``; an unpinned or unhashed line, a weak or malformed hash, or
    an option line not in ``allowed_options`` is an error naming ``file:line``.

    ``allowed_options`` is ``[tool.tierci] lock_options`` (``TierciConfig.lock_options``).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LockError(
            f"cannot read lock file {path}: {exc.strerror}",
            fix="run `nox -s lock` to create it, or correct the path in [tool.tierci]",
        ) from exc
    except UnicodeDecodeError as exc:
        raise LockError(
            f"lock file {path} is not UTF-8 text (byte {exc.start}: {exc.reason})",
            fix="regenerate the lock with `nox -s lock`",
        ) from exc
    allowed = {normalise_option(option) for option in allowed_options}
    requirements: list[LockedRequirement] = []
    options: list[str] = []
    for number, line in _logical_lines(text):
        if line.startswith("-"):
            options.append(_allowed_option(line, allowed, f"{path}:{number}"))
        else:
            requirements.append(_parse_line(line, path, number))
    return Lock(path=path, requirements=tuple(requirements), options=tuple(options))


def read_locks(paths: Iterable[Path], *, allowed_options: Iterable[str] = ()) -> tuple[Lock, ...]:
    """Each of ``paths`` read once, in order (see :func:`read_lock`)."""
    allowed = tuple(allowed_options)
    return tuple(read_lock(path, allowed_options=allowed) for path in paths)


def normalise_option(line: str) -> str:
    """An option line as it is compared with ``lock_options``: words separated by one
    space, and ``--name=value`` written ``--name value`` (pip reads both alike)."""
    words = line.split()
    if words and words[0].startswith("--") and "=" in words[0]:
        words[0:1] = words[0].split("=", 1)
    return " ".join(words)


def can_be_allowed(option: str) -> bool:
    """Whether ``lock_options`` may allow this option line at all (not ``-r``/``-c``/
    ``-e``, in any spelling pip accepts, nor a lone ``--hash``)."""
    name = normalise_option(option).split(" ", 1)[0]
    if name.startswith("--"):
        # pip accepts any unambiguous prefix of a long option (--requ for --requirement).
        return not any(never.startswith(name) for never in _NEVER_ALLOWED)
    return not name.startswith(_NEVER_ALLOWED_SHORT)


def _allowed_option(line: str, allowed: set[str], where: str) -> str:
    option = normalise_option(line)
    if not can_be_allowed(option):
        raise LockError(
            f"{where}: {option!r} is an option line, and a lock may not include other "
            "files or editable installs",
            fix="remove the line; a lock lists every pin itself (pip-compile writes it so)",
        )
    if option not in allowed:
        raise LockError(
            f"{where}: {option!r} is an option line; uv and pip would obey it, and no one "
            "allowed it",
            fix=f"remove the line (`nox -s lock` does not write it), or allow exactly this "
            f"line with lock_options = [{_toml_string(option)}] in [tool.tierci]",
        )
    return option


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with comments dropped and backslash continuations joined, with line numbers.

    Comments go first, line by line: a ``\\`` after a comment continues nothing (uv's
    rule), so a line after it is read, and checked, on its own.
    """
    logical: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _COMMENT.sub("", raw).strip()
        if not pending:
            start = number
        pending.append(line.removesuffix("\\").strip())
        if not line.endswith("\\"):
            _flush(pending, start, logical)
    _flush(pending, start, logical)  # a continuation on the last line still counts
    return logical


def _flush(pending: list[str], start: int, logical: list[tuple[int, str]]) -> None:
    joined = " ".join(part for part in pending if part)
    pending.clear()
    if joined:
        logical.append((start, joined))


def _parse_line(line: str, path: Path, number: int) -> LockedRequirement:
    where = f"{path}:{number}"
    words = line.split()
    hash_words = [word for word in words if word.startswith("--hash=")]
    requirement_text = " ".join(word for word in words if not word.startswith("--hash="))
    try:
        requirement = Requirement(requirement_text)
    except (InvalidRequirement, InvalidMarker) as exc:
        options = [w for w in words if w.startswith("-") and not w.startswith("--hash=")]
        if options:
            raise LockError(
                f"{where}: {options[0]!r} on a requirement line: only --hash=ALGORITHM:HEX may "
                "follow a pin",
                fix="remove it, or regenerate the lock with `nox -s lock`",
            ) from exc
        raise LockError(
            f"{where}: not a requirement line: {requirement_text!r} ({exc})",
            fix="regenerate the lock with `nox -s lock`",
        ) from exc
    hashes = frozenset(_checked_hash(word, requirement.name, where) for word in hash_words)
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


def _checked_hash(word: str, name: str, where: str) -> str:
    """``--hash=sha256:<hex>`` → ``sha256:<hex>``, or an error naming what is wrong."""
    value = word.removeprefix("--hash=")
    algorithm, _, hexdigest = value.partition(":")
    accepted = ", ".join(HASH_HEX_LENGTHS)
    length = HASH_HEX_LENGTHS.get(algorithm)
    if length is None:
        raise LockError(
            f"{where}: {name} has a {algorithm or 'nameless'} hash ({value!r}); only "
            f"{accepted} are accepted",
            fix="regenerate the lock with `nox -s lock` (pip-compile writes sha256 hashes)",
        )
    if len(hexdigest) != length or not _LOWER_HEX.fullmatch(hexdigest):
        raise LockError(
            f"{where}: {name} has a malformed {algorithm} hash ({value!r}): expected "
            f"{length} lowercase hex digits",
            fix="regenerate the lock with `nox -s lock`, or copy the hash again in full",
        )
    return value


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
    """sha256 (hex) over what the locks install: options, pins, markers and hashes, not
    comments."""
    digest = hashlib.sha256()
    for lock in sorted(locks, key=lambda lock: lock.name):
        digest.update(f"lock {lock.name}\n".encode())
        for option in lock.options:  # --no-binary and the like change what gets installed
            digest.update(f"option {option}\n".encode())
        for requirement in sorted(lock, key=lambda r: (r.name, str(r.version))):
            marker = f"; {requirement.marker}" if requirement.marker else ""
            digest.update(f"{requirement.requirement_line()}{marker}\n".encode())
    return digest.hexdigest()
