"""HUD benchmark: the HUD's views of a large history, beside a bare SELECT of their rows.

Builds (once, then reuses) a history of COMMITS x JOBS x TESTS: by default 1,000
commits x 20 jobs (5 tiers x 4 shards) x 50 tests = 20,000 runs and 1,000,000
outcomes, written straight into tierci's schema. Then, each in its own process, times
the default view (the newest 30 commits) and a 1,000-commit view, model and HTML
page, against the floor: a bare ``SELECT`` of the runs and outcomes those views cover.

Targets (issue 12, P4, on a 2-core machine): default view < 1 s, 1,000-commit view
< 2 s, peak RSS < 150 MB; render time must follow the view, not the history's size.

    python benchmarks/hud.py [--commits 1000] [--jobs 20] [--tests 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tierci.report.history import SCHEMA_VERSION, open_history

ROOT = Path(__file__).parents[1]
TIERS = ("unit", "heavy", "device", "e2e", "integration")
OUTCOMES = ("passed", "failed", "error", "skipped", "flaky")
WEIGHTS = (0.93, 0.01, 0.002, 0.05, 0.008)

# Each runs in a fresh interpreter: its wall time (after imports) and peak RSS.
VIEW = """
import json, resource, sqlite3, sys, tempfile, time
from pathlib import Path
from tierci.report.hud import build_hud, write_hud
started = time.perf_counter()
connection = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
model = build_hud(connection, max_commits=int(sys.argv[2]))
with tempfile.TemporaryDirectory() as out:
    write_hud(model, Path(out), ["html"])
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss, "rows": len(model.commits)}))
"""

FLOOR = """
import json, resource, sqlite3, sys, time
started = time.perf_counter()
connection = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
shas = [row[0] for row in connection.execute(
    "SELECT commit_sha FROM runs GROUP BY commit_sha ORDER BY max(ref_time) DESC LIMIT ?",
    (int(sys.argv[2]),))]
rows = 0
for _ in connection.execute(
    "SELECT r.commit_sha, r.tier, r.shard, r.status, o.test_id, o.outcome, o.time_s "
    "FROM runs r JOIN outcomes o ON o.run_id = r.id "
    "WHERE r.commit_sha IN (SELECT value FROM json_each(?))", (json.dumps(shas),)):
    rows += 1
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss, "rows": rows}))
"""


def build_history(db: Path, commits: int, jobs: int, tests: int) -> None:
    """A history in tierci's own schema, written directly (ingesting 20,000 report
    files would measure ingest, not the HUD)."""
    stamp = f"{commits}x{jobs}x{tests} schema {SCHEMA_VERSION}"
    marker = db.with_suffix(".stamp")
    if db.is_file() and marker.is_file() and marker.read_text() == stamp:
        return
    db.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    shards = max(1, jobs // len(TIERS))
    slots = [(tier, f"{i}/{shards}") for tier in TIERS for i in range(1, shards + 1)][:jobs]
    chosen = random.Random(1234)  # noqa: S311 - reproducible data, not security
    with open_history(db) as history:
        connection = history.connection
        connection.execute("BEGIN")
        for number in range(commits):
            sha = f"{number:040x}"
            ref_time = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=number)).isoformat()
            for tier, shard in slots:
                outcomes = chosen.choices(OUTCOMES, WEIGHTS, k=tests)
                counts = {outcome: outcomes.count(outcome) for outcome in OUTCOMES}
                numbers = [counts[o] for o in OUTCOMES]
                run_id = connection.execute(
                    "INSERT INTO runs (commit_sha, branch, ref_time, tier, shard, status,"
                    " duration_s, tests, passed, failed, errors, skipped, flaky, ingested_at)"
                    " VALUES (?, 'main', ?, ?, ?, 'ok', ?, ?, ?, ?, ?, ?, ?, ?)",
                    (sha, ref_time, tier, shard, 30 + chosen.random(), tests, *numbers, ref_time),
                ).lastrowid
                module = f"tests.test_{tier}_{shard[0]}"
                connection.executemany(
                    "INSERT INTO outcomes (run_id, test_id, outcome, time_s, attempts, message)"
                    " VALUES (?, ?, ?, ?, 1, ?)",
                    [
                        (run_id, f"{module}::test_{i}", outcome, chosen.random(), _message(outcome))
                        for i, outcome in enumerate(outcomes)
                    ],
                )
        connection.execute("COMMIT")
    marker.write_text(stamp)


def _message(outcome: str) -> str:
    return "assert 1 == 2" if outcome in ("failed", "error") else ""


def measure(script: str, db: Path, commits: int, repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        completed = subprocess.run(
            [sys.executable, "-c", script, str(db), str(commits)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "rss_mb": max(r["rss_mb"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--tests", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--db", type=Path, default=Path(tempfile.gettempdir()) / "tierci-bench-hud.sqlite"
    )
    arguments = parser.parse_args()
    build_history(arguments.db, arguments.commits, arguments.jobs, arguments.tests)
    size_mb = arguments.db.stat().st_size / 1e6
    print(
        f"\nHUD over {arguments.commits} commits x {arguments.jobs} jobs x {arguments.tests} "
        f"tests ({size_mb:.0f} MB history), median of {arguments.repeat}"
    )
    print(f"{'view':28} {'HUD':>8} {'floor':>8} {'x floor':>8} {'HUD RSS':>9}")
    for label, commits in (("default (30 commits)", 30), ("1,000 commits", 1000)):
        hud = measure(VIEW, arguments.db, commits, arguments.repeat)
        floor = measure(FLOOR, arguments.db, commits, arguments.repeat)
        print(
            f"{label:28} {hud['seconds']:7.2f}s {floor['seconds']:7.2f}s "
            f"{hud['seconds'] / floor['seconds']:7.1f}x {hud['rss_mb']:7.0f} MB"
        )


if __name__ == "__main__":
    main()
