"""Packing a wheelhouse into one archive for a CI cache or artifact, and back.

``wheelhouse-<key>.tar.gz``: the manifest first, then the wheels, with fixed owners
and times so equal wheelhouses pack to equal bytes. Unpacking streams each member
through sha256 and checks it against the manifest; a truncated or corrupt archive, a
file the manifest does not list (or lists with another hash), or an archive packed
for other locks is refused, and the existing wheelhouse is left as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import Any

from tierci.errors import WheelhouseError
from tierci.wheelhouse.model import MANIFEST_NAME, file_sha256, read_manifest

__all__ = ["archive_name", "pack", "unpack"]

_CORRUPT = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError, ValueError)


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
    for filename, record in manifest["wheels"].items():
        path = folder / filename
        if not path.is_file() or file_sha256(path) != record["sha256"]:
            raise WheelhouseError(
                f"{path} is missing or changed since the wheelhouse was built",
                fix="rebuild the wheelhouse before packing it",
            )
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


def unpack(archive: Path, folder: Path, *, expected_key: str | None = None) -> dict[str, Any]:
    """Replace ``folder`` with the archive's verified content; returns its manifest."""
    if not archive.is_file():
        raise WheelhouseError(
            f"no wheelhouse archive at {archive}",
            fix="restore it from the CI cache/artifact, or build one with `nox -s wheelhouse`",
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-unpack-", dir=folder.parent))
    try:
        manifest = _extract_verified(archive, staging)
        if expected_key is not None and manifest.get("key") != expected_key:
            raise WheelhouseError(
                f"{archive} was packed for {manifest.get('key')}, but the locks now need "
                f"{expected_key}; refusing it",
                fix="build a new wheelhouse for the current locks (`nox -s wheelhouse`)",
            )
        _swap_in(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _extract_verified(archive: Path, staging: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST_NAME or not first.isfile():
                raise _refused(archive, f"its first member is not {MANIFEST_NAME}")
            manifest = _read_json(tar, first, archive)
            expected: dict[str, str] = {
                name: record["sha256"] for name, record in manifest["wheels"].items()
            }
            (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
            seen = set()
            for member in tar:  # iterating starts over, from the manifest
                if member.offset == first.offset:
                    continue
                if not member.isfile() or "/" in member.name or member.name.startswith("."):
                    raise _refused(archive, f"unexpected member {member.name!r}")
                if member.name not in expected:
                    raise _refused(archive, f"{member.name} is not in its manifest")
                digest = _copy_hashing(tar, member, staging / member.name)
                if digest != expected[member.name]:
                    raise _refused(archive, f"{member.name} does not match its manifest hash")
                seen.add(member.name)
    except WheelhouseError:
        raise
    except _CORRUPT as exc:
        raise _refused(archive, f"it is corrupt or truncated ({exc})") from exc
    absent = sorted(set(expected) - seen)
    if absent:
        raise _refused(archive, f"{len(absent)} wheel(s) of its manifest are absent: {absent[0]}")
    return manifest


def _read_json(tar: tarfile.TarFile, member: tarfile.TarInfo, archive: Path) -> dict[str, Any]:
    handle = tar.extractfile(member)
    if handle is None:
        raise _refused(archive, "its manifest cannot be read")
    manifest = json.loads(handle.read())
    if not isinstance(manifest, dict) or not isinstance(manifest.get("wheels"), dict):
        raise _refused(archive, "its manifest is not a tierci wheelhouse manifest")
    return manifest


def _copy_hashing(tar: tarfile.TarFile, member: tarfile.TarInfo, destination: Path) -> str:
    source = tar.extractfile(member)
    if source is None:  # pragma: no cover - isfile() members always have data
        raise OSError(f"{member.name} has no data")
    digest = hashlib.sha256()
    with destination.open("wb") as out:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _refused(archive: Path, why: str) -> WheelhouseError:
    return WheelhouseError(
        f"wheelhouse archive {archive} refused: {why}",
        fix="download or restore it again; if it persists, rebuild it with `nox -s wheelhouse`",
    )


def _swap_in(staging: Path, folder: Path) -> None:
    """Put the verified folder in place; the old one goes only once the new one is there."""
    retired = None
    if folder.exists():
        retired = folder.with_name(f".{folder.name}-old-{os.getpid()}")
        folder.rename(retired)
    staging.rename(folder)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
