"""Large reports: a 200 MB report is read in bounded memory (measured in a child
process); one test's 12 MB of output does not make its shard unreadable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import sqlite_connect
from tierci.junit import ReportReader, summarize

CASE = (
    '<testcase classname="pkg.module_{i}.TestThing" name="test_case_{i}" time="0.0{d}">'
    "<system-out>{out}</system-out></testcase>\n"
)
FAILED = (
    '<testcase classname="pkg.F" name="test_fail_{i}" time="1">'
    '<failure message="boom {i}">trace</failure></testcase>\n'
)

# The child's own peak: VmHWM belongs to its address space, made new by exec. (Linux's
# ru_maxrss is not: a child started by a large test process begins at its parent's size,
# so that measure would depend on which tests ran before.)
MEASURE = """
import json, sys
from pathlib import Path
from tierci.junit import summarize
summary = summarize(Path(sys.argv[1]))
status = Path("/proc/self/status").read_text().splitlines()
peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"tests": summary.tests, "failed": summary.counts["failed"],
                  "peak_rss_mb": peak_kb / 1024}))
"""


def test_a_200_mb_report_is_counted_in_bounded_memory(tmp_path: Path) -> None:
    report = tmp_path / "big.xml"
    output = "x" * 200
    cases = failures = 0
    with report.open("w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0"?>\n<testsuites><testsuite name="big">\n')
        while handle.tell() < 200 * 1024 * 1024:
            chunk = "".join(CASE.format(i=cases + n, d=n % 10, out=output) for n in range(1000))
            handle.write(chunk + FAILED.format(i=failures))
            cases += 1000
            failures += 1
        handle.write("</testsuite></testsuites>\n")
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, str(report)], capture_output=True, text=True, check=True
    )
    result = json.loads(measured.stdout)
    print(f"200 MB report: {result}")
    assert result["tests"] == cases + failures
    assert result["failed"] == failures
    assert result["peak_rss_mb"] < 120, result


def _huge_output_report(path: Path, *, doctype: bool = False) -> None:
    """Three tests; one printed 12 MB, one failed with 12 MB of output in its failure."""
    output = "0123456789abcdef" * (12 * 1024 * 1024 // 16)
    with path.open("w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="utf-8"?>\n')
        if doctype:
            handle.write("<!DOCTYPE testsuites>\n")
        handle.write('<testsuites><testsuite name="pytest">\n')
        handle.write('<testcase classname="t" name="test_before" time="0.5"/>\n')
        handle.write(f'<testcase classname="t" name="test_chatty" time="1"><system-out>{output}')
        handle.write("</system-out></testcase>\n")
        handle.write('<testcase classname="t" name="test_loud_failure" time="2">')
        handle.write(f'<failure message="assert False">{output}</failure></testcase>\n')
        handle.write('<testcase classname="t" name="test_after" time="0.5"/>\n')
        handle.write("</testsuite></testsuites>\n")


def _tierci(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tierci.cli", "--project", str(folder), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


DURATIONS = """
import sys
from pathlib import Path
from tierci.report.durations import load_durations
print(sorted(load_durations(Path(sys.argv[1])).items()))
"""


def test_one_test_with_12_mb_of_output_keeps_its_shard_readable_by_every_command(
    tmp_path: Path,
) -> None:
    report = tmp_path / "unit.xml"
    _huge_output_report(report)
    out, db = tmp_path / "merged.xml", tmp_path / "h.sqlite"

    merged = _tierci(tmp_path, "junit", "merge", str(out), str(report))
    assert merged.returncode == 0, merged.stdout + merged.stderr
    # The merged file holds the failure's text truncated, with a marker, and is itself
    # readable within libxml2's default limits.
    summary = summarize(out)
    assert (summary.tests, summary.counts.failed) == (4, 1)
    (failure,) = [case for case in ReportReader(out) if case.name == "test_loud_failure"]
    assert failure.details.endswith("… [truncated: 12.6 MB of output]")
    assert len(failure.details) < 5000
    assert out.stat().st_size < 100_000

    ingested = _tierci(tmp_path, "report", "ingest", str(report), "--db", str(db), "--commit", "c")
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    connection = sqlite_connect(db)
    run = connection.execute("SELECT status, tests, passed, failed, warnings FROM runs").fetchone()
    assert run[:4] == ("ok", 4, 3, 1)
    assert "larger than libxml2's 10 MB limit: read again with the limit lifted" in run[4]
    assert connection.execute("SELECT count(*) FROM outcomes").fetchone() == (4,)

    durations = subprocess.run(
        [
            sys.executable,
            "-c",
            DURATIONS,
            str(report),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert "('t::test_chatty', 1.0)" in durations.stdout
    assert "('t::test_loud_failure', 2.0)" in durations.stdout


def test_a_huge_text_node_behind_a_doctype_needs_huge_tree(tmp_path: Path) -> None:
    """No limit is lifted by itself where a DOCTYPE could define entities."""
    report = tmp_path / "unit.xml"
    _huge_output_report(report, doctype=True)
    out = tmp_path / "merged.xml"
    refused = _tierci(tmp_path, "junit", "merge", str(out), str(report))
    assert refused.returncode == 1
    text = " ".join(refused.stdout.split())
    assert "a text node exceeds libxml2's 10 MB safety limit, and the file has a DOCTYPE" in text
    assert "--huge-tree" in text
    trusted = _tierci(tmp_path, "junit", "merge", str(out), str(report), "--huge-tree")
    assert trusted.returncode == 0, trusted.stdout
    assert summarize(out, huge_tree=True).tests == 4
