"""`tierci report prune` and `nox -s report -- --keep-commits N`: a carried history stays
small. Real reports and tier records ingested into a real history, then pruned; the CLI
in process (its output and exit codes)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.support import sqlite_connect
from tierci.cli import main
from tierci.errors import UsageError
from tierci.noxlib import _retention
from tierci.pipeline import Status
from tierci.records import TierRecord, record_path, write_record
from tierci.report.history import Retention, RunContext, open_history, read_history
from tierci.report.hud import build_hud
from tierci.report.ingest import ingest, prune

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def sha(number: int) -> str:
    return f"{number:040x}"


def commit_run(folder: Path, db: Path, number: int, ref_time: str, *, tests: int = 40) -> None:
    """One commit's CI run: a unit report of ``tests`` tests and a lint record."""
    run = folder / f"run-{number}"
    run.mkdir()
    cases = "".join(
        f'<testcase classname="tests.unit.test_module_{n % 7}" name="test_case_{n}" time="0.{n}"/>'
        for n in range(tests)
    )
    (run / "unit.xml").write_text(
        '<testsuites><testsuite name="pytest"><properties>'
        f'<property name="tier" value="unit"/><property name="commit" value="{sha(number)}"/>'
        f"</properties>{cases}</testsuite></testsuites>",
        encoding="utf-8",
    )
    write_record(
        record_path(run, "lint"),
        TierRecord(
            tier="lint",
            shard="",
            status=Status.PASSED,
            exit_code=0,
            started=ref_time,
            ended=ref_time,
            commit=sha(number),
        ),
    )
    ingest(db, [run], RunContext(commit=sha(number), branch="main", ref_time=ref_time))


def history_of(tmp_path: Path, times: list[str], *, tests: int = 40) -> Path:
    db = tmp_path / "history.sqlite"
    for number, when in enumerate(times):
        commit_run(tmp_path, db, number, when, tests=tests)
    return db


def hud_commits(db: Path, limit: int = 100) -> list[str]:
    with read_history(db) as history:
        return [row.sha for row in build_hud(history.database, max_commits=limit).commits]


def counts(db: Path) -> dict[str, int]:
    connection = sqlite_connect(db)
    return {
        table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        for table in ("runs", "outcomes", "tier_runs")
    }


def days_ago(days: float, *, hours_east: int = 0) -> str:
    """An ISO time ``days`` before NOW, as a clock ``hours_east`` of UTC shows it."""
    zone = timezone(timedelta(hours=hours_east))
    return (NOW - timedelta(days=days)).astimezone(zone).isoformat()


def test_keeping_n_commits_keeps_the_huds_newest_n_and_deletes_the_rest_entirely(
    tmp_path: Path,
) -> None:
    # Ingested out of order: the HUD orders by ref time, and so does the prune.
    times = [days_ago(d) for d in (5, 1, 4, 2, 3)]
    db = history_of(tmp_path, times)
    newest_two = hud_commits(db)[:2]
    assert newest_two == [sha(1), sha(3)]

    with open_history(db) as history:
        pruned = history.prune(Retention(keep_commits=2))

    assert hud_commits(db) == newest_two
    assert (pruned.commits, pruned.kept_commits) == (3, 2)
    assert (pruned.runs, pruned.outcomes, pruned.tier_runs) == (3, 3 * 40, 3)
    assert counts(db) == {"runs": 2, "outcomes": 2 * 40, "tier_runs": 2}
    connection = sqlite_connect(db)
    orphans = connection.execute(
        "SELECT count(*) FROM outcomes WHERE run_id NOT IN (SELECT id FROM runs)"
    ).fetchone()
    assert orphans == (0,)
    kept = {row[0] for row in connection.execute("SELECT commit_sha FROM tier_runs")}
    assert kept == set(newest_two)


def test_pruning_by_age_deletes_commits_whose_latest_result_is_older_than_the_limit(
    tmp_path: Path,
) -> None:
    times = [
        days_ago(100),
        # Written on clocks in other time zones: their age counts, not their text.
        days_ago(89.9, hours_east=-10),
        days_ago(90.1, hours_east=12),
        days_ago(10),
    ]
    db = history_of(tmp_path, times, tests=3)

    with open_history(db) as history:
        pruned = history.prune(Retention(older_than_days=90), now=NOW)

    assert pruned.commits == 2
    assert sorted(hud_commits(db)) == [sha(1), sha(3)]


