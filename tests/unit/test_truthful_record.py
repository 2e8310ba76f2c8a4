"""A truthful record: reports filed under the commit they tested, the latest attempt of a
slot is its result, every tier in the grid, wall-clock time to signal, gates that gate.

Real JUnit files, real tier records, real ingests into a real history; the CLI in
process (its exit codes)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import sqlite_connect
from tierci.cli import main
from tierci.errors import UsageError
from tierci.junit.merge import Expectation
from tierci.pipeline import Status
from tierci.provenance import commit_sha
from tierci.records import (
    RecordError,
    TierRecord,
    file_sha256,
    read_record,
    record_path,
    write_record,
)
from tierci.report.history import RunContext, read_history
from tierci.report.hud import build_hud
from tierci.report.ingest import ingest

A, B = "a" * 40, "b" * 40


def report(path: Path, *, tier: str, commit: str, shard: str = "", tests: int = 2) -> Path:
    cases = "".join(f'<testcase classname="t.{tier}" name="test_{n}"/>' for n in range(tests))
    path.write_text(
        f'<testsuites><testsuite name="pytest"><properties>'
        f'<property name="tier" value="{tier}"/><property name="shard" value="{shard}"/>'
        f'<property name="commit" value="{commit}"/></properties>{cases}'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    return path


def record(folder: Path, tier: str, commit: str, **fields: object) -> Path:
    values: dict[str, object] = {
        "shard": "",
        "status": Status.PASSED,
        "exit_code": 0,
        "started": "2026-11-24T10:00:00+00:00",
        "ended": "2026-11-24T10:00:30+00:00",
        "commit": commit,
    }
    values.update(fields)
    path = record_path(folder, tier, str(values["shard"]))
    write_record(path, TierRecord(tier=tier, **values))  # type: ignore[arg-type]
    return path


def cells(db: Path, commit: str) -> dict[str, dict[str, object]]:
    with read_history(db) as history:
        hud = build_hud(history.database)
    row = next(row for row in hud.commits if row.sha == commit)
    return {
        tier: {"status": cell.status.value, "tests": cell.tests, "reruns": cell.reruns}
        for tier, cell in row.cells.items()
    }


def test_a_stamped_report_is_filed_under_its_own_commit(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    stale = report(tmp_path / "unit.xml", tier="unit", commit=A)
    ingest(db, [stale], RunContext(commit=B))  # B is only the default: the stamp wins
    with read_history(db) as history:
        filed = [
            tuple(row) for row in history.database.rows("SELECT DISTINCT commit_sha FROM runs")
        ]
    assert filed == [(A,)]


def test_a_stamp_that_disagrees_with_an_explicit_commit_is_skipped_or_refused(
    tmp_path: Path,
) -> None:
    db = tmp_path / "h.sqlite"
    stale = report(tmp_path / "unit.xml", tier="unit", commit=A)
    ingested = ingest(db, [stale], RunContext(commit=B, explicit=True))
    assert ingested.skipped == ((stale, ingested.skipped[0][1]),)
    assert "stamped with commit aaaaaaaaaaaa" in ingested.skipped[0][1]
    with read_history(db) as history:
        assert history.count_runs() == 0
    with pytest.raises(UsageError, match=str(stale)):
        ingest(db, [stale], RunContext(commit=B, explicit=True), strict=True)


def test_cli_strict_refuses_with_exit_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = report(tmp_path / "unit.xml", tier="unit", commit=A)
    db = str(tmp_path / "h.sqlite")
    assert main(["report", "ingest", str(stale), "--db", db, "--commit", B]) == 0
    assert "skipped" in capsys.readouterr().out
    code = main(["report", "ingest", str(stale), "--db", db, "--commit", B, "--strict"])
    assert code == UsageError.return_code


def test_this_runs_ingest_leaves_another_commits_shard_and_tier_out(tmp_path: Path) -> None:
    """nox -s report files only this commit's run: a stale shard 2/2 from A does not
    stand in for B's crashed shard, and A's exploratory device run does not attach to B."""
    junit = tmp_path / "junit"
    junit.mkdir()
    report(junit / "unit-1of2.xml", tier="unit", commit=B, shard="1/2")
    report(junit / "unit-2of2.xml", tier="unit", commit=A, shard="2/2")
    report(junit / "device.xml", tier="device", commit=A, tests=0)
    db = tmp_path / "h.sqlite"
    ingested = ingest(
        db,
        [junit],
        RunContext(commit=B),
        expect=[Expectation(tier="unit", shards=2)],
        only_commit=B,
    )
    assert sorted(path.name for path, _ in ingested.skipped) == ["device.xml", "unit-2of2.xml"]
    assert any("no report for unit shard 2/2" in problem for problem in ingested.problems)
    assert cells(db, B) == {"unit": {"status": "missing", "tests": 2, "reruns": 0}}


def test_the_latest_attempt_of_a_slot_is_its_result_earlier_ones_are_reruns(
    tmp_path: Path,
) -> None:
    db = tmp_path / "h.sqlite"
    first = report(tmp_path / "a1.xml", tier="unit", commit=A, tests=80)
    again = report(tmp_path / "a2.xml", tier="unit", commit=A, tests=79)  # a re-run
    again.write_text(again.read_text().replace("test_0", "test_0_again"), encoding="utf-8")
    ingest(db, [first], RunContext(commit=A))
    ingest(db, [again], RunContext(commit=A))
    assert cells(db, A) == {"unit": {"status": "passed", "tests": 79, "reruns": 1}}


def test_every_tier_is_in_the_grid_from_its_record(tmp_path: Path) -> None:
    junit = tmp_path / "junit"
    junit.mkdir()
    report(junit / "unit.xml", tier="unit", commit=A)
    record(junit, "unit", A, junit="unit.xml")
    record(junit, "lint", A, status=Status.FAILED, exit_code=1, note="ruff: 3 errors")
    record(junit, "packaging", A, status=Status.NOT_RUN)
    db = tmp_path / "h.sqlite"
    ingested = ingest(db, [junit], RunContext(commit=A), only_commit=A)
    assert ingested.records == 3
    assert cells(db, A) == {
        "lint": {"status": "failed", "tests": 0, "reruns": 0},
        "unit": {"status": "passed", "tests": 2, "reruns": 0},
        "packaging": {"status": "not run", "tests": 0, "reruns": 0},
    }
    with read_history(db) as history:
        hud = build_hud(history.database)
    assert hud.tiers[:3] == ("lint", "unit", "packaging")
    assert "ruff: 3 errors" in hud.commits[0].cells["lint"].problems


def test_time_to_signal_is_wall_clock_from_the_pipeline_start(tmp_path: Path) -> None:
    junit = tmp_path / "junit"
    junit.mkdir()
    start = "2026-11-24T10:00:00+00:00"
    day = "2026-11-24T"
    record(
        junit, "lint", A, started=f"{day}10:00:05Z", ended=f"{day}10:00:40Z", pipeline_started=start
    )
    for shard, end in (("1/2", "10:03:00"), ("2/2", "10:04:30")):
        record(
            junit,
            "unit",
            A,
            shard=shard,
            started=f"{day}10:00:40Z",
            ended=f"{day}{end}Z",
            pipeline_started=start,
        )
    db = tmp_path / "h.sqlite"
    ingest(db, [junit], RunContext(commit=A))
    with read_history(db) as history:
        hud = build_hud(history.database)
    row = hud.commits[0]
    assert row.time_to_signal_s == 270.0  # 10:00:00 → 10:04:30
    assert row.cells["lint"].time_to_signal_s == 35.0
    assert row.cells["unit"].time_to_signal_s == 230.0  # the shards side by side
    gate = next(g for g in hud.gates if g.name.startswith("time to signal"))
    assert gate.value == "270 s median"


def test_check_gates_fails_after_writing_the_hud(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "junit"
    junit.mkdir()
    failing = report(junit / "unit.xml", tier="unit", commit=A)
    failing.write_text(
        failing.read_text().replace('name="test_0"/>', 'name="test_0"><failure/></testcase>'),
        encoding="utf-8",
    )
    db, out = tmp_path / "h.sqlite", tmp_path / "hud"
    assert main(["report", "ingest", str(junit), "--db", str(db)]) == 0
    args = ["report", "hud", "--db", str(db), "--out", str(out), "--format", "json"]
    assert main(args) == 0  # gates shown, not enforced
    assert main([*args, "--check-gates"]) == 1
    assert (out / "hud.json").is_file()
    assert "gate not met: pass rate" in capsys.readouterr().out
    gates = json.loads((out / "hud.json").read_text())["gates"]
    assert any(not gate["passed"] for gate in gates)
    assert sqlite_connect(db).execute("SELECT count(*) FROM runs").fetchone() == (1,)


def test_each_python_of_the_matrix_is_its_own_slot_not_a_rerun(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    for python in ("3.11.7", "3.12.4", "3.13.1"):
        path = report(tmp_path / f"unit-py{python}.xml", tier="unit", commit=A, tests=3)
        path.write_text(
            path.read_text().replace(
                "</properties>", f'<property name="python" value="{python}"/></properties>'
            ),
            encoding="utf-8",
        )
        ingest(db, [path], RunContext(commit=A))
    assert cells(db, A) == {"unit": {"status": "passed", "tests": 9, "reruns": 0}}


def test_a_later_invocation_on_the_same_commit_does_not_stretch_time_to_signal(
    tmp_path: Path,
) -> None:
    """`inv ci` at 10:00 (lint, unit), then `nox -s unit` by hand at 10:30: two
    pipelines. The commit's time to signal is its latest pipeline's own, not
    10:00 → 10:33."""
    day = "2026-11-24T"
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    for tier, started, ended in (
        ("lint", "10:00:05", "10:00:40"),
        ("unit", "10:00:40", "10:04:00"),
    ):
        record(first, tier, A, started=f"{day}{started}Z", ended=f"{day}{ended}Z",
               pipeline_started=f"{day}10:00:00Z")  # fmt: skip
    record(later, "unit", A, started=f"{day}10:30:20Z", ended=f"{day}10:33:00Z",
           pipeline_started=f"{day}10:30:00Z")  # fmt: skip
    db = tmp_path / "h.sqlite"
    ingest(db, [first], RunContext(commit=A))
    ingest(db, [later], RunContext(commit=A))
    with read_history(db) as history:
        row = build_hud(history.database).commits[0]
    assert row.time_to_signal_s == 180.0  # 10:30:00 → 10:33:00


def test_an_earlier_invocation_on_another_edit_never_fills_a_later_ones_cells(
    tmp_path: Path,
) -> None:
    """`inv ci` (lint, unit) on an edited tree, then another edit, then `nox -s unit;
    nox -s report`: the report files only the later edit's unit; lint's cell is not
    the earlier edit's lint, and its time to signal is the later invocation's own."""
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    test_file = project / "tests" / "test_a.py"
    test_file.write_text("def test_a():\n    pass\n", encoding="utf-8")
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "a"],
    ):
        subprocess.run(command, cwd=project, check=True, capture_output=True)
    junit = project / "build" / "junit"
    junit.mkdir(parents=True)
    day = "2026-11-24T"
    test_file.write_text("def test_a():\n    assert 0\n", encoding="utf-8")
    first_edit = commit_sha(project)
    record(junit, "lint", first_edit, started=f"{day}10:00:05Z", ended=f"{day}10:00:40Z",
           pipeline_started=f"{day}10:00:00Z")  # fmt: skip
    test_file.write_text("def test_a():\n    assert 1\n", encoding="utf-8")
    later_edit = commit_sha(project)
    assert later_edit != first_edit
    record(junit, "unit", later_edit, started=f"{day}10:30:20Z", ended=f"{day}10:33:00Z",
           pipeline_started=f"{day}10:30:00Z")  # fmt: skip
    report(junit / "unit.xml", tier="unit", commit=later_edit)
    db = tmp_path / "h.sqlite"
    ingested = ingest(db, [junit], RunContext(commit=later_edit), only_commit=later_edit)
    assert [path.name for path, _ in ingested.skipped] == ["lint.tier.json"]
    assert cells(db, later_edit) == {"unit": {"status": "passed", "tests": 2, "reruns": 0}}
    with read_history(db) as history:
        (row,) = build_hud(history.database).commits
    assert row.time_to_signal_s == 180.0


def test_a_lone_shard_makes_its_siblings_expected_without_expect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Shard 1 of 2 says two shards ran: the missing one is a hole, not a green cell."""
    junit = tmp_path / "junit"
    junit.mkdir()
    report(junit / "unit-1of2.xml", tier="unit", commit=A, shard="1/2")
    db = tmp_path / "h.sqlite"
    assert main(["report", "ingest", str(junit), "--db", str(db)]) == 1
    assert "no report for unit shard 2/2" in capsys.readouterr().out
    assert cells(db, A)["unit"]["status"] == "missing"


