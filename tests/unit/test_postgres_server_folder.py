"""The test PostgreSQL server runs as an unprivileged account: its folder must be one that
account can reach, whatever the machine's TMPDIR (CI's may sit under a 0700 ``mktemp -d``)."""

from __future__ import annotations

import pwd
import tempfile
from pathlib import Path

import pytest

from tests.postgres_server import _can_traverse, server_parent


def _account() -> pwd.struct_passwd:
    return pwd.getpwnam("nobody")


def test_a_folder_closed_to_others_is_not_traversable(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    inner = closed / "inner"
    inner.mkdir(parents=True)
    closed.chmod(0o700)
    try:
        assert not _can_traverse(inner, _account())
    finally:
        closed.chmod(0o755)


def _closed_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TMPDIR over 100 characters under a 0700 folder, as ``mktemp -d`` makes one."""
    closed = tmp_path / "closed"
    long_temp = closed / ("p" * 100) / "tmp"
    long_temp.mkdir(parents=True)
    closed.chmod(0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(long_temp))
    return closed


def test_an_unreachable_temp_folder_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = _closed_temp(tmp_path, monkeypatch)
    try:
        chosen = server_parent(_account(), fallbacks=(closed, Path("/")))
    finally:
        closed.chmod(0o755)
    assert chosen == Path("/")


def test_no_reachable_folder_is_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = _closed_temp(tmp_path, monkeypatch)
    try:
        with pytest.raises(PermissionError, match="set TMPDIR to a folder"):
            server_parent(_account(), fallbacks=(closed,))
    finally:
        closed.chmod(0o755)


def test_without_an_unprivileged_account_the_temp_folder_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert server_parent(None) == tmp_path.resolve()
