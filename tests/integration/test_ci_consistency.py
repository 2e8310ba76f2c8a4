"""The CI files call only what exists, and every tier has a place in both CI systems.

Sessions come from real `nox --list --json` (this repository's noxfile, and the
adopter's for steps that run in examples/native-ml); invoke tasks from the real
collection `inv --list` shows. The workflows' security conventions are checked too.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import REPO, run
from tierci.invoke_tasks import nox_sessions

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
JENKINSFILE = (REPO / "Jenkinsfile").read_text(encoding="utf-8")
NOX_CALL = re.compile(r"nox -s ([\w-]+)")
INVOKE_CALL = re.compile(r"(?:python3 -m invoke|\binv) ([\w-]+)")
PINNED = re.compile(r"^[\w./-]+@[0-9a-f]{40}$")
# The tiers (and the two pipeline steps) that each CI system must run.
EVERYWHERE = {"lint", "unit", "packaging", "heavy", "device", "report", "release", "lock"}


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def steps() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in WORKFLOWS:
        for job_name, job in load(path)["jobs"].items():
            for step in job.get("steps", []):
                yield path.name, job_name, step


@pytest.fixture(scope="module")
def sessions() -> dict[str, set[str]]:
    adopter = REPO / "examples" / "native-ml"
    return {".": set(nox_sessions(REPO)), "examples/native-ml": set(nox_sessions(adopter))}


def test_every_nox_session_a_workflow_calls_exists(sessions: dict[str, set[str]]) -> None:
    called = set()
    for name, job, step in steps():
        folder = step.get("working-directory", ".")
        for session in NOX_CALL.findall(step.get("run", "")):
            assert session in sessions[folder], f"{name} {job}: nox -s {session} in {folder}"
            if folder == ".":
                called.add(session)
    assert called >= EVERYWHERE - {"release"} | {"wheelhouse"}, called
    assert any("nox -s release" in step.get("run", "") for _, _, step in steps())


def test_every_invoke_task_the_jenkinsfile_calls_exists() -> None:
    listed = run([sys.executable, "-m", "invoke", "--list"], REPO)
    assert listed.returncode == 0, listed
    tasks = {line.split()[0] for line in listed.output.splitlines()[1:] if line.strip()}
    called = set(INVOKE_CALL.findall(JENKINSFILE))
    assert called <= tasks, called - tasks
    assert called >= EVERYWHERE | {"wheelhouse"}, EVERYWHERE - called


def test_every_sh_step_of_the_jenkinsfile_runs_an_invoke_task() -> None:
    for command in re.findall(r"\bsh '([^']*)'", JENKINSFILE):
        assert INVOKE_CALL.search(command), command


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_security_conventions(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}, "top-level permissions: {}"
    assert "concurrency" in workflow
    for job_name, job in workflow["jobs"].items():
        assert "timeout-minutes" in job, job_name
        assert "permissions" in job, f"{job_name}: least privilege is declared per job"
        writes = {k for k, v in job["permissions"].items() if v == "write"}
        assert writes <= ({"id-token"} if path.name == "release.yml" else set()), job_name
        if "id-token" in writes:
            assert "environment" in job, "trusted publishing only from a protected environment"
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses:
                assert PINNED.match(uses), f"{job_name}: {uses} is not pinned by SHA"
                if uses.startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
            assert "${{" not in step.get("run", ""), f"{job_name}: expression inside run:"


def test_pinned_actions_carry_their_version_comment() -> None:
    for path in WORKFLOWS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "uses:" in line:
                assert re.search(r"@[0-9a-f]{40} # v\d", line), f"{path.name}: {line.strip()}"
