"""Hostile wheelhouses and archives, for real (issue 11): a real wheelhouse is built
from the small lock, then real tar archives and real wheels are forged against it and
fed to the real `tierci` command. The repository is the only trust root."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_wheelhouse import NO_INDEX, fresh_env, make_project
from tests.support import run, tierci

SIX = "six-1.17.0-py2.py3-none-any.whl"
DOCOPT = "docopt-0.6.2-py2.py3-none-any.whl"
MANIFEST = "tierci-wheelhouse.json"
DOCOPT_SDIST = "49b3a825280bd66b3aa83585ef59c4a8c82f2c8a522dbe754a8bc8d08c85c491"
Member = tuple[tarfile.TarInfo, bytes | None]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(tmp_path_factory.mktemp("attacks"))
    result = tierci(project, "wheelhouse", "build")
    assert result.returncode == 0, result
    return project


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(built, copy)
    return copy


@pytest.fixture
def archive(project: Path, tmp_path: Path) -> Path:
    packed = tierci(project, "wheelhouse", "pack", "--out", str(tmp_path / "out"))
    assert packed.returncode == 0, packed
    return Path(packed.output.strip().splitlines()[-1])


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    return {path.name: sha256(path.read_bytes()) for path in sorted(folder.iterdir())}


def members_of(archive: Path) -> list[Member]:
    with tarfile.open(archive, "r:gz") as tar:
        return [
            (member, extracted.read())
            for member in tar
            if (extracted := tar.extractfile(member)) is not None
        ]


def regular(name: str, data: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def write_archive(path: Path, members: list[Member]) -> Path:
    """``members`` as a tar; a member without data is a header alone (an archive cut
    off, or lying about a size), written by hand: Python 3.13's addfile refuses one."""
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is None and info.size:
                header = info.tobuf(tar.format, tar.encoding, tar.errors)
                tar.fileobj.write(header)
                tar.offset += len(header)
            else:
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def forged(archive: Path, path: Path, manifest: dict[str, Any], **wheels: bytes) -> Path:
    """``archive`` with its manifest replaced and some wheels (by file name) swapped."""
    rest = [
        regular(info.name, wheels[info.name]) if info.name in wheels else (info, data)
        for info, data in members_of(archive)[1:]
    ]
    return write_archive(path, [regular(MANIFEST, json.dumps(manifest).encode()), *rest])


def manifest_of(archive: Path) -> dict[str, Any]:
    data = members_of(archive)[0][1]
    assert data is not None
    manifest: dict[str, Any] = json.loads(data)
    return manifest


