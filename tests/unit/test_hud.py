"""The HUD model and its Markdown/JSON renderings, from a real history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierci.cli import main
from tierci.config import load_config
from tierci.errors import ConfigError
from tierci.report.history import RunContext, open_history
from tierci.report.hud import Hud, build_hud, gate_targets, render_json, render_markdown, write_hud
from tierci.report.hud.render import svg_polyline

from ..history_fixture import COMMITS, build_history


@pytest.fixture
def hud(tmp_path: Path) -> Hud:
    with open_history(build_history(tmp_path)) as history:
        return build_hud(history.database)


def test_rows_are_commits_newest_first_and_columns_tiers(hud: Hud) -> None:
    assert [row.sha for row in hud.commits] == list(reversed(COMMITS))
    assert hud.tiers == ("unit", "heavy", "device")


def test_cell_statuses(hud: Hud) -> None:
    status = {
        (row.sha[0], tier): cell.status for row in hud.commits for tier, cell in row.cells.items()
    }
    assert status[("a", "unit")] == "passed"
    assert status[("b", "unit")] == "failed"
    assert status[("c", "unit")] == "flaky"
    assert status[("d", "unit")] == "missing"  # shard 2/2 never reported
    assert status[("a", "device")] == "skipped"
    assert status[("d", "heavy")] == "passed"


def test_failed_cell_lists_its_failures(hud: Hud) -> None:
    cell = next(row for row in hud.commits if row.sha == COMMITS[1]).cells["unit"]
    (failure,) = cell.failures
    assert failure.test_id == "tests.test_unit::test_b0"
    assert failure.shard == "2/2"
    assert "assert 1 == 2" in failure.message
    missing = hud.commits[0].cells["unit"]
    assert any("no report for unit shard 2/2" in p for p in missing.problems)


def test_flaky_tests_and_their_rate(hud: Hud) -> None:
    (flaky,) = hud.flaky
    assert flaky.test_id == "tests.test_unit::test_a3"
    assert (flaky.flaky_runs, flaky.runs) == (2, 4)
    assert flaky.rate == 0.5


def test_gates(hud: Hud) -> None:
    gates = {gate.name: gate for gate in hud.gates}
    assert not gates["flaky tests"].passed  # 1 of 13 tests is flaky: over 5%
    assert gates["flaky tests"].value.startswith("7.7%")
    assert not gates["every expected report arrived (latest commit)"].passed
    assert gates["pass rate (latest commit)"].passed
    assert gates["time to signal: heavy"].value == "32 s median"


def test_configured_gates_move_the_bar(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.tierci.gates]\nmax_flaky_percent = 10\nmax_time_to_signal_minutes = 0.5\n"
    )
    targets = gate_targets(load_config(tmp_path).gates)
    with open_history(build_history(tmp_path)) as history:
        gates = {gate.name: gate for gate in build_hud(history.database, targets=targets).gates}
    assert gates["flaky tests"].passed  # 7.7% is under a 10% bar
    assert gates["flaky tests"].target == "< 10%"
    assert not gates["time to signal: heavy"].passed  # 32 s is over 30 s


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max_flaky_percnt = 3", "did you mean 'max_flaky_percent'"),
        ("min_pass_percent = 'high'", "must be a non-negative number"),
        ("min_pass_percent = -1", "must be a non-negative number"),
    ],
)
def test_gate_mistakes_are_config_errors(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.tierci.gates]\n{text}\n")
    with pytest.raises(ConfigError, match=expected):
        load_config(tmp_path)


def test_duration_trend_is_oldest_first(hud: Hud) -> None:
    heavy = [point.seconds for point in hud.durations["heavy"]]
    assert heavy == [30.0, 31.0, 32.0, 33.0]
    points = svg_polyline(hud.durations["heavy"]).split()
    assert len(points) == 4
    assert float(points[-1].split(",")[1]) < float(points[0].split(",")[1])  # higher = longer


def test_rollout_scope(hud: Hud) -> None:
    stages = {stage.tier: stage for stage in hud.rollout}
    assert stages["unit"].tests_run == 6  # shard 2 missing on the latest commit
    assert stages["unit"].tests_known == 11
    assert stages["unit"].scope == "100%"


def test_markdown_summary(hud: Hud) -> None:
    text = render_markdown(hud)
    assert "Latest commit `dddddddddddd` on `main`" in text
    assert "| `unit` | missing |" in text
    assert "no report for unit shard 2/2" in text
    assert "| `flaky tests` |" in text
    assert "`tests.test_unit::test_a3`" in text


def test_json_is_the_whole_model(hud: Hud) -> None:
    data = json.loads(render_json(hud))
    assert data["tiers"] == ["unit", "heavy", "device"]
    assert data["commits"][0]["cells"]["unit"]["status"] == "missing"


def test_cli_writes_every_format_and_the_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = build_history(tmp_path)
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out = tmp_path / "hud"
    args = ["report", "hud", "--db", str(db), "--out", str(out)]
    assert main([*args, "--format", "html", "--format", "markdown", "--format", "json"]) == 0
    assert (out / "index.html").is_file()
    assert (out / "hud.json").is_file()
    assert summary.read_text().startswith("## tierci HUD")
    assert "HUD written:" in capsys.readouterr().out


def test_cli_without_history_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "hud", "--db", str(tmp_path / "none.sqlite")]) == 1
    assert "tierci report ingest" in capsys.readouterr().err


def test_html_escapes_hostile_test_names(tmp_path: Path) -> None:
    db = build_history(tmp_path)
    report = tmp_path / "evil.xml"
    report.write_text(
        '<testsuite><testcase classname="x" name="&lt;script&gt;alert(1)&lt;/script&gt;">'
        '<failure message="&lt;img src=x onerror=alert(2)&gt;"/></testcase></testsuite>',
        encoding="utf-8",
    )
    with open_history(db) as history:
        history.ingest([report], RunContext(commit="e" * 40, ref_time="2026-12-01T00:00:00+00:00"))
        model = build_hud(history.database)
    (path,) = write_hud(model, tmp_path / "hud", ["html"])
    page = path.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()


def test_a_reports_gates_judge_its_commit_and_its_own_tiers(tmp_path: Path) -> None:
    """heavy.yml left a hole on this commit (its job failed before writing a report);
    ci.yml's report of the same commit expects unit only: its gates are met. Without a
    scope (`tierci report hud`), every cell of the latest commit still counts."""
    from tierci.junit.merge import Expectation  # noqa: PLC0415 - only this test
    from tierci.report.ingest import ingest_and_render  # noqa: PLC0415 - as above

    from ..history_fixture import _report  # noqa: PLC0415 - as above

    sha, db = "e" * 40, tmp_path / "history.sqlite"
    context = RunContext(commit=sha, branch="main", job="ci", ref_time="2026-12-01T10:00:00Z")
    heavy, ci = tmp_path / "heavy", tmp_path / "ci"
    heavy.mkdir()
    ci.mkdir()
    _, rendered = ingest_and_render(
        db, [heavy], context, tmp_path / "hud-heavy", expect=[Expectation(tier="heavy")]
    )
    assert [gate.name for gate in rendered.unmet_gates] == [
        "pass rate (latest commit)",
        "every expected report arrived (latest commit)",
    ]
    _report(ci / "unit.xml", "unit", "", [("test_a", "passed", 0.1)])
    _, rendered = ingest_and_render(
        db, [ci], context, tmp_path / "hud-ci", expect=[Expectation(tier="unit")]
    )
    assert rendered.unmet_gates == ()
    with open_history(db) as history:
        whole = build_hud(history.database)
    holes = {gate.name: gate for gate in whole.gates}[
        "every expected report arrived (latest commit)"
    ]
    assert not holes.passed
    assert holes.detail == "heavy"
