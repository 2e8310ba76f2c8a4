"""The CI files are rendered from the tiers, call only what exists, and every tier has a
place in both CI systems.

The workflows and the Jenkinsfile are rendered from [tool.tierci] (`tierci ci render`):
the committed ones must be exactly that rendering (`--check`), and the assertions below
read the rendering itself, so they hold for what any change to the tiers produces.
Sessions come from real `nox --list --json` (this repository's noxfile, and the
adopter's for steps that run in examples/native-ml); invoke tasks from the real
collection `inv --list` shows. The workflows' security conventions are checked too, and
so is the way both CI systems carry the run history from one run to the next.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import REPO, run, tierci_command
from tierci.cirender import render
from tierci.config import load_config
from tierci.invoke_tasks import nox_sessions
from tierci.lint import NPM_GROOVY_LINT

RENDERED = {file.path: file.text for file in render(load_config(REPO))}
# The rendered workflows, and any the repository keeps by hand (wheels.yml, which
# builds the reference adopter in examples/native-ml): the same rules hold for both.
WORKFLOW_TEXTS = {
    Path(path).name: text
    for path, text in RENDERED.items()
    if path.startswith(".github/workflows/")
} | {
    path.name: path.read_text(encoding="utf-8")
    for path in sorted((REPO / ".github" / "workflows").glob("*.yml"))
    if f".github/workflows/{path.name}" not in RENDERED
}
WORKFLOWS = sorted(WORKFLOW_TEXTS)
JENKINSFILE = RENDERED["Jenkinsfile"]
NOX_CALL = re.compile(r"nox -s ([\w-]+)")
INVOKE_CALL = re.compile(r"(?:python3? -m invoke|\binv) ([\w-]+)")
PINNED = re.compile(r"^[\w./-]+@[0-9a-f]{40}$")
# The tiers (and the two pipeline steps) that each CI system must run.
EVERYWHERE = {"lint", "unit", "packaging", "heavy", "device", "report", "release", "lock"}
HISTORY = "build/tierci/history.sqlite"
# One chain of history per branch, shared by every workflow: the branch's newest, else
# the default branch's.
RESTORE_KEYS = [
    "tierci-history-${{ github.ref_name }}-",
    # A schedule's event names no repository: the configured default branch stands in.
    "tierci-history-${{ github.event.repository.default_branch || 'main' }}-",
]
RESTORE = "actions/cache/restore@"
SAVE = "actions/cache/save@"
DEPLOY_PAGES = "actions/deploy-pages@"
#: `TIERCI_REQUIRE_CI_LINTERS=1` (.ci/run sets it): zizmor and npm-groovy-lint must run.
REQUIRE_LINTERS = "TIERCI_REQUIRE_CI_LINTERS"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(WORKFLOW_TEXTS[name])
    return document


def workflow(name: str) -> dict[str, Any]:
    return load(name)


def index_of(job: dict[str, Any], found: Any) -> int:
    """The position of the first step ``found(step)`` is true for (it must exist)."""
    positions = [i for i, step in enumerate(job["steps"]) if found(step)]
    assert positions, [step.get("name") or step.get("uses") or step["run"] for step in job["steps"]]
    return positions[0]


def uses_action(prefix: str) -> Any:
    return lambda step: str(step.get("uses", "")).startswith(prefix)


def runs(text: str) -> Any:
    return lambda step: text in step.get("run", "")


def steps() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name in WORKFLOWS:
        for job_name, job in load(name)["jobs"].items():
            for step in job.get("steps", []):
                yield name, job_name, step


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


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_security_conventions(name: str) -> None:
    workflow = load(name)
    assert workflow["permissions"] == {}, "top-level permissions: {}"
    assert "concurrency" in workflow
    for job_name, job in workflow["jobs"].items():
        assert "timeout-minutes" in job, job_name
        assert "permissions" in job, f"{job_name}: least privilege is declared per job"
        writes = {k for k, v in job["permissions"].items() if v == "write"}
        allowed = {"id-token"} if name == "release.yml" else set()
        if any(uses_action(DEPLOY_PAGES)(step) for step in job.get("steps", [])):
            # Deploying Pages needs both; that job runs the deployment and nothing else.
            allowed = {"pages", "id-token"}
            assert [step["uses"].split("@")[0] for step in job["steps"]] == [
                "actions/deploy-pages"
            ], job_name
            assert job["environment"]["name"] == "github-pages", job_name
        assert writes <= allowed, job_name
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
    for name in WORKFLOWS:
        for line in WORKFLOW_TEXTS[name].splitlines():
            if "uses:" in line:
                assert re.search(r"@[0-9a-f]{40} # v\d", line), f"{name}: {line.strip()}"


@pytest.mark.parametrize("name", ["ci.yml", "heavy.yml", "device.yml"])
def test_every_report_job_restores_ingests_prunes_and_saves_the_history(name: str) -> None:
    job = workflow(name)["jobs"]["report"]
    restore = index_of(job, uses_action(RESTORE))
    report = index_of(job, runs("nox -s report"))
    save = index_of(job, uses_action(SAVE))
    assert restore < report < save
    restored, saved = job["steps"][restore]["with"], job["steps"][save]["with"]
    assert restored["path"] == saved["path"] == HISTORY
    assert restored["restore-keys"].splitlines() == RESTORE_KEYS
    # Saved under a key of its own (caches are immutable) that the next restore finds.
    assert saved["key"] == restored["key"]
    assert saved["key"].startswith(RESTORE_KEYS[0])
    assert "github.run_id" in saved["key"]
    assert "github.run_attempt" in saved["key"]
    # Saved after a failed report too, whenever there is a history to save (not when
    # the run was cancelled: a superseded run's report must not run at all).
    assert "!cancelled()" in job["steps"][save]["if"]
    assert "always()" not in json.dumps(job)
    assert f"hashFiles('{HISTORY}')" in job["steps"][save]["if"]
    assert "--keep-commits" in job["steps"][report]["run"]
    # One report job per branch at a time, across the workflows, the others queued
    # (GitHub's default queue holds one and cancels the rest): none loses another's.
    assert job["concurrency"] == {
        "group": "tierci-history-${{ github.ref }}",
        "cancel-in-progress": False,
        "queue": "max",
    }


def test_only_report_jobs_write_the_history_and_unit_shards_read_it_first() -> None:
    for name, job_name, step in steps():
        if uses_action(SAVE)(step) and step["with"]["path"] == HISTORY:
            assert job_name == "report", f"{name} {job_name} saves the history"
    unit = workflow("ci.yml")["jobs"]["unit"]
    restore = index_of(unit, uses_action(RESTORE))
    assert restore < index_of(unit, runs("nox -s unit"))
    assert unit["steps"][restore]["with"]["path"] == HISTORY
    assert unit["steps"][restore]["with"]["restore-keys"].splitlines() == RESTORE_KEYS
    assert not any(uses_action(SAVE)(step) for step in unit["steps"])


def test_the_hud_goes_to_pages_from_the_default_branch_and_stays_an_artifact() -> None:
    jobs = workflow("ci.yml")["jobs"]
    report = jobs["report"]
    upload = report["steps"][index_of(report, uses_action("actions/upload-pages-artifact@"))]
    assert upload["with"]["path"] == "build/hud/"
    condition = " ".join(upload["if"].split())
    assert "github.event_name == 'push'" in condition
    assert "github.ref_name == github.event.repository.default_branch" in condition
    assert report["outputs"]["pages"] == f"${{{{ steps.{upload['id']}.outcome }}}}"
    pages = jobs["pages"]
    assert pages["needs"] == "report"
    assert "needs.report.outputs.pages == 'success'" in pages["if"]
    assert pages["permissions"] == {"pages": "write", "id-token": "write"}
    # Pull requests (and every run) keep the HUD as an artifact.
    artifact = report["steps"][index_of(report, lambda s: s.get("with", {}).get("name") == "hud")]
    assert artifact["if"] == "${{ !cancelled() }}"
    assert "pages" not in jobs["all-green"]["needs"]  # Pages being down fails no change


def test_the_jenkinsfile_carries_the_history_from_build_to_build() -> None:
    stages = re.findall(r"stage\('([^']+)'\)", JENKINSFILE)
    assert stages.index("History") < stages.index("Unit") < stages.index("Report")
    start, end = JENKINSFILE.index("stage('History')"), JENKINSFILE.index("stage('Lint')")
    history = JENKINSFILE[start:end]
    assert "if (!env.TIERCI_HISTORY && !env.TIERCI_HISTORY_URL) {" in history
    assert history.count("selector: lastCompleted()") == 2  # this branch, else the target
    assert history.count("optional: true") == 2  # none yet is a start, not a failure
    assert "HISTORY_ARTIFACT = 'build/tierci/history.sqlite'" in JENKINSFILE
    report = re.search(r"invoke report -- ([^']*)'", JENKINSFILE)
    assert report is not None
    assert "--keep-commits" in report.group(1)
    post = JENKINSFILE[JENKINSFILE.index("post {") :]
    assert "build/tierci/history.sqlite," in post  # archived after every build
    assert "copyArtifactPermission(" in JENKINSFILE


def jenkins_stage(name: str) -> str:
    """The text of one stage of the Jenkinsfile (up to the next stage at its depth)."""
    start = JENKINSFILE.index(f"stage('{name}')")
    indent = JENKINSFILE.rindex("\n", 0, start)
    depth = start - indent - 1
    following = re.compile(rf"\n {{{depth}}}stage\('|\n {{{max(depth - 4, 0)}}}}}")
    end = following.search(JENKINSFILE, start + 1)
    return JENKINSFILE[start : end.start() if end else None]


def test_a_conditional_stage_with_its_own_agent_decides_before_asking_for_one() -> None:
    """Without beforeAgent, every build waits for a 'gpu' executor to evaluate `when`."""
    for stage in re.findall(r"stage\('([^']+)'\)", JENKINSFILE):
        body = jenkins_stage(stage)
        if "when {" in body and re.search(r"\bagent \{ label", body):
            assert "beforeAgent true" in body, stage


def test_parallel_unit_shards_each_have_a_workspace_of_their_own() -> None:
    shards = [f"Shard {i}/3" for i in (1, 2, 3)]
    for shard in shards:
        body = jenkins_stage(shard)
        assert "agent { label 'linux' }" in body, shard  # an executor, so a workspace, each
        assert "unstash 'history'" in body, shard  # the history reaches its workspace
        assert f"--shard {shard.split()[1]}" in body, shard
        assert "junit testResults: 'build/junit/unit-*.xml'" in body, shard
    assert "stash name: 'history', includes: env.HISTORY_ARTIFACT, allowEmpty: true" in (
        jenkins_stage("History")
    )


def test_results_are_recorded_by_the_stage_that_made_them_and_stale_ones_cleared() -> None:
    device = jenkins_stage("Device")
    post = device[device.index("post {") :]
    assert "junit testResults: 'build/junit/device*.xml'" in post  # on the GPU agent
    assert "stash name: 'junit-device'" in post
    history = jenkins_stage("History")
    for folder in ("build/junit", "build/hud", "dist"):
        assert f"dir('{folder}') {{ deleteDir() }}" in history
    final = JENKINSFILE[JENKINSFILE.rindex("    post {") :]
    assert final.index("archiveArtifacts") < final.index("publishHTML")
    assert "allowMissing: true" in final  # Lint failed: no HUD, and no exception either
    assert "junit testResults" not in final  # an empty top-level junit step would throw


def test_the_nightly_build_is_the_default_branchs_and_one_system_publishes() -> None:
    assert "cron(env.BRANCH_NAME == 'main' ? 'H 3 * * *' : '')" in JENKINSFILE
    release = jenkins_stage("Release")
    assert "--check-only" in release
    assert "withCredentials" not in JENKINSFILE  # nothing here can upload
    publishing = [
        name
        for name in WORKFLOWS
        if "pypa/gh-action-pypi-publish" in WORKFLOW_TEXTS[name]
        or "twine upload" in WORKFLOW_TEXTS[name]
        or "nox -s release --" in WORKFLOW_TEXTS[name]
    ]
    assert publishing == ["release.yml"]


def test_no_ci_file_installs_into_an_agents_own_python() -> None:
    assert "BOOTSTRAP = '. .ci/bootstrap'" in JENKINSFILE
    assert "--user" not in JENKINSFILE
    assert "python3 -m invoke" not in JENKINSFILE  # after the bootstrap: the venv's python
    assert all(
        command.startswith("$BOOTSTRAP && python -m invoke ")
        for command in re.findall(r"\bsh '([^']*)'", JENKINSFILE)
    )
    device = load("device.yml")
    runs = [step.get("run", "") for step in device["jobs"]["device"]["steps"]]
    assert any(run.startswith("python3 -m venv .venv-ci") for run in runs)
    assert not any("pip install" in run and ".venv-ci/bin/python" not in run for run in runs)


def test_the_agent_check_names_what_is_missing(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    checked = run(
        ["/bin/sh", str(REPO / ".ci" / "agent-check"), "python3", "git"], tmp_path, PATH=str(empty)
    )
    assert checked.returncode == 1
    assert "no python3 on PATH: install Python 3.11 or newer" in checked.output
    assert "no git on PATH: install git" in checked.output
    assert (
        run(["sh", str(REPO / ".ci" / "agent-check"), "python3", "git"], tmp_path).returncode == 0
    )


def test_the_jenkins_bootstrap_checks_the_agent_and_installs_into_a_venv(tmp_path: Path) -> None:
    """.ci/bootstrap as a stage sources it, in a workspace of its own: the agent's
    Python gets nothing, the venv gets the bootstrap lock, and the shell runs in it."""
    workspace = tmp_path / "workspace"
    (workspace / ".ci").mkdir(parents=True)
    (workspace / "requirements").mkdir()
    for name in ("bootstrap", "agent-check"):
        (workspace / ".ci" / name).write_bytes((REPO / ".ci" / name).read_bytes())
    (workspace / "requirements" / "bootstrap.txt").write_text("", encoding="utf-8")
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python3").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', "utf-8")
    (shim / "python3").chmod(0o755)
    path = f"{shim}:{os.environ['PATH']}"
    ran = run(
        ["sh", "-c", ". .ci/bootstrap && python -c 'import sys; print(sys.prefix)'"],
        workspace,
        PATH=path,
    )
    assert ran.returncode == 0, ran
    assert ran.output.strip().splitlines()[-1] == str(workspace / ".venv-ci")
    needs = run(
        ["sh", "-c", ". .ci/bootstrap && echo reached"],
        workspace,
        PATH=path,
        TIERCI_AGENT_NEEDS="nothing-such",
    )
    assert needs.returncode == 1
    assert "unknown requirement 'nothing-such'" in needs.output
    assert "reached" not in needs.output


# The first major of each action that runs on Node 24 (GitHub is retiring Node 20).
NODE24_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/upload-artifact": 5,
    "actions/download-artifact": 5,
    "actions/cache": 5,
}


def test_actions_are_on_their_node_24_majors() -> None:
    for name in WORKFLOWS:
        for line in WORKFLOW_TEXTS[name].splitlines():
            found = re.search(r"uses: ([\w-]+/[\w-]+)(?:/[\w/-]+)?@[0-9a-f]{40} # v(\d+)\.", line)
            if found and found.group(1) in NODE24_MAJORS:
                assert int(found.group(2)) >= NODE24_MAJORS[found.group(1)], f"{name}: {line}"


# --- tierci ci render: the committed files are the rendering, and the tiers drive it ---

CI_FILES = (".github", "Jenkinsfile", ".ci", ".groovylintrc.json")


def test_the_committed_ci_files_are_what_the_tiers_render() -> None:
    checked = run(tierci_command(REPO, "ci", "render", "--check"), REPO)
    assert checked.returncode == 0, checked
    assert "up to date" in checked.output


def copy_of_this_project(tmp_path: Path) -> Path:
    """This repository's pyproject.toml and CI files, and nothing else."""
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy2(REPO / "pyproject.toml", copy)
    for name in CI_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, copy / name)
        else:
            shutil.copy2(source, copy / name)
    return copy