def evil_wheel(name: str, version: str, module: str, marker: Path) -> bytes:
    """A real, installable wheel whose module writes ``marker`` when imported."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{module}.py": f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: attacker\nRoot-Is-Purelib: true\n"
        "Tag: py2-none-any\nTag: py3-none-any\n",
    }
    record = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        for path, text in files.items():
            data = text.encode()
            wheel.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{path},sha256={digest.decode()},{len(data)}")
        wheel.writestr(f"{dist}/RECORD", "\n".join([*record, f"{dist}/RECORD,,"]) + "\n")
    return buffer.getvalue()


# --- 1. The trust root is the repository, never the archive ---------------------------


@pytest.mark.parametrize(
    "victim",
    [(SIX, "six", "1.17.0"), (DOCOPT, "docopt", "0.6.2")],
    ids=["a-wheel-the-lock-pins", "a-wheel-built-from-the-sdist"],
)
def test_a_tampered_wheel_the_manifest_calls_built_never_unpacks_validates_or_installs(
    project: Path, archive: Path, tmp_path: Path, victim: tuple[str, str, str]
) -> None:
    filename, name, version = victim
    module = name
    marker = tmp_path / "attacker-code-ran"
    evil = evil_wheel(name, version, module, marker)
    manifest = manifest_of(archive)
    manifest["wheels"][filename] = {
        "name": name,
        "version": version,
        "sha256": sha256(evil),
        "size": len(evil),
        "origin": "built",
    }
    hostile = forged(archive, tmp_path / "hostile.tar.gz", manifest, **{filename: evil})
    before = snapshot(project / ".wheelhouse")

    unpacked = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert unpacked.returncode == 6, unpacked
    assert f"{filename} has sha256:{sha256(evil)[:12]}" in flat(unpacked.output)
    assert "which neither the lock nor" in flat(unpacked.output)
    assert "Traceback" not in unpacked.output
    assert snapshot(project / ".wheelhouse") == before

    # The same folder restored another way (a cache of .wheelhouse itself): the manifest
    # in it says "built" with the right hash, and still nothing trusts it.
    (project / ".wheelhouse" / filename).write_bytes(evil)
    (project / ".wheelhouse" / MANIFEST).write_text(json.dumps(manifest))
    validated = tierci(project, "wheelhouse", "validate")
    assert validated.returncode == 6, validated
    assert f"hash {name}=={version}" in validated.output
    python = fresh_env(tmp_path / "venv")
    installed = tierci(project, "wheelhouse", "install", "--python", str(python), **NO_INDEX)
    assert installed.returncode == 6, installed
    assert "refusing to install" in installed.output
    assert run([str(python), "-c", f"import {module}"], tmp_path).returncode != 0
    assert not marker.exists()


def test_build_commits_the_built_wheels_hash_with_its_sdist_and_epoch(built: Path) -> None:
    text = (built / "requirements" / "wheelhouse-built.txt").read_text(encoding="utf-8")
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]
    wheel_hash = sha256((built / ".wheelhouse" / DOCOPT).read_bytes())
    expected = (
        f"docopt==0.6.2 --hash=sha256:{wheel_hash}  # {DOCOPT} from sdist "
        f"sha256:{DOCOPT_SDIST}, SOURCE_DATE_EPOCH=315532800"
    )
    assert entries == [expected]


def test_a_built_wheel_without_its_committed_entry_is_refused_everywhere(
    project: Path, archive: Path, tmp_path: Path
) -> None:
    (project / "requirements" / "wheelhouse-built.txt").unlink()
    validated = tierci(project, "wheelhouse", "validate")
    assert validated.returncode == 6, validated
    assert "hash docopt==0.6.2" in validated.output
    assert "wheelhouse-built.txt" in flat(validated.output)
    installed = tierci(
        project, "wheelhouse", "install", "--python", str(fresh_env(tmp_path / "v")), **NO_INDEX
    )
    assert installed.returncode == 6, installed
    before = snapshot(project / ".wheelhouse")
    unpacked = tierci(project, "wheelhouse", "unpack", str(archive))
    assert unpacked.returncode == 6, unpacked
    assert f"{DOCOPT} has sha256:" in flat(unpacked.output)
    assert snapshot(project / ".wheelhouse") == before


def test_any_key_does_not_bypass_the_trust_check(
    project: Path, archive: Path, tmp_path: Path
) -> None:
    evil = evil_wheel("six", "1.17.0", "six", tmp_path / "ran")
    manifest = manifest_of(archive)
    manifest["key"] = "some-other-key"
    manifest["wheels"][SIX] |= {"sha256": sha256(evil), "size": len(evil)}
    hostile = forged(archive, tmp_path / "hostile.tar.gz", manifest, **{SIX: evil})
    unpacked = tierci(project, "wheelhouse", "unpack", "--any-key", str(hostile))
    assert unpacked.returncode == 6, unpacked
    assert f"{SIX} has sha256:" in flat(unpacked.output)


def stamp_lock(project: Path) -> None:
    """Give the small lock an .in and its digest, so `tierci lock` checks that folder."""
    from tierci.config import load_config  # noqa: PLC0415 - the library prepares the project
    from tierci.locks import compile as locks  # noqa: PLC0415

    (project / "requirements" / "small.in").write_text("docopt\nsix\niniconfig\ntomli-w\n")
    (spec,) = locks.lock_specs(load_config(project))
    locks._stamp(spec.lock, locks.input_digest(spec, project / "pyproject.toml"))


def test_lock_check_reports_a_built_entry_whose_sdist_the_lock_dropped_or_no_lock_pins(
    project: Path,
) -> None:
    stamp_lock(project)
    fresh = tierci(project, "lock")
    assert fresh.returncode == 0, fresh
    lock = project / "requirements" / "small.txt"
    text = lock.read_text()
    lock.write_text(text.replace(DOCOPT_SDIST, "0" * 64))  # a new sdist upstream
    moved = tierci(project, "lock")
    assert moved.returncode == 3, moved
    assert "stale:" in moved.output
    assert f"docopt==0.6.2 ({DOCOPT}): built from sdist sha256:49b3a825280b" in flat(moved.output)
    assert "which the lock no longer lists" in flat(moved.output)
    validated = tierci(project, "wheelhouse", "validate")  # and the entry trusts nothing
    assert validated.returncode == 6, validated
    assert "is stale" in flat(validated.output)

    head, _, tail = text.partition("docopt==")
    lock.write_text(head + "iniconfig==" + tail.partition("iniconfig==")[2])  # docopt gone
    gone = tierci(project, "lock")
    assert gone.returncode == 3, gone
    assert f"docopt==0.6.2 ({DOCOPT}): no lock pins it" in flat(gone.output)


def test_a_malformed_built_entry_is_a_lock_error_naming_its_line(project: Path) -> None:
    stamp_lock(project)
    built_file = project / "requirements" / "wheelhouse-built.txt"
    built_file.write_text(built_file.read_text() + "docopt==0.6.2  # no hash\n")
    checked = tierci(project, "lock")
    assert checked.returncode == 3, checked
    assert "wheelhouse-built.txt:5: not a built-wheel entry" in flat(checked.output)
    validated = tierci(project, "wheelhouse", "validate")
    assert validated.returncode == 3, validated
    assert "wheelhouse-built.txt:5" in flat(validated.output)
    assert "Traceback" not in validated.output


# --- 2. Archive members: duplicates, caps, schema, leftovers, mode ----------------------


@pytest.mark.parametrize("twice", [MANIFEST, SIX])
def test_a_member_that_appears_twice_is_refused(
    project: Path, archive: Path, tmp_path: Path, twice: str
) -> None:
    members = members_of(archive)
    copy = next(member for member in members if member[0].name == twice)
    hostile = write_archive(tmp_path / "twice.tar.gz", [*members, copy])
    before = snapshot(project / ".wheelhouse")
    unpacked = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert unpacked.returncode == 6, unpacked
    assert f"member '{twice}' appears twice" in flat(unpacked.output)
    assert snapshot(project / ".wheelhouse") == before


def test_a_manifest_declaring_more_than_the_cap_is_refused_before_anything_is_written(
    project: Path, archive: Path, tmp_path: Path
) -> None:
    manifest = manifest_of(archive)
    manifest["wheels"][SIX]["size"] = 100 << 30
    members = [regular(MANIFEST, json.dumps(manifest).encode())]
    header_only = tarfile.TarInfo(SIX)
    header_only.size = 100 << 30  # 100 GiB by its header; no data follows
    hostile = write_archive(tmp_path / "huge.tar.gz", [*members, (header_only, None)])
    unpacked = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert unpacked.returncode == 6, unpacked
    assert "over the cap of 8589934592 (8192 MiB)" in flat(unpacked.output)
    assert not [p for p in project.iterdir() if p.name.startswith(".wheelhouse-")]


def test_a_tar_header_bigger_than_its_manifest_record_is_refused_before_it_is_written(
    project: Path, archive: Path, tmp_path: Path
) -> None:
    members = members_of(archive)
    header_only = tarfile.TarInfo(SIX)
    header_only.size = 100 << 30
    rest = [(header_only, None) if info.name == SIX else (info, data) for info, data in members]
    hostile = write_archive(tmp_path / "liar.tar.gz", rest)
    unpacked = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert unpacked.returncode == 6, unpacked
    real_size = manifest_of(archive)["wheels"][SIX]["size"]
    assert f"{SIX}: its tar header says {100 << 30} bytes, its manifest {real_size}" in flat(
        unpacked.output
    )


def test_the_cap_is_configurable(project: Path, archive: Path, tmp_path: Path) -> None:
    padded = b"\0" * (2 << 20)  # 2 MiB: over a 1 MiB cap
    manifest = manifest_of(archive)
    manifest["wheels"][SIX] |= {"sha256": sha256(padded), "size": len(padded)}
    hostile = forged(archive, tmp_path / "big.tar.gz", manifest, **{SIX: padded})
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "max_unpacked_mib = 1\n")
    unpacked = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert unpacked.returncode == 6, unpacked
    assert "over the cap of 1048576 (1 MiB)" in flat(unpacked.output)
    assert "raise max_unpacked_mib" in flat(unpacked.output)
    pyproject.write_text(
        pyproject.read_text().replace("max_unpacked_mib = 1", "max_unpacked_mib = 0")
    )
    wrong = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert wrong.returncode == 2, wrong
    assert "max_unpacked_mib must be a whole number above 0" in flat(wrong.output)


def test_a_pax_header_claiming_megabytes_is_refused_before_it_is_read(
    project: Path, archive: Path, tmp_path: Path
) -> None:
    manifest_member = members_of(archive)[0]
    pax = tarfile.TarInfo("././@PaxHeader")
    pax.type = tarfile.XHDTYPE
    pax.size = 8 << 20
    raw = io.BytesIO()
    raw.write(manifest_member[0].tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict"))
    assert manifest_member[1] is not None
    raw.write(manifest_member[1].ljust(-(-len(manifest_member[1]) // 512) * 512, b"\0"))
    raw.write(pax.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict"))
    raw.write(b"9 a=bbbb\n" * (pax.size // 9) + b"\0" * (pax.size % 9))  # real data, 8 MiB
    hostile = tmp_path / "pax.tar.gz"
    hostile.write_bytes(gzip.compress(raw.getvalue(), compresslevel=1))
    unpacked = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert unpacked.returncode == 6, unpacked
    assert f"a tar header carries {8 << 20} bytes of data" in flat(unpacked.output)


def test_a_manifest_over_its_own_cap_is_refused_unread(
    project: Path, archive: Path, tmp_path: Path
) -> None:
    manifest = manifest_of(archive)
    manifest["padding"] = " " * (2 << 20)
    hostile = forged(archive, tmp_path / "fat.tar.gz", manifest)
    unpacked = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert unpacked.returncode == 6, unpacked
    assert "its manifest is" in flat(unpacked.output)
    assert "over its cap of 1048576" in flat(unpacked.output)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda m: m["wheels"].update({SIX: "abc"}),
            f"the record of {SIX} is a str, not an object",
        ),
        (lambda m: m["wheels"][SIX].pop("sha256"), f"the record of {SIX} has no sha256"),
        (lambda m: m["wheels"][SIX].pop("size"), f"the record of {SIX} has no size"),
        (lambda m: m["wheels"][SIX].update(sha256="MD5"), f"the record of {SIX} has no sha256"),
        (lambda m: m.update(wheels=[]), "not a tierci wheelhouse manifest of format 1"),
        (lambda m: m["wheels"].update({"../x.whl": {}}), "'../x.whl' is not a wheel file name"),
        (lambda m: m.update(key=["k"]), "its key is not a string"),
    ],
    ids=[
        "record-not-an-object",
        "no-sha256",
        "no-size",
        "sha256-not-hex",
        "wheels-not-an-object",
        "a-path-as-a-name",
        "key-not-a-string",
    ],
)
def test_a_manifest_that_breaks_its_schema_is_exit_6_naming_the_member(
    project: Path, archive: Path, tmp_path: Path, edit: Any, expected: str
) -> None:
    manifest = manifest_of(archive)
    edit(manifest)
    hostile = forged(archive, tmp_path / "schema.tar.gz", manifest)
    unpacked = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert unpacked.returncode == 6, unpacked
    assert f"its manifest ({MANIFEST})" in flat(unpacked.output)
    assert expected in flat(unpacked.output)
    assert "Traceback" not in unpacked.output


@pytest.mark.parametrize(
    "data", [b"{not json", b"[" * 100_000, b"\xff\xfe"], ids=["broken", "nested-deep", "not-utf8"]
)
def test_a_manifest_that_is_not_json_is_exit_6(
    project: Path, archive: Path, tmp_path: Path, data: bytes
) -> None:
    members = members_of(archive)
    hostile = write_archive(tmp_path / "bad.tar.gz", [regular(MANIFEST, data), *members[1:]])
    unpacked = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert unpacked.returncode == 6, unpacked
    assert "its manifest is not JSON" in flat(unpacked.output)
    assert "Traceback" not in unpacked.output


# Runs `tierci` in-process, SIGKILLing itself at one point of the unpack.
KILLED = """
import os, pathlib, signal, sys
from tierci.cli import main
from tierci.wheelhouse import archive
where = sys.argv.pop(1)
if where == "mid-extraction":
    copy = archive._Extraction._copy_hashing
    def copy_then_die(self, tar, member):
        copy(self, tar, member)
        os.kill(os.getpid(), signal.SIGKILL)
    archive._Extraction._copy_hashing = copy_then_die
