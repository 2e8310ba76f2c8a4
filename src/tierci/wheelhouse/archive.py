"""Packing a wheelhouse into one archive for a CI cache or artifact, and back.

``wheelhouse-<key>.tar.gz``: the manifest first, then the wheels, with fixed owners
and times so equal wheelhouses pack to equal bytes.

An archive is input from outside: nothing in it is trusted. Unpacking refuses it (exit
6, the existing wheelhouse left as it was) unless:

- its first member is the manifest, at most ``MANIFEST_MAX_BYTES``, of the manifest's
  schema, and (unless any key is accepted) packed for the current locks;
- the sizes its manifest declares add up to at most the cap (``max_unpacked_mib``),
  checked before anything is written; every other member is a regular file the
  manifest lists, once, whose tar header has the manifest's size; a tar header that
  carries data (pax, GNU long names) is small;
- every wheel hashes to what the manifest says (a damaged archive) *and* to what the
  repository vouches for: the lock's hash, or a built wheel's committed hash
  (``trust``). The manifest's own word is never enough.

Unpacking takes a file lock (in the user cache), removes what a killed unpack left
beside the folder, extracts into a new folder there (with the umask's mode, as any
folder) and swaps it in.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from filelock import FileLock
from platformdirs import user_cache_path

from tierci.config import DEFAULT_MAX_UNPACKED_MIB
from tierci.errors import WheelhouseError
from tierci.escape import clip, show_invisible
from tierci.wheelhouse.hashes import HashCache
from tierci.wheelhouse.model import (
    MANIFEST_MAX_BYTES,
    MANIFEST_NAME,
    check_manifest,
    read_manifest,
)

if TYPE_CHECKING:
    from pathlib import Path

    from tierci.wheelhouse.trust import Trust

__all__ = ["DEFAULT_MAX_UNPACKED_BYTES", "Unpacked", "archive_name", "pack", "unpack"]

DEFAULT_MAX_UNPACKED_BYTES = DEFAULT_MAX_UNPACKED_MIB << 20
#: pax headers and GNU long names hold a few hundred bytes in an honest archive.
_MAX_HEADER_DATA = 64 << 10
_HEADER_TYPES = (
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
)
_CORRUPT = (
    tarfile.TarError,
    EOFError,
    zlib.error,
    gzip.BadGzipFile,
    OSError,
    ValueError,
    RecursionError,  # a chain of pax headers, each reading the next
)


@dataclass(frozen=True, kw_only=True)
class Unpacked:
    """What an unpack put in place."""

    wheels: int
    key: str  # as the archive's manifest says: show it escaped
    #: Wheels left out, accepting any key, because no current lock pins them.
    left_out: tuple[str, ...] = ()


def archive_name(key: str) -> str:
    return f"wheelhouse-{key}.tar.gz"


def pack(folder: Path, out_dir: Path) -> Path:
    """Write ``out_dir/wheelhouse-<key>.tar.gz`` from a built wheelhouse."""
    manifest = read_manifest(folder)
    if "key" not in manifest:
        raise WheelhouseError(
            f"{folder} has no {MANIFEST_NAME}: only a built wheelhouse can be packed",
            fix="run `tierci wheelhouse build` (or `nox -s wheelhouse`) first",
        )
    hashes = HashCache(folder)
    for filename, record in manifest["wheels"].items():
        path = folder / filename
        if not path.is_file() or hashes.sha256(path) != record["sha256"]:
            raise WheelhouseError(
                f"{path} is missing or changed since the wheelhouse was built",
                fix="rebuild the wheelhouse before packing it",
            )
    hashes.save()
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / archive_name(manifest["key"])
    partial = archive.with_name(archive.name + ".partial")
    # Wheels are already compressed: the lightest gzip level costs little and saves time.
    # No time or file name in the gzip header: equal wheelhouses give equal bytes.
    with (
        partial.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        _add(tar, MANIFEST_NAME, (folder / MANIFEST_NAME).read_bytes())
        for filename in sorted(manifest["wheels"]):
            info = _info(filename, (folder / filename).stat().st_size)
            with (folder / filename).open("rb") as handle:
                tar.addfile(info, handle)
    partial.replace(archive)
    return archive


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, 0, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_info(name, len(data)), io.BytesIO(data))


def unpack(
    archive: Path,
    folder: Path,
    trust: Trust,
    *,
    expected_key: str | None = None,
    max_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
) -> Unpacked:
    """Replace ``folder`` with the archive's verified content.

    ``trust``: what the repository vouches for (``Trust.of(locks)``). ``expected_key``
    None accepts an archive packed for other locks; its wheels that no current lock
    pins are then left out instead of refused.
    """
    if not archive.is_file():
        raise WheelhouseError(
            f"no wheelhouse archive at {archive}",
            fix="restore it from the CI cache/artifact, or build one with `nox -s wheelhouse`",
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _unpack_lock(folder):
        _remove_leftovers(folder)
        staging = folder.parent / f"{_hidden(folder)}-unpack-{secrets.token_hex(4)}"
        staging.mkdir()  # with the umask's mode, as the folder it becomes
        try:
            unpacked = _Extraction(archive, staging, trust, expected_key, max_bytes).run()
            _swap_in(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return unpacked


def _unpack_lock(folder: Path) -> FileLock:
    """One unpack into ``folder`` at a time. The lock file lives in the user cache, not
    beside the folder, where it would be an untracked file in the project."""
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:32]
    path = user_cache_path("tierci") / "wheelhouse-locks" / f"{key}.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WheelhouseError(
            f"cannot make the folder for unpack locks, {path.parent}: {exc.strerror}",
            fix="make the user cache folder writable (or point XDG_CACHE_HOME elsewhere)",
        ) from exc
    return FileLock(path)


def _hidden(folder: Path) -> str:
    """``.wheelhouse`` for ``.wheelhouse`` and for ``wheelhouse``: the prefix of the
    folders an unpack makes beside it."""
    return folder.name if folder.name.startswith(".") else f".{folder.name}"


def _remove_leftovers(folder: Path) -> None:
    """What an unpack killed mid-way left beside ``folder`` (the file lock is held)."""
    prefixes = (f"{_hidden(folder)}-unpack-", f"{_hidden(folder)}-old-")
    for entry in folder.parent.iterdir():
        if entry.name.startswith(prefixes) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


class _BoundedTarInfo(tarfile.TarInfo):
    """Refuses a header that carries more than ``_MAX_HEADER_DATA`` before tarfile
    reads it into memory (a pax header can claim gigabytes)."""

    def _proc_member(self, tar: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _HEADER_TYPES and self.size > _MAX_HEADER_DATA:
            raise _OversizedHeaderError(self.size)
        # tarfile documents _proc_member as the method a subclass overrides.
        member: tarfile.TarInfo = super()._proc_member(tar)  # type: ignore[misc]
        return member


class _OversizedHeaderError(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


class _Extraction:
    """One pass over the archive into ``staging``: every check, then the data."""

    def __init__(
        self,
        archive: Path,
        staging: Path,
        trust: Trust,
        expected_key: str | None,
        max_bytes: int,
    ) -> None:
        self.archive, self.staging, self.trust = archive, staging, trust
        self.expected_key, self.max_bytes = expected_key, max_bytes

    def run(self) -> Unpacked:
        try:
            with tarfile.open(self.archive, "r:gz", tarinfo=_BoundedTarInfo) as tar:
                return self._extract(tar)
        except WheelhouseError:
            raise
        except _OversizedHeaderError as exc:
            raise self._refused(
                f"a tar header carries {exc.size} bytes of data (at most {_MAX_HEADER_DATA})"
            ) from None
        except _CORRUPT as exc:
            raise self._refused(f"it is corrupt or truncated ({_shown(str(exc))})") from exc

    def _extract(self, tar: tarfile.TarFile) -> Unpacked:
        first = tar.next()
        if first is None or first.name != MANIFEST_NAME or not _regular(first):
            raise self._refused(f"its first member is not the file {MANIFEST_NAME}")
        manifest = self._manifest(tar, first)
        wheels: dict[str, dict[str, Any]] = manifest["wheels"]
        seen = {MANIFEST_NAME}
        left_out: list[str] = []
        problems: list[str] = []
        for member in tar:  # iterating starts over, from the manifest
            if member.offset == first.offset:
                continue
            name = _shown(member.name)
            record = self._listed(member, wheels, seen)
            requirement = self.trust.pinned(member.name)
            if requirement is None:
                if self.expected_key is None:
                    left_out.append(member.name)
                    continue
                raise self._refused(f"{name}: no lock pins it")
            digest = self._copy_hashing(tar, member)
            if digest != record["sha256"]:
                problems.append(f"{name} does not match its manifest hash")
                continue
            verdict = self.trust.check(requirement, member.name, digest)
            if not verdict.trusted:
                problems.append(verdict.detail)
        absent = sorted(set(wheels) - seen)
        if absent:
            problems.append(
                f"{len(absent)} wheel(s) of its manifest are absent: {_shown(absent[0])}"
            )
        if problems:
            raise self._refused("; ".join(problems))
        kept = {name: record for name, record in wheels.items() if name not in left_out}
        (self.staging / MANIFEST_NAME).write_text(
            json.dumps({**manifest, "wheels": kept}, indent=2) + "\n", encoding="utf-8"
        )
        return Unpacked(wheels=len(kept), key=manifest.get("key", ""), left_out=tuple(left_out))

    def _listed(
        self, member: tarfile.TarInfo, wheels: dict[str, dict[str, Any]], seen: set[str]
    ) -> dict[str, Any]:
        """The manifest's record of ``member``, once checked that it may be written."""
        name = _shown(member.name)
        if member.name in seen:
            raise self._refused(f"member '{name}' appears twice")
        seen.add(member.name)
        if not _regular(member) or "/" in member.name or member.name.startswith("."):
            raise self._refused(f"unexpected member '{name}' (only wheel files)")
        record = wheels.get(member.name)
        if record is None:
            raise self._refused(f"{name} is not in its manifest")
        if member.size != record["size"]:
            raise self._refused(
                f"{name}: its tar header says {member.size} bytes, its manifest {record['size']}"
            )
        return record

    def _manifest(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> dict[str, Any]:
        """The manifest, read only if small, schema-checked; its key and the total size
        it declares checked before any wheel is written."""
        if member.size > MANIFEST_MAX_BYTES:
            raise self._refused(
                f"its manifest is {member.size} bytes, over its cap of {MANIFEST_MAX_BYTES}"
            )
        handle = tar.extractfile(member)
        if handle is None:  # pragma: no cover - a regular member always has data
            raise self._refused("its manifest cannot be read")
        try:
            data = json.loads(handle.read())
        except (ValueError, RecursionError) as exc:
            raise self._refused(f"its manifest is not JSON ({_shown(str(exc))})") from None
        manifest = check_manifest(
            data,
            f"wheelhouse archive {self.archive} refused: its manifest ({MANIFEST_NAME})",
            fix="rebuild the wheelhouse and pack it again (`nox -s wheelhouse`)",
        )
        key = manifest.get("key", "")
        if self.expected_key is not None and key != self.expected_key:
            raise WheelhouseError(
                f"{self.archive} was packed for key '{_shown(key)}', but the locks now need "
                f"{self.expected_key}; refusing it",
                fix="build a new wheelhouse for the current locks (`nox -s wheelhouse`)",
            )
        total = sum(record["size"] for record in manifest["wheels"].values())
        if total > self.max_bytes:
            raise self._refused(
                f"its manifest declares {total} bytes of wheels, over the cap of "
                f"{self.max_bytes} ({self.max_bytes >> 20} MiB)",
                fix="if the wheelhouse is really that large, raise max_unpacked_mib in "
                "[tool.tierci.wheelhouse]",
            )
        return manifest

    def _copy_hashing(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
        source = tar.extractfile(member)
        if source is None:  # pragma: no cover - regular members always have data
            raise OSError(f"{member.name} has no data")
        digest = hashlib.sha256()
        with (self.staging / member.name).open("xb") as out:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        return digest.hexdigest()

    def _refused(self, why: str, *, fix: str | None = None) -> WheelhouseError:
        return WheelhouseError(
            f"wheelhouse archive {self.archive} refused: {why}",
            fix=fix
            or "download or restore it again; if it persists, rebuild it with `nox -s wheelhouse`",
        )


def _regular(member: tarfile.TarInfo) -> bool:
    """A plain file: not a link, device, folder, FIFO, nor a sparse file."""
    return member.type in (tarfile.REGTYPE, tarfile.AREGTYPE)


def _shown(text: str) -> str:
    """A string from the archive as a message may hold it: short, controls visible."""
    return show_invisible(clip(text, 120))


def _swap_in(staging: Path, folder: Path) -> None:
    """Put the verified folder in place; the old one goes only once the new one is there."""
    retired = None
    if folder.exists():
        retired = folder.with_name(f"{_hidden(folder)}-old-{os.getpid()}")
        folder.rename(retired)
    staging.rename(folder)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
