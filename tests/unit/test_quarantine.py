"""Quarantine as code and flake candidates, through the real CLI (in process) over a
history built from real ingests. Today is fixed (ON), never the machine's."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tierci.cli import main
from tierci.errors import ConfigError, UsageError
from tierci.quarantine import Entry, entry_text, load_quarantine, unused
from tierci.report.history import RunContext
from tierci.report.ingest import ingest

ON = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tierci.quarantine.today", lambda: ON)


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
    assert entry.expires == ON + timedelta(days=30)
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
    out = capsys.readouterr().out
    assert f"{project / 'quarantine.toml'}: 'tests.test_gone::*': matches no test" in out
    assert "fix: remove the entry" in out
    assert main([*base, "list", *db]) == 0
    assert "quarantined" in capsys.readouterr().out


def test_an_expired_entry_fails_the_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    past = ON - timedelta(days=1)
    (project / "quarantine.toml").write_text(
        entry_text("tests.test_m::test_ok", "was slow").replace(
            f"expires = {ON + timedelta(days=30)}", f"expires = {past}"
        ),
        encoding="utf-8",
    )
    assert main(["--project", str(project), "quarantine", "check", "--db", "/nonexistent"]) == 1
    assert f"'tests.test_m::test_ok': expired {past}: was slow" in capsys.readouterr().out


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
        Entry(test="tests.test_gone::x", reason="gone", expires=ON - timedelta(days=2)),
    ]
    with read_history(project / "build" / "tierci" / "history.sqlite") as history:
        hud = build_hud(history.database, quarantine=entries)
    flip, gone = hud.quarantine
    assert (flip.passed, flip.runs) == (3, 6)  # failed, then passed, on each of 3 commits
    assert (gone.runs, gone.expired) == (0, True)
    page = render_html(hud)
    assert "flips on retry" in page
    assert "(expired)" in page


def check(project: Path, body: str, *db: str) -> int:
    (project / "quarantine.toml").write_text(body, encoding="utf-8")
    db = db or ("--db", str(project / "no-history.sqlite"))
    return main(["--project", str(project), "quarantine", "check", *db])


def entry_toml(test: str, dates: str = "expires = 2026-12-24") -> str:
    return f'[[quarantine]]\ntest = "{test}"\nreason = "flaky"\n{dates}\n\n'


@pytest.mark.parametrize(
    ("body", "why", "fix"),
    [
        (entry_toml("*"), "'*': names no test", "write the test's module, class or name"),
        (entry_toml("?*::*"), "'?*::*': names no test", "write the test's module"),
        (
            entry_toml("tests.test_m::test_ok", "expires = 9999-12-31"),
            "'tests.test_m::test_ok': expires 9999-12-31, beyond the 90 days",
            "set expires = 2027-02-22 or sooner",
        ),
        (
            entry_toml("tests.test_m::test_ok", ""),
            "'tests.test_m::test_ok': never expires",
            "add expires = 2027-02-22 or sooner",
        ),
    ],
)
def test_check_refuses_an_unbounded_entry_without_a_history(
    project: Path, capsys: pytest.CaptureFixture[str], body: str, why: str, fix: str
) -> None:
    assert check(project, body) == 1
    out = capsys.readouterr().out
    assert f"quarantine: {project / 'quarantine.toml'}: {why}" in out
    assert f"fix: {fix}" in out


def test_check_refuses_an_entry_too_broad_for_a_tier_of_the_history(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ("--db", str(project / "build" / "tierci" / "history.sqlite"))
    assert check(project, entry_toml("tests.test_m::test_*"), *db) == 1
    out = capsys.readouterr().out
    assert "'tests.test_m::test_*': matches 2 of the 2 tests of tier 'unit' at 2222222" in out
    assert "fix: name the flaky tests one by one" in out
    both = entry_toml("tests.test_m::test_flip") + entry_toml("tests.test_m::test_ok")
    assert check(project, both, *db) == 1
    assert "together these entries match every one of the 2 tests" in capsys.readouterr().out
    assert check(project, entry_toml("tests.test_m::test_flip"), *db) == 0
    assert "1 entr(y/ies), all bounded and in use" in capsys.readouterr().out


def test_the_horizon_and_share_are_the_projects(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.tierci]\nquarantine_max_days = 14\nquarantine_max_percent = 100\n",
        encoding="utf-8",
    )
    assert check(project, entry_toml("tests.test_m::test_ok", "expires = 2026-12-08")) == 0
    assert check(project, entry_toml("tests.test_m::test_ok", "expires = 2026-12-09")) == 1
    assert "beyond the 14 days quarantine_max_days allows" in capsys.readouterr().out
    db = ("--db", str(project / "build" / "tierci" / "history.sqlite"))
    assert check(project, entry_toml("tests.test_m::test_*", "expires = 2026-12-01"), *db) == 1
    assert "every one of them" in capsys.readouterr().out  # even at 100 %


def test_add_writes_only_a_bounded_entry(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--project", str(project), "quarantine", "add"]
    assert main([*base, "tests.test_m::test_ok", "--reason", "r", "--days", "91"]) == (
        UsageError.return_code
    )
    assert "--days 91: an entry expires 1 to 90 days from today" in capsys.readouterr().err
    assert main([*base, "*::*", "--reason", "r"]) == UsageError.return_code
    assert "'*::*' names no test" in capsys.readouterr().err
    assert not (project / "quarantine.toml").exists()
    (project / "pyproject.toml").write_text("[tool.tierci]\nquarantine_max_days = 7\n")
    assert main([*base, "tests.test_m::test_ok", "--reason", "r"]) == 0
    (entry,) = load_quarantine(project / "quarantine.toml")
    assert entry.expires == ON + timedelta(days=7)  # the horizon, where shorter than 30 days


def test_list_marks_a_refused_entry(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "quarantine.toml").write_text(entry_toml("*"), encoding="utf-8")
    assert (
        main(
            ["--project", str(project), "quarantine", "list", "--db", str(project / "none.sqlite")]
        )
        == 0
    )
    assert "refused" in capsys.readouterr().out


def test_the_hud_shows_why_an_entry_is_refused(project: Path) -> None:
    from tierci.quarantine_bounds import QuarantineBounds  # noqa: PLC0415 - this test only
    from tierci.report.history import read_history  # noqa: PLC0415
    from tierci.report.hud import build_hud, render_html  # noqa: PLC0415

    entries = [
        Entry(test="tests.test_m::test_*", reason="both", expires=ON),
        Entry(test="tests.test_m::test_flip", reason="one", expires=ON),
        Entry(test="tests.test_m::test_ok", reason="far", expires=ON + timedelta(days=15)),
    ]
    with read_history(project / "build" / "tierci" / "history.sqlite") as history:
        hud = build_hud(
            history.database, quarantine=entries, quarantine_bounds=QuarantineBounds(max_days=14)
        )
    both, one, far = hud.quarantine
    assert both.refused.startswith("matches 2 of the 2 tests of tier 'unit' at 2222222")
    assert one.refused == ""
    assert far.refused.startswith("expires 2026-12-09, beyond the 14 days")
    page = render_html(hud)
    assert "(refused: matches 2 of the 2 tests" in page