def test_a_changed_or_missing_ci_file_fails_the_check_naming_file_and_line(
    tmp_path: Path,
) -> None:
    copy = copy_of_this_project(tmp_path)
    ci = copy / ".github" / "workflows" / "ci.yml"
    lines = ci.read_text(encoding="utf-8").split("\n")
    number = lines.index("        shard: [1, 2, 3]") + 1
    lines[number - 1] = "        shard: [1, 2]"
    ci.write_text("\n".join(lines), encoding="utf-8")
    (copy / ".github" / "workflows" / "device.yml").unlink()
    before = {path: path.read_bytes() for path in copy.rglob("*") if path.is_file()}
    checked = run(tierci_command(copy, "ci", "render", "--check"), copy)
    assert checked.returncode == 2, checked  # a configuration error (docs/tiers.md)
    assert f".github/workflows/ci.yml:{number}: differs from what [tool.tierci]" in (checked.output)
    assert "expected: '        shard: [1, 2, 3]'" in checked.output
    assert "found:    '        shard: [1, 2]'" in checked.output
    assert ".github/workflows/device.yml: missing" in checked.output
    assert "heavy.yml" not in checked.output  # only what differs is named
    assert {path: path.read_bytes() for path in copy.rglob("*") if path.is_file()} == before
    rendered = run(tierci_command(copy, "ci", "render"), copy)
    assert rendered.returncode == 0, rendered
    assert rendered.output.split() == [
        *("rendered", ".github/workflows/ci.yml", "rendered", ".github/workflows/device.yml")
    ]
    assert run(tierci_command(copy, "ci", "render", "--check"), copy).returncode == 0


