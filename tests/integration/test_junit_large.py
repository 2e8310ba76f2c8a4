"""A 200 MB report is read in bounded memory (measured in a child process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CASE = (
    '<testcase classname="pkg.module_{i}.TestThing" name="test_case_{i}" time="0.0{d}">'
    "<system-out>{out}</system-out></testcase>\n"
)
FAILED = (
    '<testcase classname="pkg.F" name="test_fail_{i}" time="1">'
    '<failure message="boom {i}">trace</failure></testcase>\n'
)

MEASURE = """
import json, resource, sys
from pathlib import Path
from tierci.junit import summarize
summary = summarize(Path(sys.argv[1]))
print(json.dumps({"tests": summary.tests, "failed": summary.counts["failed"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
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
