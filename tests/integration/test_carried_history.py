"""The run history carried between CI runs, as CI carries it: the steps of ci.yml's jobs
and the Jenkinsfile's stages, read from those files and run here as scripts over two
consecutive runs (two commits) of a sample adopter. The second run's HUD shows both
commits, and its shards balance on what the first recorded.

GitHub Actions is simulated only where a step is GitHub's own: the cache (immutable
keys; a restore takes the exact key, else the newest entry under each restore-key
prefix in turn), artifacts and the Pages upload. Jenkins' copyArtifacts and
archiveArtifacts are file copies. Every `run:` and `sh` command runs for real (nox,
invoke, tierci, pytest) in a fresh workspace: a new runner has no build/ folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import REPO, commit_all, head_commit, run

#: The Python these tests run on: the one Python of the matrix the emulated CI runs.
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

WORKFLOW: dict[str, Any] = yaml.safe_load(
    (REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
)
JENKINSFILE = (REPO / "Jenkinsfile").read_text(encoding="utf-8")
HISTORY = Path("build/tierci/history.sqlite")
# Enough tests that each of three shards gets some.
MORE_TESTS = "".join(f"\n\ndef test_more_{n}():\n    assert {n} + 1 == {n + 1}\n" for n in range(7))


@pytest.fixture
def adopter(sample_project: Path, tmp_path: Path) -> Path:
    """The sample, its unit tier declared on this Python: as tierci's own runs on each
    Python of its matrix, and the CI files select one (`--python`) per leg or agent."""
    pyproject = sample_project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    declared = f'[tool.tierci.tiers.unit]\npythons = ["{PYTHON}"]\n'
    pyproject.write_text(text.replace("[tool.tierci.tiers.unit]\n", declared, 1), "utf-8")
    (sample_project / "tests" / "test_more.py").write_text(MORE_TESTS, encoding="utf-8")
    (sample_project / ".gitignore").write_text("build/\n.nox/\n", encoding="utf-8")
    commit_all(sample_project)
    return sample_project


@pytest.fixture
def shim(tmp_path: Path) -> dict[str, str]:
    """`python` and `python3` on PATH are this interpreter, as setup-python or an
    agent's Python would be: the commands run exactly as the CI files write them."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("python", "python3"):
        script = folder / name
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
        script.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def next_commit(project: Path, number: int) -> str:
    """A new commit on main (a runner's checkout may have left HEAD detached)."""
    subprocess.run(["git", "checkout", "-q", "-B", "main"], cwd=project, check=True)
    module = project / "src" / "sample" / "__init__.py"
    module.write_text(f"{module.read_text(encoding='utf-8')}\nREVISION = {number}\n", "utf-8")
    commit_all(project)
    return head_commit(project)


def fresh_workspace(project: Path) -> None:
    """A new runner or a clean build: the checkout without build/ (nox's environments
    stay, as a runner's tool cache would)."""
    shutil.rmtree(project / "build", ignore_errors=True)


def hud_commits(project: Path) -> list[str]:
    hud = json.loads((project / "build" / "hud" / "hud.json").read_text(encoding="utf-8"))
    return [row["sha"] for row in hud["commits"]]


