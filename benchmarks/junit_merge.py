"""JUnit merge benchmark: tierci vs junitparser vs a bare lxml iterparse loop.

Generates FILES reports x CASES testcases (default 2,000 x 500 = 1M testcases, ~110 MB),
then runs each contender in its own process and reports wall time and peak RSS side by
side, with ratios against the named baselines:

- ``junitparser merge`` (the usual tool; its merge compares suites pairwise),
- a bare ``lxml.etree.iterparse`` count loop (the practical limit of parsing in Python).

Targets (issue 3): ≥10x faster than junitparser merge, peak RSS < 200 MB, within 1.5x of
the bare iterparse loop. "tierci, one process" is the same merge with its worker pool
off (jobs=1): what one core does. CPU seconds include the workers, and peak RSS is the
largest process, so the pool's gain is visible for what it costs.

    python benchmarks/junit_merge.py [--files 2000] [--cases 500] [--skip-junitparser]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TIERCI = """
import sys
from pathlib import Path
from tierci.junit.merge import collect_inputs, merge_reports
entries = merge_reports(collect_inputs([Path(sys.argv[1])]), Path(sys.argv[2]))
tests = sum(e.summary.tests for e in entries if e.summary)
failed = sum(e.summary.counts["failed"] for e in entries if e.summary)
print(f"tierci: {len(entries)} reports, {tests} tests, {failed} failed")
"""

# The same with the worker pool off: what one core does.
TIERCI_ONE_PROCESS = TIERCI.replace("Path(sys.argv[2]))", "Path(sys.argv[2]), jobs=1)")

JUNITPARSER = """
import sys, glob
from junitparser import JUnitXml
merged = JUnitXml()
for path in sorted(glob.glob(sys.argv[1] + "/*.xml")):
    merged += JUnitXml.fromfile(path)
merged.update_statistics()
merged.write(sys.argv[2])
print(f"junitparser: {merged.tests} tests, {merged.failures} failed")
"""

BARE = """
import sys, glob
from lxml import etree
tests = failed = 0
for path in sorted(glob.glob(sys.argv[1] + "/*.xml")):
    events = etree.iterparse(path, tag="testcase", resolve_entities=False, no_network=True)
    for _, element in events:
        tests += 1
        if len(element) and element[0].tag == "failure":
            failed += 1
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
print(f"bare iterparse: {tests} tests, {failed} failed")
"""


FAILURE_RATE, SKIP_RATE = 0.01, 0.04
BARE_NAME, TIERCI_NAME, TIERCI_ONE_NAME, JUNITPARSER_NAME = (
    "bare lxml iterparse",
    "tierci merge+summary",
    "tierci, one process",
    "junitparser merge",
)
TIMESTAMP = "2026-11-23T10:00:00"


def generate(folder: Path, files: int, cases: int) -> int:
    rng = random.Random(42)  # noqa: S311 - test data, not cryptography
    size = 0
    for index in range(files):
        lines = [
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<testsuites><testsuite name="pytest" tests="{cases}" timestamp="{TIMESTAMP}">',
            (
                '<properties><property name="tier" value="unit"/>'
                f'<property name="shard" value="{index + 1}/{files}"/></properties>'
            ),
        ]
        for case in range(cases):
            head = (
                f'<testcase classname="tests.integration.test_module_{index}.TestGroup{case % 7}" '
                f'name="test_case_{case}" time="{rng.random():.3f}"'
            )
            roll = rng.random()
            if roll < FAILURE_RATE:
                lines.append(
                    f'{head}><failure message="assert {case} == {case + 1}">'
                    f"Traceback: AssertionError at line {case}</failure></testcase>"
                )
            elif roll < FAILURE_RATE + SKIP_RATE:
                lines.append(f'{head}><skipped message="needs a GPU"/></testcase>')
            else:
                lines.append(f"{head}/>")
        lines.append("</testsuite></testsuites>\n")
        path = folder / f"unit-{index + 1}of{files}.xml"
        text = "\n".join(lines)
        path.write_text(text, encoding="utf-8")
        size += len(text)
    return size


@dataclass
class Measured:
    wall_s: float
    cpu_s: float  # user + system, the process and every worker it waited for
    peak_rss_mb: float  # the largest of the process and its workers
    output: str
    timed_out: bool = False


def measure(script: str, *args: str, timeout_s: float | None = None) -> Measured:
    """Run a contender in its own process: wall time and that process's peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )
    timer = threading.Timer(timeout_s, process.kill) if timeout_s else None
    if timer:
        timer.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if timer:
        timer.cancel()
    output = process.stdout.read().strip() if process.stdout else ""
    timed_out = bool(timeout_s) and wall >= (timeout_s or 0)
    if status != 0 and not timed_out:
        raise SystemExit(f"contender failed (status {status}): {output}")
    return Measured(
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        output or "killed at the time limit",
        timed_out,
    )


def report(results: dict[str, Measured]) -> None:
    bare = results[BARE_NAME].wall_s
    junitparser = results.get(JUNITPARSER_NAME)
    print(
        f"\n{'contender':24s} {'wall s':>9s} {'cpu s':>7s} {'peak RSS MB':>12s} "
        f"{'x bare':>8s} {'jp / this':>10s}"
    )
    for name, result in results.items():
        wall = f"{'>=' if result.timed_out else ''}{result.wall_s:.2f}"
        speedup = ""
        if junitparser is not None:
            bound = ">=" if junitparser.timed_out and not result.timed_out else ""
            speedup = f"{bound}{junitparser.wall_s / result.wall_s:.1f}"
        print(
            f"{name:24s} {wall:>9s} {result.cpu_s:7.2f} {result.peak_rss_mb:12.0f} "
            f"{result.wall_s / bare:8.2f} {speedup:>10s}  {result.output}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--skip-junitparser", action="store_true")
    parser.add_argument(
        "--junitparser-timeout",
        type=float,
        default=300.0,
        help="stop junitparser after this many seconds and report a lower bound",
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tierci-bench-") as scratch:
        folder = Path(scratch) / "reports"
        folder.mkdir()
        size = generate(folder, options.files, options.cases)
        print(
            f"generated {options.files:,} files x {options.cases} testcases = "
            f"{options.files * options.cases:,} testcases, {size / 1e6:.0f} MB"
        )
        results = {
            BARE_NAME: measure(BARE, str(folder)),
            TIERCI_NAME: measure(TIERCI, str(folder), str(Path(scratch) / "tierci.xml")),
            TIERCI_ONE_NAME: measure(
                TIERCI_ONE_PROCESS, str(folder), str(Path(scratch) / "tierci1.xml")
            ),
        }
        if not options.skip_junitparser:
            results[JUNITPARSER_NAME] = measure(
                JUNITPARSER,
                str(folder),
                str(Path(scratch) / "jp.xml"),
                timeout_s=options.junitparser_timeout,
            )
    report(results)


if __name__ == "__main__":
    main()
