"""History engines benchmark: PostgreSQL beside SQLite (the baseline) on the P4 history.

Builds the P4 history (1,000 commits x 20 jobs x 50 tests: 20,000 runs, 1,000,000
outcomes) in SQLite as benchmarks/hud.py does, copies it into a PostgreSQL database
with ``tierci report copy`` (timed), then measures on each engine:

- ingest: one 50-test report (a new commit's job) into the big history, per report,
  median over --reports reports, one process ingesting them in turn;
- a whole ``tierci report ingest`` process of one report, as each CI job runs it;
- the HUD: the default view (30 commits) and a 1,000-commit view, model and HTML page,
  each in a fresh interpreter (wall time after imports).

PostgreSQL is a real server: ``--postgres URL`` (password in PGPASSWORD), else one is
started for the run as the tests start theirs (tests/postgres_server.py: Debian's
initdb/pg_ctl on 127.0.0.1, as ``nobody`` when run as root).

    python benchmarks/history_engines.py [--reports 20] [--repeat 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from hud import build_history  # noqa: E402 - the P4 history, built as the HUD benchmark does
from tests.postgres_server import running_postgres  # noqa: E402

from tierci.report.copy import copy_history  # noqa: E402
from tierci.report.database import HistoryLocation, HistoryUrl, parse_location  # noqa: E402
from tierci.report.history import RunContext, open_history  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="50"><properties>
<property name="tier" value="unit"/><property name="shard" value="1/4"/>
</properties>{cases}</testsuite></testsuites>
"""

VIEW = """
import json, sys, tempfile, time
from pathlib import Path
from tierci.report.database import parse_location
from tierci.report.history import read_history
from tierci.report.hud import build_hud, write_hud
started = time.perf_counter()
with read_history(parse_location(sys.argv[1])) as history:
    model = build_hud(history.database, max_commits=int(sys.argv[2]))
with tempfile.TemporaryDirectory() as out:
    write_hud(model, Path(out), ["html"])
print(json.dumps({"seconds": time.perf_counter() - started, "rows": len(model.commits)}))
"""


def _reports(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        cases = "".join(
            f'<testcase classname="tests.test_new_{number}" name="test_{i}" time="0.{i:03d}"/>'
            for i in range(50)
        )
        path = folder / f"unit-{number}.xml"
        path.write_text(REPORT.format(cases=cases), encoding="utf-8")
        paths.append(path)
    return paths


def ingest_per_report(location: HistoryLocation, reports: list[Path], tag: str) -> float:
    """Seconds per report, median: each is a new commit's job in the big history."""
    times = []
    with open_history(location) as history:
        for number, report in enumerate(reports):
            context = RunContext(commit=f"{tag}{number:036x}", ref_time="2027-01-01T00:00:00")
            started = time.perf_counter()
            history.ingest([report], context)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def ingest_process(location: str, reports: list[Path], tag: str) -> float:
    """Seconds for a whole `tierci report ingest` of one report, as a CI job runs it
    (interpreter, imports, connection and all), median over the reports."""
    times = []
    for number, report in enumerate(reports):
        command = [sys.executable, "-m", "tierci.cli", "report", "ingest", str(report)]
        command += ["--db", location, "--commit", f"{tag}{number:036x}"]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def view(location: str, commits: int, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        completed = subprocess.run(
            [sys.executable, "-c", VIEW, location, str(commits)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(float(json.loads(completed.stdout.strip().splitlines()[-1])["seconds"]))
    return statistics.median(runs)


@contextlib.contextmanager
def postgres_database(given: str | None) -> Iterator[str]:
    """A URL of an empty database: in the server given, or one started for this run."""
    import psycopg  # noqa: PLC0415 - only with the postgres extra

    if given:
        yield given
        return
    with running_postgres() as server:
        os.environ["PGPASSWORD"] = server.password
        with psycopg.connect(server.admin_url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench")
        yield server.url("bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", help="an empty database's URL (default: start a server)")
    parser.add_argument(
        "--db", type=Path, default=Path(tempfile.gettempdir()) / "tierci-bench-hud.sqlite"
    )
    arguments = parser.parse_args()
    build_history(arguments.db, 1000, 20, 50)
    with tempfile.TemporaryDirectory() as scratch, postgres_database(arguments.postgres) as url:
        sqlite = Path(scratch) / "history.sqlite"
        sqlite.write_bytes(arguments.db.read_bytes())  # ingests below must not change the cache
        started = time.perf_counter()
        copied = copy_history(sqlite, HistoryUrl(url))
        copy_s = time.perf_counter() - started
        print(
            f"\nP4 history (1,000 commits x 20 jobs x 50 tests) copied SQLite -> PostgreSQL in "
            f"{copy_s:.1f} s ({copied.runs} runs, {copied.outcomes} outcomes)"
        )
        reports = _reports(Path(scratch) / "reports", arguments.reports)
        rows = [
            (
                f"ingest, per 50-test report (median of {arguments.reports})",
                ingest_per_report(sqlite, reports, "a"),
                ingest_per_report(parse_location(url), reports, "b"),
            ),
            (
                "one `tierci report ingest` process, 1 report",
                ingest_process(str(sqlite), reports, "c"),
                ingest_process(url, reports, "d"),
            ),
        ]
        for label, commits in (
            ("HUD, default view (30 commits)", 30),
            ("HUD, 1,000 commits", 1000),
        ):
            rows.append(
                (
                    f"{label}",
                    view(str(sqlite), commits, arguments.repeat),
                    view(url, commits, arguments.repeat),
                )
            )
    print(f"{'measure':48} {'SQLite':>9} {'PostgreSQL':>11} {'x SQLite':>9}")
    for label, baseline, postgres in rows:
        print(f"{label:48} {baseline:8.3f}s {postgres:10.3f}s {postgres / baseline:8.2f}x")


if __name__ == "__main__":
    main()
