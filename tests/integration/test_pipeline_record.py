"""`inv ci` in a sample adopter, real processes: the HUD shows every tier of the
pipeline for HEAD, as the pipeline's own summary does, with wall-clock time to signal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.support import commit_all, head_commit, inv, run

# Tiers that write no JUnit, recorded by noxlib.recorded; lint sleeps 2 s (a slow env
# sync, say) so time to signal has something real to measure.
SESSIONS = """

@nox.session(venv_backend="none")
def lint(session):
    import os, time
    with noxlib.recorded(session, "lint"):
        time.sleep(2)
        if os.environ.get("BREAK_LINT"):
            session.error("ruff found 3 errors")


@nox.session(venv_backend="none")
def packaging(session):
    with noxlib.recorded(session, "packaging"):
        session.log("built and checked")
"""
TASKS = """from pathlib import Path

from tierci.invoke_tasks import nox_collection

ns = nox_collection(Path(__file__).parent, pipeline=("lint", "unit", "packaging"))
"""


@pytest.fixture
def adopter(sample_project: Path) -> Path:
    noxfile = sample_project / "noxfile.py"
    noxfile.write_text(noxfile.read_text(encoding="utf-8") + SESSIONS, encoding="utf-8")
    (sample_project / "tasks.py").write_text(TASKS, encoding="utf-8")
    (sample_project / ".gitignore").write_text("build/\n.nox/\n", encoding="utf-8")
    commit_all(sample_project)
    return sample_project


def hud_row(project: Path) -> dict[str, object]:
    hud = json.loads((project / "build" / "hud" / "hud.json").read_text(encoding="utf-8"))
    row: dict[str, object] = hud["commits"][0]
    assert row["sha"] == head_commit(project)
    return row


def test_inv_ci_puts_every_tier_in_the_grid_with_time_to_signal(adopter: Path) -> None:
    ran = inv("ci", cwd=adopter)
    assert ran.returncode == 0, ran
    row = hud_row(adopter)
    cells = row["cells"]
    assert isinstance(cells, dict)
    assert {tier: cell["status"] for tier, cell in cells.items()} == {
        "lint": "passed",
        "unit": "passed",
        "packaging": "passed",
    }
    signal = row["time_to_signal_s"]
    assert isinstance(signal, float)
    assert signal >= 2.0  # lint's sleep is inside the pipeline's wall clock
    assert cells["lint"]["time_to_signal_s"] >= 2.0
    summary = json.loads((adopter / "build" / "tierci" / "pipeline.json").read_text())
    # inv ci's own summary and the HUD agree.
    assert {r["tier"]: r["status"] for r in summary} == {
        tier: cell["status"] for tier, cell in cells.items()
    }


def test_a_failing_lint_is_red_and_the_tiers_after_it_are_not_run(adopter: Path) -> None:
    failed = run([sys.executable, "-m", "invoke", "ci"], adopter, BREAK_LINT="1")
    assert failed.returncode == 1, failed
    cells = hud_row(adopter)["cells"]
    assert isinstance(cells, dict)
    assert {tier: cell["status"] for tier, cell in cells.items()} == {
        "lint": "failed",
        "unit": "not run",
        "packaging": "not run",
    }
    assert any("ruff found 3 errors" in problem for problem in cells["lint"]["problems"])