@dataclass
class Actions:
    """Just enough of GitHub Actions to run ci.yml's jobs as its steps say."""

    root: Path
    project: Path
    env: dict[str, str]
    #: Cache entries, oldest first: (key, folder holding the saved paths).
    cache: list[tuple[str, Path]] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    #: The workflow run whose jobs run now: artifacts belong to their run, and its
    #: checkout is its commit (``commits``: run → commit, taken when its first job runs).
    run_id: int = 1
    commits: dict[int, str] = field(default_factory=dict)

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts" / str(self.run_id)

    def run_job(self, job: dict[str, Any], context: dict[str, str]) -> dict[str, str]:
        """Each step in order; returns each step id's outcome."""
        fresh_workspace(self.project)
        failed = False
        outcomes: dict[str, str] = {}
        for step in job["steps"]:
            if not self.condition(step.get("if", "success()"), context, failed=failed):
                outcomes[step.get("id", "")] = "skipped"
                continue
            ok = self.step(step, context)
            outcomes[step.get("id", "")] = "success" if ok else "failure"
            failed = failed or not ok
        return outcomes

    def step(self, step: dict[str, Any], context: dict[str, str]) -> bool:
        if "uses" not in step:
            return self.script(step, context)
        action = str(step["uses"]).split("@")[0]
        given = {k: self.expand(str(v), context) for k, v in step.get("with", {}).items()}
        if action == "actions/cache/restore":
            self.restore(given)
        elif action == "actions/cache/save":
            self.save(given)
        elif action in ("actions/upload-artifact", "actions/upload-pages-artifact"):
            if not (self.project / given["path"]).is_dir():
                return False  # if-no-files-found: error
            name = given.get("name", "github-pages")
            shutil.copytree(self.project / given["path"], self.artifacts / name)
        elif action == "actions/download-artifact":
            for artifact in sorted(self.artifacts.glob(given["pattern"])):
                shutil.copytree(artifact, self.project / given["path"], dirs_exist_ok=True)
        elif action == "actions/checkout":  # the run's commit; python is on PATH
            commit = self.commits.setdefault(self.run_id, head_commit(self.project))
            checkout = run(["git", "checkout", "-q", "--detach", commit], self.project)
            assert checkout.returncode == 0, checkout
        else:
            assert action == "actions/setup-python", f"teach it {action}"
        return True

    def script(self, step: dict[str, Any], context: dict[str, str]) -> bool:
        if "pip install" in step["run"]:
            return True  # the bootstrap requirements are this interpreter's already
        env = {k: self.expand(str(v), context) for k, v in step.get("env", {}).items()}
        ran = run(["bash", "-ec", step["run"]], self.project, **self.env, **env)
        self.outputs.append(ran.output)
        return ran.returncode == 0

    def restore(self, given: dict[str, str]) -> None:
        """The exact key, else the newest entry under each restore-key prefix in turn."""
        candidates = [given["key"], *given.get("restore-keys", "").splitlines()]
        for number, wanted in enumerate(candidates):
            found = [
                (key, folder)
                for key, folder in self.cache
                if key == wanted or (number and key.startswith(wanted))
            ]
            if found:
                key, folder = found[-1]
                self.restored.append(key)
                shutil.copytree(folder, self.project, dirs_exist_ok=True)
                return
        self.restored.append("")  # a miss is not a failure

    def save(self, given: dict[str, str]) -> None:
        if any(key == given["key"] for key, _ in self.cache):
            return  # caches are immutable: GitHub keeps the first
        folder = self.root / "cache" / str(len(self.cache))
        (folder / given["path"]).parent.mkdir(parents=True)
        shutil.copy2(self.project / given["path"], folder / given["path"])
        self.cache.append((given["key"], folder))

    def condition(self, text: str, context: dict[str, str], *, failed: bool) -> bool:
        """The `if:` forms ci.yml uses: terms joined by &&, bare or inside ${{ }}."""
        text = " ".join(text.split())
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2]
        verdicts = []
        for term in (part.strip() for part in text.split("&&")):
            if term == "!cancelled()":
                verdicts.append(True)  # nothing is cancelled here
            elif term == "success()":
                verdicts.append(not failed)
            elif match := re.fullmatch(r"hashFiles\('([^']+)'\) != ''", term):
                verdicts.append((self.project / match.group(1)).exists())
            elif match := re.fullmatch(r"(\S+) == (\S+)", term):
                left, right = (self.value(side, context) for side in match.groups())
                verdicts.append(left == right)
            else:
                pytest.fail(f"the simulation cannot evaluate `{term}`: teach it")
        return all(verdicts)

    def value(self, side: str, context: dict[str, str]) -> str:
        return side.strip("'") if side.startswith("'") else context[side]

    def expand(self, text: str, context: dict[str, str]) -> str:
        """``${{ name }}`` and ``${{ name || 'fallback' }}`` (an empty value falls back)."""

        def value(match: re.Match[str]) -> str:
            name, fallback = match.group(1), match.group(2)
            return context[name] if fallback is None else context.get(name, "") or fallback

        pattern = r"\$\{\{\s*([\w.]+)(?:\s*\|\|\s*'([^']*)')?\s*\}\}"
        return re.sub(pattern, value, text)


