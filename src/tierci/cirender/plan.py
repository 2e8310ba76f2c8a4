"""What the CI files say, derived from ``[tool.tierci]``: the model the templates read.

Every decision is made here, in Python, so the templates only lay out text: which
tiers run on every push (a job, or a matrix of Pythons x shards, in ``ci.yml``; a
stage, or parallel shard stages, in the ``Jenkinsfile``), which on a schedule (a
workflow of their own, like ``heavy.yml``; a stage run by the nightly build), which on
an accelerator host (like ``device.yml``; a stage on the device agent), and which files
each CI system gets.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierci.errors import ConfigError

if TYPE_CHECKING:
    from tierci.config import TierciConfig, TierConfig

__all__ = ["ACTIONS", "CiPlan", "TierJob", "plan_ci"]

#: Every action the rendered workflows use, pinned by commit SHA, with its version: the
#: first major that runs on Node 24 (docs/ci.md). Updating one is updating it here.
ACTIONS = {
    "checkout": "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0",
    "setup_python": "actions/setup-python@e797f83bcb11b83ae66e0230d6156d7c80228e7c # v6.0.0",
    "upload_artifact": (
        "actions/upload-artifact@330a01c490aca151604b8cf639adc76d48f6c5d4 # v5.0.0"
    ),
    "download_artifact": (
        "actions/download-artifact@018cc2cf5baa6db3ef3c5f8a56943fffe632ef53 # v6.0.0"
    ),
    "cache": "actions/cache@9255dc7a253b0ccc959486e2bca901246202afeb # v5.0.1",
    "cache_restore": "actions/cache/restore@9255dc7a253b0ccc959486e2bca901246202afeb # v5.0.1",
    "cache_save": "actions/cache/save@9255dc7a253b0ccc959486e2bca901246202afeb # v5.0.1",
    "upload_pages_artifact": (
        "actions/upload-pages-artifact@7b1f4a764d45c48632c6b24a0339c27f5614fb0b # v4.0.0"
    ),
    "deploy_pages": "actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e # v4.0.5",
    "pypi_publish": (
        "pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc # v1.12.4"
    ),
}
#: A tier name that can stand in a job id, a stage name, a stash and a shell word.
#: A distribution name (PEP 508): it names the PyPI project and the Jenkins pipeline.
_PROJECT_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
#: Labels GitHub's hosted runners answer to, and the ones every self-hosted runner has.
_GITHUB_LABEL = re.compile(
    r"(ubuntu|windows|macos)-[a-z0-9.-]+|self-hosted|linux|windows|macos|x64|arm|arm64"
)
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True, kw_only=True)
class TierJob:
    """One test tier as CI runs it."""

    name: str
    pythons: tuple[str, ...]
    shards: int
    #: The tier's GitHub runner labels.
    runner: tuple[str, ...]
    timeout: int
    schedule: str
    agent_needs: tuple[str, ...]
    device: bool
    #: The Python Jenkins runs it on (one of ``pythons``; Jenkins runs one).
    jenkins_python: str
    #: ``wheelhouse && python -m invoke heavy``: the invoke tasks of its stage.
    invoke: str

    @property
    def title(self) -> str:
        return self.name[:1].upper() + self.name[1:]

    @property
    def runs_on(self) -> str:
        """``runs-on:``'s value: one label, or a flow sequence of them."""
        return self.runner[0] if len(self.runner) == 1 else f"[{', '.join(self.runner)}]"

    @property
    def runner_words(self) -> str:
        labels = [label for label in self.runner if label != "self-hosted"]
        return f"label{'s' if len(labels) > 1 else ''} {', '.join(labels)}"

    @property
    def when_words(self) -> str:
        fields = self.schedule.split()
        if fields[2:] == ["*", "*", "*"]:
            return "nightly"
        if fields[2:4] == ["*", "*"] and fields[4].isdigit():
            return "weekly"
        return f"on schedule ({self.schedule})"

    @property
    def shards_word(self) -> str:
        return _NUMBER_WORDS[self.shards] if self.shards < len(_NUMBER_WORDS) else str(self.shards)

    @property
    def matrix_words(self) -> str:
        axes = ["Python versions"] * bool(self.pythons) + ["shards"] * (self.shards > 1)
        return f" ({' x '.join(axes)})" if axes else ""

    @property
    def expect(self) -> str:
        """``--expect`` of ci.yml's report: every Python's every shard."""
        return f"{self.name}:{self.shards}" if self.shards > 1 else self.name

    @property
    def param(self) -> str:
        """The Jenkins parameter that runs a scheduled or device tier now."""
        return "RUN_" + self.name.upper().replace("-", "_")

    @property
    def python_var(self) -> str:
        return self.name.upper().replace("-", "_") + "_PY"

    @property
    def jenkins_python_option(self) -> str:
        return f' --python "${self.python_var}"' if self.pythons else ""

    @property
    def jenkins_expect(self) -> str:
        """``--expect`` of the Jenkins Report stage: the one Python it runs."""
        python = f"@${self.python_var}" if self.pythons else ""
        return f"{self.name}{python}" + (f":{self.shards}" if self.shards > 1 else "")

    @property
    def shard_stage_prefix(self) -> str:
        return "Shard " if self.name == "unit" else f"{self.title} shard "

    @property
    def pull_request_condition(self) -> str:
        """A scheduled tier's jobs run outside pull requests, when its label is added,
        and on a new push to a pull request that has it; another label added to that
        pull request starts nothing."""
        label = f"run-{self.name}"
        return (
            "github.event_name != 'pull_request'"
            f" || (github.event.action == 'labeled' && github.event.label.name == '{label}')"
            " || (github.event.action != 'labeled'"
            f" && contains(github.event.pull_request.labels.*.name, '{label}'))"
        )


