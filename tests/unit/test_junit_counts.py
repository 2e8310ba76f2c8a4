from pathlib import Path

import pytest

from tierci.junit import JUnitError, count_outcomes
from tierci.results import TestCounts

CORPUS = Path(__file__).parents[3] / "shared" / "junit-corpus"
if not CORPUS.is_dir():  # a checkout beside ../shared, as CI lays it out
    CORPUS = Path(__file__).parents[2].parent / "shared" / "junit-corpus"


def test_counts_come_from_testcases(tmp_path):
    report = tmp_path / "r.xml"
    report.write_text(
        '<testsuite name="s" tests="99" failures="0">'
        '<testcase name="a"/><testcase name="b"><failure message="x"/></testcase>'
        '<testcase name="c"><error/></testcase><testcase name="d"><skipped/></testcase>'
        "</testsuite>",
        encoding="utf-8",
    )
    assert count_outcomes(report) == TestCounts(tests=4, failures=1, errors=1, skipped=1)


def test_pytest_corpus_file():
    counts = count_outcomes(CORPUS / "pytest" / "xunit2-report.xml")
    assert counts.tests > 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty-zero-bytes.xml", "not well-formed XML"),
        ("truncated-corrupt-xml.xml", "not well-formed XML"),
        ("non-junit-root.xml", "not a JUnit report"),
    ],
)
def test_malformed_files_are_named_errors(name, message):
    path = CORPUS / "malformed" / name
    with pytest.raises(JUnitError, match=message) as caught:
        count_outcomes(path)
    assert str(path) in str(caught.value)


def test_xxe_file_is_refused_without_resolving_its_entities():
    # Its DOCTYPE names an external parameter entity; resolving it would fetch a URL.
    path = CORPUS / "security" / "testXxe-xxe.xml"
    with pytest.raises(JUnitError, match="not well-formed XML") as caught:
        count_outcomes(path)
    assert str(path) in str(caught.value)
