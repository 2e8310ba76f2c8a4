"""Reports with retried tests, as every consumer of the reader stores them: each test once,
with its attempts (the corpus files are real output of the tools: see SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import JUNIT_CORPUS
from tests.support import sqlite_connect
from tierci.report.durations import load_durations
from tierci.report.history import RunContext, open_history

RETRIED = [
    "gotestsum/rerun-fails.xml",
    "pytest-rerunfailures/reruns.xml",
    "pytest-rerunfailures/reruns-xdist.xml",
    "jest-junit/suite-errors-and-retries.xml",
]


@pytest.mark.parametrize("name", RETRIED)
def test_the_history_stores_each_retried_test_once(tmp_path: Path, name: str) -> None:
    db = tmp_path / "h.sqlite"
    with open_history(db) as history:
        (entry,) = history.ingest([JUNIT_CORPUS / name], RunContext(commit="abc"))
    assert entry.summary is not None
    connection = sqlite_connect(db)
    rows = connection.execute("SELECT test_id, outcome, attempts FROM outcomes").fetchall()
    assert len(rows) == len({test for test, _, _ in rows}) == entry.summary.tests
    stored = connection.execute("SELECT tests, failed, flaky FROM runs").fetchone()
    counts = entry.summary.counts
    assert stored == (counts.tests, counts.failed, counts.flaky)
    assert sum(outcome == "flaky" for _, outcome, _ in rows) == counts.flaky


def test_a_gotestsum_test_that_passed_on_its_rerun_is_stored_flaky_not_failed_and_passed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "h.sqlite"
    with open_history(db) as history:
        history.ingest([JUNIT_CORPUS / "gotestsum/rerun-fails.xml"], RunContext(commit="abc"))
    rows = sqlite_connect(db).execute(
        "SELECT outcome, attempts FROM outcomes WHERE test_id LIKE '%::TestFailsOnceThenPasses'"
    )
    assert rows.fetchall() == [("flaky", 2)]


def test_recorded_durations_of_a_retried_test_are_its_attempts_together() -> None:
    durations = load_durations(JUNIT_CORPUS / "pytest-rerunfailures/reruns-xdist.xml")
    assert durations["test_interleaved::test_slow_and_flaky"] == pytest.approx(1.002)
    assert len(durations) == 14
