"""A history carried between CI runs: where it is (``TIERCI_HISTORY``), a missing one
(a notice), a broken one (set aside, a fresh one started), and the shards' durations
from it. Real SQLite files, real ingests; the CLI in process (its output and exit
codes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import sqlite_connect
from tierci.cli import main
from tierci.errors import UsageError
from tierci.report.durations import project_durations
from tierci.report.history import (
    SCHEMA_VERSION,
    RunContext,
    check_carried,
    history_path,
    open_history,
    read_history,
)
from tierci.report.ingest import ingest

COMMIT = "c" * 40


@pytest.fixture
def junit(tmp_path: Path) -> Path:
    """A folder with one unit report of three tests, stamped with COMMIT."""
    folder = tmp_path / "junit"
    folder.mkdir()
    cases = "".join(
        f'<testcase classname="tests.test_a" name="test_{n}" time="{n + 1}.5"/>' for n in range(3)
    )
    (folder / "unit.xml").write_text(
        '<testsuites><testsuite name="pytest"><properties>'
        f'<property name="tier" value="unit"/><property name="commit" value="{COMMIT}"/>'
        f"</properties>{cases}</testsuite></testsuites>",
        encoding="utf-8",
    )
    return folder


def a_history(path: Path, junit: Path) -> Path:
    ingest(path, [junit], RunContext(commit=COMMIT))
    return path


def set_aside_files(folder: Path, name: str = "history.sqlite") -> list[Path]:
    return sorted(folder.glob(f"{name}.corrupt-*"))


def test_tierci_history_names_the_history_else_it_is_under_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIERCI_HISTORY", raising=False)
    assert history_path(tmp_path) == tmp_path / "build" / "tierci" / "history.sqlite"
    assert history_path(tmp_path, {"TIERCI_HISTORY": "  "}) == history_path(tmp_path)
    shared = tmp_path / "agents" / "h.sqlite"
    assert history_path(tmp_path / "p", {"TIERCI_HISTORY": str(shared)}) == shared
    assert history_path(tmp_path, {"TIERCI_HISTORY": "ci/h.sqlite"}) == tmp_path / "ci/h.sqlite"
    monkeypatch.setenv("TIERCI_HISTORY", str(shared))
    assert history_path(tmp_path) == shared


def test_the_cli_ingests_into_and_renders_from_tierci_history_by_default(
    tmp_path: Path, junit: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "agent" / "history.sqlite"
    monkeypatch.setenv("TIERCI_HISTORY", str(shared))
    project = ["--project", str(tmp_path)]

    assert main([*project, "report", "ingest", str(junit), "--commit", COMMIT]) == 0
    assert main([*project, "report", "hud", "--out", str(tmp_path / "hud")]) == 0
    assert main([*project, "report", "prune", "--keep-commits", "5"]) == 0

    out = capsys.readouterr().out
    assert f"no history yet at {shared}: starting one" in out
    assert f"{shared}: nothing to prune: 1 commit(s)" in out
    assert not (tmp_path / "build").exists()
    with read_history(shared) as history:
        assert history.count_runs() == 1


def test_a_missing_history_is_a_notice_and_a_start_never_an_error(
    tmp_path: Path, junit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "build" / "tierci" / "history.sqlite"

    assert main(["report", "ingest", str(junit), "--db", str(db), "--set-aside-corrupt"]) == 0

    assert f"no history yet at {db}: starting one" in capsys.readouterr().out
    with read_history(db) as history:
        assert history.count_runs() == 1
    # The next run finds it and says nothing about it.
    carried = check_carried(db, set_aside=True)
    assert (carried.found, carried.set_aside, carried.notice) == (True, None, "")


def test_a_file_that_is_not_sqlite_is_set_aside_and_a_fresh_history_started(
    tmp_path: Path, junit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "history.sqlite"
    garbage = b"half a cache download " * 500
    db.write_bytes(garbage)

    assert main(["report", "ingest", str(junit), "--db", str(db), "--set-aside-corrupt"]) == 0

    (aside,) = set_aside_files(tmp_path)
    assert aside.read_bytes() == garbage  # kept, for whoever wants to look at it
    out = " ".join(capsys.readouterr().out.split())
    assert f"{db} is not a readable tierci history (file is not a database)" in out
    assert f"set aside as {aside}, starting a fresh one" in out
    with read_history(db) as history:
        assert history.count_runs() == 1


def test_without_the_flag_a_broken_history_is_still_refused_and_left_alone(
    tmp_path: Path, junit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "history.sqlite"
    db.write_bytes(b"not sqlite " * 100)

    assert main(["report", "ingest", str(junit), "--db", str(db)]) == 4

    assert "not a tierci history database" in capsys.readouterr().err
    assert db.read_bytes() == b"not sqlite " * 100
    assert set_aside_files(tmp_path) == []


def test_a_truncated_history_is_set_aside(tmp_path: Path) -> None:
    unstamped = tmp_path / "unit.xml"
    cases = "".join(f'<testcase classname="t" name="test_{n}"/>' for n in range(200))
    unstamped.write_text(f"<testsuite>{cases}</testsuite>", encoding="utf-8")
    whole = tmp_path / "whole.sqlite"
    for n in range(20):  # many pages, so that half the file loses some
        ingest(whole, [unstamped], RunContext(commit=f"{n:040x}"))
    data = whole.read_bytes()
    db = tmp_path / "history.sqlite"
    db.write_bytes(data[: len(data) // 2])

    carried = check_carried(db, set_aside=True)

    assert carried.set_aside is not None
    assert carried.set_aside.read_bytes() == data[: len(data) // 2]
    assert carried.problem == "database disk image is malformed"
    assert not db.exists()  # the ingest that follows starts a fresh one here


def test_another_programs_database_is_set_aside_not_written_into(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    connection = sqlite_connect(db)
    connection.execute("CREATE TABLE accounts (name TEXT)")
    connection.commit()
    connection.close()

    carried = check_carried(db, set_aside=True)

    assert carried.problem == "a SQLite database without tierci's tables, holding accounts"
    assert carried.set_aside is not None
    tables = sqlite_connect(carried.set_aside).execute("SELECT name FROM sqlite_master")
    assert tables.fetchall() == [("accounts",)]


def test_its_wal_and_shared_memory_files_go_with_it(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    db.write_bytes(b"garbage " * 100)
    wal = tmp_path / "history.sqlite-wal"
    wal.write_bytes(b"frames of the broken database")
    (tmp_path / "history.sqlite-shm").write_bytes(b"\0" * 64)

    carried = check_carried(db, set_aside=True)

    assert carried.set_aside is not None
    moved = Path(f"{carried.set_aside}-wal")
    assert moved.read_bytes() == b"frames of the broken database"
    assert Path(f"{carried.set_aside}-shm").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [carried.set_aside.name, moved.name, f"{carried.set_aside.name}-shm"]
    )


def test_two_broken_histories_in_a_row_are_both_kept(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    db.write_bytes(b"first " * 100)
    first = check_carried(db, set_aside=True).set_aside
    db.write_bytes(b"second " * 100)
    second = check_carried(db, set_aside=True).set_aside

    assert first is not None
    assert second is not None
    assert first != second
    assert {first.read_bytes(), second.read_bytes()} == {b"first " * 100, b"second " * 100}


def test_a_good_history_and_an_empty_file_are_kept_as_they_are(tmp_path: Path, junit: Path) -> None:
    db = a_history(tmp_path / "history.sqlite", junit)
    empty = tmp_path / "empty.sqlite"
    empty.touch()

    assert check_carried(db, set_aside=True).set_aside is None
    assert check_carried(empty, set_aside=True).set_aside is None
    with open_history(empty) as history:  # SQLite starts a database in an empty file
        assert history.count_runs() == 0
    assert set_aside_files(tmp_path) == []
    with read_history(db) as history:
        assert history.count_runs() == 1


def test_a_newer_tiercis_history_is_refused_not_set_aside(tmp_path: Path, junit: Path) -> None:
    db = a_history(tmp_path / "history.sqlite", junit)
    connection = sqlite_connect(db)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.commit()
    connection.close()

    assert check_carried(db, set_aside=True).set_aside is None
    with pytest.raises(UsageError, match="newer than this tierci's"):
        ingest(db, [junit], RunContext(commit=COMMIT), set_aside_corrupt=True)
    assert set_aside_files(tmp_path) == []


def test_a_folder_where_the_history_should_be_is_refused_not_set_aside(tmp_path: Path) -> None:
    folder = tmp_path / "history.sqlite"
    folder.mkdir()
    with pytest.raises(UsageError, match="is a folder, not a history file"):
        check_carried(folder, set_aside=True)
    assert folder.is_dir()


def test_shards_balance_on_the_projects_history_or_say_why_not(
    tmp_path: Path, junit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIERCI_HISTORY", raising=False)
    db = history_path(tmp_path)
    assert project_durations(tmp_path, tier="unit") == ({}, "no recorded durations: round-robin")

    a_history(db, junit)
    durations, note = project_durations(tmp_path, tier="unit")
    assert durations == {f"tests.test_a::test_{n}": n + 1.5 for n in range(3)}
    assert note == f"balanced on 3 recorded durations from {db}"

    shared = tmp_path / "shared.sqlite"
    shutil.move(db, shared)
    monkeypatch.setenv("TIERCI_HISTORY", str(shared))
    assert project_durations(tmp_path, tier="unit")[0] == durations


def test_a_broken_history_deals_the_shards_round_robin_instead_of_failing_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIERCI_HISTORY", raising=False)
    db = history_path(tmp_path)
    db.parent.mkdir(parents=True)
    db.write_bytes(b"truncated in transit " * 50)

    durations, note = project_durations(tmp_path, tier="unit")

    assert durations == {}
    assert note.startswith(f"no recorded durations ({db} cannot be read: ")
    assert note.endswith("): round-robin")
