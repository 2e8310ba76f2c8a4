"""The run history: what is stored, holes included, and concurrent writers."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import JUNIT_CORPUS
from tests.history_fixture import build_v1_store
from tests.support import sqlite_connect
from tierci.cli import main
from tierci.errors import UsageError
from tierci.junit.merge import Expectation
from tierci.report.history import SCHEMA_VERSION, RunContext, _use_wal, open_history, read_history
from tierci.report.hud import build_hud, render_html, render_markdown


def test_reports_and_their_outcomes_are_stored(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    reports = [
        JUNIT_CORPUS / "pytest/xunit2-report.xml",
        JUNIT_CORPUS / "surefire/TEST-io.olamy.FlakyTest.xml",
        JUNIT_CORPUS / "malformed/truncated-corrupt-xml.xml",
    ]
    with open_history(db) as history:
        entries = history.ingest(reports, RunContext(commit="abc", branch="main", job="ci"))
        assert [e.status.value for e in entries] == ["ok", "ok", "error"]
        assert history.count_runs() == 3
    connection = sqlite_connect(db)
    runs = connection.execute(
        "SELECT tier, status, tests, failed, flaky, commit_sha, branch, problem "
        "FROM runs ORDER BY id"
    ).fetchall()
    assert runs[0][:6] == ("xunit2-report", "ok", 3, 2, 0, "abc")
    assert runs[1][4] == 1
    assert runs[2][1] == "error"
    assert "not well-formed XML" in runs[2][7]
    outcomes = connection.execute(
        "SELECT test_id, outcome, attempts FROM outcomes WHERE outcome != 'passed' ORDER BY test_id"
    ).fetchall()
    assert ("io.olamy.FlakyTest::testApp", "flaky", 3) in outcomes
    assert sum(1 for row in outcomes if row[1] == "failed") == 2
    # The broken report keeps no partial outcomes.
    assert connection.execute("SELECT count(*) FROM outcomes WHERE run_id = 3").fetchone() == (0,)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_missing_shards_are_runs_too(tmp_path: Path) -> None:
    with open_history(tmp_path / "h.sqlite") as history:
        entries = history.ingest(
            [],
            RunContext(commit="abc"),
            expect=[Expectation(tier="unit", shards=2)],
            junit_dir=tmp_path,
        )
        statuses = [
            tuple(row) for row in history.database.rows("SELECT tier, shard, status FROM runs")
        ]
    problems = [entry.problem.split(":")[0] for entry in entries]
    assert problems == ["no report for unit shard 1/2", "no report for unit shard 2/2"]
    assert sorted(statuses) == [("unit", "1/2", "missing"), ("unit", "2/2", "missing")]


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "h.sqlite"
    bogus.write_text("this is not sqlite " * 100)
    with pytest.raises(UsageError, match="not a tierci history database") as caught:
        open_history(bogus)
    assert str(bogus) in caught.value.message
    assert caught.value.fix
    assert bogus.read_text() == "this is not sqlite " * 100


WRITER = """
import sys
from pathlib import Path
from tierci.report.history import RunContext, open_history
db, report, worker = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
with open_history(db) as history:
    for run in range(50):
        history.ingest([report], RunContext(commit=f"c{run}", job=f"worker-{worker}"))