def test_a_shard_count_beyond_reason_implies_no_holes(tmp_path: Path) -> None:
    junit = tmp_path / "junit"
    junit.mkdir()
    report(junit / "unit.xml", tier="unit", commit=A, shard="1/1000000000")
    ingested = ingest(tmp_path / "h.sqlite", [junit], RunContext(commit=A))
    (entry,) = ingested.entries
    assert any("1/1000000000 is not i/n" in warning for warning in entry.warnings)


def test_strict_refuses_a_stale_shard_before_anything_is_stored(tmp_path: Path) -> None:
    junit = tmp_path / "junit"
    junit.mkdir()
    report(junit / "unit-1of2.xml", tier="unit", commit=B, shard="1/2")
    report(junit / "unit-2of2.xml", tier="unit", commit=A, shard="2/2")
    db = tmp_path / "h.sqlite"
    arguments = ["report", "ingest", str(junit), "--db", str(db), "--commit", B, "--strict"]
    assert main(arguments) == 4
    assert not db.exists()  # not even an empty history: nothing was written


def test_a_hole_never_shadows_a_shard_another_job_already_stored(tmp_path: Path) -> None:
    """Each shard's job ingests its own report, in any order: shard 2 arrives first, then
    shard 1's ingest must not file 2/2 as missing over it."""
    db = tmp_path / "h.sqlite"
    second, first = tmp_path / "second", tmp_path / "first"
    second.mkdir()
    first.mkdir()
    report(second / "unit-2of2.xml", tier="unit", commit=A, shard="2/2")
    report(first / "unit-1of2.xml", tier="unit", commit=A, shard="1/2")
    ingest(db, [second], RunContext(commit=A))
    ingest(db, [first], RunContext(commit=A))
    assert cells(db, A)["unit"]["status"] == "passed"


