"""A test's identity as its producer means it: which tool wrote a report, and what a
repeated name is in that tool's reports (attempts, reruns, or other tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import JUNIT_CORPUS
from tests.support import sqlite_connect
from tierci.cli import main
from tierci.junit import CaseResult, Counts, Outcome, ReportReader, summarize
from tierci.junit.merge import merge_reports, producer_for
from tierci.junit.producer import GENERIC, PRODUCERS, Producer
from tierci.junit.whole import read_whole

DETECTED = {
    "gotestsum": [
        "gotestsum/count-2.xml",
        "gotestsum/junitxml-report.xml",
        "gotestsum/rerun-fails.xml",
    ],
    "jest": ["jest-junit/jest-junit.xml", "jest-junit/same-title-three-files.xml"],
    "mocha": ["mocha-junit-reporter/same-title-two-files.xml"],
    "nextest": ["nextest/cargo-nextest-basic.xml"],
    "node": ["node-test/same-title-todo-skip.xml"],
    "pytest": [
        "pytest/xunit1-horovod-junit.fail.xml",
        "pytest/xunit2-report.xml",
        "pytest-rerunfailures/reruns.xml",
        "pytest-rerunfailures/reruns-xdist.xml",
    ],
    "surefire": ["surefire/TEST-io.olamy.FlakyTest.xml"],
    "vitest": ["vitest/same-title-two-files.xml", "vitest/test-each-one-title.xml"],
    "generic": [
        "ctest/pass-fail-skip.xml",
        "encoding/cyrillic-names.xml",  # a bare <testsuites>, disabled and hostname: not node
        "generic/retries-as-duplicate-testcases.xml",
        "gtest/parameterised-and-failure.xml",
        "jenkins/huge-1.3MB.xml",
        "phpunit/phpunit.xml",
        "unittest-xml-reporting/xmlrunner-output-file.xml",
    ],
}


@pytest.mark.parametrize(
    ("name", "producer"),
    [(name, producer) for producer, names in DETECTED.items() for name in names],
)
def test_each_tools_real_report_is_known_by_its_shape(name: str, producer: str) -> None:
    reader = ReportReader(JUNIT_CORPUS / name)
    list(reader)
    assert reader.producer.name == producer


def report_of(tmp_path: Path, xml: str, name: str = "r.xml") -> Path:
    report = tmp_path / name
    report.write_text(xml, encoding="utf-8")
    return report


RESULT = {
    "pass": "",
    "fail": '<failure message="it failed">trace</failure>',
    "error": '<error message="it broke">oops</error>',
}


def one_suite(*results: str, suite: str = "s") -> str:
    cases = "".join(
        f'<testcase classname="c" name="t" time="1">{RESULT[result]}</testcase>'
        for result in results
    )
    return f'<testsuite name="{suite}">{cases}</testsuite>'


def read(report: Path, producer: Producer | None = None) -> list[tuple[str, Outcome, int]]:
    return [
        (case.name, case.outcome, case.attempts) for case in ReportReader(report, producer=producer)
    ]


@pytest.mark.parametrize("producer", ["generic", "pytest", "gotestsum", "jest", "surefire"])
def test_one_title_in_two_suites_of_one_name_is_two_tests(tmp_path: Path, producer: str) -> None:
    report = report_of(
        tmp_path,
        f"<testsuites>{one_suite('pass', suite='parser')}{one_suite('fail', suite='parser')}"
        "</testsuites>",
    )
    assert read(report, PRODUCERS[producer]) == [
        ("t", Outcome.PASSED, 1),
        ("t [2]", Outcome.FAILED, 1),  # red, and an id of its own
    ]
    whole = read_whole(report, producer=PRODUCERS[producer])
    if whole is not None:  # declined where attempts could fold: the streamed result stands
        assert whole.summary.counts == Counts(passed=1, failed=1)
        assert [case.get("name") for case in whole.cases] == ["t", "t [2]"]


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        (["pass", "pass"], [("t", Outcome.FLAKY, 2)]),  # the bare attempt was run again
        (["pass", "fail"], [("t", Outcome.FAILED, 2)]),
        (["fail", "pass"], [("t", Outcome.FLAKY, 2)]),
    ],
)
def test_a_retry_in_pytest_rerunfailures_shape_still_folds(
    tmp_path: Path, results: list[str], expected: list[tuple[str, Outcome, int]]
) -> None:
    report = report_of(tmp_path, f"<testsuites>{one_suite(*results, suite='pytest')}</testsuites>")
    reader = ReportReader(report)
    assert [(c.name, c.outcome, c.attempts) for c in reader] == expected
    assert reader.producer is PRODUCERS["pytest"]  # pytest's own suite name


RERUNS = [
    (["pass", "pass"], [("t", Outcome.PASSED, 1), ("t [2]", Outcome.PASSED, 1)]),
    (["fail", "pass"], [("t", Outcome.FLAKY, 2)]),
    (["fail", "fail", "pass"], [("t", Outcome.FLAKY, 3)]),
    (["fail", "fail"], [("t", Outcome.FAILED, 2)]),
    (["error", "fail"], [("t", Outcome.ERROR, 2)]),
    (["pass", "fail"], [("t", Outcome.PASSED, 1), ("t [2]", Outcome.FAILED, 1)]),
    (["fail", "pass", "pass"], [("t", Outcome.FLAKY, 2), ("t [2]", Outcome.PASSED, 1)]),
]


@pytest.mark.parametrize(("results", "expected"), RERUNS)
def test_gotestsum_reruns_follow_failures_and_a_pass_after_a_pass_is_another_run(
    tmp_path: Path, results: list[str], expected: list[tuple[str, Outcome, int]]
) -> None:
    report = report_of(tmp_path, one_suite(*results))
    assert read(report, PRODUCERS["gotestsum"]) == expected


def test_go_test_count_2_is_every_run_passed_each_with_an_id() -> None:
    found = [case.test_id for case in ReportReader(JUNIT_CORPUS / "gotestsum/count-2.xml")]
    assert found[:4] == [
        "example.com/count/steady::TestSteady",
        "example.com/count/steady::TestTable/one",
        "example.com/count/steady::TestTable/two",
        "example.com/count/steady::TestTable",
    ]
    assert found[4:] == [f"{test} [2]" for test in found[:4]]


@pytest.mark.parametrize("producer", ["jest", "vitest", "mocha", "node", "playwright", "nextest"])
def test_where_names_are_titles_every_repeat_is_another_test(tmp_path: Path, producer: str) -> None:
    report = report_of(tmp_path, one_suite("fail", "pass", "pass"))
    assert read(report, PRODUCERS[producer]) == [
        ("t", Outcome.FAILED, 1),  # never folded into a flaky test
        ("t [2]", Outcome.PASSED, 1),
        ("t [3]", Outcome.PASSED, 1),
    ]
    whole = read_whole(report, producer=PRODUCERS[producer])
    assert whole is not None
    assert [case.get("name") for case in whole.cases] == ["t", "t [2]", "t [3]"]


BROKEN = '<testcase classname="Test suite failed to run" name="broken.test.js">'


def test_a_jest_suite_that_cannot_run_is_one_error_though_jest_names_are_titles(
    tmp_path: Path,
) -> None:
    report = report_of(
        tmp_path,
        '<testsuite name="broken.test.js">'
        f"{BROKEN}<error>x</error></testcase>{BROKEN}<failure>{{}}</failure></testcase>"
        "</testsuite>",
    )
    assert read(report, PRODUCERS["jest"]) == [("broken.test.js", Outcome.ERROR, 2)]


def test_the_same_title_in_three_jest_files_is_three_tests() -> None:
    found = list(ReportReader(JUNIT_CORPUS / "jest-junit/same-title-three-files.xml"))
    title = "parser reads a number::parser reads a number"
    assert [case.test_id for case in found] == [title, f"{title} [2]", f"{title} [3]"]
    assert [case.outcome for case in found].count(Outcome.FAILED) == 1


def test_mochas_suite_file_tells_its_namesakes_apart() -> None:
    found = list(ReportReader(JUNIT_CORPUS / "mocha-junit-reporter/same-title-two-files.xml"))
    assert len({case.test_id for case in found}) == len(found) == 4
    (failed,) = [case for case in found if case.outcome is Outcome.FAILED]
    assert failed.file.endswith("same-title/yaml.spec.js")
    assert failed.test_id.startswith(failed.file + "::")


def test_a_failing_node_todo_test_is_skipped(tmp_path: Path) -> None:
    report = report_of(
        tmp_path,
        '<testsuites><testcase classname="test" name="later">'
        '<skipped type="todo" message="dates come later"/><failure message="not written yet"/>'
        "</testcase></testsuites>",
    )
    (todo,) = ReportReader(report, producer=PRODUCERS["node"])
    assert (todo.outcome, todo.message) == (Outcome.SKIPPED, "dates come later")
    (other,) = ReportReader(report, producer=GENERIC)  # a tool that says nothing of todos
    assert (other.outcome, other.message) == (Outcome.FAILED, "not written yet")
    assert read_whole(report, producer=PRODUCERS["node"]) is None  # its <failure> must go


def test_node_reads_as_node_says() -> None:
    found = {
        case.test_id: case
        for case in ReportReader(JUNIT_CORPUS / "node-test/same-title-todo-skip.xml")
    }
    assert found["test::reads a date"].outcome is Outcome.SKIPPED  # todo
    assert (found["test::reads a number"].outcome, found["test::reads a number [2]"].outcome) == (
        Outcome.PASSED,
        Outcome.FAILED,
    )


@pytest.mark.parametrize(
    ("producer", "test_id"),
    [
        ("jest", "js/a.test.js::c::t"),  # titles: the file tells tests apart
        ("pytest", "c::t"),  # the classname is the module: ids stay as they were
        ("generic", "c::t"),
    ],
)
def test_the_file_is_part_of_the_id_where_names_are_titles(
    tmp_path: Path, producer: str, test_id: str
) -> None:
    report = report_of(
        tmp_path,
        '<testsuite name="s"><testcase classname="c" name="t" file="js/a.test.js"/></testsuite>',
    )
    (case,) = ReportReader(report, producer=PRODUCERS[producer])
    assert (case.file, case.test_id) == ("js/a.test.js", test_id)


def test_an_id_without_a_file_is_as_it_always_was() -> None:
    assert CaseResult("s", "c", "t", 0.0, Outcome.PASSED).test_id == "c::t"
    assert CaseResult("s", "", "t", 0.0, Outcome.PASSED, file="x.py").test_id == "s::t"
    with_file = CaseResult("s", "c", "t", 0.0, Outcome.PASSED, file="x.js", id_file="x.js")
    assert with_file.test_id == "x.js::c::t"
    pytest_ids = {
        case.test_id for case in ReportReader(JUNIT_CORPUS / "pytest/xunit1-horovod-junit.fail.xml")
    }
    assert not any("/" in test for test in pytest_ids)  # its file="test/test_spark.py" stays out


def test_a_given_producer_overrides_the_detected_one(tmp_path: Path) -> None:
    looks_like_pytest = f"<testsuites>{one_suite('pass', 'pass', suite='pytest')}</testsuites>"
    report = report_of(tmp_path, looks_like_pytest)
    assert summarize(report).counts == Counts(flaky=1)
    assert summarize(report, producer=PRODUCERS["jest"]).counts == Counts(passed=2)
    js = report_of(tmp_path, looks_like_pytest, name="js-1of2.xml")
    for fast in (True, False):
        # Shard 1 of 2 implies 2 of 2 too: a hole after the report.
        entry, hole = merge_reports(
            [js],
            tmp_path / "merged.xml",
            producers={"js": PRODUCERS["jest"]},
            whole_document_max_bytes=1 << 20 if fast else 0,
        )
        assert hole.shard == "2/2"
        assert entry.summary is not None
        assert entry.summary.counts == Counts(passed=2)


@pytest.mark.parametrize(
    ("name", "producer"),
    [
        ("js.xml", "jest"),
        ("js-2of4.xml", "jest"),
        ("js-legacy.xml", "jest"),  # an env's slot
        ("js-py3.12-1of2.xml", "jest"),
        ("go-js.xml", None),
        ("unit.xml", None),
    ],
)
def test_a_report_gets_its_tiers_producer_by_its_file_name(name: str, producer: str | None) -> None:
    found = producer_for(Path(name), {"js": PRODUCERS["jest"]})
    assert (found.name if found else None) == producer
    assert producer_for(Path(name), None) is None


def test_a_tiers_junit_producer_reaches_merge_and_ingest(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "1"\n'
        '[tool.tierci.tiers.js]\nmarkers = "js"\njunit_producer = "jest"\n',
        encoding="utf-8",
    )
    report = report_of(
        tmp_path,
        f"<testsuites>{one_suite('pass', 'pass', suite='pytest')}</testsuites>",
        name="js.xml",
    )
    project = ["--project", str(tmp_path)]
    merged = tmp_path / "merged.xml"
    assert main([*project, "junit", "merge", str(merged), str(report)]) == 0
    assert summarize(merged).counts == Counts(passed=2)
    db = tmp_path / "h.sqlite"
    assert (
        main([*project, "report", "ingest", str(report), "--db", str(db), "--commit", "a" * 40])
        == 0
    )
    stored = sqlite_connect(db).execute("SELECT test_id, outcome FROM outcomes ORDER BY test_id")
    assert stored.fetchall() == [("c::t", "passed"), ("c::t [2]", "passed")]
