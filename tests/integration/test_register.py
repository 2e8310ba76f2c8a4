"""`tierci.nox.register(globals())`: a noxfile of two lines gets one session per tier the
project declares, read back from real `nox --list --json`, and stays a real noxfile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.support import REPO, nox, run

PYPROJECT = """\
[project]
name = "tiny-pkg"
version = "0.1"

[tool.tierci.tiers.integration]
markers = "integration"

[tool.tierci.tiers.unit]
pythons = ["{python}"]
"""


def _project(tmp_path: Path, noxfile: str) -> Path:
    project = tmp_path / "tiny"
    project.mkdir()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    (project / "pyproject.toml").write_text(PYPROJECT.format(python=python), encoding="utf-8")
    (project / "noxfile.py").write_text(textwrap.dedent(noxfile), encoding="utf-8")
    return project


def _listed(project: Path, *, selected_only: bool = False) -> list[dict[str, Any]]:
    # -k: every session, not only those a bare `nox` selects.
    everything = [] if selected_only else ["-k", "not none_such"]
    # The noxfile imports tierci from this checkout, as an installed tierci would be.
    completed = subprocess.run(
        [sys.executable, "-m", "nox", "--list", "--json", *everything],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    entries: list[dict[str, Any]] = json.loads(completed.stdout)
    return entries


def test_every_declared_tier_is_a_session_and_the_pipeline_tiers_run_by_default(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path, "import tierci.nox\n\ntierci.nox.register(globals())\n")
    entries = _listed(project)
    names = [entry["session"] for entry in entries]
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert names == [
        "lint",
        f"unit-{python}",
        "integration",
        "packaging",
        "release",
        "lock",
        "report",
    ], names
    selected = {entry["session"] for entry in _listed(project, selected_only=True)}
    assert selected == {"lint", f"unit-{python}", "integration", "packaging"}
    tags = {entry["session"]: set(entry["tags"]) for entry in entries}
    assert tags["integration"] == {"tier", "ci", "tests"}
    assert "tests" not in tags["lint"]
    # No heavy, device or wheels: the project has none of them (no lock, not declared).
    assert not {"heavy", "device", "wheels", "wheelhouse"} & set(names)


def test_a_tier_added_to_the_configuration_becomes_a_session(tmp_path: Path) -> None:
    project = _project(tmp_path, "import tierci.nox\n\ntierci.nox.register(globals())\n")
    (project / "requirements").mkdir()
    (project / "requirements" / "heavy.in").write_text("numpy\n", encoding="utf-8")
    with (project / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write("\n[tool.tierci.tiers.device]\n")
    entries = {entry["session"]: entry for entry in _listed(project)}
    assert {"heavy", "device"} <= set(entries)
    # Scheduled tiers run when named.
    assert "heavy" not in {entry["session"] for entry in _listed(project, selected_only=True)}
    assert "needs an accelerator" in entries["device"]["description"]


def test_sessions_of_the_project_sit_beside_and_replace_generated_ones(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        '''\
        import nox
        import tierci.nox


        @nox.session(default=False)
        def lint(session: nox.Session) -> None:
            """the project's own lint"""
            session.log("own lint ran")


        made = tierci.nox.register(globals())


        @nox.session(venv_backend="none", default=False)
        def docs(session: nox.Session) -> None:
            """docs, beside the tiers"""
            session.log(f"registered: {' '.join(made)}")
        ''',
    )
    entries = {entry["session"]: entry for entry in _listed(project)}
    assert entries["lint"]["description"] == "the project's own lint"
    assert entries["docs"]["description"] == "docs, beside the tiers"
    ran = run(
        [sys.executable, "-m", "nox", "-s", "docs", "lint"],
        project,
        PYTHONPATH=str(REPO / "src"),
    )
    assert ran.returncode == 0, ran
    assert "own lint ran" in ran.output
    # Kept, but never silently: the tier's checks do not run under that name.
    assert "noxfile.py defines its own 'lint' session: it replaces tierci's lint tier" in (
        ran.output
    )
    assert "registered: unit integration packaging release lock report" in ran.output


def test_a_configuration_error_ends_nox_with_its_message_not_a_traceback(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path, "import tierci.nox\n\ntierci.nox.register(globals())\n")
    with (project / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write('\n[tool.tierci.tiers.lint]\ntools = "ruff"\n')
    ran = run([sys.executable, "-m", "nox", "--list"], project, PYTHONPATH=str(REPO / "src"))
    assert ran.returncode == 2, ran
    assert "tools must be a list" in ran.output
    assert "fix: change tools to a list" in ran.output
    assert "Traceback" not in ran.output


def test_this_repository_and_the_example_use_register() -> None:
    for noxfile in (REPO / "noxfile.py", REPO / "examples" / "native-ml" / "noxfile.py"):
        assert "tierci.nox.register(globals())" in noxfile.read_text(encoding="utf-8")
    assert nox("--list", cwd=REPO).returncode == 0


def test_a_tier_named_like_a_global_of_the_noxfile_leaves_the_global_alone(
    tmp_path: Path,
) -> None:
    project = _project(
        tmp_path,
        """\
        import nox
        import tierci.nox

        tierci.nox.register(globals())


        @nox.session(default=False)
        def after(session: nox.Session) -> None:
            '''defined after register, with the nox module still nox'''
        """,
    )
    with (project / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write('\n[tool.tierci.tiers.nox]\nmarkers = "nox"\n')
    sessions = {entry["session"] for entry in _listed(project)}
    assert {"nox", "after"} <= sessions