def github_context(run_id: int) -> dict[str, str]:
    """What ci.yml's expressions read, for a push to main (one Python of the matrix)."""
    return {
        "github.event_name": "push",
        "github.ref": "refs/heads/main",
        "github.ref_name": "main",
        "github.event.repository.default_branch": "main",
        "github.run_id": str(run_id),
        "github.run_attempt": "1",
        "matrix.python": PYTHON,
    }


def github_shards(actions: Actions, run_id: int) -> None:
    """ci.yml's unit shards: each in a fresh workspace, its report an artifact."""
    actions.run_id = run_id
    unit = WORKFLOW["jobs"]["unit"]
    for shard in unit["strategy"]["matrix"]["shard"]:
        outcomes = actions.run_job(unit, {**github_context(run_id), "matrix.shard": str(shard)})
        assert "failure" not in outcomes.values(), actions.outputs[-1]


def github_run(actions: Actions, run_id: int) -> dict[str, str]:
    """ci.yml's unit shards, then its report job; the report job's step outcomes."""
    github_shards(actions, run_id)
    return github_report(actions, run_id)


def github_report(actions: Actions, run_id: int) -> dict[str, str]:
    actions.run_id = run_id
    return actions.run_job(WORKFLOW["jobs"]["report"], github_context(run_id))


def run_by_github(concurrency: dict[str, Any], arrivals: int) -> list[int]:
    """Which of ``arrivals`` jobs of one concurrency group (numbered in the order they
    arrive, all while the first one runs) GitHub runs, as its documentation states:
    one runs at a time; ``cancel-in-progress`` cancels the running one; otherwise the
    default queue keeps one waiting job and cancels it when a newer one arrives, and
    ``queue: max`` keeps up to 100 waiting, in order."""
    if concurrency.get("cancel-in-progress") is True:
        return [arrivals]
    if concurrency.get("queue") == "max":
        return list(range(1, min(arrivals, 101) + 1))
    return [1, arrivals] if arrivals > 1 else [1]


def test_three_pushes_in_a_row_all_land_in_the_carried_history(
    adopter: Path, tmp_path: Path, shim: dict[str, str]
) -> None:
    actions = Actions(tmp_path / "github", adopter, shim)
    first = head_commit(adopter)

    report = github_run(actions, run_id=1)
    assert report["pages"] == "success", actions.outputs[-1]  # the report step passed too
    first_run = "\n".join(actions.outputs)
    actions.outputs.clear()
    # Two more pushes while run 1 reports: each run is a group of its own (nothing
    # cancels a push's run), and their unit shards finish before run 1's report does.
    # (`false && ref || run_id` is the run id on a push.)
    group = WORKFLOW["concurrency"]["group"]
    assert group == "ci-${{ github.event_name == 'pull_request' && github.ref || github.run_id }}"
    second = next_commit(adopter, 2)
    github_shards(actions, run_id=2)
    second_shards = "\n".join(actions.outputs)
    third = next_commit(adopter, 3)
    github_shards(actions, run_id=3)
    # Reports 2 and 3 wait for report 1 in the history's concurrency group: as GitHub
    # runs its queue, every one of them runs, in order, each on what the last saved.
    waiting = run_by_github(WORKFLOW["jobs"]["report"]["concurrency"], arrivals=3)
    assert waiting == [1, 2, 3]
    for run_id in waiting[1:]:
        report = github_report(actions, run_id)
        assert report["pages"] == "success", actions.outputs[-1]

    assert sorted(hud_commits(adopter)) == sorted([first, second, third])
    assert [key for key, _ in actions.cache] == [
        "tierci-history-main-1-1",
        "tierci-history-main-2-1",
        "tierci-history-main-3-1",
    ]
    # Run 1: nothing to restore anywhere; runs 2 and 3's shards find run 1's history;
    # each report finds the one before it.
    assert actions.restored == [
        *[""] * 4,
        *["tierci-history-main-1-1"] * 6,
        "tierci-history-main-1-1",
        "tierci-history-main-2-1",
    ]
    assert f"no history yet at {adopter / HISTORY}: starting one" in first_run
    assert "no recorded durations: round-robin" in first_run
    assert second_shards.count(f"recorded durations from {adopter / HISTORY}") == 3
    assert "no history yet" not in "\n".join(actions.outputs)
    pages = actions.root / "artifacts" / "3" / "github-pages" / "hud.json"
    assert sorted(row["sha"] for row in json.loads(pages.read_text())["commits"]) == sorted(
        [first, second, third]
    )