else:
    rename = pathlib.Path.rename
    def rename_then_die(self, target):
        moved = rename(self, target)
        if self.name == ".wheelhouse":  # the old one moved aside, the new one not yet in
            os.kill(os.getpid(), signal.SIGKILL)
        return moved
    pathlib.Path.rename = rename_then_die
main(sys.argv[1:])
"""


@pytest.mark.parametrize("where", ["mid-extraction", "mid-swap"])
def test_leftovers_of_a_killed_unpack_are_removed_by_the_next_one(
    project: Path, archive: Path, where: str
) -> None:
    command = [sys.executable, "-c", KILLED, where, "--project", str(project)]
    killed = run([*command, "wheelhouse", "unpack", str(archive)], project)
    assert killed.returncode == -9, killed
    leftovers = [p.name for p in project.iterdir() if p.name.startswith(".wheelhouse-")]
    assert any(name.startswith(".wheelhouse-unpack-") for name in leftovers), leftovers
    if where == "mid-swap":
        assert any(name.startswith(".wheelhouse-old-") for name in leftovers), leftovers
    unpacked = tierci(project, "wheelhouse", "unpack", str(archive))
    assert unpacked.returncode == 0, unpacked
    assert [p.name for p in project.iterdir() if p.name.startswith(".wheelhouse-")] == []
    assert tierci(project, "wheelhouse", "validate").returncode == 0


def test_the_unpacked_folder_and_wheels_get_the_umasks_mode_not_0700(
    project: Path, archive: Path
) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    unpacked = tierci(project, "wheelhouse", "unpack", str(archive))
    assert unpacked.returncode == 0, unpacked
    folder = project / ".wheelhouse"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o666 & ~umask}


def special(name: str, kind: bytes, linkname: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, None


@pytest.mark.parametrize(
    "member",
    [
        regular("../escaped.whl", b"x"),
        regular("/tmp/absolute.whl", b"x"),
        regular(".tierci-hashes.json", b"{}"),
        special(SIX, tarfile.SYMTYPE, "/etc/passwd"),
        special(SIX, tarfile.LNKTYPE, MANIFEST),
        special(SIX, tarfile.CHRTYPE),
        special(SIX, tarfile.FIFOTYPE),
        special("sub", tarfile.DIRTYPE),
    ],
    ids=["traversal", "absolute", "dot-file", "symlink", "hardlink", "device", "fifo", "folder"],
)
def test_paths_links_devices_and_dot_files_in_an_archive_are_still_refused(
    project: Path, archive: Path, tmp_path: Path, member: Member
) -> None:
    members = members_of(archive)
    without_six = [m for m in members if m[0].name != SIX]
    hostile = write_archive(tmp_path / "odd.tar.gz", [without_six[0], member, *without_six[1:]])
    before = snapshot(project / ".wheelhouse")
    unpacked = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert unpacked.returncode == 6, unpacked
    assert "unexpected member" in flat(unpacked.output)
    assert snapshot(project / ".wheelhouse") == before
    assert not (project / "escaped.whl").exists()
    assert not Path("/tmp/absolute.whl").exists()


# --- 3. Strings from an archive are shown, never interpreted ----------------------------


@pytest.mark.parametrize("key", ["[/]", "[bold]x[/bold]", "\x1b[2J\u202eevil"])
def test_any_key_prints_the_archives_key_escaped(
    project: Path, archive: Path, tmp_path: Path, key: str
) -> None:
    manifest = manifest_of(archive)
    manifest["key"] = key
    hostile = forged(archive, tmp_path / "key.tar.gz", manifest)
    unpacked = tierci(project, "wheelhouse", "unpack", "--any-key", str(hostile))
    assert unpacked.returncode == 0, unpacked
    assert "\x1b" not in unpacked.output
    assert "\u202e" not in unpacked.output
    shown = key.replace("\x1b", "\\x1b").replace("\u202e", "\\u202e")
    assert f"(archive key {shown})" in unpacked.output
    refused = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert refused.returncode == 6, refused
    assert f"was packed for key '{shown}'" in flat(refused.output)
    assert "\x1b" not in refused.output


def test_a_hostile_member_name_is_shown_escaped(
    project: Path, archive: Path, tmp_path: Path
) -> None:
    members = members_of(archive)
    name = "\x1b]0;owned\x07[red]x.whl"
    hostile = write_archive(tmp_path / "name.tar.gz", [*members, regular(name, b"x")])
    unpacked = tierci(project, "wheelhouse", "unpack", str(hostile))
    assert unpacked.returncode == 6, unpacked
    assert "\x1b" not in unpacked.output
    assert "\x07" not in unpacked.output
    assert "\\x1b]0;owned\\x07[red]x.whl is not in its manifest" in flat(unpacked.output)


# --- 19. Safe and fast: the hash cache ----------------------------------------------


def settled(folder: Path) -> None:
    """Wait until every file in ``folder`` last changed over a second ago: the hash
    cache remembers only files that have settled (see tierci.wheelhouse.hashes)."""
    newest = max(max(p.stat().st_mtime_ns, p.stat().st_ctime_ns) for p in folder.iterdir())
    while time.time_ns() - newest < 1_100_000_000:
        time.sleep(0.1)


def test_a_wheel_altered_in_place_with_its_mtime_restored_is_still_caught(
    project: Path, tmp_path: Path
) -> None:
    cache_home = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    folder = project / ".wheelhouse"
    settled(folder)
    first = tierci(project, "wheelhouse", "validate", **cache_home)
    assert first.returncode == 0, first
    (store,) = (tmp_path / "cache" / "tierci" / "wheel-hashes").glob("*.json")
    remembered = json.loads(store.read_text())["files"]
    target = folder / SIX
    assert remembered[SIX][-1] == sha256(target.read_bytes())  # the next check reads nothing

    before = target.stat()
    with target.open("r+b") as handle:  # same inode, same size, other bytes
        data = handle.read()
        handle.seek(len(data) // 2)
        handle.write(bytes([data[len(data) // 2] ^ 0xFF]))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    second = tierci(project, "wheelhouse", "validate", **cache_home)
    assert second.returncode == 6, second
    assert "hash six==1.17.0" in second.output
    installed = tierci(
        project,
        "wheelhouse",
        "install",
        "--python",
        str(fresh_env(tmp_path / "venv")),
        **cache_home,
        **NO_INDEX,
    )
    assert installed.returncode == 6, installed
