"""History ingest under contention: N processes ingest a large report at once.

Generates one report of CASES testcases (default 1.5M, ~110 MB) with a streaming
writer (never held in memory), then runs two rounds of PROCESSES real processes
(default 8), each ingesting it into one history at the same moment:

- **same commit**: the same report for one commit, 8 times: exactly one run must be
  stored (the others find it in their write transaction and store nothing);
- **eight commits**: the same report for 8 different commits: 8 runs, 8 x CASES outcomes,
  every process copying into the history, so each waits for the others' copies.

Each process prints its wall time, its parse (outside any lock), the time it waited for
the write lock and the time it held it; the round prints the worst wait. Target (issue
11): no ``database is locked``, and the write lock is held only for the copy, never for
a parse.

    python benchmarks/history_ingest.py [--cases 1500000] [--processes 8] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INGEST = """
import json, resource, sys, time
from pathlib import Path
from tierci.report.history import RunContext, open_history
db, report, commit, go = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
while not go.exists():
    time.sleep(0.01)
started = time.monotonic()
with open_history(db) as history:
    history.ingest([report], RunContext(commit=commit, job=commit))
    waits, held = history.lock_waits_s, history.lock_held_s
    stored = not history.already_ingested
wall = time.monotonic() - started
print(json.dumps({
    "commit": commit, "wall_s": wall, "stored": stored,
    "lock_wait_s": max(waits), "lock_held_s": max(held),
    "outside_lock_s": wall - sum(waits) - sum(held),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""

CASE = '<testcase classname="pkg.mod{m}.TestK" name="test_{i}" time="0.{t:03d}"/>\n'
FAILED = (
    '<testcase classname="pkg.mod{m}.TestK" name="test_{i}" time="1.5">'
    '<failure message="assert {i} == 0">trace line {i}</failure></testcase>\n'
)
SKIPPED = '<testcase classname="pkg.mod{m}.TestK" name="test_{i}"><skipped/></testcase>\n'


def write_report(path: Path, cases: int) -> None:
    """A pytest-like report, written in chunks: memory stays flat whatever ``cases``."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="big">')
        handle.write('<properties><property name="tier" value="unit"/></properties>\n')
        for start in range(0, cases, 10_000):
            chunk = []
            for i in range(start, min(start + 10_000, cases)):
                template = FAILED if i % 997 == 0 else SKIPPED if i % 101 == 0 else CASE
                chunk.append(template.format(i=i, m=i % 500, t=i % 1000))
            handle.write("".join(chunk))
        handle.write("</testsuite></testsuites>\n")


def run_round(title: str, db: Path, report: Path, commits: list[str]) -> list[dict[str, float]]:
    go = db.parent / f"go-{title.replace(' ', '-')}"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", INGEST, str(db), str(report), commit, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for commit in commits
    ]
    time.sleep(1.0)  # every process started and waiting
    go.touch()
    results = []
    failures = []
    for worker in workers:
        out, err = worker.communicate()
        if worker.returncode != 0:
            failures.append(err.strip().splitlines()[-1] if err.strip() else "?")
        else:
            results.append(json.loads(out))
    print(f"\n{title}: {len(commits)} processes")
    print(
        f"{'commit':>8} {'wall':>8} {'outside lock':>13} {'lock wait':>10} {'lock held':>10} "
        f"{'stored':>7} {'peak RSS':>9}"
    )
    for row in results:
        print(
            f"{row['commit']:>8} {row['wall_s']:7.1f}s {row['outside_lock_s']:12.1f}s "
            f"{row['lock_wait_s']:9.2f}s {row['lock_held_s']:9.2f}s {row['stored']!s:>7} "
            f"{row['peak_rss_mb']:6.0f} MB"
        )
    for failure in failures:
        print(f"  FAILED: {failure}")
    if results:
        print(
            f"worst wait for the write lock: {max(r['lock_wait_s'] for r in results):.2f} s; "
            f"longest hold: {max(r['lock_held_s'] for r in results):.2f} s"
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_500_000)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--keep", type=Path, help="work here and keep the files")
    arguments = parser.parse_args()
    work = arguments.keep or Path(tempfile.mkdtemp(prefix="tierci-bench-history-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        report = work / "unit.xml"
        started = time.monotonic()
        write_report(report, arguments.cases)
        size_mb = report.stat().st_size / 1e6
        print(
            f"report: {arguments.cases:,} testcases, {size_mb:.0f} MB, "
            f"written in {time.monotonic() - started:.1f} s"
        )
        count = arguments.processes
        same = work / "same.sqlite"
        run_round("same commit", same, report, ["c0"] * count)
        runs = sqlite3.connect(same).execute("SELECT count(*) FROM runs").fetchone()[0]
        print(f"runs stored: {runs} (expected 1)")
        many = work / "many.sqlite"
        run_round("eight commits", many, report, [f"c{n}" for n in range(count)])
        connection = sqlite3.connect(many)
        runs = connection.execute("SELECT count(*) FROM runs").fetchone()[0]
        outcomes = connection.execute("SELECT count(*) FROM outcomes").fetchone()[0]
        print(f"runs stored: {runs} (expected {count}), outcomes: {outcomes:,}")
    finally:
        if arguments.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
