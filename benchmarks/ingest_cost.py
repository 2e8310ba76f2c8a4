"""Ingest cost benchmark: one `tierci report ingest` call of N small reports, beside the
interpreter's own start-up (the floor).

Target (issue 12, P6): 20 small reports in at most 0.1 s + 5 ms per report (0.2 s), on a
2-core machine. Each run is a fresh process into a fresh history, as a CI job's is.

    python benchmarks/ingest_cost.py [--reports 20] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest"><properties>
<property name="tier" value="unit"/><property name="shard" value="{index}/{count}"/>
</properties>{cases}</testsuite></testsuites>
"""


# Bytecode as an installed tool has it: written on first import, read after (a machine
# with PYTHONDONTWRITEBYTECODE set would compile every module on every start).
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=ENVIRONMENT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "junit"
        folder.mkdir()
        cases = "".join(
            f'<testcase classname="t.m" name="test_{n}" time="0.01"/>' for n in range(50)
        )
        for index in range(1, arguments.reports + 1):
            (folder / f"unit-{index}of{arguments.reports}.xml").write_text(
                REPORT.format(index=index, count=arguments.reports, cases=cases)
            )
        ingest_times = []
        warm = [sys.executable, "-m", "tierci.cli", "report", "ingest", str(folder)]
        wall([*warm, "--db", str(Path(scratch) / "warm.sqlite")], 1)  # writes the bytecode
        for run in range(arguments.repeat):
            db = Path(scratch) / f"history-{run}.sqlite"
            command = [sys.executable, "-m", "tierci.cli", "report", "ingest", str(folder)]
            ingest_times.append(wall([*command, "--db", str(db), "--commit", f"c{run}"], 1))
        floor = wall([sys.executable, "-c", "pass"], arguments.repeat)
    ingest = statistics.median(ingest_times)
    target = 0.1 + 0.005 * arguments.reports
    print(
        f"\ntierci report ingest of {arguments.reports} small reports, median of {arguments.repeat}"
    )
    print(f"{'contender':32} {'wall':>8} {'x floor':>8}")
    print(f"{'python -c pass (the floor)':32} {floor:7.3f}s {1.0:7.1f}x")
    print(f"{'tierci report ingest':32} {ingest:7.3f}s {ingest / floor:7.1f}x")
    print(f"target: <= {target:.3f} s ({'met' if ingest <= target else 'not met'})")


if __name__ == "__main__":
    main()
