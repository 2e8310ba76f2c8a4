"""Merging reports of tiers and shards, and holes in them, into one JUnit file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import junitparser
import pytest
from lxml import etree

from tests.conftest import JUNIT_CORPUS
from tierci.cli import main
from tierci.errors import ConfigError
from tierci.junit import Counts, Outcome, ReportReader, summarize
from tierci.junit.merge import (
    EntryStatus,
    Expectation,
    collect_inputs,
    judge_reports,
    merge_reports,
    parse_expectation,
)


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """A CI run's JUnit folder: two unit shards, a flaky lint report, a corrupt shard."""
    folder = tmp_path / "junit"
    folder.mkdir()
    shutil.copy(
        JUNIT_CORPUS / "pytest/shard1-junit.spark.integration.1.xml", folder / "unit-1of4.xml"
    )
    shutil.copy(
        JUNIT_CORPUS / "pytest/shard2-junit.spark.integration.2.xml", folder / "unit-2of4.xml"
    )
    shutil.copy(JUNIT_CORPUS / "malformed/truncated-corrupt-xml.xml", folder / "unit-4of4.xml")
    shutil.copy(JUNIT_CORPUS / "surefire/TEST-io.olamy.FlakyTest.xml", folder / "lint.xml")
    return folder


def test_expectations() -> None:
    assert parse_expectation("unit:4").slots() == [("unit", f"{i}/4") for i in range(1, 5)]
    assert parse_expectation("lint") == Expectation(tier="lint")
    for bad in ("unit:x", ":3", "unit:0"):
        with pytest.raises(ConfigError, match="--expect"):
            parse_expectation(bad)


def test_every_hole_is_an_entry_and_nothing_else_is_lost(reports: Path) -> None:
    entries = judge_reports(
        collect_inputs([reports]), expect=[parse_expectation("unit:4"), Expectation(tier="heavy")]
    )
    by_slot = {(e.tier, e.shard): e for e in entries}
    assert by_slot[("unit", "1/4")].status is EntryStatus.OK
    assert by_slot[("unit", "2/4")].summary is not None
    assert by_slot[("unit", "2/4")].summary.tests == 35
    assert by_slot[("unit", "4/4")].status is EntryStatus.ERROR
    assert "unit-4of4.xml: not well-formed XML" in by_slot[("unit", "4/4")].problem
    missing = by_slot[("unit", "3/4")]
    assert missing.status is EntryStatus.MISSING
    assert str(reports / "unit-3of4.xml") in missing.problem
    assert by_slot[("heavy", "")].status is EntryStatus.MISSING
    assert by_slot[("lint", "")].summary is not None
    assert by_slot[("lint", "")].summary.counts[Outcome.FLAKY] == 1


def test_an_expected_report_that_ran_nothing_is_a_problem(tmp_path: Path) -> None:
    empty = tmp_path / "device.xml"
    shutil.copy(JUNIT_CORPUS / "generic/no-cases-but-tests.xml", empty)
    (entry,) = judge_reports([empty], expect=[Expectation(tier="device")])
    assert entry.status is EntryStatus.EMPTY
    assert "ran no tests" in entry.problem
    (unexpected,) = judge_reports([empty])
    assert unexpected.problem == ""


def test_properties_name_the_slot_over_the_file_name(tmp_path: Path) -> None:
    report = tmp_path / "whatever.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest"><properties><property name="tier" value="unit"/>'
        '<property name="shard" value="3/4"/></properties><testcase name="t"/></testsuite>'
        "</testsuites>"
    )
    (entry,) = judge_reports([report], expect=[parse_expectation("unit:4")])[:1]
    assert (entry.tier, entry.shard) == ("unit", "3/4")


def test_an_env_run_is_its_own_slot(tmp_path: Path) -> None:
    report = tmp_path / "whatever.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest"><properties><property name="tier" value="heavy"/>'
        '<property name="env" value="legacy"/></properties><testcase name="t"/></testsuite>'
        "</testsuites>"
    )
    entries = judge_reports([report], expect=[parse_expectation("heavy")])
    assert [(e.tier, e.status.value) for e in entries] == [
        ("heavy-legacy", "ok"),
        ("heavy", "missing"),
    ]


def test_merged_file_has_a_suite_per_report_and_failing_cases_for_holes(
    reports: Path, tmp_path: Path
) -> None:
    out = tmp_path / "merged.xml"
    entries = merge_reports(collect_inputs([reports]), out, expect=[parse_expectation("unit:4")])
    assert len(entries) == 5
    tree = etree.parse(str(out))
    suites = {s.get("name"): s for s in tree.iterfind("testsuite")}
    assert set(suites) == {
        "lint",
        "unit shard 1/4",
        "unit shard 2/4",
        "unit shard 3/4",
        "unit shard 4/4",
    }
    assert suites["unit shard 1/4"].get("tests") == "35"
    assert suites["unit shard 1/4"].get("skipped") == "2"
    missing_case = suites["unit shard 3/4"].find("testcase")
    assert missing_case is not None
    assert missing_case.get("name") == "[missing report]"
    assert suites["unit shard 4/4"].find("testcase/error") is not None
    assert tree.getroot().get("tests") == "73"
    assert tree.getroot().get("errors") == "2"
    # Properties survive: the lint report's come through unchanged.
    props = {p.get("name"): p.get("value") for p in suites["lint"].iterfind("properties/property")}
    assert props["java.specification.version"] == "17"


