"""Quarantine in real pytest sessions: quarantined tests run, their failures do not fail
the tier, their JUnit testcase says so (and tierci reads them as flaky); an expired
entry fails the tier, naming it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from tierci.errors import ConfigError
from tierci.junit import Outcome, ReportReader
from tierci.quarantine import entry_text, today

TESTS = """
def test_wobbly():
    assert False, "the network blinked"

def test_solid():
    assert True
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml('[tool.tierci.tiers.quick]\nmarkers = "not heavy"\n')
    pytester.makepyfile(test_q=TESTS)
    (pytester.path / "quarantine.toml").write_text(
        entry_text("test_q::test_wobbly", "blinks on the shared runner"), encoding="utf-8"
    )
    return pytester


def test_a_quarantined_failure_does_not_fail_the_tier_and_is_marked(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest("--tier=quick", "--junitxml=out.xml")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*1 quarantined test(s) failed*"])
    tree = etree.parse(str(project.path / "out.xml"))
    (case,) = tree.iterfind(".//testcase[@name='test_wobbly']")
    assert case.find("failure") is not None  # it ran, and its failure is kept
    marks = {p.get("name"): p.get("value") for p in case.iterfind("properties/property")}
    assert marks["tierci.quarantined"] == "blinks on the shared runner"
    outcomes = {c.name: c for c in ReportReader(project.path / "out.xml")}
    assert outcomes["test_wobbly"].outcome is Outcome.FLAKY
    assert outcomes["test_wobbly"].message.startswith("quarantined (blinks on the shared")


def test_any_other_failure_still_fails_the_tier(project: pytest.Pytester) -> None:
    project.makepyfile(test_r="def test_broken():\n    assert False\n")
    result = project.runpytest("--tier=quick")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_an_expired_entry_fails_the_tier_naming_it(project: pytest.Pytester) -> None:
    past = today() - timedelta(days=1)
    text = entry_text("test_q::test_wobbly", "blinks").replace(
        f"expires = {today() + timedelta(days=30)}", f"expires = {past}"
    )
    (project.path / "quarantine.toml").write_text(text, encoding="utf-8")
    result = project.runpytest("--tier=quick", no_reraise_ctrlc=True)
    assert result.ret == ConfigError.return_code
    assert f"test_q::test_wobbly (expired {past}: blinks)" in result.stderr.str()


def test_without_a_tier_nothing_is_quarantined(project: pytest.Pytester) -> None:
    assert project.runpytest().ret == pytest.ExitCode.TESTS_FAILED


def test_the_quarantine_file_is_optional(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyprojecttoml('[tool.tierci.tiers.quick]\nmarkers = "not heavy"\n')
    pytester.makepyfile(test_q="def test_ok():\n    pass\n")
    assert pytester.runpytest("--tier=quick").ret == pytest.ExitCode.OK
    assert not (tmp_path / "quarantine.toml").exists()
