"""The trust root: locks and the committed built-wheel file; never the manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from tierci.config import load_config
from tierci.errors import LockError, WheelhouseError
from tierci.locks import compile as locks
from tierci.locks.lockfile import read_lock
from tierci.wheelhouse.hashes import HashCache
from tierci.wheelhouse.model import MANIFEST_NAME, Target, check_manifest, validate
from tierci.wheelhouse.trust import BuiltWheel, Trust, read_built, stale_entries, write_built

SDIST = "1" * 64
WHEEL = "2" * 64
FILENAME = "pkg-1.0-py3-none-any.whl"


def entry(**changes: object) -> BuiltWheel:
    fields: dict[str, object] = {
        "filename": FILENAME,
        "name": canonicalize_name("pkg"),
        "version": Version("1.0"),
        "sha256": WHEEL,
        "sdist_sha256": SDIST,
        "source_date_epoch": 315532800,
    }
    return BuiltWheel(**(fields | changes))  # type: ignore[arg-type]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    requirements = tmp_path / "requirements"
    requirements.mkdir()
    (requirements / "heavy.txt").write_text(f"pkg==1.0 \\\n    --hash=sha256:{SDIST}\n")
    return requirements


def test_the_built_file_reads_back_what_was_written(folder: Path) -> None:
    path = folder / "wheelhouse-built.txt"
    assert write_built(path, [entry()])
    assert not write_built(path, [entry()])  # unchanged: not rewritten
    assert read_built(path) == {FILENAME: entry()}
    assert f"pkg==1.0 --hash=sha256:{WHEEL}  # {FILENAME} from sdist sha256:{SDIST}" in (
        path.read_text()
    )
    assert write_built(path, [])
    assert not path.exists()


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("pkg==1.0", "not a built-wheel entry"),
        (f"pkg==1.0 --hash=sha256:{WHEEL}", "not a built-wheel entry"),
        (entry().line().replace("pkg==1.0", "other==1.0"), "is not the wheel's"),
        (entry().line().replace(FILENAME, "pkg-1.0.whl"), "Invalid wheel filename"),
        (entry().line().replace(SDIST, "zz"), "not a built-wheel entry"),
    ],
    ids=["no-hash", "no-provenance", "another-pin", "not-a-wheel-name", "bad-sdist-hash"],
)
def test_a_malformed_entry_is_a_lock_error_naming_file_and_line(
    folder: Path, line: str, why: str
) -> None:
    path = folder / "wheelhouse-built.txt"
    path.write_text(f"# header\n\n{line}\n")
    with pytest.raises(LockError, match=why) as raised:
        read_built(path)
    assert f"{path}:3" in raised.value.message
    assert raised.value.fix


def test_a_wheel_is_trusted_by_the_lock_or_by_a_fresh_built_entry_only(folder: Path) -> None:
    lock = read_lock(folder / "heavy.txt")
    (requirement,) = lock.requirements
    assert not Trust.of([lock]).check(requirement, FILENAME, WHEEL).trusted
    write_built(folder / "wheelhouse-built.txt", [entry()])
    trust = Trust.of([lock])
    assert trust.check(requirement, FILENAME, WHEEL).by == "built"
    assert trust.check(requirement, FILENAME, SDIST).by == "lock"
    other = trust.check(requirement, FILENAME, "3" * 64)
    assert not other.trusted
    assert "commits another hash for it" in other.detail
    write_built(folder / "wheelhouse-built.txt", [entry(sdist_sha256="4" * 64)])
    stale = Trust.of([lock]).check(requirement, FILENAME, WHEEL)
    assert not stale.trusted
    assert "is stale" in stale.detail


def test_stale_entries_name_a_pin_no_lock_has_and_an_sdist_the_lock_dropped(
    folder: Path,
) -> None:
    lock = read_lock(folder / "heavy.txt")
    entries = {
        "fresh": entry(),
        "moved": entry(filename="pkg-1.0-cp311-cp311-linux_x86_64.whl", sdist_sha256="4" * 64),
        "gone": entry(filename="old-2.0-py3-none-any.whl", name="old", version=Version("2.0")),
    }
    reasons = stale_entries(entries, [lock])
    assert len(reasons) == 2
    assert reasons[0].startswith("old==2.0 (old-2.0-py3-none-any.whl): no lock pins it")
    assert "which the lock no longer lists" in reasons[1]


def test_the_manifest_vouches_for_nothing(folder: Path) -> None:
    """A manifest that records a wheel as built, with the wheel's own hash: refused."""
    house = folder.parent / ".wheelhouse"
    house.mkdir()
    (house / FILENAME).write_bytes(b"anything")
    digest = hashlib.sha256(b"anything").hexdigest()
    (house / MANIFEST_NAME).write_text(
        json.dumps(
            {
                "format": 1,
                "wheels": {FILENAME: {"sha256": digest, "size": 8, "origin": "built"}},
            }
        )
    )
    hashes = HashCache(house, store=folder / "hashes.json")
    check = validate(house, [read_lock(folder / "heavy.txt")], Target.host(), hashes=hashes)
    assert [p.package for p in check.problems] == ["pkg==1.0"]
    assert check.wheels == {}


@pytest.mark.parametrize(
    ("manifest", "why"),
    [
        ([], "not a tierci wheelhouse manifest"),
        ({"format": 2, "wheels": {}}, "not a tierci wheelhouse manifest"),
        ({"format": 1, "wheels": {FILENAME: []}}, f"the record of {FILENAME} is a list"),
        ({"format": 1, "wheels": {FILENAME: {"size": 1}}}, "has no sha256"),
        ({"format": 1, "wheels": {FILENAME: {"sha256": WHEEL, "size": True}}}, "has no size"),
        ({"format": 1, "wheels": {"x/../y.whl": {}}}, "is not a wheel file name"),
        ({"format": 1, "wheels": {"\x1b[31m.whl": {}}}, r"'\x1b[31m.whl' is not a wheel"),
    ],
    ids=["a-list", "format-2", "record-a-list", "no-sha256", "size-a-bool", "path", "escape"],
)
def test_the_manifest_schema_names_what_is_wrong(manifest: object, why: str) -> None:
    with pytest.raises(WheelhouseError, match="member x") as raised:
        check_manifest(manifest, "member x", fix="rebuild it")
    assert why in raised.value.message


def test_lock_check_reports_stale_built_entries_and_keeps_checking_the_rest(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    requirements = tmp_path / "requirements"
    requirements.mkdir()
    (requirements / "unit.in").write_text("pkg\n")
    lock = requirements / "unit.txt"
    lock.write_text(f"pkg==1.0 \\\n    --hash=sha256:{SDIST}\n")
    specs = locks.lock_specs(load_config(tmp_path))
    locks._stamp(lock, locks.input_digest(specs[0], tmp_path / "pyproject.toml"))
    built = requirements / "wheelhouse-built.txt"
    write_built(built, [entry()])
    assert locks.find_stale(specs, tmp_path / "pyproject.toml") == []

    write_built(built, [entry(sdist_sha256="4" * 64)])
    (stale,) = locks.find_stale(specs, tmp_path / "pyproject.toml")
    assert stale.spec.lock == built
    assert "which the lock no longer lists" in stale.reason

    built.write_text("garbage\n")
    (requirements / "unit.in").write_text("pkg\nother\n")
    pyproject = tmp_path / "pyproject.toml"
    reasons = {s.spec.lock.name: s.reason for s in locks.find_stale(specs, pyproject)}
    assert reasons["unit.txt"] == "unit.in changed since"
    assert "wheelhouse-built.txt:1: not a built-wheel entry" in reasons["wheelhouse-built.txt"]
