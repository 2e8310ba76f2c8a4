"""History size: how big a carried history gets per 1,000 commits, and what pruning costs.

Writes a history of COMMITS x JOBS x TESTS straight into tierci's schema (as
benchmarks/hud.py does, with a tier record per job and test ids as long as a real
project's), compacts it as ``tierci report prune`` leaves it, and reports its size, its
size compressed as ``actions/cache`` stores it (zstd, where the binary is on PATH; gzip
otherwise), then prunes it to its newest half and times that.

    python benchmarks/history_size.py [--commits 1000] [--jobs 20] [--tests 50]
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tierci.report.history import Retention, open_history

TIERS = ("unit", "heavy", "device", "e2e", "integration")
OUTCOMES = ("passed", "failed", "error", "skipped", "flaky")
WEIGHTS = (0.93, 0.01, 0.002, 0.05, 0.008)
# A failure's message as pytest writes it: the assertion and a line of context.
MESSAGE = (
    "AssertionError: assert {'status': 'failed', 'tests': 3} == {'status': 'passed', "
    "'tests': 3}\n  Differing items: {'status': 'failed'} != {'status': 'passed'}"
)


def build(db: Path, commits: int, jobs: int, tests: int) -> None:
    shards = max(1, jobs // len(TIERS))
    slots = [(tier, f"{i}/{shards}") for tier in TIERS for i in range(1, shards + 1)][:jobs]
    chosen = random.Random(1234)  # noqa: S311 - reproducible data, not security
    with open_history(db) as history:
        connection = history.connection
        connection.execute("BEGIN")
        for number in range(commits):
            sha = f"{number:040x}"
            when = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=number)).isoformat()
            for tier, shard in slots:
                outcomes = chosen.choices(OUTCOMES, WEIGHTS, k=tests)
                numbers = [outcomes.count(outcome) for outcome in OUTCOMES]
                run_id = connection.execute(
                    "INSERT INTO runs (commit_sha, branch, ref_time, tier, shard, job, host,"
                    " started, status, report, report_digest, duration_s, tests, passed,"
                    " failed, errors, skipped, flaky, ingested_at)"
                    " VALUES (?, 'main', ?, ?, ?, 'ci/report', 'runner-17', ?, 'ok', ?, ?, ?,"
                    " ?, ?, ?, ?, ?, ?, ?)",
                    (
                        sha,
                        when,
                        tier,
                        shard,
                        when,
                        f"build/junit/{tier}-{shard.replace('/', 'of')}.xml",
                        f"{chosen.getrandbits(256):064x}",
                        30 + chosen.random(),
                        tests,
                        *numbers,
                        when,
                    ),
                ).lastrowid
                module = f"tests.{tier}.test_{tier}_behaviour_of_shard_{shard[0]}"
                connection.executemany(
                    "INSERT INTO outcomes (run_id, test_id, outcome, time_s, attempts, message)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            run_id,
                            f"{module}::test_a_sentence_that_says_what_is_checked_{i}",
                            outcome,
                            chosen.random(),
                            2 if outcome == "flaky" else 1,
                            MESSAGE if outcome in ("failed", "error") else "",
                        )
                        for i, outcome in enumerate(outcomes)
                    ],
                )
                connection.execute(
                    "INSERT INTO tier_runs (commit_sha, branch, ref_time, tier, shard, status,"
                    " started, ended, pipeline_started, python, platform, junit,"
                    " record_digest, ingested_at)"
                    " VALUES (?, 'main', ?, ?, ?, 'passed', ?, ?, ?, '3.11.7',"
                    " 'linux-x86_64', ?, ?, ?)",
                    (
                        sha,
                        when,
                        tier,
                        shard,
                        when,
                        when,
                        when,
                        f"{tier}.xml",
                        f"{chosen.getrandbits(256):064x}",
                        when,
                    ),
                )
        connection.execute("COMMIT")
        connection.execute("VACUUM")  # compact, as a pruned history is


def compressed_size(path: Path) -> tuple[str, int]:
    """The size of ``path`` compressed as actions/cache compresses (zstd), else gzip."""
    zstd = shutil.which("zstd")
    if zstd:
        out = path.with_suffix(".zst")
        command = [zstd, "-q", "-f", "-T0", "--long=30", str(path), "-o", str(out)]
        subprocess.run(command, check=True)
        return "zstd", out.stat().st_size
    with path.open("rb") as source, gzip.open(path.with_suffix(".gz"), "wb") as sink:
        shutil.copyfileobj(source, sink)
    return "gzip", path.with_suffix(".gz").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--tests", type=int, default=50)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "history.sqlite"
        build(db, arguments.commits, arguments.jobs, arguments.tests)
        size = db.stat().st_size
        outcomes = sqlite3.connect(db).execute("SELECT count(*) FROM outcomes").fetchone()[0]
        method, packed = compressed_size(db)
        print(
            f"{arguments.commits} commits x {arguments.jobs} jobs x {arguments.tests} tests "
            f"({outcomes} outcomes): {size / 1e6:.1f} MB, {size / outcomes:.0f} bytes per "
            f"outcome; {method}: {packed / 1e6:.1f} MB ({size / packed:.1f}x)"
        )
        per_thousand = size / arguments.commits * 1000
        print(f"per 1,000 commits: {per_thousand / 1e6:.1f} MB")
        started = time.perf_counter()
        with open_history(db) as history:
            pruned = history.prune(Retention(keep_commits=arguments.commits // 2))
        seconds = time.perf_counter() - started
        print(f"prune to the newest {arguments.commits // 2}: {seconds:.1f} s, {pruned.describe()}")
        started = time.perf_counter()
        with open_history(db) as history:
            pruned = history.prune(Retention(keep_commits=arguments.commits // 2 - 1))
        seconds = time.perf_counter() - started
        print(f"then one more commit (a CI run's prune): {seconds:.1f} s, {pruned.describe()}")


if __name__ == "__main__":
    main()
