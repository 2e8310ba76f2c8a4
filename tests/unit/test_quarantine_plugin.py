"""Quarantine in real pytest sessions: quarantined tests run, their failures do not fail
the tier, their JUnit testcase says so (and tierci reads them as flaky); an expired,
unbounded or too broad entry fails the tier, naming it. Today is fixed (ON)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from lxml import etree

from tierci.errors import ConfigError
from tierci.junit import Outcome, ReportReader
from tierci.quarantine import entry_text

ON = date(2026, 11, 24)
TESTS = """
def test_wobbly():
    assert False, "the network blinked"

def test_solid():
    assert True
"""


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin and the entries it reads agree on the day, whatever the machine's."""
    monkeypatch.setattr("tierci.quarantine.today", lambda: ON)


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
    past = ON - timedelta(days=1)
    text = entry_text("test_q::test_wobbly", "blinks").replace(
        f"expires = {ON + timedelta(days=30)}", f"expires = {past}"
    )
    (project.path / "quarantine.toml").write_text(text, encoding="utf-8")
    result = project.runpytest("--tier=quick", no_reraise_ctrlc=True)
    assert result.ret == ConfigError.return_code
    assert f"'test_q::test_wobbly': expired {past}: blinks" in result.stderr.str()


def quarantine(project: pytest.Pytester, test: str, dates: str = "expires = 2026-12-24") -> None:
    (project.path / "quarantine.toml").write_text(
        f'[[quarantine]]\ntest = "{test}"\nreason = "flaky"\n{dates}\n', encoding="utf-8"
    )


@pytest.mark.parametrize("test", ["*", "?*", "**", "*::*", "*[!]]*", " * "])
def test_an_entry_that_names_no_test_fails_the_tier(project: pytest.Pytester, test: str) -> None:
    quarantine(project, test)
    result = project.runpytest("--tier=quick", no_reraise_ctrlc=True)
    assert result.ret == ConfigError.return_code  # never OK: the failure is not hidden
    err = result.stderr.str()
    assert str(project.path / "quarantine.toml") in err
    assert f"{test.strip()!r}: names no test" in err
    assert "fix: write the test's module, class or name" in err


@pytest.mark.parametrize(
    ("dates", "why"),
    [
        ("expires = 9999-12-31", "'test_q::test_wobbly': expires 9999-12-31, beyond the 90 days"),
        ("", "'test_q::test_wobbly': never expires"),
        ("added = 2099-01-01", "'test_q::test_wobbly': expires 2099-01-31, beyond the 90 days"),
    ],
)
def test_an_entry_without_a_near_end_fails_the_tier(
    project: pytest.Pytester, dates: str, why: str
) -> None:
    quarantine(project, "test_q::test_wobbly", dates)
    result = project.runpytest("--tier=quick", no_reraise_ctrlc=True)
    assert result.ret == ConfigError.return_code
    assert why in result.stderr.str()


def test_the_horizon_is_the_projects(project: pytest.Pytester) -> None:
    project.makepyprojecttoml(
        '[tool.tierci]\nquarantine_max_days = 7\n[tool.tierci.tiers.quick]\nmarkers = "not heavy"\n'
    )
    quarantine(project, "test_q::test_wobbly", "expires = 2026-12-02")
    result = project.runpytest("--tier=quick", no_reraise_ctrlc=True)
    assert result.ret == ConfigError.return_code
    assert "fix: set expires = 2026-12-01 or sooner" in result.stderr.str()


def test_an_entry_matching_every_selected_test_fails_the_tier(project: pytest.Pytester) -> None:
    quarantine(project, "test_q::test_*")
    result = project.runpytest("--tier=quick", no_reraise_ctrlc=True)
    assert result.ret == ConfigError.return_code
    out = result.stdout.str() + result.stderr.str()
    assert "'test_q::test_*': matches 2 of the 2 tests of tier 'quick' in this run" in out
    assert "every one of them" in out
    result.stdout.no_fnmatch_line("*passed*")  # stopped at collection: nothing ran


MANY = "\n".join(f"def test_{n:02}():\n    assert {n} % 10\n" for n in range(40))


@pytest.mark.parametrize(
    ("test", "percent", "ret"),
    [
        ("test_many::test_0[01]", "", pytest.ExitCode.TESTS_FAILED),  # 2 of 40: 5 %, allowed
        ("test_many::test_0[0-2]", "", ConfigError.return_code),  # 3 of 40
        ("test_many::test_0[0-2]", "quarantine_max_percent = 10\n", pytest.ExitCode.TESTS_FAILED),
    ],
)
def test_an_entry_matching_more_than_the_share_fails_the_tier(
    pytester: pytest.Pytester, test: str, percent: str, ret: int
) -> None:
    pytester.makepyprojecttoml(
        f'[tool.tierci]\n{percent}[tool.tierci.tiers.quick]\nmarkers = "not heavy"\n'
    )
    pytester.makepyfile(test_many=MANY)  # test_00, test_10, test_20 and test_30 fail
    quarantine(pytester, test)
    result = pytester.runpytest("--tier=quick", no_reraise_ctrlc=True)
    assert result.ret == ret
    if ret == ConfigError.return_code:
        assert "matches 3 of the 40 tests of tier 'quick' in this run (8 %)" in (
            result.stdout.str() + result.stderr.str()
        )


def test_the_share_is_judged_before_shards_split_the_tier(pytester: pytest.Pytester) -> None:
    """The two tests of shard 1/20 are all of that shard, but 5 % of the tier's 40."""
    pytester.makepyprojecttoml('[tool.tierci.tiers.quick]\nmarkers = "not heavy"\n')
    pytester.makepyfile(test_many=MANY.replace("% 10", "or True"))
    listed = pytester.runpytest("--tier=quick", "--shard=1/20", "--collect-only", "-q")
    shard = [line.split("::")[1] for line in listed.outlines if line.startswith("test_many.py::")]
    assert len(shard) == 2
    (pytester.path / "quarantine.toml").write_text(
        "".join(
            f'[[quarantine]]\ntest = "test_many::{name}"\nreason = "r"\nexpires = {ON}\n\n'
            for name in shard
        ),
        encoding="utf-8",
    )
    result = pytester.runpytest("--tier=quick", "--shard=1/20", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*2 passed*"])


def test_without_a_tier_nothing_is_quarantined(project: pytest.Pytester) -> None:
    assert project.runpytest().ret == pytest.ExitCode.TESTS_FAILED


def test_the_quarantine_file_is_optional(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyprojecttoml('[tool.tierci.tiers.quick]\nmarkers = "not heavy"\n')
    pytester.makepyfile(test_q="def test_ok():\n    pass\n")
    assert pytester.runpytest("--tier=quick").ret == pytest.ExitCode.OK
    assert not (tmp_path / "quarantine.toml").exists()
