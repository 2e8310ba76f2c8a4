"""Failures labelled against the base branch, from real ingests on a base and a PR branch,
and the fail_on = "new" gate's exit codes through the real CLI (in process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierci.cli import main
from tierci.report.history import RunContext, read_history
from tierci.report.hud import build_hud
from tierci.report.hud.model import FailureLabel
from tierci.report.ingest import ingest

MAIN_1, PR_1 = "1" * 40, "2" * 40


def report(path: Path, outcomes: dict[str, str]) -> Path:
    cases = []
    for name, outcome in outcomes.items():
        head = f'<testcase classname="tests.test_m" name="{name}"'
        cases.append(
            f"{head}><failure message='boom'/></testcase>" if outcome == "failed" else f"{head}/>"
        )
    path.write_text(
        '<testsuites><testsuite name="pytest"><properties><property name="tier" value="unit"/>'
        f"</properties>{''.join(cases)}</testsuite></testsuites>",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def history(tmp_path: Path) -> Path:
    db = tmp_path / "h.sqlite"
    base = report(tmp_path / "main.xml", {"test_a": "passed", "test_b": "failed"})
    ingest(db, [base], RunContext(commit=MAIN_1, branch="main", ref_time="2026-11-01T10:00Z"))
    pr = report(tmp_path / "pr.xml", {"test_a": "failed", "test_b": "failed", "test_c": "failed"})
    rerun = report(tmp_path / "pr2.xml", {"test_c": "passed"})  # test_c: both on one commit
    context = RunContext(commit=PR_1, branch="feature", ref_time="2026-11-02T10:00Z")
    ingest(db, [pr], context)
    ingest(db, [rerun], context)
    return db


def test_failures_are_new_pre_existing_or_flaky_against_the_base_branch(history: Path) -> None:
    with read_history(history) as opened:
        hud = build_hud(opened.database, base_branch="main")
    pr = next(row for row in hud.commits if row.sha == PR_1)
    # The re-run (pr2.xml) is the latest attempt of unit on PR_1: its failures are the
    # ones the cell shows; the flake across the two attempts is in the flaky table.
    assert [test.test_id for test in hud.flaky] == ["tests.test_m::test_c"]
    base = next(row for row in hud.commits if row.sha == MAIN_1)
    (failure,) = base.cells["unit"].failures
    assert failure.label is FailureLabel.UNKNOWN  # nothing on main before it
    assert pr.cells["unit"].failures == ()


def test_labels_of_a_single_attempt(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    ingest(
        db,
        [report(tmp_path / "m.xml", {"test_a": "passed", "test_b": "failed"})],
        RunContext(commit=MAIN_1, branch="main", ref_time="2026-11-01T10:00Z"),
    )
    ingest(
        db,
        [
            report(
                tmp_path / "p.xml", {"test_a": "failed", "test_b": "failed", "test_new": "failed"}
            )
        ],
        RunContext(commit=PR_1, branch="feature", ref_time="2026-11-02T10:00Z"),
    )
    with read_history(db) as opened:
        hud = build_hud(opened.database, base_branch="main")
    pr = next(row for row in hud.commits if row.sha == PR_1)
    labels = {f.test_id.split("::")[1]: f.label for f in pr.cells["unit"].failures}
    assert labels == {
        "test_a": FailureLabel.NEW,
        "test_b": FailureLabel.PRE_EXISTING,
        "test_new": FailureLabel.NEW,  # a test the base branch did not have
    }
    with read_history(db) as opened:
        other = build_hud(opened.database, base_branch="release")
    assert {f.label for f in other.commits[0].cells["unit"].failures} == {FailureLabel.UNKNOWN}


def test_fail_on_new_gates_only_new_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.tierci.gates]\nfail_on = "new"\n')
    db, out = tmp_path / "h.sqlite", tmp_path / "hud"
    ingest(
        db,
        [report(tmp_path / "m.xml", {"test_a": "passed", "test_b": "failed"})],
        RunContext(commit=MAIN_1, branch="main", ref_time="2026-11-01T10:00Z"),
    )
    pre_existing_only = report(tmp_path / "p.xml", {"test_a": "passed", "test_b": "failed"})
    ingest(
        db,
        [pre_existing_only],
        RunContext(commit=PR_1, branch="feature", ref_time="2026-11-02T10:00Z"),
    )
    hud = ["--project", str(project), "report", "hud", "--db", str(db), "--out", str(out)]
    args = [*hud, "--format", "json", "--base-branch", "main", "--check-gates"]
    assert main(args) == 0  # test_b fails on main too: not this change's doing
    summary = json.loads((out / "hud.json").read_text())
    failures = summary["commits"][0]["cells"]["unit"]["failures"]
    assert [(f["test_id"], f["label"]) for f in failures] == [
        ("tests.test_m::test_b", "pre-existing")
    ]
    broken = report(tmp_path / "p2.xml", {"test_a": "failed", "test_b": "failed"})
    ingest(
        db, [broken], RunContext(commit="3" * 40, branch="feature", ref_time="2026-11-03T10:00Z")
    )
    assert main(args) == 1
    assert "new failures" in capsys.readouterr().out
    (project / "pyproject.toml").write_text('[tool.tierci.gates]\nfail_on = "any"\n')
    assert main(args) == 1
    (project / "pyproject.toml").write_text('[tool.tierci.gates]\nfail_on = "some"\n')
    assert main(args) == 2  # a configuration error