@dataclass(frozen=True, kw_only=True)
class CiPlan:
    """Everything the templates read."""

    #: The distribution name (``[project] name``).
    project: str
    #: The Python of the jobs outside a tier's matrix.
    python: str
    #: The default branch: pushes to it run ci.yml, and its nightly Jenkins build.
    branch: str
    keep_commits: int
    junit_dir: str
    github: bool
    jenkins: bool
    release: bool
    #: Test tiers of every push, unit first.
    push_tiers: tuple[TierJob, ...]
    #: Tiers in a scheduled workflow of their own (heavy, custom ones with a schedule).
    scheduled_tiers: tuple[TierJob, ...]
    #: Tiers on an accelerator host (device, custom ones with requires_device).
    device_tiers: tuple[TierJob, ...]
    #: The heavy tier installs from a cached wheelhouse (``[tool.tierci.wheelhouse]``).
    wheelhouse: bool
    #: ``wheels.yml``: the project has native modules.
    wheels: bool
    wheel_runners: tuple[str, ...]
    wheels_timeout: int
    lint: TierJob
    packaging: TierJob
    jenkins_agent: str
    jenkins_device_agent: str
    #: How this project's CI runs the tierci command (tierci itself: from ``src/``).
    tierci: str

    @property
    def custom_runner_labels(self) -> tuple[str, ...]:
        """The runner labels of the tiers that GitHub does not host (``gpu``): what
        actionlint must be told are a self-hosted runner's."""
        labels = [
            label
            for job in (self.lint, self.packaging, *self.push_tiers, *self.scheduled_tiers,
                        *self.device_tiers)
            for label in job.runner
        ]  # fmt: skip
        labels += self.wheel_runners
        return tuple(
            sorted({label for label in labels if not _GITHUB_LABEL.fullmatch(label.lower())})
        )

    @property
    def sharded_words(self) -> str:
        return _and([tier.name for tier in self.push_tiers if tier.shards > 1])

    @property
    def report_workflows(self) -> str:
        """The workflows with a report job, in words."""
        return _and(["ci", *(tier.name for tier in (*self.scheduled_tiers, *self.device_tiers))])

    @property
    def jenkins_report_args(self) -> str:
        expect = "".join(f"--expect {tier.jenkins_expect} " for tier in self.push_tiers)
        return f"{expect}--check-gates --keep-commits {self.keep_commits}"

    @property
    def jenkins_cron(self) -> str:
        """The nightly build's cron: each scheduled tier's hour (Jenkins spreads the
        minute, ``H``), on the default branch only."""
        lines = dict.fromkeys(
            " ".join(["H", *tier.schedule.split()[1:]]) for tier in self.scheduled_tiers
        )
        return "\\n".join(lines)


