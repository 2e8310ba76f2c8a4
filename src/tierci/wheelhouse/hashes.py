"""Wheel hashes remembered by stat signature: a warm install does not re-read 290 MB.

As git's index does, an entry keeps a file's device, inode, size, mtime_ns and ctime_ns
beside its sha256 and counts only while all five are unchanged; anything else is read
and hashed again. Nothing can set a file's ctime back, so a wheel altered in place
(same size, mtime restored) is hashed again. A file changed less than a second before
it was hashed is not remembered: timestamps tick coarsely, and a write within the same
tick would leave the signature as it was.

The cache is a plain speed-up and lives in the user cache folder, keyed by the
wheelhouse's path, never in the wheelhouse: no archive can carry one. Unreadable or
unwritable, it is simply not used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from platformdirs import user_cache_path

__all__ = ["HashCache", "file_sha256"]

_SETTLE_NS = 1_000_000_000
_Signature = tuple[int, int, int, int, int]


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _signature(status: os.stat_result) -> _Signature:
    return (
        status.st_dev,
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
    )


class HashCache:
    """The sha256 of the files of one folder, remembered across runs."""

    def __init__(
        self, folder: Path, *, store: Path | None = None, settle_ns: int = _SETTLE_NS
    ) -> None:
        self.folder = folder
        self.store = store or _default_store(folder)
        self.settle_ns = settle_ns
        self._known = self._load()
        self._fresh: dict[str, tuple[_Signature, str]] = {}

    def sha256(self, path: Path) -> str:
        """The hex sha256 of ``path`` (a file in the folder): remembered, or read."""
        known = self._known.get(path.name)
        if known is not None and known[0] == _signature(path.stat()):
            return known[1]
        with path.open("rb") as handle:
            before = _signature(os.fstat(handle.fileno()))
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
            after = _signature(os.fstat(handle.fileno()))
        changed_last = max(after[3], after[4])
        if before == after and time.time_ns() - changed_last >= self.settle_ns:
            self._fresh[path.name] = (after, digest)
        return digest

    def save(self) -> None:
        """Write what was hashed anew, for files still in the folder; silent on failure."""
        if not self._fresh:
            return
        with contextlib.suppress(OSError):
            present = {entry.name for entry in os.scandir(self.folder)}
            entries = {**self._known, **self._fresh}
            data = {
                "folder": str(self.folder.resolve()),
                "files": {
                    name: [*signature, digest]
                    for name, (signature, digest) in sorted(entries.items())
                    if name in present
                },
            }
            self.store.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=".partial-", dir=self.store.parent)
            partial = Path(name)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(data, out)
                partial.replace(self.store)
            except BaseException:
                partial.unlink()
                raise
            self._known, self._fresh = entries, {}

    def _load(self) -> dict[str, tuple[_Signature, str]]:
        try:
            data = json.loads(self.store.read_text(encoding="utf-8"))
            files = data["files"] if data["folder"] == str(self.folder.resolve()) else {}
            known = {}
            for name, entry in files.items():
                if _is_entry(entry):
                    dev, inode, size, mtime_ns, ctime_ns, digest = entry
                    known[str(name)] = ((dev, inode, size, mtime_ns, ctime_ns), digest)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return {}
        return known


def _is_entry(entry: object) -> bool:
    """``[dev, inode, size, mtime_ns, ctime_ns, "hex"]``, as ``save`` writes it."""
    return (
        isinstance(entry, list)
        and len(entry) == 6  # noqa: PLR2004
        and all(type(number) is int for number in entry[:5])
        and isinstance(entry[5], str)
    )


def _default_store(folder: Path) -> Path:
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:32]
    return user_cache_path("tierci") / "wheel-hashes" / f"{key}.json"