def test_merged_file_reads_back_the_same(reports: Path, tmp_path: Path) -> None:
    out = tmp_path / "merged.xml"
    merge_reports(collect_inputs([reports]), out)
    merged = summarize(out)
    # The corrupt shard is one error case; shard 3/4 a hole, since the shards say 4 ran.
    assert merged.tests == 1 + 35 + 35 + 1 + 1
    assert merged.counts[Outcome.FLAKY] == 1
    assert merged.counts[Outcome.SKIPPED] == 4
    assert merged.counts[Outcome.ERROR] == 2  # the corrupt shard and the hole
    flaky = next(c for c in ReportReader(out) if c.outcome is Outcome.FLAKY)
    assert flaky.attempts == 3  # carried as an attribute and as flakyFailure


def test_a_merged_report_has_each_test_once_with_its_attempts(tmp_path: Path) -> None:
    """gotestsum appends reruns after the other tests: merged, each test is one case."""
    out = tmp_path / "merged.xml"
    (entry,) = merge_reports([JUNIT_CORPUS / "gotestsum/rerun-fails.xml"], out)
    assert entry.summary is not None
    assert entry.summary.counts == Counts(passed=4, failed=2, skipped=1, flaky=3)
    tree = etree.parse(str(out))
    names = [case.get("name") for case in tree.iterfind(".//testcase")]
    assert len(names) == len(set(names)) == 10
    (flaky,) = tree.iterfind(".//testcase[@name='TestFailsOnceThenPasses']")
    assert flaky.get("attempts") == "2"
    assert flaky.find("flakyFailure") is not None
    assert summarize(out).counts == entry.summary.counts  # read back: the same


def test_merged_file_is_valid_for_junitparser(reports: Path, tmp_path: Path) -> None:
    out = tmp_path / "merged.xml"
    merge_reports(collect_inputs([reports]), out, expect=[parse_expectation("unit:4")])
    xml = junitparser.JUnitXml.fromfile(str(out))
    suites = list(xml)
    assert len(suites) == 5
    assert sum(suite.tests for suite in suites) == 73


def test_every_corpus_file_merges_into_valid_xml(tmp_path: Path) -> None:
    inputs = sorted(JUNIT_CORPUS.rglob("*.xml"))
    out = tmp_path / "all.xml"
    entries = merge_reports(inputs, out)
    readable = [e.summary for e in entries if e.summary is not None]
    merged = summarize(out)
    expected_tests = sum(summary.tests for summary in readable) + (len(entries) - len(readable))
    assert merged.tests == expected_tests
    assert len(entries) - len(readable) == 5  # the five rejected corpus files


def test_cli_merge_exit_code_flags_holes_not_test_failures(
    reports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.xml"
    assert main(["junit", "merge", str(out), str(reports / "lint.xml")]) == 0
    # A lone shard says its tier ran in four: the other three are holes, --expect or not.
    assert (
        main(
            ["junit", "merge", str(out), str(reports / "unit-1of4.xml"), str(reports / "lint.xml")]
        )
        == 1
    )
    assert "no report for unit shard 2/4" in capsys.readouterr().out
    assert (
        main(["junit", "merge", str(out), str(reports), "--expect", "unit:4", "--jobs", "1"]) == 1
    )
    printed = capsys.readouterr().out
    assert "no report for unit shard 3/4" in printed
    assert "unit-4of4.xml" in printed


def test_a_fifo_in_a_merged_folder_is_an_unreadable_report_and_the_rest_is_merged(
    reports: Path, tmp_path: Path
) -> None:
    os.mkfifo(reports / "unit-3of4.xml")  # nothing will ever write to it
    out = tmp_path / "merged.xml"
    entries = merge_reports(collect_inputs([reports]), out, expect=[parse_expectation("unit:4")])
    by_slot = {(e.tier, e.shard): e for e in entries}
    fifo = by_slot[("unit", "3/4")]
    assert fifo.status is EntryStatus.ERROR
    assert fifo.problem.startswith(f"{reports / 'unit-3of4.xml'}: refused: it is a named pipe")
    assert by_slot[("unit", "1/4")].ok
    suites = {s.get("name"): s for s in etree.parse(str(out)).iterfind("testsuite")}
    case = suites["unit shard 3/4"].find("testcase")
    assert case is not None
    assert case.get("name") == "[unreadable report]"
    assert suites["unit shard 1/4"].get("tests") == "35"
