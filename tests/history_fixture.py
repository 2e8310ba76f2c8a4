"""A realistic run history, built through real JUnit files and real ingest."""

from __future__ import annotations

from pathlib import Path

from tests.support import sqlite_connect
from tierci.junit.merge import Expectation
from tierci.report.history import RunContext, open_history

COMMITS = ["a" * 40, "b" * 40, "c" * 40, "d" * 40]  # oldest first


def _report(path: Path, tier: str, shard: str, cases: list[tuple[str, str, float]]) -> Path:
    """cases: (name, outcome, seconds) with outcome passed|failed|flaky|skipped."""
    body = []
    for name, outcome, seconds in cases:
        head = f'<testcase classname="tests.test_{tier}" name="{name}" time="{seconds}"'
        if outcome == "failed":
            body.append(
                f'{head}><failure message="assert 1 == 2 in {name}">trace</failure></testcase>'
            )
        elif outcome == "flaky":
            body.append(f'{head}><flakyFailure message="timeout">t</flakyFailure></testcase>')
        elif outcome == "skipped":
            body.append(f'{head}><skipped message="no GPU"/></testcase>')
        else:
            body.append(f"{head}/>")
    path.write_text(
        f'<testsuites><testsuite name="pytest"><properties><property name="tier" value="{tier}"/>'
        f'<property name="shard" value="{shard}"/></properties>{"".join(body)}'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    return path


def build_history(folder: Path) -> Path:
    """Four commits: green, a failure in unit shard 2, a flaky test, a missing shard."""
    db = folder / "history.sqlite"
    for index, sha in enumerate(COMMITS):
        junit = folder / f"junit-{index}"
        junit.mkdir()
        unit_1 = [(f"test_a{n}", "passed", 0.5 + index) for n in range(6)]
        unit_2 = [(f"test_b{n}", "passed", 0.25) for n in range(5)]
        if index == 1:
            unit_2[0] = ("test_b0", "failed", 0.25)
        if index in (2, 3):
            unit_1[3] = ("test_a3", "flaky", 0.5)
        reports = [_report(junit / "unit-1of2.xml", "unit", "1/2", unit_1)]
        if index != 3:  # the newest commit's shard 2 never reported
            reports.append(_report(junit / "unit-2of2.xml", "unit", "2/2", unit_2))
        reports.append(
            _report(junit / "heavy.xml", "heavy", "", [("test_torch", "passed", 30.0 + index)])
        )
        reports.append(_report(junit / "device.xml", "device", "", [("test_cuda", "skipped", 0.0)]))
        context = RunContext(
            commit=sha, branch="main", job="ci", ref_time=f"2026-11-2{index}T10:00:00+00:00"
        )
        with open_history(db) as history:
            history.ingest(
                reports, context, expect=[Expectation(tier="unit", shards=2)], junit_dir=junit
            )
    return db


# The schema as tierci's version 1 created it: no warnings column, a plain digest index.
V1_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, commit_sha TEXT NOT NULL, branch TEXT NOT NULL DEFAULT '',
    ref_time TEXT NOT NULL, tier TEXT NOT NULL, shard TEXT NOT NULL DEFAULT '',
    job TEXT NOT NULL DEFAULT '', host TEXT NOT NULL DEFAULT '',
    started TEXT NOT NULL DEFAULT '', duration_s REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL, problem TEXT NOT NULL DEFAULT '', report TEXT NOT NULL DEFAULT '',
    report_digest TEXT NOT NULL DEFAULT '', scope TEXT NOT NULL DEFAULT '',
    tests INTEGER NOT NULL DEFAULT 0, passed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0, flaky INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL
);
CREATE INDEX runs_by_commit ON runs (commit_sha, tier);
CREATE INDEX runs_by_time ON runs (ref_time);
CREATE INDEX runs_by_digest ON runs (commit_sha, report_digest);
CREATE TABLE outcomes (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    test_id TEXT NOT NULL, outcome TEXT NOT NULL, time_s REAL NOT NULL,
    attempts INTEGER NOT NULL, message TEXT NOT NULL
);
CREATE INDEX outcomes_by_run ON outcomes (run_id);
CREATE INDEX outcomes_by_test ON outcomes (test_id);
PRAGMA user_version = 1;
"""


def build_v1_store(db: Path) -> None:
    """Three runs: one report stored twice for commit a (what parallel ingests did
    before), and another commit's run; two outcomes each."""
    connection = sqlite_connect(db)
    connection.executescript(V1_SCHEMA)
    connection.execute("PRAGMA journal_mode = WAL")
    for commit, report_digest in (("a", "d1"), ("a", "d1"), ("b", "d1")):
        run = connection.execute(
            "INSERT INTO runs (commit_sha, ref_time, tier, status, report_digest, tests, "
            "passed, ingested_at) VALUES (?, '2026-01-01', 'unit', 'ok', ?, 2, 2, 'x')",
            (commit, report_digest),
        ).lastrowid
        connection.executemany(
            "INSERT INTO outcomes VALUES (?, ?, 'passed', 0.1, 1, '')",
            [(run, "t::one"), (run, "t::two")],
        )
    connection.commit()
    connection.close()
