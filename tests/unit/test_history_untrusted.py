"""A history is data: the attacks a SQLite history from elsewhere can carry, performed
for real on real files (triggers, views, BLOBs, crafted data, an old schema), through
the CLI in process, as a poisoned cache or a shared agent path would deliver them."""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.history_fixture import build_v1_store
from tests.support import sqlite_connect
from tierci.cli import main
from tierci.errors import UsageError
from tierci.pipeline import Status
from tierci.records import TierRecord, write_record
from tierci.report import untrusted
from tierci.report.durations import load_durations, project_durations
from tierci.report.history import (
    SCHEMA_VERSION,
    RunContext,
    check_carried,
    open_history,
    read_history,
)
from tierci.report.ingest import ingest

GREEN = "a" * 40
RED = "b" * 40
FOREVER = (
    "WITH RECURSIVE forever(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM forever) "
    "SELECT count(*) FROM forever"
)


def a_report(folder: Path, commit: str, *, failing: bool) -> Path:
    """A unit report of two tests, stamped with ``commit``; the second fails if asked."""
    folder.mkdir(parents=True, exist_ok=True)
    second = (
        '<testcase classname="tests.test_a" name="test_b" time="2.0">'
        '<failure message="assert 1 == 2">trace</failure></testcase>'
        if failing
        else '<testcase classname="tests.test_a" name="test_b" time="2.0"/>'
    )
    path = folder / "unit.xml"
    path.write_text(
        '<testsuites><testsuite name="pytest"><properties>'
        f'<property name="tier" value="unit"/><property name="commit" value="{commit}"/>'
        '</properties><testcase classname="tests.test_a" name="test_a" time="1.0"/>'
        f"{second}</testsuite></testsuites>",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A history tierci wrote: one green commit."""
    db = tmp_path / "history.sqlite"
    ingest(db, [a_report(tmp_path / "green", GREEN, failing=False)], RunContext(commit=GREEN))
    return db


def tamper(db: Path, *statements: str) -> None:
    """Change the file behind tierci's back, as whoever wrote it could."""
    connection = sqlite_connect(db, isolation_level=None)
    for statement in statements:
        connection.execute(statement)
    connection.close()


def hud(db: Path, out: Path, *more: str) -> int:
    return main(["report", "hud", "--db", str(db), "--out", str(out), *more])


def error_of(capsys: pytest.CaptureFixture[str]) -> str:
    return " ".join(capsys.readouterr().err.split())


# --- triggers -------------------------------------------------------------------------

# Whatever is inserted next is rewritten as a pass: the attack that made a red run green.
GREENWASH = (
    """CREATE TRIGGER greenwash_runs AFTER INSERT ON runs BEGIN
        UPDATE runs SET failed = 0, errors = 0, passed = tests WHERE id = new.id; END""",
    """CREATE TRIGGER greenwash_outcomes AFTER INSERT ON outcomes BEGIN
        UPDATE outcomes SET outcome = 'passed', message = '' WHERE rowid = new.rowid; END""",
)


def test_triggers_that_would_turn_a_failing_ingest_green_are_refused_untouched(
    tmp_path: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(history, *GREENWASH)
    before = history.read_bytes()
    failing = a_report(tmp_path / "red", RED, failing=True)

    assert main(["report", "ingest", str(failing), "--db", str(history)]) == 4

    error = error_of(capsys)
    assert f"{history}: not a tierci history (it has trigger greenwash_runs on runs" in error
    assert "--set-aside-corrupt" in error
    assert history.read_bytes() == before
    assert hud(history, tmp_path / "hud", "--check-gates") == 4  # read as little as written


def test_a_carried_history_with_triggers_is_set_aside_and_the_failure_counts(
    tmp_path: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(history, *GREENWASH)
    failing = a_report(tmp_path / "red", RED, failing=True)

    command = ["report", "ingest", str(failing), "--db", str(history), "--set-aside-corrupt"]
    assert main(command) == 0
    assert hud(history, tmp_path / "hud", "--check-gates") == 1  # red, as the report is

    (aside,) = [
        path
        for path in tmp_path.glob("history.sqlite.corrupt-*")
        if not path.name.endswith(("-wal", "-shm"))
    ]
    out = " ".join(capsys.readouterr().out.split())
    assert f"{history} is not a readable tierci history (it has trigger greenwash_runs" in out
    assert f"set aside as {aside}, starting a fresh one" in out
    triggers = sqlite_connect(aside).execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    )
    assert sorted(triggers) == [("greenwash_outcomes",), ("greenwash_runs",)]  # kept to look at
    with read_history(history) as fresh:
        assert fresh.database.rows("SELECT outcome FROM outcomes ORDER BY test_id")[1][0] == (
            "failed"
        )


# --- views ------------------------------------------------------------------------------


def test_a_view_that_never_ends_in_place_of_a_table_is_refused_before_it_runs(
    tmp_path: Path,
    history: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Should the schema check ever let it through, the query limit still ends the test.
    monkeypatch.setattr(untrusted, "QUERY_LIMIT_S", 2.0)
    tamper(
        history,
        "ALTER TABLE runs RENAME TO kept_runs",
        "CREATE VIEW runs AS WITH RECURSIVE forever(n) AS (SELECT 1 UNION ALL "
        "SELECT n + 1 FROM forever) SELECT kept_runs.* FROM kept_runs, forever",
    )
    failing = a_report(tmp_path / "red", RED, failing=True)

    assert hud(history, tmp_path / "hud") == 4
    assert "(it has table kept_runs, which tierci's schema has not)" in error_of(capsys)
    assert main(["report", "ingest", str(failing), "--db", str(history)]) == 4
    assert "(it has table kept_runs, which tierci's schema has not)" in error_of(capsys)
    monkeypatch.setenv("TIERCI_HISTORY", str(history))
    durations, note = project_durations(tmp_path, tier="unit")  # the shards: round-robin
    assert durations == {}
    assert note.startswith(f"no recorded durations ({history} cannot be read: ")
    with pytest.raises(UsageError, match="which tierci's schema has not"):
        load_durations(history)


def test_a_view_beside_tierci_s_tables_is_refused_even_if_nothing_reads_it(
    tmp_path: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(history, f"CREATE VIEW slow AS {FOREVER}")

    assert hud(history, tmp_path / "hud") == 4
    assert f"{history}: not a tierci history (it has view slow" in error_of(capsys)


# --- a table or an index made otherwise ------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        (
            ["CREATE TABLE notes (text TEXT)"],
            "it has table notes, which tierci's schema has not",
        ),
        (
            ["DROP INDEX outcomes_by_test", "CREATE INDEX outcomes_by_test ON outcomes (message)"],
            "its index outcomes_by_test on outcomes differs from tierci's",
        ),
        (["DROP INDEX runs_by_time"], "it lacks tierci's runs_by_time"),
        (["ANALYZE"], "it has table sqlite_stat1, which tierci's schema has not"),
        (
            # A default that forges every later run's Python: same columns, other SQL.
            [
                "PRAGMA writable_schema = ON",
                (
                    "UPDATE sqlite_master SET sql = replace(sql, 'python TEXT NOT NULL "
                    "DEFAULT ''''', 'python TEXT NOT NULL DEFAULT ''3.11''') WHERE name = 'runs'"
                ),
            ],
            "its table runs differs from tierci's",
        ),
    ],
    ids=["extra table", "index redefined", "index missing", "planner statistics", "default"],
)
def test_a_schema_other_than_tierci_s_is_refused_by_name(
    tmp_path: Path,
    history: Path,
    capsys: pytest.CaptureFixture[str],
    statements: list[str],
    problem: str,
) -> None:
    tamper(history, *statements)

    assert hud(history, tmp_path / "hud") == 4
    assert f"{history}: not a tierci history ({problem})" in error_of(capsys)
    assert check_carried(history, set_aside=True).problem.startswith(problem)


def test_comments_and_spacing_are_not_a_different_schema(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    build_v1_store(db)  # tierci's version 1, written without its comments
    with open_history(db) as upgraded:
        assert upgraded.count_runs() == 2
    assert hud(db, tmp_path / "hud") == 0


# --- values of the wrong type, or too big -----------------------------------------------


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        (
            "UPDATE runs SET commit_sha = x'ff00'",
            "runs row 1: commit_sha holds a BLOB, where tierci writes text",
        ),
        (
            "UPDATE runs SET duration_s = 'slow'",
            "runs row 1: duration_s holds text, where tierci writes a number",
        ),
        (
            "UPDATE runs SET tests = x'00'",
            "runs row 1: tests holds a BLOB, where tierci writes a number",
        ),
        (
            "UPDATE tier_runs SET ended = x'00'",
            "tier_runs row 1: ended holds a BLOB, where tierci writes text",
        ),
        (
            "UPDATE outcomes SET message = x'ff00' WHERE outcome = 'failed'",
            "column message holds a BLOB, where tierci writes text",
        ),
    ],
    ids=["blob commit", "text duration", "blob count", "blob record", "blob message"],
)
def test_a_value_of_the_wrong_type_is_refused_by_name_never_a_traceback(
    tmp_path: Path, history: Path, capsys: pytest.CaptureFixture[str], statement: str, problem: str
) -> None:
    ingest(history, [a_report(tmp_path / "red", RED, failing=True)], RunContext(commit=RED))
    record = tmp_path / "records" / "unit.tier.json"
    write_record(
        record,
        TierRecord(
            tier="unit",
            shard="",
            commit=RED,
            status=Status.FAILED,
            exit_code=1,
            started="2026-01-01T00:00:00+00:00",
            ended="2026-01-01T00:01:00+00:00",
        ),
    )
    ingest(history, [record], RunContext(commit=RED))
    tamper(history, statement)

    assert hud(history, tmp_path / "hud", "--format", "json") == 4
    assert f"{history}: not a " in (error := error_of(capsys))
    assert problem in error