"""


def test_eight_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    original = (JUNIT_CORPUS / "pytest/shard1-junit.spark.integration.1.xml").read_text()
    writers = []
    for n in range(8):
        # Each worker its own report, as each CI job has (identical bytes would be
        # recognised as the same report ingested twice).
        report = tmp_path / f"unit-{n}.xml"
        report.write_text(f"{original}\n<!-- worker {n} -->\n")
        writers.append(
            subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(report), str(n)])
        )
    assert [w.wait(timeout=300) for w in writers] == [0] * 8
    connection = sqlite_connect(db)
    assert connection.execute("SELECT count(*) FROM runs").fetchone() == (400,)
    assert connection.execute("SELECT count(*) FROM outcomes").fetchone() == (400 * 35,)
    per_worker = connection.execute("SELECT job, count(*) FROM runs GROUP BY job").fetchall()
    assert sorted(per_worker) == [(f"worker-{n}", 50) for n in range(8)]


@pytest.fixture
def first_of_two_shards(tmp_path: Path) -> Path:
    """A JUnit folder where shard 1/2 of the unit tier reported and 2/2 did not."""
    folder = tmp_path / "junit"
    folder.mkdir()
    shutil.copy(
        JUNIT_CORPUS / "pytest/shard1-junit.spark.integration.1.xml", folder / "unit-1of2.xml"
    )
    return folder


def test_cli_ingest_with_expectations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first_of_two_shards: Path
) -> None:
    folder = first_of_two_shards
    db = tmp_path / "h.sqlite"
    code = main(
        [
            "report",
            "ingest",
            str(folder),
            "--db",
            str(db),
            "--commit",
            "deadbeef",
            "--expect",
            "unit:2",
        ]
    )
    assert code == 1  # shard 2/2 never reported
    assert "no report for unit shard 2/2" in capsys.readouterr().out
    rows = (
        sqlite_connect(db)
        .execute("SELECT shard, status, commit_sha FROM runs ORDER BY shard")
        .fetchall()
    )
    assert rows == [("1/2", "ok", "deadbeef"), ("2/2", "missing", "deadbeef")]


def test_ingesting_the_same_reports_twice_stores_them_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first_of_two_shards: Path
) -> None:
    folder = first_of_two_shards
    db = tmp_path / "h.sqlite"
    args = [
        "report",
        "ingest",
        str(folder),
        "--db",
        str(db),
        "--commit",
        "c1",
        "--expect",
        "unit:2",
    ]
    assert main(args) == 1
    assert main(args) == 1  # the hole is still a hole, but nothing is stored twice
    assert "1 report(s) already in the history" in capsys.readouterr().out
    connection = sqlite_connect(db)
    assert connection.execute("SELECT shard, status FROM runs ORDER BY shard").fetchall() == [
        ("1/2", "ok"),
        ("2/2", "missing"),
    ]
    # Another commit: stored again, and without --expect its shard 1/2 still says that
    # 2/2 ran, so 2/2 is a hole there too.
    assert main([*args[:-4], "--commit", "c2"]) == 1
    assert connection.execute("SELECT count(*) FROM runs").fetchone() == (4,)


ODD_TIME = (
    '<testsuite name="s"><properties><property name="tier" value="unit"/></properties>'
    '<testcase classname="c" name="t" time="-nan"/></testsuite>'
)


def test_report_warnings_are_kept_and_shown_for_the_latest_commit(tmp_path: Path) -> None:
    report = tmp_path / "unit.xml"
    report.write_text(ODD_TIME)
    with open_history(tmp_path / "h.sqlite") as history:
        history.ingest([report], RunContext(commit="abc", branch="main"))
        hud = build_hud(history.database)
    (item,) = hud.warnings
    assert item.tier == "unit"
    assert any("is not a sane duration" in line for line in item.lines)
    assert "is not a sane duration" in render_markdown(hud)
    assert "is not a sane duration" in render_html(hud)


def test_a_version_1_history_gains_the_new_columns_and_keeps_its_runs(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    build_v1_store(db)  # three runs, one of them stored twice
    with open_history(db) as history:
        assert history.count_runs() == 2
        columns = {row[1] for row in history.connection.execute("PRAGMA table_info(runs)")}
    assert {"warnings", "python"} <= columns
    assert sqlite_connect(db).execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    with read_history(db) as history:  # its upgraded schema is tierci's, token for token
        build_hud(history.database)


def test_reading_opens_the_history_read_only_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    with open_history(db) as history:
        history.ingest([JUNIT_CORPUS / "pytest/xunit2-report.xml"], RunContext(commit="abc"))
    before = db.read_bytes()
    with read_history(db) as history:
        assert history.count_runs() == 1
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
            history.connection.execute("DELETE FROM runs")
    assert main(["report", "hud", "--db", str(db), "--out", str(tmp_path / "hud")]) == 0
    assert db.read_bytes() == before


def test_a_history_newer_than_this_tierci_is_refused_by_name(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    open_history(db).close()
    connection = sqlite_connect(db)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    for opener in (open_history, read_history):
        with pytest.raises(UsageError, match="schema version 99 is newer than this tierci's"):
            opener(db)


def test_an_sqlite_file_that_is_no_history_is_refused_for_reading(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    sqlite_connect(db).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(UsageError, match="not a tierci history"):
        read_history(db)


def test_an_unreadable_report_is_one_run_however_often_it_is_ingested(tmp_path: Path) -> None:
    missing = tmp_path / "unit.xml"
    with open_history(tmp_path / "h.sqlite") as history:
        for _ in range(3):
            (entry,) = history.ingest([missing], RunContext(commit="abc"))
            assert "cannot be read" in entry.problem
        assert history.already_ingested == [missing]
        assert history.count_runs() == 1


def test_a_report_stored_for_a_commit_cannot_be_stored_again_even_by_hand(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    with open_history(db) as history:
        history.ingest([JUNIT_CORPUS / "pytest/xunit2-report.xml"], RunContext(commit="abc"))
    connection = sqlite_connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        connection.execute(
            "INSERT INTO runs (commit_sha, ref_time, tier, status, report_digest, ingested_at) "
            "SELECT commit_sha, ref_time, tier, status, report_digest, ingested_at FROM runs"
        )


class _BusyTwice:
    """A connection whose first two journal-mode changes meet SQLITE_BUSY at once, as a
    new history's concurrent openers do (their lock upgrade is refused, not waited for)."""

    def __init__(self) -> None:
        self.calls = 0

    def execute(self, sql: str) -> _BusyTwice:
        assert sql == "PRAGMA journal_mode = WAL"
        self.calls += 1
        if self.calls <= 2:
            error = sqlite3.OperationalError("database is locked")
            error.sqlite_errorname = "SQLITE_BUSY"
            raise error
        return self

    def fetchone(self) -> tuple[str]:
        return ("wal",)


def test_switching_a_new_history_to_wal_waits_out_other_openers() -> None:
    connection = _BusyTwice()
    _use_wal(connection, 10.0)  # type: ignore[arg-type]
    assert connection.calls == 3