def test_a_custom_tier_declared_once_reaches_nox_invoke_github_and_jenkins(
    tmp_path: Path,
) -> None:
    """`[tool.tierci.tiers.integration]` alone: a nox session (and its invoke task), a
    job in ci.yml and a stage in the Jenkinsfile, each running that session."""
    project = tmp_path / "sample"
    shutil.copytree(REPO / "tests" / "fixtures" / "sample-project", project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8")
        + '\n[tool.tierci.tiers.integration]\nmarkers = "integration"\n',
        encoding="utf-8",
    )
    (project / "noxfile.py").write_text(
        "import tierci.nox\n\ntierci.nox.register(globals())\n", encoding="utf-8"
    )
    assert "integration" in nox_sessions(project)
    listed = run([sys.executable, "-m", "invoke", "--list"], project)
    assert listed.returncode == 0, listed
    assert "integration" in listed.output.split()
    rendered = run(tierci_command(project, "ci", "render"), project)
    assert rendered.returncode == 0, rendered
    ci = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text("utf-8"))
    runs = [step.get("run", "") for step in ci["jobs"]["integration"]["steps"]]
    assert "python -m nox -s integration" in runs
    assert "integration" in ci["jobs"]["all-green"]["needs"]
    jenkinsfile = (project / "Jenkinsfile").read_text(encoding="utf-8")
    assert "stage('Integration')" in jenkinsfile
    assert "sh '$BOOTSTRAP && python -m invoke integration'" in jenkinsfile
    # More Pythons and shards: the matrix follows.
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + 'pythons = ["3.11", "3.12"]\nshards = 2\n',
        encoding="utf-8",
    )
    checked = run(tierci_command(project, "ci", "render", "--check"), project)
    assert checked.returncode == 2, checked
    assert run(tierci_command(project, "ci", "render"), project).returncode == 0
    ci = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text("utf-8"))
    matrix = ci["jobs"]["integration"]["strategy"]["matrix"]
    assert matrix == {"python": ["3.11", "3.12"], "shard": [1, 2]}
    jenkinsfile = (project / "Jenkinsfile").read_text(encoding="utf-8")
    assert "stage('Integration shard 2/2')" in jenkinsfile


