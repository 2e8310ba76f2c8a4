"""The wheel-hash cache: remembered by stat signature, read again on any change."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tierci.wheelhouse.hashes import HashCache


@pytest.fixture
def house(tmp_path: Path) -> Path:
    folder = tmp_path / "house"
    folder.mkdir()
    (folder / "a-1-py3-none-any.whl").write_bytes(b"a" * 4096)
    return folder


def cache(house: Path, tmp_path: Path, **options: Any) -> HashCache:
    return HashCache(house, store=tmp_path / "store" / "hashes.json", settle_ns=0, **options)


def test_a_remembered_hash_is_not_read_again_across_runs(
    house: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = house / "a-1-py3-none-any.whl"
    first = cache(house, tmp_path)
    assert first.sha256(wheel) == hashlib.sha256(b"a" * 4096).hexdigest()
    first.save()

    def no_reading(*_args: object) -> object:
        raise AssertionError("the file was read again")

    monkeypatch.setattr(hashlib, "file_digest", no_reading)
    assert cache(house, tmp_path).sha256(wheel) == hashlib.sha256(b"a" * 4096).hexdigest()


def test_a_file_altered_in_place_with_size_and_mtime_restored_is_hashed_again(
    house: Path, tmp_path: Path
) -> None:
    wheel = house / "a-1-py3-none-any.whl"
    first = cache(house, tmp_path)
    first.sha256(wheel)
    first.save()
    before = wheel.stat()
    with wheel.open("r+b") as handle:
        handle.write(b"b")  # one byte, same size, same inode
    os.utime(wheel, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (wheel.stat().st_size, wheel.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert cache(house, tmp_path).sha256(wheel) == hashlib.sha256(b"b" + b"a" * 4095).hexdigest()


def test_a_file_replaced_by_another_is_hashed_again(house: Path, tmp_path: Path) -> None:
    wheel = house / "a-1-py3-none-any.whl"
    first = cache(house, tmp_path)
    first.sha256(wheel)
    first.save()
    mtime = wheel.stat().st_mtime_ns
    replacement = house / "replacement"
    replacement.write_bytes(b"c" * 4096)
    os.utime(replacement, ns=(mtime, mtime))
    replacement.replace(wheel)
    assert cache(house, tmp_path).sha256(wheel) == hashlib.sha256(b"c" * 4096).hexdigest()


def test_a_file_that_just_changed_is_not_remembered(house: Path, tmp_path: Path) -> None:
    recent = HashCache(house, store=tmp_path / "hashes.json")  # settles for a second
    recent.sha256(house / "a-1-py3-none-any.whl")
    recent.save()
    assert not (tmp_path / "hashes.json").exists()


def test_the_cache_lives_in_the_user_cache_never_in_the_wheelhouse(
    house: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    remembered = HashCache(house, settle_ns=0)
    remembered.sha256(house / "a-1-py3-none-any.whl")
    remembered.save()
    assert remembered.store.is_relative_to(tmp_path / "user-cache" / "tierci")
    assert remembered.store.is_file()
    assert sorted(p.name for p in house.iterdir()) == ["a-1-py3-none-any.whl"]


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"folder": 1}', '{"folder": "%s", "files": {"a-1-py3-none-any.whl": 7}}'],
    ids=["garbage", "a-list", "no-files", "bad-entry"],
)
def test_an_unreadable_cache_is_ignored(house: Path, tmp_path: Path, content: str) -> None:
    store = tmp_path / "store" / "hashes.json"
    store.parent.mkdir()
    store.write_text(content.replace("%s", str(house.resolve())))
    digest = cache(house, tmp_path).sha256(house / "a-1-py3-none-any.whl")
    assert digest == hashlib.sha256(b"a" * 4096).hexdigest()


def test_a_cache_written_for_another_folder_is_not_used(house: Path, tmp_path: Path) -> None:
    first = cache(house, tmp_path)
    first.sha256(house / "a-1-py3-none-any.whl")
    first.save()
    data = json.loads((tmp_path / "store" / "hashes.json").read_text())
    other = tmp_path / "other"
    other.mkdir()
    assert data["folder"] == str(house.resolve())
    assert HashCache(other, store=tmp_path / "store" / "hashes.json")._known == {}
