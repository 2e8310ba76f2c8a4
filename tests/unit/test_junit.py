"""Every corpus dialect, with counts written from reading the files (see SOURCES.md)."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import lzma
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import JUNIT_CORPUS
from tierci.junit import (
    SUITE_ERROR_NAME,
    CaseResult,
    Counts,
    JUnitError,
    Outcome,
    ReportReader,
    read,
    summarize,
)
from tierci.junit.producer import GENERIC
from tierci.junit.read import _message_and_details, normalize_suite_name, normalize_timestamp

# Each file maps to its (tests, passed, failed, error, skipped, flaky).
EXPECTED = {
    "bazel/suite-logs.xml": (1, 0, 0, 1, 0, 0),
    "ctest/pass-fail-skip.xml": (3, 1, 1, 0, 1, 0),
    "encoding/cyrillic-names.xml": (1, 1, 0, 0, 0, 0),  # declares tests=2
    "encoding/unsupported-unicode-non-bmp.xml": (7, 1, 2, 2, 2, 0),
    "encoding/with-xml-entities.xml": (4, 0, 1, 1, 2, 0),
    "generic/minimal-attributes.xml": (4, 1, 1, 1, 1, 0),
    "generic/multiresult-skipped-failure-error.xml": (4, 1, 1, 1, 1, 0),  # jp5: 2 fail, 3 skip
    "generic/no-attributes.xml": (4, 1, 1, 1, 1, 0),
    "generic/no-cases-but-tests.xml": (0, 0, 0, 0, 0, 0),  # declares tests=6
    "generic/retries-as-duplicate-testcases.xml": (3, 2, 0, 0, 0, 1),
    "gotestsum/junitxml-report.xml": (60, 42, 13, 0, 5, 0),
    # 17 testcases: reruns appended after the package's passing tests; two tests fail
    # three times each, alternating; TestTable and TestTable/one pass on their rerun.
    "gotestsum/rerun-fails.xml": (10, 4, 2, 0, 1, 3),
    # Two bare cases of one id: a rerun follows a failure, so the test was flaky.
    "jenkins/bad-duration-duplicate-names.xml": (1, 0, 0, 0, 0, 1),
    # go test -count=2: each test passed twice in one run; gotestsum says 8 tests.
    "gotestsum/count-2.xml": (8, 8, 0, 0, 0, 0),
    "gotestsum/rerun-one-flaky.xml": (2, 1, 0, 0, 0, 1),
    "gtest/parameterised-and-failure.xml": (6, 3, 2, 0, 1, 0),
    "jenkins/dup-suite-TestSuite_b.xml": (1, 1, 0, 0, 0, 0),
    "jenkins/dup-suite-TestSuite_b_duplicate.xml": (1, 1, 0, 0, 0, 0),
    "jenkins/huge-1.3MB.xml": (7580, 5130, 19, 0, 2430, 1),
    "jenkins/nested-testsuites-error-in-suite.xml": (3, 2, 0, 1, 0, 0),  # declares 186
    "jenkins/properties-multiline.xml": (2, 1, 1, 0, 0, 0),
    "jenkins/various-timestamps.xml": (12, 12, 0, 0, 0, 0),
    "jest-junit/jest-junit.xml": (6, 1, 4, 0, 1, 0),
    # Three files' `describe('parser') / test('reads a number')`: three suites, cases
    # and names alike; only addFileAttribute=true's `file` tells them apart.
    "jest-junit/same-title-three-files.xml": (3, 2, 1, 0, 0, 0),
    "jest-junit/same-title-file-attribute.xml": (3, 2, 1, 0, 0, 0),
    "jest-junit/same-title-all-green.xml": (3, 3, 0, 0, 0, 0),
    "jest-junit/test-each-one-title.xml": (3, 2, 1, 0, 0, 0),  # three rows, one title
    # The suite that cannot run: an <error> case and a <failure> case of one name.
    "jest-junit/suite-errors-and-retries.xml": (7, 2, 3, 1, 1, 0),
    "mocha-junit-reporter/same-title-two-files.xml": (4, 3, 1, 0, 0, 0),
    "mocha-junit-reporter/same-title-all-green.xml": (4, 4, 0, 0, 0, 0),
    "nextest/cargo-nextest-basic.xml": (3, 2, 1, 0, 0, 0),
    # Node: tests 4, pass 1, fail 1, skipped 1, todo 1 (a failing todo test is no
    # failure; it is written as <skipped type="todo"> and <failure>).
    "node-test/same-title-todo-skip.xml": (4, 1, 1, 0, 2, 0),
    "nextest/quick-junit-basic_report.xml": (8, 2, 3, 1, 1, 1),
    "phpunit/nested-testsuite-in-testsuite.xml": (5, 5, 0, 0, 0, 0),
    "phpunit/nested-testsuite-root.xml": (5, 5, 0, 0, 0, 0),
    "phpunit/phpunit-empty-testsuites.xml": (0, 0, 0, 0, 0, 0),
    "phpunit/phpunit.xml": (12, 10, 2, 0, 0, 0),
    "pytest/legacy-binary-names-skips-attr.xml": (1, 1, 0, 0, 0, 0),  # declares 3121
    "pytest/shard1-junit.spark.integration.1.xml": (35, 33, 0, 0, 2, 0),
    "pytest/shard2-junit.spark.integration.2.xml": (35, 33, 0, 0, 2, 0),
    "pytest/xunit1-horovod-junit.fail.xml": (5, 3, 1, 0, 1, 0),
    # 13 bare or failing testcases: failed attempts are bare, the last one tells.
    "pytest-rerunfailures/reruns.xml": (7, 1, 1, 0, 2, 3),
    # 16 testcases: test_slow_and_flaky's two bare attempts have five tests between them.
    "pytest-rerunfailures/reruns-xdist.xml": (14, 12, 1, 0, 0, 1),
    "pytest/xunit2-report.xml": (3, 1, 2, 0, 0, 0),
    "surefire/TEST-io.olamy.AlwaysFailTest.xml": (1, 0, 1, 0, 0, 0),  # declares 4/4
    "surefire/TEST-io.olamy.FlakyTest.xml": (1, 0, 0, 0, 0, 1),  # declares 3 tests, 2 failures
    "tst-cpp/disabled-status-attr.xml": (31, 6, 19, 1, 5, 0),  # jp5: disabled = passed
    # Two subtests fail; setUpClass's error is a case of its own (an empty classname).
    "unittest-xml-reporting/xmlrunner-output-file.xml": (8, 1, 3, 2, 2, 0),
    "vitest/same-title-two-files.xml": (2, 1, 1, 0, 0, 0),
    "vitest/test-each-one-title.xml": (3, 2, 1, 0, 0, 0),
}

REJECTED = {
    "malformed/empty-zero-bytes.xml": "empty file (0 bytes)",
    "malformed/truncated-corrupt-xml.xml": "not well-formed XML",
    "malformed/non-junit-root.xml": "not a JUnit report (root element <suites>",
    # Junk after its root: rejected as XML before its external entity could matter.
    "security/testXxe-xxe.xml": "not well-formed XML",
    "web-test-runner/expectedRetries-noninteger-time.xml": "not well-formed XML",
}


def test_the_corpus_is_fully_covered() -> None:
    on_disk = {str(p.relative_to(JUNIT_CORPUS)) for p in JUNIT_CORPUS.rglob("*.xml")}
    assert on_disk == set(EXPECTED) | set(REJECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts(name: str) -> None:
    tests, passed, failed, error, skipped, flaky = EXPECTED[name]
    summary = summarize(JUNIT_CORPUS / name)
    assert summary.tests == tests
    assert summary.counts == Counts(
        passed=passed, failed=failed, errors=error, skipped=skipped, flaky=flaky
    )


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_files_are_named_errors_with_a_fix(name: str) -> None:
    path = JUNIT_CORPUS / name
    with pytest.raises(JUnitError) as caught:
        summarize(path)
    assert REJECTED[name] in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.fix


def cases(name: str) -> dict[str, CaseResult]:
    return {case.test_id: case for case in ReportReader(JUNIT_CORPUS / name)}


def test_surefire_reruns_become_attempts() -> None:
    (flaky,) = cases("surefire/TEST-io.olamy.FlakyTest.xml").values()
    assert (flaky.outcome, flaky.attempts) == (Outcome.FLAKY, 3)
    (always,) = cases("surefire/TEST-io.olamy.AlwaysFailTest.xml").values()
    assert (always.outcome, always.attempts) == (Outcome.FAILED, 4)


def test_nextest_flaky_but_configured_to_fail_is_a_failure() -> None:
    by_name = {c.name: c for c in cases("nextest/quick-junit-basic_report.xml").values()}
    assert by_name["testcase4"].outcome is Outcome.FLAKY
    assert by_name["testcase7"].outcome is Outcome.FAILED
    assert "configured to fail when flaky" in by_name["testcase7"].message
    assert by_name["testcase5"].attempts == 3


def test_consecutive_duplicates_are_attempts_but_other_classnames_are_not() -> None:
    found = cases("generic/retries-as-duplicate-testcases.xml")
    retried = found["test_foo.TestFoo::test_foo"]
    assert (retried.outcome, retried.attempts) == (Outcome.FLAKY, 3)
    assert retried.message == "it broke"  # the last failing attempt's message
    assert found["test_bar.TestBar::test_foo"].outcome is Outcome.PASSED


def test_pytest_rerunfailures_bare_attempts_are_failed_attempts() -> None:
    found = cases("pytest-rerunfailures/reruns.xml")
    results = {test: (case.outcome, case.attempts) for test, case in found.items()}
    assert results == {
        "test_flaky::test_passes": (Outcome.PASSED, 1),
        "test_flaky::test_fails_once_then_passes": (Outcome.FLAKY, 2),
        "test_flaky::test_fails_twice_then_passes": (Outcome.FLAKY, 3),
        "test_flaky::test_always_fails": (Outcome.FAILED, 3),
        "test_flaky::test_setup_fails_once": (Outcome.FLAKY, 2),
        "test_flaky::test_skipped": (Outcome.SKIPPED, 1),
        "test_flaky::test_known_bug": (Outcome.SKIPPED, 1),
    }
    assert found["test_flaky::test_always_fails"].message.startswith("AssertionError: broken")


def test_attempts_that_pytest_xdist_set_apart_are_one_flaky_test() -> None:
    reader = list(ReportReader(JUNIT_CORPUS / "pytest-rerunfailures/reruns-xdist.xml"))
    flaky = [case for case in reader if case.outcome is Outcome.FLAKY]
    assert [(case.name, case.attempts) for case in flaky] == [("test_slow_and_flaky", 2)]
    assert flaky[0].time_s == pytest.approx(1.002)  # both attempts' time
    assert len({case.test_id for case in reader}) == len(reader) == 14


def test_gotestsum_reruns_fold_wherever_they_stand() -> None:
    found = list(ReportReader(JUNIT_CORPUS / "gotestsum/rerun-fails.xml"))
    results = {case.name: (case.outcome, case.attempts) for case in found}
    assert len(results) == len(found) == 10  # each test once
    assert results["TestFailsOnceThenPasses"] == (Outcome.FLAKY, 2)
    assert results["TestAlwaysFails"] == (Outcome.FAILED, 3)
    assert results["TestAlsoAlwaysFails"] == (Outcome.FAILED, 3)
    assert results["TestTable"] == results["TestTable/one"] == (Outcome.FLAKY, 2)
    assert results["TestTable/two"] == (Outcome.PASSED, 1)
    flaky = next(case for case in found if case.name == "TestFailsOnceThenPasses")
    assert "the first attempt fails" in flaky.details  # why it was flaky: the failure


def test_a_broken_jest_suite_is_one_error_that_outranks_its_failure() -> None:
    (broken,) = [
        case
        for case in ReportReader(JUNIT_CORPUS / "jest-junit/suite-errors-and-retries.xml")
        if case.classname == "Test suite failed to run"
    ]
    assert (broken.outcome, broken.attempts) == (Outcome.ERROR, 2)
    assert "Cannot find module './does-not-exist'" in broken.details  # the <error>'s text


def test_an_xmlrunner_case_without_classname_keeps_its_id_from_run_to_run() -> None:
    found = cases("unittest-xml-reporting/xmlrunner-output-file.xml")
    setup = "unittest.suite._ErrorHolder::setUpClass (test_things.TestBrokenSetUpClass)"
    assert found[setup].outcome is Outcome.ERROR
    assert found[setup].suite == "unittest.suite._ErrorHolder"
    assert not any("-2026" in test for test in found)


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("unittest.suite._ErrorHolder-20261124210227", "unittest.suite._ErrorHolder"),
        ("tests.TestA-20240229120000", "tests.TestA"),  # a leap day
        ("tests.TestA-20261324210227", "tests.TestA-20261324210227"),  # month 13
        ("tests.TestA-2026112421022", "tests.TestA-2026112421022"),  # 13 digits
        ("tests.TestA20261124210227", "tests.TestA20261124210227"),  # no dash
        ("pytest", "pytest"),
    ],
)
def test_only_xmlrunners_timestamp_suffix_leaves_a_suite_name(name: str, normalized: str) -> None:
    assert normalize_suite_name(name) == normalized


RESULT_XML = {
    "pass": "",
    "fail": '<failure message="it failed">trace</failure>',
    "error": '<error message="it broke">oops</error>',
    "skip": '<skipped message="not here"/>',
    "marked": (
        '<properties><property name="tierci.attempt" value="error"/>'
        '<property name="tierci.attempt.message" value="fixture broke"/></properties>'
    ),
}


def report_of(tmp_path: Path, *cases_xml: str) -> Path:
    report = tmp_path / "r.xml"
    report.write_text(f'<testsuite name="s">{"".join(cases_xml)}</testsuite>', encoding="utf-8")
    return report


def attempt(result: str, *, name: str = "t", file: str = "") -> str:
    where = f' file="{file}"' if file else ""
    return f'<testcase classname="c" name="{name}" time="1"{where}>{RESULT_XML[result]}</testcase>'


@pytest.mark.parametrize(
    ("attempts", "outcome", "message"),
    [
        (["fail", "pass"], Outcome.FLAKY, "it failed"),
        (["pass", "pass"], Outcome.FLAKY, ""),  # a bare attempt that was run again failed
        (["marked", "pass"], Outcome.FLAKY, "fixture broke"),  # tierci's plugin says why
        (["fail", "error", "pass"], Outcome.FLAKY, "it broke"),
        (["fail", "fail", "fail"], Outcome.FAILED, "it failed"),
        (["pass", "fail"], Outcome.FAILED, "it failed"),
        (["error", "fail"], Outcome.ERROR, "it broke"),  # error outranks failure
        (["fail", "error"], Outcome.ERROR, "it broke"),
        (["skip", "pass"], Outcome.PASSED, ""),
        (["fail", "skip"], Outcome.SKIPPED, "not here"),
    ],
)
@pytest.mark.parametrize("apart", [False, True], ids=["adjacent", "apart"])
def test_attempts_fold_left_to_right_wherever_they_stand(
    tmp_path: Path, attempts: list[str], outcome: Outcome, message: str, apart: bool
) -> None:
    report = report_of(
        tmp_path,
        *(
            attempt(result) + (attempt("pass", name=f"other{n}") if apart else "")
            for n, result in enumerate(attempts)
        ),
    )
    folded = [case for case in ReportReader(report) if case.name == "t"]
    assert [(c.outcome, c.message, c.attempts, c.time_s) for c in folded] == [
        (outcome, message, len(attempts), float(len(attempts)))
    ]
    summary = summarize(report)
    others = len(attempts) if apart else 0  # passed
    assert summary.tests == 1 + others
    assert summary.counts[outcome] == 1 + (others if outcome is Outcome.PASSED else 0)


def test_a_folded_test_stands_where_its_last_attempt_stood(tmp_path: Path) -> None:
    report = report_of(
        tmp_path,
        attempt("fail", name="a"),
        attempt("pass", name="b"),
        attempt("pass", name="a"),
        attempt("pass", name="c"),
    )
    assert [(c.name, c.outcome) for c in ReportReader(report)] == [
        ("b", Outcome.PASSED),
        ("a", Outcome.FLAKY),
        ("c", Outcome.PASSED),
    ]


def test_namesakes_in_other_files_or_suites_are_two_tests(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text(
        '<testsuites><testsuite name="one">'
        f"{attempt('fail', file='a.py')}{attempt('pass', file='b.py')}"
        f"{attempt('pass', file='a.py')}</testsuite>"
        f'<testsuite name="two">{attempt("fail", file="a.py")}</testsuite></testsuites>',
        encoding="utf-8",
    )
    assert sorted((c.suite, c.file, c.outcome, c.attempts) for c in ReportReader(report)) == [
        ("one", "a.py", Outcome.FLAKY, 2),
        ("one", "b.py", Outcome.PASSED, 1),
        ("two", "a.py", Outcome.FAILED, 1),
    ]


def test_suite_errors_and_unnamed_cases_are_never_attempts(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text(
        '<testsuite name="s"><testcase/><testcase/><error message="a"/><error message="b"/>'
        "</testsuite>",
        encoding="utf-8",
    )
    assert summarize(report).counts == Counts(passed=2, errors=2)


@pytest.mark.parametrize("held", ["cases", "text"])
def test_attempts_fold_across_cases_held_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held: str
) -> None:
    """A report larger than what is held in memory: the first attempt is on disk when
    the last one is read."""
    monkeypatch.setattr(read, "_MEMORY_CASES" if held == "cases" else "_MEMORY_TEXT", 64)
    others = [attempt("fail" if n % 10 == 0 else "pass", name=f"t{n}") for n in range(500)]
    report = report_of(
        tmp_path, attempt("fail", name="flaky"), *others, attempt("pass", name="flaky")
    )
    found = list(ReportReader(report))
    assert [case.name for case in found] == [f"t{n}" for n in range(500)] + ["flaky"]
    assert (found[-1].outcome, found[-1].attempts, found[-1].message) == (
        Outcome.FLAKY,
        2,
        "it failed",
    )
    assert summarize(report).counts == Counts(passed=450, failed=50, flaky=1)


def test_two_tests_whose_fingerprints_collide_are_still_told_apart() -> None:
    store = read._CaseStore()
    one, other = (
        CaseResult("s", "c", name, 1.0, Outcome.FAILED, "m", "d") for name in ("one", "other")
    )
    store.suite_starts.append(0)
    store.suite_ordinals.append(0)
    for case in (one, other, one._replace(outcome=Outcome.PASSED)):
        store.cases.append(case)
        store.fingerprints.append(42)
    assert [(c.name, c.outcome, c.attempts) for c in store.folded(GENERIC)] == [
        ("other", Outcome.FAILED, 1),
        ("one", Outcome.FLAKY, 2),  # where its last attempt stood
    ]


def test_suite_level_error_is_counted_not_dropped() -> None:
    error = next(
        c
        for c in ReportReader(JUNIT_CORPUS / "jenkins/nested-testsuites-error-in-suite.xml")
        if c.outcome is Outcome.ERROR
    )
    assert error.name == SUITE_ERROR_NAME
    assert error.suite == "test.3rdlevel"
    assert error.message == "bla bla"


def test_negative_and_odd_times_are_normalised_with_a_warning() -> None:
    reader = ReportReader(JUNIT_CORPUS / "jenkins/bad-duration-duplicate-names.xml")
    (case,) = list(reader)
    assert case.time_s == 100.0
    assert case.attempts == 2
    assert any("-345345" in w for w in reader.warnings)


def test_warnings_are_bounded() -> None:
    reader = ReportReader(JUNIT_CORPUS / "jenkins/huge-1.3MB.xml")
    assert sum(1 for _ in reader) == 7580
    assert len(reader.warnings) == 21
    assert reader.warnings[-1] == "… further warnings suppressed"


def test_properties_only_at_report_level_and_text_values() -> None:
    summary = summarize(JUNIT_CORPUS / "jenkins/properties-multiline.xml")
    assert summary.properties["prop1"] == "value1"
    assert summary.properties["multiline"].split() == [
        "Config",
        "line",
        "1",
        "Config",
        "line",
        "2",
        "Config",
        "line",
        "3",
    ]
    assert "description" not in summary.properties  # a testcase's property
    assert summarize(JUNIT_CORPUS / "gotestsum/junitxml-report.xml").properties["go.version"]


def test_entities_and_non_bmp_text_survive() -> None:
    names = {c.name for c in ReportReader(JUNIT_CORPUS / "encoding/with-xml-entities.xml")}
    assert any("&" in n or '"' in n or "<" in n for n in names)
    messages = " ".join(
        c.message + c.name
        for c in ReportReader(JUNIT_CORPUS / "encoding/unsupported-unicode-non-bmp.xml")
    )
    assert "𒍺" in messages or "𡓿" in messages


def test_status_attributes_and_bazel_duration() -> None:
    tst = [
        c
        for c in ReportReader(JUNIT_CORPUS / "tst-cpp/disabled-status-attr.xml")
        if c.outcome is Outcome.SKIPPED
    ]
    assert {c.message for c in tst} == {"disabled"}
    (bazel,) = list(ReportReader(JUNIT_CORPUS / "bazel/suite-logs.xml"))
    assert bazel.message == "exited with error code 1"


@pytest.mark.parametrize(
    ("testcase", "message"),
    [
        # No message: the first line of the text with a word in it.
        (
            '<failure message="">\n  ---\n  AssertionError: 1 != 2\n  more</failure>',
            "AssertionError: 1 != 2",
        ),
        ("<error>\n\n● Test suite failed to run\n</error>", "● Test suite failed to run"),
        # No message, no text: the test's own output (system-out, else system-err).
        (
            '<failure message=""/><system-out>\n==\nexpected 1, got 2\n</system-out>',
            "expected 1, got 2",
        ),
        ("<failure/><system-out>  </system-out><system-err>segfault</system-err>", "segfault"),
        ('<failure message="   "/>', ""),  # nothing anywhere
        ('<failure message="it broke">trace</failure><system-out>noise</system-out>', "it broke"),
    ],
    ids=["text", "text-after-blank-lines", "system-out", "system-err", "nothing", "own-message"],
)
def test_a_failure_without_a_message_takes_the_first_meaningful_line(
    tmp_path: Path, testcase: str, message: str
) -> None:
    report = tmp_path / "r.xml"
    report.write_text(
        f'<testsuite name="s"><testcase classname="c" name="t">{testcase}</testcase></testsuite>',
        encoding="utf-8",
    )
    (case,) = list(ReportReader(report))
    assert case.outcome in (Outcome.FAILED, Outcome.ERROR)
    assert case.message == message


def test_ctests_empty_failure_message_is_its_output() -> None:
    failed = cases("ctest/pass-fail-skip.xml")["parses_dates::parses_dates"]
    assert (failed.outcome, failed.message) == (
        Outcome.FAILED,
        "expected 2026-01-31, got 2026-13-01",
    )


def test_timestamp_and_duration_of_a_report() -> None:
    summary = summarize(JUNIT_CORPUS / "pytest/shard1-junit.spark.integration.1.xml")
    assert summary.timestamp
    assert summary.duration_s == pytest.approx(162.933, abs=0.01)


# --- hostile and broken inputs -------------------------------------------------------


def test_local_external_entity_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    report = tmp_path / "r.xml"
    report.write_text(
        f'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<testsuite><testcase name="a"><failure message="m">before &x; after</failure>'
        "</testcase></testsuite>",
        encoding="utf-8",
    )
    (case,) = list(ReportReader(report))
    assert "TOP-SECRET" not in case.details
    assert case.outcome is Outcome.FAILED


def test_entity_bomb_is_not_expanded(tmp_path: Path) -> None:
    levels = ['<!ENTITY a0 "lollollollollollollollollollol">']
    levels += [f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)]
    report = tmp_path / "bomb.xml"
    report.write_text(
        f'<?xml version="1.0"?><!DOCTYPE t [{"".join(levels)}]>'
        '<testsuite><testcase name="a"><failure message="m">&a9;</failure></testcase></testsuite>',
        encoding="utf-8",
    )
    with pytest.raises(JUnitError, match="entity bomb") as caught:
        list(ReportReader(report))
    assert str(report) in str(caught.value)


def test_invalid_utf8_is_a_named_error(tmp_path: Path) -> None:
    report = tmp_path / "bad.xml"
    report.write_bytes(
        b'<?xml version="1.0" encoding="UTF-8"?><testsuite><testcase name="\xff\xfe"/></testsuite>'
    )
    with pytest.raises(JUnitError, match="not well-formed XML") as caught:
        summarize(report)
    assert str(report) in str(caught.value)


def test_missing_file_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(JUnitError, match="cannot be read"):
        summarize(tmp_path / "nope.xml")


@pytest.mark.parametrize(
    ("raw", "normalized", "warned"),
    [
        ("2024-01-03T12:27:44Z", "2024-01-03T12:27:44+00:00", False),
        ("2024-01-03T12:27:15+01:00", "2024-01-03T11:27:15+00:00", False),
        ("2024-01-03T12:27:11.21-01:00", "2024-01-03T13:27:11.210000+00:00", False),
        ("2024-01-03 12:27:54Z", "2024-01-03T12:27:54+00:00", False),
        ("2024-01-03T 12:40:13", "2024-01-03T12:40:13+00:00", True),
        ("2024-01-03T11:23:00.00", "2024-01-03T11:23:00+00:00", True),
        ("2024-01-03", "2024-01-03T00:00:00+00:00", True),
        ("2020-08-31T09:25:35.877542", "2020-08-31T09:25:35.877542+00:00", True),
        ("0001-01-01T00:00:00Z", "", True),  # gotestsum's placeholder
        ("yesterday", "", True),
    ],
)
def test_timestamps_are_normalised_to_utc(raw: str, normalized: str, warned: bool) -> None:
    result, warning = normalize_timestamp(raw)
    assert result == normalized
    assert bool(warning) is warned


def test_every_corpus_timestamp_normalises_without_a_crash() -> None:
    import re  # noqa: PLC0415

    for path in JUNIT_CORPUS.rglob("*.xml"):
        for raw in re.findall(r'timestamp="([^"]*)"', path.read_text(errors="replace")):
            result, warning = normalize_timestamp(raw)
            assert result or warning


def test_a_summary_carries_the_normalised_timestamp() -> None:
    summary = summarize(JUNIT_CORPUS / "nextest/quick-junit-basic_report.xml")
    assert summary.timestamp == "2021-04-01T18:52:39+00:00"  # suite time, -08:00 in the file


# --- files that are not plain reports ------------------------------------------------


def test_a_fifo_a_socket_and_a_directory_are_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "fifo.xml"
    os.mkfifo(fifo)  # no writer: reading it would block for ever
    listening = socket.socket(socket.AF_UNIX)
    sock = tmp_path / "socket.xml"
    # Bound by a name relative to the folder: a socket's path may not exceed 107 bytes,
    # and how long tmp_path is belongs to the machine (TMPDIR).
    monkeypatch.chdir(tmp_path)
    listening.bind(sock.name)
    folder = tmp_path / "folder.xml"
    folder.mkdir()
    try:
        for path, kind in (
            (fifo, "a named pipe (FIFO)"),
            (sock, "a socket"),
            (folder, "a directory"),
            (Path("/dev/null"), "a character device"),
        ):
            with pytest.raises(JUnitError) as caught:
                summarize(path)
            assert caught.value.message == f"{path}: refused: it is {kind}, not a regular file"
            assert caught.value.fix
    finally:
        listening.close()


def test_a_symlink_is_judged_by_what_it_points_to(tmp_path: Path) -> None:
    link = tmp_path / "unit.xml"
    link.symlink_to("/dev/zero")
    with pytest.raises(JUnitError, match="a symlink to /dev/zero, which is a character device"):
        summarize(link)
    good = tmp_path / "good.xml"
    good.symlink_to(JUNIT_CORPUS / "pytest/xunit2-report.xml")
    assert summarize(good).tests == 3


@pytest.mark.parametrize(
    ("compress", "name"), [(gzip.compress, "gzip"), (lzma.compress, "xz")], ids=["gzip", "xz"]
)
def test_a_compressed_report_is_refused_with_a_fix(
    tmp_path: Path, compress: Callable[[bytes], bytes], name: str
) -> None:
    report = tmp_path / "unit.xml"
    report.write_bytes(compress((JUNIT_CORPUS / "pytest/xunit2-report.xml").read_bytes()))
    reader = ReportReader(report)
    with pytest.raises(JUnitError, match=f"refused: it is {name}-compressed") as caught:
        list(reader)
    assert caught.value.fix is not None
    assert f"{name} -dc {report}" in caught.value.fix
    assert reader.digest == ""  # refused before a byte was hashed


CONTROL_CASES = [
    # (where the raw character is, the line of the document, its line, its column)
    ("in test output", '<testsuite>\n<testcase name="a"><system-out>ab\x1bc</system-out>', 2, 34),
    ("in an attribute", '<testsuite>\n<testcase name="a\x1b[0m">', 2, 18),
    ("in CDATA", '<testsuite>\n<testcase name="a"><system-out><![CDATA[ab\x1b', 2, 43),
    (
        "a NUL",
        '<testsuite>\n<testcase name="ü"><system-out>ab\x00c</system-out>',
        2,
        34,
    ),  # ü: 2 bytes, 1 column
]


@pytest.mark.parametrize(
    ("where", "head", "line", "column"), CONTROL_CASES, ids=[case[0] for case in CONTROL_CASES]
)
def test_a_raw_control_character_is_named_with_its_line_and_column(
    tmp_path: Path, where: str, head: str, line: int, column: int
) -> None:
    report = tmp_path / "r.xml"
    report.write_text(f"{head}</testcase></testsuite>", encoding="utf-8")
    code = 0 if where == "a NUL" else 0x1B
    with pytest.raises(JUnitError) as caught:
        summarize(report)
    assert caught.value.message == (
        f"{report}: contains a raw control character U+{code:04X} (not allowed in XML) at "
        f"line {line}, column {column}: the test runner wrote test output without escaping it"
    )
    assert "crashed" not in str(caught.value)


def test_an_escaped_control_character_is_named_too(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text('<testsuite><testcase name="a&#27;[31m"/></testsuite>', encoding="utf-8")
    with pytest.raises(JUnitError, match=r"a character reference &#27; to U\+001B"):
        summarize(report)


def test_a_truncated_file_is_still_called_cut_off(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text('<testsuite>\n<testcase name="a"><failure>boom', encoding="utf-8")
    with pytest.raises(JUnitError, match="not well-formed XML") as caught:
        summarize(report)
    assert "probably crashed or was cut off" in str(caught.value)


def test_long_failure_text_is_cut_with_a_marker_that_survives_reading_again(
    tmp_path: Path,
) -> None:
    report = tmp_path / "r.xml"
    text = "x" * 50_000
    report.write_text(
        f'<testsuite><testcase name="a"><failure message="{"m" * 900}">{text}</failure>'
        "</testcase></testsuite>",
        encoding="utf-8",
    )
    (case,) = list(ReportReader(report))
    assert case.details.endswith("… [truncated: 50.0 kB of output]")
    assert len(case.details) == 4000
    assert case.message == "m" * 499 + "…"
    assert _message_and_details(_failure_element(case)) == (case.message, case.details)


def _failure_element(case: CaseResult) -> etree._Element:
    """The case's failure as tierci's merge writes it: read again, it must not change."""
    failure = etree.Element("failure", message=case.message)
    failure.text = case.details
    return failure


def test_the_digest_is_of_the_whole_file_whether_or_not_it_parses(tmp_path: Path) -> None:
    for name in ("pytest/xunit2-report.xml", "malformed/truncated-corrupt-xml.xml"):
        path = JUNIT_CORPUS / name
        reader = ReportReader(path)
        with contextlib.suppress(JUnitError):
            list(reader)
        assert reader.digest == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_digest_of_a_refused_or_retried_file_is_of_its_bytes(tmp_path: Path) -> None:
    not_junit = JUNIT_CORPUS / "malformed/non-junit-root.xml"
    huge = tmp_path / "huge.xml"
    huge.write_text(
        f'<testsuite><testcase name="a"><system-out>{"x" * 11_000_000}</system-out></testcase>'
        "</testsuite>",
        encoding="utf-8",
    )
    huge_behind_doctype = tmp_path / "doctype.xml"
    huge_behind_doctype.write_text(f"<!DOCTYPE testsuite>{huge.read_text()}", encoding="utf-8")
    for path in (not_junit, huge, huge_behind_doctype):
        reader = ReportReader(path)
        with contextlib.suppress(JUnitError):
            list(reader)
        assert reader.digest == hashlib.sha256(path.read_bytes()).hexdigest(), path


def test_a_control_character_after_the_real_error_is_not_blamed(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text('<testsuite><testcase name="a" x=1>\x1b</testcase></testsuite>')
    with pytest.raises(JUnitError, match="not well-formed XML") as caught:
        summarize(report)
    assert "control character" not in str(caught.value)