def test_merge_leaves_out_a_shard_of_another_commit_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "junit"
    junit.mkdir()
    report(junit / "unit-1of2.xml", tier="unit", commit=B, shard="1/2")
    report(junit / "unit-2of2.xml", tier="unit", commit=A, shard="2/2")
    out = tmp_path / "merged.xml"
    assert main(["junit", "merge", str(out), str(junit), "--commit", B]) == 1
    printed = capsys.readouterr().out
    assert f"stamped with commit {A[:12]}, not {B[:12]}" in printed
    assert "no report for unit shard 2/2" in printed
    merged = out.read_text(encoding="utf-8")
    assert "[missing report]" in merged
    assert merged.count("<testcase") == 2 + 1  # shard 1's two tests and the hole
    # Without a commit, reports of two commits are each named as a problem.
    assert main(["junit", "merge", str(out), str(junit)]) == 1
    assert "merge one commit's reports, or name it with --commit" in capsys.readouterr().out


def _failing_report(path: Path, commit: str) -> Path:
    path.write_text(
        '<testsuites><testsuite name="pytest"><properties>'
        '<property name="tier" value="unit"/><property name="python" value="3.12.4"/>'
        f'<property name="commit" value="{commit}"/></properties>'
        '<testcase classname="t" name="test_ok"/>'
        '<testcase classname="t" name="test_broken"><failure message="boom"/></testcase>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("copy_name", ["unit-passing-copy.xml", "a-passing-copy.xml"])
def test_a_passing_copy_dropped_beside_the_report_decides_nothing(
    tmp_path: Path, copy_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tier's record names the report its session wrote (sha256): a passing copy of
    the same slot, whatever its name and order, is unclaimed, left out and named."""
    junit = tmp_path / "junit"
    junit.mkdir()
    written = _failing_report(junit / "unit.xml", A)
    copy = junit / copy_name
    copy.write_text(
        written.read_text(encoding="utf-8").replace('<failure message="boom"/>', ""),
        encoding="utf-8",
    )
    record(junit, "unit", A, status=Status.FAILED, exit_code=1, python="3.12.4",
           junit="unit.xml", junit_sha256=file_sha256(written))  # fmt: skip
    db = tmp_path / "h.sqlite"
    assert main(["report", "ingest", str(junit), "--db", str(db), "--commit", A]) == 0
    printed = capsys.readouterr().out
    assert f"{copy_name}: an unclaimed report" in " ".join(printed.split())
    assert cells(db, A)["unit"]["status"] == "failed"
    with read_history(db) as history:
        (warnings,) = history.database.rows("SELECT warnings FROM runs WHERE status = 'ok'")
    assert f"left out: {copy_name}" in warnings[0]
    hud = ["report", "hud", "--db", str(db), "--out", str(tmp_path / "hud"), "--check-gates"]
    assert main(hud) == 1


def test_a_record_without_a_digest_claims_nothing(tmp_path: Path) -> None:
    """Records written before reports were bound (or by a tier without JUnit) leave every
    report of the slot to count, as before."""
    junit = tmp_path / "junit"
    junit.mkdir()
    _failing_report(junit / "unit.xml", A)
    record(junit, "unit", A, status=Status.FAILED, exit_code=1, python="3.12.4")
    ingested = ingest(tmp_path / "h.sqlite", [junit], RunContext(commit=A))
    assert not ingested.skipped


def test_a_record_with_a_digest_that_is_not_sha256_is_refused(tmp_path: Path) -> None:
    path = record(tmp_path, "unit", A, junit_sha256="../../etc/passwd")
    with pytest.raises(RecordError, match="junit_sha256 is not a sha256"):
        read_record(path)
