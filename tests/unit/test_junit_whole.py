"""The whole-document fast path gives the streaming reader's results, on every corpus file."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import JUNIT_CORPUS
from tierci.junit import ReportReader, summarize
from tierci.junit.merge import merge_reports
from tierci.junit.producer import PRODUCERS
from tierci.junit.whole import read_whole

CORPUS_FILES = sorted(JUNIT_CORPUS.rglob("*.xml"))
# Files whose semantics need the sequential view (or that are unreadable): streamed.
DECLINED = {
    "generic/retries-as-duplicate-testcases.xml",  # attempts of one test to fold
    "gotestsum/rerun-fails.xml",  # ... apart from each other
    "gotestsum/rerun-one-flaky.xml",
    "jenkins/bad-duration-duplicate-names.xml",
    "jest-junit/suite-errors-and-retries.xml",
    "pytest-rerunfailures/reruns.xml",
    "pytest-rerunfailures/reruns-xdist.xml",
    "gotestsum/count-2.xml",  # ... or runs of one test, told apart by their outcomes
    # A failing todo test: node's <failure> would stay in the merged file as it is.
    "node-test/same-title-todo-skip.xml",
    "jenkins/nested-testsuites-error-in-suite.xml",  # an <error> outside any testcase
    "malformed/empty-zero-bytes.xml",
    "malformed/non-junit-root.xml",
    "malformed/truncated-corrupt-xml.xml",
    "security/testXxe-xxe.xml",
    "web-test-runner/expectedRetries-noninteger-time.xml",
}


def name(path: Path) -> str:
    return str(path.relative_to(JUNIT_CORPUS))


def test_the_fast_path_declines_exactly_the_sequential_and_broken_files() -> None:
    declined = {name(path) for path in CORPUS_FILES if read_whole(path) is None}
    assert declined == DECLINED


@pytest.mark.parametrize("path", [p for p in CORPUS_FILES if name(p) not in DECLINED], ids=name)
def test_same_summary_as_the_streaming_reader(path: Path) -> None:
    whole = read_whole(path)
    assert whole is not None
    streamed = summarize(path)
    assert whole.summary.counts == streamed.counts
    assert whole.summary.duration_s == pytest.approx(streamed.duration_s)
    assert whole.summary.properties == streamed.properties
    assert whole.summary.timestamp == streamed.timestamp
    assert bool(whole.summary.warnings) == bool(streamed.warnings)


def read_back(path: Path) -> list[tuple[str, str, int, float, str]]:
    return [
        (case.test_id, case.outcome.value, case.attempts, round(case.time_s, 3), case.message)
        for case in ReportReader(path)
    ]


@pytest.mark.parametrize("path", CORPUS_FILES, ids=name)
def test_same_merged_content_as_the_streaming_writer(path: Path, tmp_path: Path) -> None:
    fast, slow = tmp_path / "fast.xml", tmp_path / "slow.xml"
    fast_entries = merge_reports([path], fast)
    slow_entries = merge_reports([path], slow, whole_document_max_bytes=0)
    assert [e.status for e in fast_entries] == [e.status for e in slow_entries]
    assert read_back(fast) == read_back(slow)
    assert summarize(fast).counts == summarize(slow).counts


def test_worker_processes_write_exactly_what_one_process_writes(tmp_path: Path) -> None:
    inputs = []
    for index, path in enumerate(CORPUS_FILES * 2):  # enough files for a pool of two
        copy = tmp_path / f"r{index:03d}-{path.name}"
        shutil.copy(path, copy)
        inputs.append(copy)
    pooled, single = tmp_path / "pooled.xml", tmp_path / "single.xml"
    pooled_entries = merge_reports(inputs, pooled, jobs=2)
    single_entries = merge_reports(inputs, single, jobs=1)
    assert pooled.read_bytes() == single.read_bytes()
    assert [(e.path, e.status, e.problem) for e in pooled_entries] == [
        (e.path, e.status, e.problem) for e in single_entries
    ]


@pytest.mark.parametrize(
    ("cases", "producer", "declined"),
    [
        ('<testcase classname="a" name="t"/><testcase classname="b" name="t"/>', "", False),
        ('<testcase classname="a" name="t"/><testcase classname="a" name="u"/>', "", False),
        # One id, "a::t", for two tests (the file is no part of it): numbered, streamed.
        (
            '<testcase classname="a" name="t" file="x.py"/><testcase classname="a" name="t"/>',
            "",
            True,
        ),
        (
            '<testcase classname="a" name="t" file="x.js"/><testcase classname="a" name="t"/>',
            "jest",
            False,
        ),
        ('<testcase classname="a" name="t"/><testcase name="u"/><testcase name="t"/>', "", False),
        ('<testcase name="t"/><testcase classname="a" name="u"/><testcase name="t"/>', "", True),
        ('<testcase classname="a" name="t"/><testcase classname="a" name="t"/>', "", True),
        ('<testcase classname="a" name="t"/><testcase classname="a" name="t"/>', "gotestsum", True),
        # Titles: every repeat is another test, numbered here as the streaming reader does.
        ('<testcase classname="a" name="t"/><testcase classname="a" name="t"/>', "vitest", False),
    ],
    ids=[
        "namesakes",
        "unique",
        "other-file",
        "other-file-titles",
        "other-classname",
        "apart",
        "adjacent",
        "reruns",
        "titles",
    ],
)
def test_the_fast_path_declines_exactly_the_reports_with_attempts_to_fold(
    tmp_path: Path, cases: str, producer: str, declined: bool
) -> None:
    report = tmp_path / "r.xml"
    report.write_text(f'<testsuite name="s">{cases}</testsuite>', encoding="utf-8")
    given = PRODUCERS[producer] if producer else None
    whole = read_whole(report, producer=given)
    assert (whole is None) is declined
    if whole is not None:
        assert whole.summary.counts == summarize(report, producer=given).counts
        streamed = [case.name for case in ReportReader(report, producer=given)]
        assert [case.get("name") for case in whole.cases] == streamed


def test_the_fast_path_never_inflates_a_compressed_report(tmp_path: Path) -> None:
    """libxml2 inflates a gzip file given by name; the fast path gives it bytes only."""
    report = tmp_path / "unit.xml"
    report.write_bytes(gzip.compress((JUNIT_CORPUS / "pytest/xunit2-report.xml").read_bytes()))
    assert read_whole(report) is None  # declined: the streaming reader says why
    (entry,) = merge_reports([report], tmp_path / "merged.xml")
    assert "refused: it is gzip-compressed" in entry.problem


def test_the_fast_path_declines_a_fifo_without_opening_it_for_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "unit.xml"
    os.mkfifo(fifo)
    assert read_whole(fifo) is None