def fresh_adopter(tmp_path: Path) -> Path:
    """A pure-Python project with no CI files yet, heavy, device and a sharded custom tier."""
    project = tmp_path / "fresh"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "fresh"
            version = "0.1.0"

            [tool.tierci.tiers.heavy]
            markers = "heavy"

            [tool.tierci.tiers.device]
            markers = "device"

            [tool.tierci.tiers.integration]
            markers = "integration"
            pythons = ["3.11", "3.12"]
            shards = 2
            """
        ),
        encoding="utf-8",
    )
    rendered = run(tierci_command(project, "ci", "render"), project)
    assert rendered.returncode == 0, rendered
    return project


def linter(name: str, *fallbacks: Path) -> str | None:
    """The tool on PATH, else where the lint tier installed it; None (a skip) where it
    is nowhere, unless TIERCI_REQUIRE_CI_LINTERS=1 makes that a failure."""
    found = shutil.which(name) or next((str(p) for p in fallbacks if p.is_file()), None)
    if found is None:
        if os.environ.get(REQUIRE_LINTERS) == "1":
            pytest.fail(f"{name} is not installed and {REQUIRE_LINTERS}=1")
        pytest.skip(f"{name} is not installed")
    return found


def test_a_fresh_adopters_rendered_workflows_have_no_zizmor_findings(tmp_path: Path) -> None:
    zizmor = linter("zizmor", REPO / ".nox" / "lint" / "bin" / "zizmor")
    assert zizmor is not None
    project = fresh_adopter(tmp_path)
    workflows = sorted(path.name for path in (project / ".github" / "workflows").iterdir())
    assert workflows == ["ci.yml", "device.yml", "heavy.yml", "release.yml"]
    audited = run([zizmor, "--offline", "--strict-collection", ".github/workflows"], project)
    assert audited.returncode == 0, audited
    assert "No findings to report" in audited.output
    actionlint = shutil.which("actionlint")  # optional everywhere (docs/ci.md)
    if actionlint:
        checked = run([actionlint], project)
        assert checked.returncode == 0, checked


def test_a_fresh_adopters_rendered_jenkinsfile_passes_groovy_lint(tmp_path: Path) -> None:
    npx = linter("npx")
    assert npx is not None
    project = fresh_adopter(tmp_path)
    command = [npx, "--yes", NPM_GROOVY_LINT, "--noserver", "--failon", "warning"]
    linted = run([*command, "--output", "txt", "Jenkinsfile"], project)
    assert linted.returncode == 0, linted  # with the rendered .groovylintrc.json