def test_the_default_queue_would_have_dropped_a_run() -> None:
    # What the queue is for: GitHub's default keeps one waiting job and cancels it
    # when a newer one arrives, and cancel-in-progress cancels the running one.
    group = {"group": "g", "cancel-in-progress": False}
    assert run_by_github(group, arrivals=3) == [1, 3]
    assert run_by_github({**group, "cancel-in-progress": True}, arrivals=3) == [3]


def broken_cache_entry(actions: Actions) -> None:
    """The newest entry of main's chain is a history cut short on its way."""
    broken = actions.root / "cache" / "broken"
    (broken / HISTORY).parent.mkdir(parents=True)
    (broken / HISTORY).write_bytes(b"a cache entry cut short " * 200)
    actions.cache.append(("tierci-history-main-0-1", broken))


def test_a_report_job_whose_cached_history_is_broken_sets_it_aside_and_stays_green(
    adopter: Path, tmp_path: Path, shim: dict[str, str]
) -> None:
    actions = Actions(tmp_path / "github", adopter, shim)
    github_shards(actions, run_id=1)
    broken_cache_entry(actions)

    report = actions.run_job(WORKFLOW["jobs"]["report"], github_context(run_id=1))

    assert report["pages"] == "success", actions.outputs[-1]
    log = actions.outputs[-1]
    aside = re.search(r"set aside as (\S+history\.sqlite\.corrupt-\d{8}T\d{6}Z)", log)
    assert aside is not None, log
    assert f"{adopter / HISTORY} is not a readable tierci history" in log
    assert Path(aside.group(1)).read_bytes() == b"a cache entry cut short " * 200
    assert hud_commits(adopter) == [head_commit(adopter)]
    # What it saved is a good history again: the next run builds on it.
    assert actions.cache[-1][0] == "tierci-history-main-1-1"


def test_unit_shards_whose_cached_history_is_broken_deal_round_robin_and_stay_green(
    adopter: Path, tmp_path: Path, shim: dict[str, str]
) -> None:
    actions = Actions(tmp_path / "github", adopter, shim)
    broken_cache_entry(actions)

    unit = WORKFLOW["jobs"]["unit"]
    outcomes = actions.run_job(unit, {**github_context(run_id=1), "matrix.shard": "1"})

    logs = "\n".join(actions.outputs)
    assert "failure" not in outcomes.values(), logs
    assert f"no recorded durations ({adopter / HISTORY} cannot be read" in logs


# --- Jenkins -----------------------------------------------------------------------


def jenkins_commands(stage: str) -> list[str]:
    """The commands the Jenkinsfile's `sh` steps run in ``stage`` (its parallel shards
    included), without the bootstrap (this interpreter has it)."""
    start = JENKINSFILE.index(f"stage('{stage}')")
    following = re.search(r"\n        stage\('", JENKINSFILE[start + 1 :])
    body = JENKINSFILE[start : start + 1 + following.start() if following else None]
    commands = re.findall(r"\bsh '([^']*)'", body)
    return [command.removeprefix("$BOOTSTRAP && ") for command in commands]


