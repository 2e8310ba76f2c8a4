"""The history on both engines: SQLite (a file) and PostgreSQL (a real server started for
the session, tests/postgres_server.py). The same ingest, HUD, durations, prune and copy
tests run on each, and the two engines' HUDs of the same reports are compared."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from tests.conftest import JUNIT_CORPUS
from tests.support import tierci
from tierci.junit.merge import Expectation
from tierci.report.database import HistoryLocation, HistoryUrl
from tierci.report.durations import project_durations
from tierci.report.history import RunContext, open_history, read_history
from tierci.report.hud import build_hud

if TYPE_CHECKING:
    from tests.postgres_server import PostgresServer

FIRST = "a" * 40
SECOND = "b" * 40
REPORTS = (
    JUNIT_CORPUS / "pytest/xunit2-report.xml",  # failures
    JUNIT_CORPUS / "surefire/TEST-io.olamy.FlakyTest.xml",  # a flaky test
    JUNIT_CORPUS / "pytest/shard1-junit.spark.integration.1.xml",
    JUNIT_CORPUS / "malformed/truncated-corrupt-xml.xml",  # unreadable: a failed cell
)


def _fill(location: HistoryLocation, junit: Path) -> None:
    """Two commits: the base branch's, then a feature commit with a missing shard."""
    junit.mkdir(exist_ok=True)
    with open_history(location) as history:
        history.ingest(
            list(REPORTS[:3]),
            RunContext(commit=FIRST, branch="main", ref_time="2026-11-01T10:00:00+00:00"),
        )
        entries = history.ingest(
            list(REPORTS),
            RunContext(commit=SECOND, branch="feature", ref_time="2026-11-02T10:00:00+00:00"),
            expect=[Expectation(tier="unit", shards=2)],
            junit_dir=junit,
        )
        assert [entry.status.value for entry in entries][-2:] == ["missing", "missing"]


def _hud(location: HistoryLocation) -> dict[str, Any]:
    with read_history(location) as history:
        model = dataclasses.asdict(build_hud(history.database, base_branch="main"))
    model.pop("generated_at")
    return model


def test_ingest_is_stored_once_and_the_hud_shows_both_commits(
    history_at: HistoryLocation, tmp_path: Path
) -> None:
    _fill(history_at, tmp_path / "junit")
    with open_history(history_at) as history:
        runs = history.count_runs()
        history.ingest(list(REPORTS), RunContext(commit=SECOND, branch="feature"))
        assert history.count_runs() == runs  # the same bytes twice: stored once
        assert len(history.already_ingested) == len(REPORTS)
    hud = _hud(history_at)
    assert [row["sha"] for row in hud["commits"]] == [SECOND, FIRST]
    newest = hud["commits"][0]["cells"]
    assert newest["unit"]["status"].value == "missing"
    assert newest["truncated-corrupt-xml"]["status"].value == "failed"
    assert newest["xunit2-report"]["failed"] == 2
    labels = {f["label"].value for f in newest["xunit2-report"]["failures"]}
    assert labels == {"pre-existing"}  # failing on main before it, too
    assert any(test["test_id"] == "io.olamy.FlakyTest::testApp" for test in hud["flaky"])


def test_both_engines_give_the_same_hud(tmp_path: Path, postgres_url: str) -> None:
    sqlite, postgres = tmp_path / "h.sqlite", HistoryUrl(postgres_url)
    _fill(sqlite, tmp_path / "junit")
    _fill(postgres, tmp_path / "junit")
    assert _hud(postgres) == _hud(sqlite)


