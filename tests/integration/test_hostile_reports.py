"""Hostile report files, given for real to every command that reads reports: the
``tierci junit merge`` and ``tierci report ingest`` processes, and shard durations
(``load_durations``, what ``pytest --shard-durations`` calls) in a process of its own.

Each is refused (or read) the same way by all three, by name, without hanging, without
inflating anything, and without losing the good report given beside it.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import JUNIT_CORPUS
from tests.support import Ran, run_within, sqlite_connect, tierci_command
from tierci.errors import UsageError

GOOD = JUNIT_CORPUS / "pytest/xunit2-report.xml"  # 3 tests, 2 failed
GOOD_CASES = ["test_which_succeeds", "test_which_fails", "test_with_error"]
# A hang must fail the test, not stall the suite: a report is read in well under this.
HANG_LIMIT_S = 60

DURATIONS = """
import resource, sys
from pathlib import Path
from tierci.errors import TierciError
from tierci.report.durations import load_durations
try:
    durations = load_durations(Path(sys.argv[1]))
except TierciError as exc:
    print(exc)
    sys.exit(exc.return_code)
print(f"{len(durations)} durations")
"""

# The CLI in a process that reports its own peak memory (to stderr, after the output).
MEASURED_CLI = """
import resource, sys
from tierci.cli import main
code = main(sys.argv[1:])
print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
sys.exit(code)
"""


def _run(command: list[str], cwd: Path) -> Ran:
    return run_within(command, cwd, HANG_LIMIT_S)


def merge(folder: Path, out: Path, *inputs: Path) -> Ran:
    return _run(tierci_command(folder, "junit", "merge", str(out), *map(str, inputs)), folder)


def ingest(folder: Path, db: Path, *inputs: Path) -> Ran:
    args = ("report", "ingest", *map(str, inputs), "--db", str(db), "--commit", "c1")
    return _run(tierci_command(folder, *args), folder)


def durations(folder: Path, report: Path) -> Ran:
    return _run([sys.executable, "-c", DURATIONS, str(report)], folder)


def flat(text: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(text.split())


def merged_cases(out: Path) -> dict[str, list[str]]:
    """Merged suite name -> its testcase names (with ``[unreadable report]`` for a hole)."""
    from lxml import etree  # noqa: PLC0415

    root = etree.parse(str(out)).getroot()
    return {
        str(suite.get("name")): [str(case.get("name")) for case in suite.iter("testcase")]
        for suite in root.iter("testsuite")
    }


def runs(db: Path) -> list[tuple[str, str, int, str]]:
    connection = sqlite_connect(db)
    try:
        return connection.execute(
            "SELECT report, status, tests, problem FROM runs ORDER BY id"
        ).fetchall()
    finally:
        connection.close()


def _fifo(folder: Path) -> Path:
    fifo = folder / "unit.xml"
    os.mkfifo(fifo)
    return fifo


def _symlink(folder: Path, target: Path) -> Path:
    link = folder / "unit.xml"
    link.symlink_to(target)
    return link


def _symlink_to_fifo(folder: Path) -> Path:
    fifo = folder / "pipe"
    os.mkfifo(fifo)
    return _symlink(folder, fifo)


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (_fifo, "it is a named pipe (FIFO)"),
        (lambda folder: _symlink(folder, Path("/dev/zero")), "a symlink to /dev/zero, which is"),
        (lambda folder: _symlink(folder, Path("/dev/urandom")), "which is a character device"),
        (_symlink_to_fifo, "which is a named pipe (FIFO)"),
    ],
    ids=["fifo", "symlink-to-dev-zero", "symlink-to-dev-urandom", "symlink-to-fifo"],
)
def test_a_report_that_is_not_a_regular_file_is_refused_unread_by_every_command(
    tmp_path: Path, make: object, kind: str
) -> None:
    hostile = make(tmp_path)  # type: ignore[operator]
    assert isinstance(hostile, Path)
    good = tmp_path / "lint.xml"
    shutil.copy(GOOD, good)
    out, db = tmp_path / "merged.xml", tmp_path / "h.sqlite"

    merged = merge(tmp_path, out, good, hostile)
    assert merged.returncode == 1, merged
    assert f"{hostile}: refused: " in flat(merged.output)
    assert kind in flat(merged.output)
    assert "Traceback" not in merged.output
    assert merged_cases(out) == {"lint": GOOD_CASES, "unit": ["[unreadable report]"]}

    ingested = ingest(tmp_path, db, good, hostile)
    assert ingested.returncode == 1, ingested
    assert kind in flat(ingested.output)
    stored = runs(db)
    assert [(status, tests) for _, status, tests, _ in stored] == [("ok", 3), ("error", 0)]
    assert kind in stored[1][3]

    read = durations(tmp_path, hostile)
    assert read.returncode == UsageError.return_code, read
    assert kind in flat(read.output)


def test_a_file_that_becomes_a_fifo_is_not_read_twice(tmp_path: Path) -> None:
    """The same FIFO ingested again for the commit is the same hole, not a new run."""
    fifo = _fifo(tmp_path)
    db = tmp_path / "h.sqlite"
    assert ingest(tmp_path, db, fifo).returncode == 1
    again = ingest(tmp_path, db, fifo)
    assert again.returncode == 1, again
    assert "1 report(s) already in the history" in flat(again.output)
    assert len(runs(db)) == 1


def _gzip_bomb(path: Path, megabytes: int) -> None:
    """A JUnit report of ``megabytes`` MB of testcases, gzip-compressed to about 1/300 of
    that: libxml2, given the file's name, inflates it by itself and builds the whole tree
    (several times the inflated size in memory)."""
    block = b'<testcase classname="c" name="t" time="0.1"/>\n' * (1024 * 1024 // 46)
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(b'<testsuites><testsuite name="s">\n')
        for _ in range(megabytes):
            handle.write(block)
        handle.write(b"</testsuite></testsuites>\n")


def test_a_gzip_report_is_refused_by_every_command_without_inflating_it(tmp_path: Path) -> None:
    bomb = tmp_path / "unit.xml"
    _gzip_bomb(bomb, 100)
    assert bomb.stat().st_size < 1024 * 1024  # under 1 MB on disk, 100 MB inflated
    good = tmp_path / "lint.xml"
    shutil.copy(GOOD, good)
    out, db = tmp_path / "merged.xml", tmp_path / "h.sqlite"
    refusal = f"{bomb}: refused: it is gzip-compressed"

    merged = _run(
        [sys.executable, "-c", MEASURED_CLI, "junit", "merge", str(out), str(good), str(bomb)],
        tmp_path,
    )
    assert merged.returncode == 1, merged
    assert refusal in flat(merged.output)
    assert f"gzip -dc {bomb}" in flat(merged.output)  # the fix
    peak = int(merged.output.rsplit("peak_rss_mb=", 1)[1])
    assert peak < 150, merged.output  # nothing was inflated (a tree of GBs if it had been)
    assert merged_cases(out)["unit"] == ["[unreadable report]"]
    assert merged_cases(out)["lint"] == GOOD_CASES

    ingested = ingest(tmp_path, db, good, bomb)
    assert ingested.returncode == 1, ingested
    assert refusal in flat(ingested.output)
    assert [(status, tests) for _, status, tests, _ in runs(db)] == [("ok", 3), ("error", 0)]

    read = durations(tmp_path, bomb)
    assert read.returncode == UsageError.return_code, read
    assert refusal in flat(read.output)


ESCAPED_OUTPUT = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<testsuites><testsuite name="pytest">\n'
    '<testcase classname="t" name="test_colour" time="0.1">'
    "<system-out>plain \x1b[31mred\x1b[0m text</system-out></testcase>\n"
    "</testsuite></testsuites>\n"
)


def test_a_raw_escape_character_gets_an_accurate_message_from_every_command(
    tmp_path: Path,
) -> None:
    report = tmp_path / "unit.xml"
    report.write_text(ESCAPED_OUTPUT, encoding="utf-8")
    good = tmp_path / "lint.xml"
    shutil.copy(GOOD, good)
    # line 3: the ESC is the 73rd character, after '<testcase …><system-out>plain '
    message = (
        f"{report}: contains a raw control character U+001B (not allowed in XML) at line 3, "
        "column 73: the test runner wrote test output without escaping it"
    )
    out, db = tmp_path / "merged.xml", tmp_path / "h.sqlite"
    for ran in (merge(tmp_path, out, good, report), ingest(tmp_path, db, good, report)):
        assert ran.returncode == 1, ran
        assert message in flat(ran.output)
        assert "probably crashed" not in ran.output
        assert "fix: make the test runner's JUnit writer escape or strip" in flat(ran.output)
    assert merged_cases(out)["unit"] == ["[unreadable report]"]
    assert [(status, tests) for _, status, tests, _ in runs(db)] == [("ok", 3), ("error", 0)]
    assert message in runs(db)[1][3]
    read = durations(tmp_path, report)
    assert read.returncode == UsageError.return_code, read
    assert message in flat(read.output)