def test_a_duration_that_is_no_number_is_refused_not_a_traceback(
    tmp_path: Path, history: Path
) -> None:
    tamper(history, "UPDATE outcomes SET time_s = 'slow'")

    with pytest.raises(UsageError, match="column time_s holds text, where tierci writes a number"):
        load_durations(history, tier="unit")


def test_a_null_smuggled_past_not_null_is_refused(
    tmp_path: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Written while the schema said nothing of NOT NULL, then tierci's schema put back.
    def runs_made_by(sql: str) -> None:
        connection = sqlite_connect(history, isolation_level=None)
        connection.execute("PRAGMA writable_schema = ON")
        connection.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'runs'", (sql,))
        connection.close()

    (original,) = (
        sqlite_connect(history).execute("SELECT sql FROM sqlite_master WHERE name = 'runs'")
    ).fetchone()
    runs_made_by(original.replace("tier TEXT NOT NULL,", "tier TEXT,"))
    tamper(history, "UPDATE runs SET tier = NULL")
    runs_made_by(original)

    assert hud(history, tmp_path / "hud") == 4
    assert "runs row 1: tier holds NULL, where tierci writes text" in error_of(capsys)


def test_a_value_bigger_than_any_tierci_writes_is_refused(
    tmp_path: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connection = sqlite_connect(history)
    huge = "x" * (untrusted.VALUE_LIMIT_BYTES + 1)
    connection.execute("UPDATE outcomes SET message = ?, outcome = 'failed'", (huge,))
    connection.commit()
    connection.close()

    assert hud(history, tmp_path / "hud") == 4
    assert "(it holds a value over 16 MiB)" in error_of(capsys)


# --- a query that never ends -------------------------------------------------------------


def test_a_query_that_never_ends_is_stopped_on_every_connection(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(untrusted, "QUERY_LIMIT_S", 0.1)
    stopped = rf"{re.escape(str(history))}: .*a query ran for 0.1 s and was stopped"
    with read_history(history) as reading, pytest.raises(UsageError, match=stopped):
        reading.database.rows(FOREVER)
    with (
        open_history(history) as writing,
        pytest.raises(sqlite3.OperationalError, match="interrupted") as raw,
    ):
        writing.connection.execute(FOREVER)
    assert untrusted.limit_hit(raw.value) == "a query ran for 0.1 s and was stopped"


def test_ctrl_c_during_a_query_stays_ctrl_c_not_a_limit() -> None:
    # A progress handler turns Ctrl-C into an interrupted query, as the limit does.
    interrupted = sqlite3.OperationalError("interrupted")
    interrupted.sqlite_errorname = "SQLITE_INTERRUPT"
    with pytest.raises(KeyboardInterrupt):
        untrusted.limit_hit(interrupted)


def test_data_crafted_to_make_the_hud_quadratic_is_stopped_not_waited_for(
    tmp_path: Path,
    history: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Thousands of tier records of one commit: each is compared with all the others
    # (time to signal), tens of seconds here and hours at a million rows. Every value
    # is of tierci's types: only the query limit stands in the way.
    columns = (
        "commit_sha, ref_time, tier, shard, status, started, ended, pipeline_started, "
        "record_digest, ingested_at"
    )
    connection = sqlite_connect(history)
    connection.executemany(
        f"INSERT INTO tier_runs ({columns}) VALUES (?, '2026-01-01', 'unit', ?, 'passed', "  # noqa: S608 - constants
        "'2026-01-01T00:00:00', '2026-01-01T00:01:00', 'p', ?, 'x')",
        [(GREEN, str(n), f"digest {n}") for n in range(3000)],
    )
    connection.commit()
    connection.close()
    monkeypatch.setattr(untrusted, "QUERY_LIMIT_S", 0.2)

    assert hud(history, tmp_path / "hud") == 4
    error = error_of(capsys)
    assert f"{history}: not a readable tierci history (a query ran for 0.2 s and was stopped)" in (
        error
    )


# --- read-only commands never write -------------------------------------------------------


def test_the_hud_never_upgrades_an_old_history_and_says_what_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "old.sqlite"
    build_v1_store(db)
    before = (db.read_bytes(), db.stat().st_mtime_ns)

    assert hud(db, tmp_path / "hud") == 4
    with pytest.raises(UsageError, match="older than this tierci reads"):
        load_durations(db)

    error = error_of(capsys)
    assert f"{db}: history schema version 1 is older than this tierci reads ({SCHEMA_VERSION})" in (
        error
    )
    assert "run `tierci report ingest` (or `nox -s report`) once" in error
    assert (db.read_bytes(), db.stat().st_mtime_ns) == before
    assert sqlite_connect(db).execute("PRAGMA user_version").fetchone() == (1,)

    ingest(db, [a_report(tmp_path / "green", GREEN, failing=False)], RunContext(commit=GREEN))
    assert hud(db, tmp_path / "hud") == 0  # upgraded by the ingest


def test_every_connection_distrusts_the_file(history: Path) -> None:
    with read_history(history) as reading, open_history(history) as writing:
        for connection in (reading.connection, writing.connection):
            assert connection.execute("PRAGMA trusted_schema").fetchone() == (0,)
            assert connection.execute("PRAGMA cell_size_check").fetchone() == (1,)
            limit = connection.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
            assert limit == untrusted.VALUE_LIMIT_BYTES
            if sys.version_info >= (3, 12):
                for option in ("ENABLE_TRIGGER", "ENABLE_VIEW", "TRUSTED_SCHEMA"):
                    assert not connection.getconfig(getattr(sqlite3, f"SQLITE_DBCONFIG_{option}"))
                assert connection.getconfig(sqlite3.SQLITE_DBCONFIG_DEFENSIVE)