def test_shards_balance_on_the_historys_durations(
    history_at: HistoryLocation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(history_at, tmp_path / "junit")
    if isinstance(history_at, HistoryUrl):
        monkeypatch.setenv("TIERCI_HISTORY_URL", history_at.url)
    else:
        monkeypatch.delenv("TIERCI_HISTORY_URL", raising=False)
        monkeypatch.setenv("TIERCI_HISTORY", str(history_at))
    durations, note = project_durations(tmp_path, tier="shard1-junit.spark.integration.1")
    assert len(durations) == 33  # its 35 tests but 2 skipped ones
    assert note.startswith("balanced on 33 recorded durations from ")
    assert "tierci-test-password" not in note


def test_prune_keeps_the_newest_commits(history_at: HistoryLocation, tmp_path: Path) -> None:
    _fill(history_at, tmp_path / "junit")
    pruned = tierci(tmp_path, "report", "prune", "--db", _arg(history_at), "--keep-commits", "1")
    assert pruned.returncode == 0, pruned
    assert "pruned 1 commit(s) (3 runs" in pruned.output
    assert [row["sha"] for row in _hud(history_at)["commits"]] == [SECOND]


def test_copy_moves_a_history_between_engines_and_back(tmp_path: Path, postgres_url: str) -> None:
    sqlite, back = tmp_path / "h.sqlite", tmp_path / "back.sqlite"
    _fill(sqlite, tmp_path / "junit")
    there = tierci(tmp_path, "report", "copy", "--from", str(sqlite), "--to", postgres_url)
    assert there.returncode == 0, there
    assert "copied 9 run(s)" in there.output
    again = tierci(tmp_path, "report", "copy", "--from", str(sqlite), "--to", postgres_url)
    assert "copied 0 run(s)" in again.output
    assert "9 run(s) and 0 record(s) were there already" in again.output
    home = tierci(tmp_path, "report", "copy", "--from", postgres_url, "--to", str(back))
    assert home.returncode == 0, home
    assert _hud(HistoryUrl(postgres_url)) == _hud(sqlite) == _hud(back)


WRITER = """
import sys
from pathlib import Path
from tierci.report.database import parse_location
from tierci.report.history import RunContext, open_history
db, report, shared = parse_location(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
worker = sys.argv[4]
with open_history(db) as history:
    for run in range(50):
        history.ingest([report], RunContext(commit=f"c{run}", job=f"worker-{worker}"))
    history.ingest([shared], RunContext(commit="common", job=f"worker-{worker}"))
"""


def test_eight_processes_ingesting_fifty_reports_each_store_each_once(
    history_at: HistoryLocation, tmp_path: Path
) -> None:
    original = (JUNIT_CORPUS / "pytest/shard1-junit.spark.integration.1.xml").read_text()
    shared = tmp_path / "shared.xml"
    shared.write_text(original)
    writers = []
    for n in range(8):
        report = tmp_path / f"unit-{n}.xml"
        report.write_text(f"{original}\n<!-- worker {n} -->\n")
        writers.append(
            subprocess.Popen(
                [sys.executable, "-c", WRITER, _arg(history_at), str(report), str(shared), str(n)]
            )
        )
    assert [writer.wait(timeout=300) for writer in writers] == [0] * 8
    with read_history(history_at) as history:
        rows = history.database.rows
        assert rows("SELECT count(*) FROM runs WHERE commit_sha != 'common'")[0][0] == 400
        assert rows("SELECT count(*) FROM runs WHERE commit_sha = 'common'")[0][0] == 1
        assert rows("SELECT count(*) FROM outcomes")[0][0] == 401 * 35
        per_job = rows("SELECT job, count(*) FROM runs WHERE commit_sha != 'common' GROUP BY job")
        assert sorted(tuple(row) for row in per_job) == [(f"worker-{n}", 50) for n in range(8)]


OPENER = """
import sys
from tierci.report.database import HistoryUrl
from tierci.report.history import open_history
open_history(HistoryUrl(sys.argv[1])).close()
"""


def test_eight_processes_opening_a_fresh_database_create_the_schema_once(
    postgres_url: str,
) -> None:
    openers = [subprocess.Popen([sys.executable, "-c", OPENER, postgres_url]) for _ in range(8)]
    assert [opener.wait(timeout=120) for opener in openers] == [0] * 8
    with psycopg.connect(postgres_url) as connection:
        assert connection.execute("SELECT version FROM tierci_schema").fetchall() == [(6,)]


def test_a_killed_ingest_leaves_no_partial_run(postgres_url: str, tmp_path: Path) -> None:
    """The ingest is stopped for certain inside its transaction, after its run is
    inserted and while its outcomes wait for a lock this test holds, then killed."""
    open_history(HistoryUrl(postgres_url)).close()
    report = JUNIT_CORPUS / "pytest/shard1-junit.spark.integration.1.xml"
    with psycopg.connect(postgres_url) as blocker:
        blocker.execute("LOCK TABLE outcomes IN SHARE MODE")
        ingest = subprocess.Popen(
            tierci_args(tmp_path, "report", "ingest", str(report), "--db", postgres_url)
        )
        backend = _wait_for_lock_wait(postgres_url, "INSERT INTO outcomes")
        ingest.send_signal(signal.SIGKILL)
        assert ingest.wait(timeout=30) == -signal.SIGKILL
        blocker.rollback()  # the ingest's backend now finds its client gone
    _wait_until_gone(postgres_url, backend)
    with psycopg.connect(postgres_url) as connection:
        assert connection.execute("SELECT count(*) FROM runs").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM outcomes").fetchone() == (0,)
    again = tierci(tmp_path, "report", "ingest", str(report), "--db", postgres_url)
    assert again.returncode == 0, again
    with read_history(HistoryUrl(postgres_url)) as history:
        assert history.count_runs() == 1


def test_credentials_are_never_printed(
    tmp_path: Path, postgres_server: PostgresServer, postgres_url: str
) -> None:
    secret_url = postgres_url.replace(
        f"//{postgres_server.user}@", f"//{postgres_server.user}:{postgres_server.password}@"
    )
    report = str(JUNIT_CORPUS / "pytest/xunit2-report.xml")
    stored = tierci(tmp_path, "report", "ingest", report, "--db", secret_url, PGPASSWORD="")
    assert stored.returncode == 0, stored
    assert postgres_server.password not in stored.output
    assert f"{postgres_server.user}:***@" in stored.output
    wrong = secret_url.replace(postgres_server.password, "not-the-password-4711")
    refused = tierci(tmp_path, "report", "hud", "--db", wrong, PGPASSWORD="")
    assert refused.returncode == 4, refused
    assert "not-the-password-4711" not in refused.output
    assert "password authentication failed" in refused.output
    assert "PGPASSWORD or ~/.pgpass" in refused.output


def test_the_environment_names_the_history_for_every_command(
    tmp_path: Path, postgres_url: str
) -> None:
    report = str(JUNIT_CORPUS / "pytest/xunit2-report.xml")
    env = {"TIERCI_HISTORY_URL": postgres_url}
    assert tierci(tmp_path, "report", "ingest", report, "--commit", FIRST, **env).returncode == 0
    hud = tierci(tmp_path, "report", "hud", "--out", str(tmp_path / "hud"), **env)
    assert hud.returncode == 0, hud
    assert FIRST[:12] in (tmp_path / "hud" / "index.html").read_text(encoding="utf-8")
    assert not (tmp_path / "build").exists()  # nothing went to the default SQLite file


def test_an_empty_database_is_no_history(tmp_path: Path, postgres_url: str) -> None:
    hud = tierci(tmp_path, "report", "hud", "--db", postgres_url, "--out", str(tmp_path / "h"))
    assert hud.returncode != 0
    assert "no history at" in hud.output
    assert "has no tierci tables" in hud.output


def tierci_args(project: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tierci.cli", "--project", str(project), *args]


def _arg(location: HistoryLocation) -> str:
    return location.url if isinstance(location, HistoryUrl) else str(location)


def _wait_for_lock_wait(url: str, query: str) -> int:
    deadline = time.monotonic() + 60
    with psycopg.connect(url, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                (query + "%",),
            ).fetchone()
            if row:
                return int(row[0])
            time.sleep(0.05)
    pytest.fail(f"no ingest waited on the lock with {query!r} within 60 s")


def _wait_until_gone(url: str, pid: int) -> None:
    deadline = time.monotonic() + 60
    with psycopg.connect(url, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            if not watcher.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone():
                return
            time.sleep(0.05)
    pytest.fail(f"the killed ingest's server process {pid} did not end within 60 s")
