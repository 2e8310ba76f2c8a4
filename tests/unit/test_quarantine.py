"""Quarantine as code and flake candidates, through the real CLI (in process) over a
history built from real ingests."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tierci.cli import main
from tierci.errors import ConfigError
from tierci.quarantine import Entry, entry_text, load_quarantine, today, unused
from tierci.report.history import RunContext
from tierci.report.ingest import ingest


def report(path: Path, outcomes: dict[str, str]) -> Path:
    cases = "".join(
        f'<testcase classname="tests.test_m" name="{name}">'
        + ("<failure/>" if outcome == "failed" else "")
        + "</testcase>"
        for name, outcome in outcomes.items()
    )
    path.write_text(
        '<testsuites><testsuite name="pytest"><properties><property name="tier" value="unit"/>'
        f"</properties>{cases}</testsuite></testsuites>",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose history has test_flip failing then passing on the same commit,
    three commits in a row, and test_ok always passing."""
    (tmp_path / "pyproject.toml").write_text("[tool.tierci]\n", encoding="utf-8")
    db = tmp_path / "build" / "tierci" / "history.sqlite"
    for number in range(3):
        context = RunContext(commit=f"{number}" * 40, ref_time=f"2026-11-2{number}T10:00Z")
        first = report(tmp_path / "a.xml", {"test_flip": "failed", "test_ok": "passed"})
        ingest(db, [first], context)
        again = report(tmp_path / "b.xml", {"test_flip": "passed", "test_ok": "passed"})
        again.write_text(again.read_text().replace('"unit"', '"unit-again"'), encoding="utf-8")
        ingest(db, [again], context)
    return tmp_path


def test_flaky_lists_candidates_with_rates_and_suggests_entries(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(project / "build" / "tierci" / "history.sqlite")
    assert main(["flaky", "--db", db, "--format", "json", "--suggest"]) == 0
    out = capsys.readouterr().out
    listing = json.loads(out[: out.index("[[quarantine]]")])
    assert [(t["test_id"], t["flaky_runs"], t["runs"]) for t in listing] == [
        ("tests.test_m::test_flip", 3, 6)
    ]
    suggestion = out[out.index("[[quarantine]]") :]
    (project / "quarantine.toml").write_text(suggestion, encoding="utf-8")
    (entry,) = load_quarantine(project / "quarantine.toml")  # it pastes as it is
    assert entry.test == "tests.test_m::test_flip"
    assert entry.expires == today() + timedelta(days=30)
    assert main(["flaky", "--db", db, "--min-runs", "10"]) == 0
    assert "test_flip" not in capsys.readouterr().out


def test_quarantine_add_list_and_check(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--project", str(project), "quarantine"]
    db = ["--db", str(project / "build" / "tierci" / "history.sqlite")]
    assert main([*base, "add", "tests.test_m::test_flip", "--reason", 'waits on "net"']) == 0
    assert main([*base, "add", "tests.test_gone::*", "--reason", "removed"]) == 0
    entries = load_quarantine(project / "quarantine.toml")
    assert [e.reason for e in entries] == ['waits on "net"', "removed"]
    capsys.readouterr()
    assert main([*base, "check", *db]) == 1  # the second matches no test any more
    assert "matches no test of the latest commit: tests.test_gone::*" in capsys.readouterr().out
    assert main([*base, "list", *db]) == 0
    assert "quarantined" in capsys.readouterr().out


def test_an_expired_entry_fails_the_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    past = today() - timedelta(days=1)
    (project / "quarantine.toml").write_text(
        entry_text("tests.test_m::test_ok", "was slow").replace(
            f"expires = {today() + timedelta(days=30)}", f"expires = {past}"
        ),
        encoding="utf-8",
    )
    assert main(["--project", str(project), "quarantine", "check", "--db", "/nonexistent"]) == 1
    assert f"expired on {past}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('[[quarantine]]\nreason = "x"\n', "names no test"),
        ('[[quarantine]]\ntest = "t"\n', "gives no reason"),
        ('[[quarantine]]\ntest = "t"\nreason = "r"\nexpires = "soon"\n', "must be a date"),
        ('[[quarantine]]\ntest = "t"\nreason = "r"\nowner = "me"\n', "unknown key"),
        ("[other]\n", "expected only"),
    ],
)
def test_a_bad_entry_is_a_configuration_error_naming_it(
    tmp_path: Path, text: str, why: str
) -> None:
    path = tmp_path / "quarantine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=why):
        load_quarantine(path)


def test_globs_match_and_unused_entries_are_found() -> None:
    entries = [Entry(test="tests.test_net::*", reason="r"), Entry(test="a::b", reason="r")]
    assert entries[0].matches("tests.test_net::test_retry")
    assert unused(entries, ["tests.test_net::test_x"]) == [entries[1]]


def test_the_hud_lists_quarantined_tests_with_their_recent_pass_rate(project: Path) -> None:
    from tierci.report.history import read_history  # noqa: PLC0415 - this test only
    from tierci.report.hud import build_hud, render_html  # noqa: PLC0415

    entries = [
        Entry(test="tests.test_m::test_fl*", reason="flips on retry", link="https://t.example/1"),
        Entry(test="tests.test_gone::x", reason="gone", expires=today() - timedelta(days=2)),
    ]
    with read_history(project / "build" / "tierci" / "history.sqlite") as history:
        hud = build_hud(history.database, quarantine=entries)
    flip, gone = hud.quarantine
    assert (flip.passed, flip.runs) == (3, 6)  # failed, then passed, on each of 3 commits
    assert (gone.runs, gone.expired) == (0, True)
    page = render_html(hud)
    assert "flips on retry" in page
    assert "(expired)" in page