@dataclass
class Jenkins:
    """A job's builds on one agent: the History, Unit and Report stages, then post."""

    root: Path
    project: Path
    env: dict[str, str]
    builds: int = 0
    outputs: list[str] = field(default_factory=list)

    def build(self) -> None:
        self.builds += 1
        fresh_workspace(self.project)
        self.history_stage()
        for command in [*jenkins_commands("Unit"), *jenkins_commands("Report")]:
            # UNIT_PY: the Jenkinsfile's environment, for the Python these tests run on.
            ran = run(["bash", "-ec", command], self.project, **{"UNIT_PY": PYTHON, **self.env})
            self.outputs.append(ran.output)
            assert ran.returncode == 0, ran
        self.archive()

    def history_stage(self) -> None:
        """copyArtifacts(lastCompleted(), filter: HISTORY_ARTIFACT, optional: true),
        skipped when TIERCI_HISTORY or TIERCI_HISTORY_URL is set (the stage's `when`)."""
        if self.env.get("TIERCI_HISTORY") or self.env.get("TIERCI_HISTORY_URL"):
            return
        last = self.root / str(self.builds - 1) / "archive" / HISTORY
        if last.is_file():
            (self.project / HISTORY).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(last, self.project / HISTORY)

    def archive(self) -> None:
        patterns = re.search(r"archiveArtifacts artifacts: ([^\n]+\n[^\n]+)", JENKINSFILE)
        assert patterns is not None
        wanted = re.findall(r"[\w/.*-]+", patterns.group(1).split("allowEmptyArchive")[0])
        for pattern in wanted:
            for path in self.project.glob(pattern):
                if path.is_file():
                    target = (
                        self.root / str(self.builds) / "archive" / path.relative_to(self.project)
                    )
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)


def test_two_jenkins_builds_carry_the_history_as_an_artifact_and_the_hud_shows_both(
    adopter: Path, tmp_path: Path, shim: dict[str, str]
) -> None:
    assert any('invoke unit --python "$UNIT_PY" -- --shard' in c for c in jenkins_commands("Unit"))
    assert any("invoke report" in c for c in jenkins_commands("Report"))
    jenkins = Jenkins(tmp_path / "jobs", adopter, shim)
    first = head_commit(adopter)

    jenkins.build()
    first_build = "\n".join(jenkins.outputs)
    jenkins.outputs.clear()
    second = next_commit(adopter, 2)
    jenkins.build()

    assert sorted(hud_commits(adopter)) == sorted([first, second])
    assert (tmp_path / "jobs" / "1" / "archive" / HISTORY).is_file()
    assert (tmp_path / "jobs" / "2" / "archive" / HISTORY).is_file()
    assert f"no history yet at {adopter / HISTORY}: starting one" in first_build
    second_build = "\n".join(jenkins.outputs)
    assert second_build.count(f"recorded durations from {adopter / HISTORY}") == 3
    assert "no history yet" not in second_build


def test_two_jenkins_builds_with_tierci_history_share_one_file_on_the_agent(
    adopter: Path, tmp_path: Path, shim: dict[str, str]
) -> None:
    shared = tmp_path / "agent" / "tierci-history.sqlite"
    jenkins = Jenkins(tmp_path / "jobs", adopter, {**shim, "TIERCI_HISTORY": str(shared)})
    first = head_commit(adopter)

    jenkins.build()
    second = next_commit(adopter, 2)
    jenkins.build()

    assert sorted(hud_commits(adopter)) == sorted([first, second])
    assert shared.is_file()
    assert not (adopter / HISTORY).exists()
    assert not (tmp_path / "jobs" / "2" / "archive" / HISTORY).exists()  # nothing to carry
    logs = "\n".join(jenkins.outputs)
    assert logs.count(f"no history yet at {shared}: starting one") == 1


def test_two_jenkins_builds_with_tierci_history_url_write_one_postgresql_history(
    adopter: Path, tmp_path: Path, shim: dict[str, str], postgres_url: str
) -> None:
    """A fleet's history: nothing is copied or archived, the shards balance on the
    server's durations, and the HUD shows both builds' commits."""
    jenkins = Jenkins(tmp_path / "jobs", adopter, {**shim, "TIERCI_HISTORY_URL": postgres_url})
    first = head_commit(adopter)

    jenkins.build()
    jenkins.outputs.clear()
    second = next_commit(adopter, 2)
    jenkins.build()

    assert sorted(hud_commits(adopter)) == sorted([first, second])
    assert not (adopter / HISTORY).exists()
    assert not (tmp_path / "jobs" / "2" / "archive" / HISTORY).exists()
    logs = "\n".join(jenkins.outputs)
    assert logs.count(f"recorded durations from {postgres_url}") == 3, logs