def test_a_ref_time_that_cannot_be_read_is_never_a_reason_to_delete(tmp_path: Path) -> None:
    db = history_of(tmp_path, [days_ago(200), days_ago(1)], tests=2)
    sqlite_connect(db).execute(
        "UPDATE runs SET ref_time = 'sometime' WHERE commit_sha = ?", (sha(0),)
    ).connection.commit()
    sqlite_connect(db).execute(
        "UPDATE tier_runs SET ref_time = 'sometime' WHERE commit_sha = ?", (sha(0),)
    ).connection.commit()

    with open_history(db) as history:
        assert history.prune(Retention(older_than_days=30), now=NOW).commits == 0
    assert sorted(hud_commits(db)) == [sha(0), sha(1)]


def test_both_rules_together_delete_what_either_one_drops(tmp_path: Path) -> None:
    db = history_of(tmp_path, [days_ago(d) for d in (50, 40, 3, 2, 1)], tests=2)

    with open_history(db) as history:
        pruned = history.prune(Retention(keep_commits=4, older_than_days=30), now=NOW)

    # 50 days: beyond the newest 4; 40 days: among them, but too old.
    assert pruned.commits == 2
    assert hud_commits(db) == [sha(4), sha(3), sha(2)]


def test_a_prune_that_deletes_something_shrinks_the_file_it_reports_on(tmp_path: Path) -> None:
    db = history_of(tmp_path, [days_ago(30 - d) for d in range(30)], tests=300)

    with open_history(db) as history:
        pruned = history.prune(Retention(keep_commits=3))
        assert pruned.size_after == db.stat().st_size  # checkpointed: the WAL holds nothing

    assert pruned.size_after < pruned.size_before / 3
    assert "pruned 27 commit(s)" in pruned.describe()
    assert "kept 3" in pruned.describe()


def test_a_prune_that_deletes_nothing_rewrites_nothing(tmp_path: Path) -> None:
    db = history_of(tmp_path, [days_ago(2), days_ago(1)], tests=5)
    with open_history(db) as history:
        history.prune(Retention(keep_commits=5))  # settles the WAL into the file
    before = hashlib.sha256(db.read_bytes()).hexdigest()

    with open_history(db) as history:
        pruned = history.prune(Retention(keep_commits=2, older_than_days=30), now=NOW)

    assert (pruned.commits, pruned.kept_commits) == (0, 2)
    assert pruned.describe().startswith("nothing to prune: 2 commit(s)")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ({}, "pruning needs a rule"),
        ({"keep_commits": 0}, "at least the newest commit is kept"),
        ({"older_than_days": 0}, "must be more than 0"),
        ({"older_than_days": -3}, "must be more than 0"),
    ],
)
def test_a_prune_without_a_sensible_rule_is_refused_as_usage(
    rule: dict[str, float], says: str
) -> None:
    with pytest.raises(UsageError, match=says) as caught:
        Retention(**rule)  # type: ignore[arg-type]
    assert caught.value.fix
    assert caught.value.return_code == 4


def test_the_cli_prunes_prints_what_it_removed_and_the_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = history_of(tmp_path, [days_ago(d) for d in (3, 2, 1)], tests=5)

    assert main(["report", "prune", "--db", str(db), "--keep-commits", "1"]) == 0

    out = capsys.readouterr().out
    assert f"{db}: pruned 2 commit(s) (2 runs, 10 test outcomes, 2 tier records), kept 1" in out
    assert " MB -> " in out
    assert hud_commits(db) == [sha(2)]


def test_the_cli_on_a_missing_history_says_so_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "none" / "history.sqlite"

    assert main(["report", "prune", "--db", str(db), "--older-than", "30"]) == 0

    assert f"no history at {db}: nothing to prune" in capsys.readouterr().out
    assert not db.parent.exists()
    assert prune(db, Retention(keep_commits=1)) is None


def test_the_cli_without_a_rule_exits_with_the_usage_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "prune", "--db", str(tmp_path / "h.sqlite")]) == 4
    assert "give --keep-commits N, --older-than DAYS, or both" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["report", "prune", "--keep-commits", "many"])
    assert exited.value.code == 4


def test_the_report_session_reads_its_retention_from_its_arguments() -> None:
    assert _retention(["--expect", "unit:3", "--check-gates"]) is None
    assert _retention(["--keep-commits", "1000"]) == Retention(keep_commits=1000)
    assert _retention(["--older-than", "90", "--keep-commits", "5"]) == Retention(
        keep_commits=5, older_than_days=90.0
    )
    with pytest.raises(UsageError, match="--keep-commits needs a number"):
        _retention(["--keep-commits"])
    with pytest.raises(UsageError, match="--older-than needs a number"):
        _retention(["--older-than", "soon"])