def _and(words: list[str]) -> str:
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else "".join(words)


def plan_ci(config: TierciConfig) -> CiPlan:
    """The CI files' model for ``config``'s project."""
    project = _project_name(config)
    enabled = config.enabled_tiers  # their names are checked by the configuration
    jobs = {name: _job(config, config.tiers[name]) for name in enabled}
    tests = [job for job in jobs.values() if config.tiers[job.name].runs_tests]
    return CiPlan(
        project=project,
        python=config.ci.python,
        branch=config.base_branch or "main",
        keep_commits=config.ci.keep_commits,
        junit_dir=config.junit_dir.relative_to(config.root).as_posix(),
        github="github" in config.ci.systems,
        jenkins="jenkins" in config.ci.systems,
        release=config.ci.release,
        push_tiers=tuple(job for job in tests if not job.device and not job.schedule),
        scheduled_tiers=tuple(job for job in tests if not job.device and job.schedule),
        device_tiers=tuple(job for job in tests if job.device),
        wheelhouse=config.wheelhouse is not None and "heavy" in jobs,
        wheels="wheels" in jobs and bool(config.native_modules),
        wheel_runners=config.ci.wheel_runners,
        wheels_timeout=config.tiers["wheels"].timeout_minutes,
        lint=jobs["lint"],
        packaging=jobs["packaging"],
        jenkins_agent=config.ci.jenkins_agent,
        jenkins_device_agent=config.ci.jenkins_device_agent,
        # tierci's own bootstrap lock holds its dependencies, not tierci: run this tree's.
        tierci="PYTHONPATH=src python -m tierci.cli" if project == "tierci" else "tierci",
    )


def _job(config: TierciConfig, tier: TierConfig) -> TierJob:
    invoke = tier.name
    # Jenkins runs a push tier on one of its Pythons; the others run all of them.
    if tier.pythons and not tier.schedule and not tier.requires_device:
        invoke += f' --python "${tier.name.upper().replace("-", "_")}_PY"'
    if tier.name == "heavy" and config.wheelhouse is not None:
        invoke = f"wheelhouse && python -m invoke {invoke}"
    python = config.ci.python
    return TierJob(
        name=tier.name,
        pythons=tier.pythons,
        shards=tier.shards,
        runner=tier.runner,
        timeout=tier.timeout_minutes,
        schedule=tier.schedule,
        agent_needs=tier.agent_needs,
        device=tier.requires_device,
        jenkins_python=python if python in tier.pythons or not tier.pythons else tier.pythons[0],
        invoke=invoke,
    )


def _project_name(config: TierciConfig) -> str:
    try:
        data = tomllib.loads(config.pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:  # load_config read it already: rare
        raise ConfigError(f"{config.pyproject}: not valid TOML: {exc}", fix="correct it") from exc
    name = data.get("project", {}).get("name", "")
    if not isinstance(name, str) or not _PROJECT_NAME.fullmatch(name):
        raise ConfigError(
            f"{config.pyproject}: [project] name {name!r} is missing or not a project name",
            fix='set [project] name = "your-project": the release workflow publishes it',
        )
    return name
