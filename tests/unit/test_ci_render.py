"""`tierci ci render`: the CI files come from the tiers of [tool.tierci], in-process.

This repository's own workflows and Jenkinsfile are the reference: rendering its
pyproject.toml must give exactly the committed files. A custom tier, other Pythons or
other shard counts change every CI system at once; a changed or missing file is named
with its first differing line.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import REPO
from tierci.cirender import RENDERED_MARKER, check, plan_ci, render, write
from tierci.cirender.render import own_files
from tierci.config import load_config
from tierci.errors import ConfigError

TIERCI_FILES = [
    ".github/workflows/ci.yml",
    ".github/actionlint.yaml",
    ".github/workflows/heavy.yml",
    ".github/workflows/device.yml",
    ".github/workflows/release.yml",
    "Jenkinsfile",
    ".ci/bootstrap",
    ".ci/agent-check",
    ".groovylintrc.json",
]


def project(tmp_path: Path, tierci: str = "", *, name: str = "sample") -> Path:
    """A pure-Python project with ``tierci`` as its [tool.tierci] tables."""
    root = tmp_path / name
    root.mkdir()
    head = f'[project]\nname = "{name}"\nversion = "1.0"\n\n'
    (root / "pyproject.toml").write_text(head + textwrap.dedent(tierci), encoding="utf-8")
    return root


def rendered(root: Path) -> dict[str, str]:
    return {file.path: file.text for file in render(load_config(root))}


def jobs(files: dict[str, str], workflow: str = "ci.yml") -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(files[f".github/workflows/{workflow}"])
    result: dict[str, Any] = document["jobs"]
    return result


def stages(jenkinsfile: str) -> list[str]:
    return [line.split("'")[1] for line in jenkinsfile.splitlines() if "stage('" in line]


def test_this_repositorys_pyproject_renders_its_committed_ci_files() -> None:
    config = load_config(REPO)
    assert [file.path for file in render(config)] == TIERCI_FILES
    assert check(config) == []
    # wheels.yml builds the reference adopter (examples/native-ml): hand-written, so
    # neither rendered nor checked, and it does not claim to be rendered.
    wheels = REPO / ".github" / "workflows" / "wheels.yml"
    assert RENDERED_MARKER not in wheels.read_text(encoding="utf-8")


def test_rendering_is_deterministic() -> None:
    config = load_config(REPO)
    assert render(config) == render(config)


def test_a_fresh_pure_python_project_gets_ci_release_and_jenkins(tmp_path: Path) -> None:
    files = rendered(project(tmp_path))
    assert list(files) == [
        ".github/workflows/ci.yml",
        ".github/actionlint.yaml",
        ".github/workflows/release.yml",
        "Jenkinsfile",
        ".ci/bootstrap",
        ".ci/agent-check",
        ".groovylintrc.json",
    ]
    ci = jobs(files)
    assert list(ci) == ["lint", "unit", "packaging", "report", "pages", "all-green"]
    assert "strategy" not in ci["unit"]  # one Python, one shard: one job
    assert ci["unit"]["steps"][-2]["run"] == "python -m nox -s unit"
    report = [step["run"] for step in ci["report"]["steps"] if "run" in step]
    assert report == [
        "python -m pip install -r requirements/bootstrap.txt",
        ("python -m nox -s report -- --expect unit --check-gates --keep-commits 500"),
    ]
    release = jobs(files, "release.yml")["publish"]
    assert release["environment"]["url"] == "https://pypi.org/p/sample"
    jenkins = files["Jenkinsfile"]
    assert stages(jenkins) == ["History", "Lint", "Unit", "Packaging", "Report", "Release"]
    assert "triggers {" not in jenkins  # nothing scheduled: no cron
    assert "parameters {" not in jenkins
    assert "--expect unit --check-gates" in jenkins


def test_a_custom_tier_gains_a_job_a_stage_and_a_place_in_the_report(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.tierci.tiers.integration]\nmarkers = "integration"\n')
    assert "integration" in load_config(root).enabled_tiers  # the nox session (tierci.nox)
    files = rendered(root)
    ci = jobs(files)
    assert list(ci) == ["lint", "unit", "integration", "packaging", "report", "pages", "all-green"]
    assert ci["integration"]["steps"][-2]["run"] == "python -m nox -s integration"
    assert ci["integration"]["steps"][-1]["with"]["name"] == "junit-integration"
    assert "integration" in ci["report"]["needs"]
    assert "integration" in ci["all-green"]["needs"]
    assert "--expect unit --expect integration --check-gates" in str(ci["report"]["steps"])
    jenkins = files["Jenkinsfile"]
    assert stages(jenkins) == [
        *("History", "Lint", "Unit", "Integration", "Packaging", "Report", "Release")
    ]
    assert "sh '$BOOTSTRAP && python -m invoke integration'" in jenkins
    assert "unstash 'junit-integration'" in jenkins
    assert "--expect unit --expect integration --check-gates" in jenkins


def test_a_scheduled_custom_tier_gets_a_workflow_and_a_nightly_stage(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """
        [tool.tierci.tiers.soak]
        markers = "soak"
        schedule = "5 1 * * *"
        runner = ["ubuntu-24.04"]
        """,
    )
    files = rendered(root)
    assert "soak" not in jobs(files)
    soak = yaml.safe_load(files[".github/workflows/soak.yml"])  # `on:` loads as True
    assert soak[True]["schedule"] == [{"cron": "5 1 * * *"}]
    assert list(soak["jobs"]) == ["soak", "report"]  # no wheelhouse without one declared
    assert soak["jobs"]["soak"]["runs-on"] == "ubuntu-24.04"
    assert "run-soak" in soak["jobs"]["soak"]["if"]
    assert soak["jobs"]["report"]["if"] == "${{ !cancelled() && needs.soak.result != 'skipped' }}"
    jenkins = files["Jenkinsfile"]
    assert "cron(env.BRANCH_NAME == 'main' ? 'H 1 * * *' : '')" in jenkins
    assert "expression { return params.RUN_SOAK }" in jenkins
    assert "if (params.RUN_SOAK || timed) {" in jenkins


def test_a_new_heavy_tier_is_nightly_without_a_wheelhouse_unless_declared(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.tierci.tiers.heavy]\nmarkers = "heavy"\n')
    heavy = yaml.safe_load(rendered(root)[".github/workflows/heavy.yml"])
    assert heavy[True]["schedule"] == [{"cron": "17 3 * * *"}]
    assert list(heavy["jobs"]) == ["heavy", "report"]
    assert "cron(env.BRANCH_NAME == 'main' ? 'H 3 * * *' : '')" in rendered(root)["Jenkinsfile"]
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text(encoding="utf-8") + "[tool.tierci.wheelhouse]\n",
        encoding="utf-8",
    )
    files = rendered(root)
    assert list(yaml.safe_load(files[".github/workflows/heavy.yml"])["jobs"]) == [
        *("wheelhouse", "heavy", "report")
    ]
    assert "python -m invoke wheelhouse && python -m invoke heavy" in files["Jenkinsfile"]
    assert "tierci wheelhouse key" in files[".github/workflows/heavy.yml"]


def test_pythons_and_shards_make_the_matrix_and_the_expectations(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.tierci.tiers.unit]\npythons = ["3.12", "3.13"]\nshards = 4\n')
    files = rendered(root)
    unit = jobs(files)["unit"]
    assert unit["strategy"]["matrix"] == {"python": ["3.12", "3.13"], "shard": [1, 2, 3, 4]}
    assert unit["steps"][-2]["run"] == (
        'python -m nox -s unit --python "$PYTHON" -- --shard "$SHARD/4"'
    )
    assert "--expect unit:4 --check-gates" in files[".github/workflows/ci.yml"]
    jenkins = files["Jenkinsfile"]
    assert [s for s in stages(jenkins) if s.startswith("Shard")] == [
        f"Shard {i}/4" for i in range(1, 5)
    ]
    assert "UNIT_PY = '3.12'" in jenkins  # the host Python (3.11) is not in the matrix
    assert "--expect unit@$UNIT_PY:4 --check-gates" in jenkins
    # Pythons without shards: a matrix of Pythons, no history restore.
    root = project(tmp_path, '[tool.tierci.tiers.unit]\npythons = ["3.11", "3.12"]\n', name="b")
    unit = jobs(rendered(root))["unit"]
    assert unit["strategy"]["matrix"] == {"python": ["3.11", "3.12"]}
    assert unit["steps"][-2]["run"] == 'python -m nox -s unit --python "$PYTHON"'
    assert not any("cache/restore" in str(step.get("uses")) for step in unit["steps"])


def test_systems_limit_what_is_rendered(tmp_path: Path) -> None:
    github = project(tmp_path, '[tool.tierci.ci]\nsystems = ["github"]\n', name="a")
    assert not any(path.startswith((".ci", "Jenkins")) for path in rendered(github))
    jenkins = project(tmp_path, '[tool.tierci.ci]\nsystems = ["jenkins"]\nrelease = false\n')
    assert list(rendered(jenkins)) == [
        *("Jenkinsfile", ".ci/bootstrap", ".ci/agent-check", ".groovylintrc.json")
    ]
    assert "stage('Release')" not in rendered(jenkins)["Jenkinsfile"]
    # Detected: a repository with only a Jenkinsfile gets only Jenkins.
    detected = project(tmp_path, "", name="c")
    (detected / "Jenkinsfile").write_text("", encoding="utf-8")
    assert load_config(detected).ci.systems == ("jenkins",)


def test_native_modules_render_the_wheels_workflow(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.tierci]\nnative_modules = ["sample._core"]\n')
    wheels = jobs(rendered(root), "wheels.yml")["wheels"]
    assert wheels["strategy"]["matrix"]["runner"] == ["ubuntu-latest", "ubuntu-24.04-arm"]
    assert wheels["steps"][-2]["run"] == "python -m nox -s wheels"


def test_check_names_the_file_and_its_first_differing_line(tmp_path: Path) -> None:
    root = project(tmp_path)
    config = load_config(root)
    assert [d.path for d in check(config)] == [file.path for file in render(config)]
    assert all("missing" in d.describe() for d in check(config))
    write(config)
    assert check(config) == []
    ci = root / ".github" / "workflows" / "ci.yml"
    lines = ci.read_text(encoding="utf-8").split("\n")
    number = lines.index("      - run: python -m nox -s lint") + 1
    lines[number - 1] += " --no-venv"
    ci.write_text("\n".join(lines), encoding="utf-8")
    (difference,) = check(config)
    assert (difference.path, difference.line) == (".github/workflows/ci.yml", number)
    assert difference.describe() == (
        f".github/workflows/ci.yml:{number}: differs from what [tool.tierci] renders\n"
        "  expected: '      - run: python -m nox -s lint'\n"
        "  found:    '      - run: python -m nox -s lint --no-venv'"
    )
    # A line more at the end is named too.
    write(config)
    jenkinsfile = root / "Jenkinsfile"
    jenkinsfile.write_text(jenkinsfile.read_text(encoding="utf-8") + "// more\n", "utf-8")
    (difference,) = check(config)
    assert difference.path == "Jenkinsfile"
    assert difference.expected == "''"
    assert difference.found == "'// more'"
    (root / ".ci" / "agent-check").chmod(0o644)
    assert "not executable" in check(config)[-1].describe()


def test_check_reports_a_rendered_file_the_tiers_no_longer_have(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.tierci.tiers.heavy]\nmarkers = "heavy"\n')
    write(load_config(root))
    (root / "pyproject.toml").write_text('[project]\nname = "sample"\n', encoding="utf-8")
    (root / ".github" / "workflows" / "mine.yml").write_text("name: mine\n", encoding="utf-8")
    *changed, heavy = check(load_config(root))
    # ci.yml's comments and the Jenkinsfile's Heavy stage; mine.yml is the project's own.
    assert [d.path for d in changed] == [".github/workflows/ci.yml", "Jenkinsfile"]
    assert heavy.path == ".github/workflows/heavy.yml"
    assert "no longer renders it" in heavy.describe()


@pytest.mark.parametrize(
    ("tierci", "message"),
    [
        ("[tool.tierci.tiers.unit]\nshards = 0\n", "shards must be a whole number above 0"),
        ('[tool.tierci.tiers.unit]\nschedule = "1 2 * * *"\n', "schedule is for test tiers"),
        ('[tool.tierci.tiers.heavy]\nschedule = "nightly"\n', "is not a cron line"),
        ("[tool.tierci.tiers.lint]\nshards = 2\n", "shards is for test tiers"),
        ('[tool.tierci.tiers.heavy]\nagent_needs = ["gpu"]\n', "agent_needs has 'gpu'"),
        ('[tool.tierci.tiers.unit]\nrunner = ["a b"]\n', "is not a runner"),
        ('[tool.tierci.ci]\nsystems = ["gitlab"]\n', "systems must name each"),
        ('[tool.tierci.ci]\npython = "3"\n', "not a Python version"),
        ("[tool.tierci.ci]\nrelaese = true\n", "did you mean 'release'"),
    ],
)
def test_ci_keys_are_validated(tmp_path: Path, tierci: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(project(tmp_path, tierci))


def test_a_tier_name_that_cannot_name_a_job_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.tierci.tiers."Big Tests"]\nmarkers = "big"\n')
    with pytest.raises(ConfigError, match="cannot name a nox session, a CI job"):
        plan_ci(load_config(root))


def test_a_workflow_of_the_projects_own_is_kept_and_not_checked_unless_forced(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    (root / ".github" / "workflows").mkdir(parents=True)
    own = "name: CI\non: push\njobs: {}\n"
    (root / ".github" / "workflows" / "ci.yml").write_text(own, encoding="utf-8")
    config = load_config(root)
    assert own_files(config) == [".github/workflows/ci.yml"]
    written = {path.relative_to(root).as_posix() for path in write(config)}
    assert ".github/workflows/ci.yml" not in written
    assert (root / ".github" / "workflows" / "ci.yml").read_text() == own
    assert check(config) == []  # the project's own is not compared
    write(config, force=True)
    assert RENDERED_MARKER in (root / ".github" / "workflows" / "ci.yml").read_text()
    assert own_files(config) == []


def test_unit_leaves_out_the_tests_of_custom_tiers(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        [tool.tierci.tiers.integration]
        [tool.tierci.tiers.slow]
        markers = "slow or db"
        """,
    )
    assert load_config(root).tiers["unit"].markers == (
        "not heavy and not device and not e2e and not integration"  # slow's may overlap
    )
    explicit = project(
        tmp_path,
        '[tool.tierci.tiers.integration]\n[tool.tierci.tiers.unit]\nmarkers = "not slow"\n',
        name="explicit",
    )
    assert load_config(explicit).tiers["unit"].markers == "not slow"


@pytest.mark.parametrize(
    ("tierci", "message"),
    [
        (
            '[tool.tierci]\nbase_branch = "main]\\n  pull_request_target:\\n    branches: [main"\n',
            "is not a branch name",
        ),
        (
            "[tool.tierci]\nbase_branch = \"main' ? evaluate('x') : '\"\n",
            "is not a branch name",
        ),
        (
            '[tool.tierci]\njunit_dir = "build/junit\\n      - run: echo ${{ github.event }}"\n',
            "is not a plain folder inside the project",
        ),
        ('[tool.tierci]\njunit_dir = "/tmp/junit"\n', "is not a plain folder"),
        ('[tool.tierci]\njunit_dir = "../../x"\n', "is not a plain folder"),
        ("[tool.tierci]\njunit_dir = \"b') { deleteDir() }; sh('x\"\n", "is not a plain folder"),
        ("[tool.tierci.tiers.lock]\n", "that is the pipeline's own `lock` session"),
        ("[tool.tierci.tiers.report]\n", "that is the pipeline's own `report` session"),
        ('[tool.tierci]\nnative_modules = ["demo._x\\"]"]\n', "not a dotted module name"),
    ],
)
def test_values_that_reach_ci_files_are_checked_when_read(
    tmp_path: Path, tierci: str, message: str
) -> None:
    root = project(tmp_path, tierci)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(root)


def test_render_writes_no_file_through_a_link(tmp_path: Path) -> None:
    root = project(tmp_path)
    outside = tmp_path / "outside.yml"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").symlink_to(outside)  # dangling
    with pytest.raises(ConfigError, match="is a symbolic link"):
        write(load_config(root))
    assert not outside.exists()


def test_a_huge_differing_line_is_shown_cut_short(tmp_path: Path) -> None:
    root = project(tmp_path)
    config = load_config(root)
    write(config)
    workflow = root / ".github" / "workflows" / "ci.yml"
    lines = workflow.read_text().splitlines(keepends=True)
    workflow.write_text(lines[0] + "x" * 5_000_000 + "\n" + "".join(lines[2:]))
    (difference,) = check(config)
    assert difference.line == 2
    assert len(difference.describe()) < 600
    assert "(5000000 characters)" in difference.found


def test_actionlint_is_told_every_custom_runner_label(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """
        [tool.tierci.tiers.device]
        runner = ["self-hosted", "gpu", "a100"]
        [tool.tierci.tiers.soak]
        markers = "soak"
        schedule = "5 1 * * *"
        runner = ["ubuntu-24.04", "big-box"]
        """,
    )
    config = yaml.safe_load(rendered(root)[".github/actionlint.yaml"])
    assert config["self-hosted-runner"]["labels"] == ["a100", "big-box", "gpu"]
    # The one message actionlint gives GitHub's queue key, and nothing wider.
    (ignored,) = config["paths"][".github/workflows/**/*.yml"]["ignore"]
    assert re.search(ignored, 'unexpected key "queue" for "concurrency" section')
    assert not re.search(ignored, 'unexpected key "queues" for "concurrency" section')


def test_no_runs_results_are_lost_to_concurrency(tmp_path: Path) -> None:
    files = rendered(project(tmp_path, "[tool.tierci.tiers.device]\n"))
    ci = yaml.safe_load(files[".github/workflows/ci.yml"])
    # A push's run has a group of its own: a later push cancels nothing; a pull
    # request's superseded run is cancelled, and then reports nothing.
    group = ci["concurrency"]["group"]
    assert "github.event_name == 'pull_request' && github.ref || github.run_id" in group
    for name in (".github/workflows/ci.yml", ".github/workflows/device.yml"):
        text = files[name]
        assert "always()" not in text, name
        report = yaml.safe_load(text)["jobs"]["report"]
        assert report["if"] == "${{ !cancelled() }}", name
        # Report jobs queue (GitHub keeps up to 100 waiting), never replace each other.
        assert report["concurrency"]["queue"] == "max", name
        assert report["concurrency"]["cancel-in-progress"] is False, name


def test_a_scheduled_tier_starts_on_its_own_label_only(tmp_path: Path) -> None:
    heavy = rendered(project(tmp_path, "[tool.tierci.tiers.heavy]\n"))[
        ".github/workflows/heavy.yml"
    ]
    condition = yaml.safe_load(heavy)["jobs"]["heavy"]["if"]

    def runs(event: str, action: str = "", label: str = "", labels: tuple[str, ...] = ()) -> bool:
        """``condition`` evaluated as GitHub would for this event (its few forms)."""
        values = {
            "github.event_name": event,
            "github.event.action": action,
            "github.event.label.name": label,
        }
        text = condition.replace(
            "contains(github.event.pull_request.labels.*.name, 'run-heavy')",
            str("run-heavy" in labels),
        )
        for name, value in values.items():
            text = text.replace(name, repr(value))
        python = text.replace("&&", " and ").replace("||", " or ").replace("!=", " != ")
        return bool(eval(python))  # noqa: S307 - our own rendered condition, in a test

    assert runs("schedule")
    assert runs("workflow_dispatch")
    assert runs("pull_request", "labeled", "run-heavy", ("run-heavy",))
    assert runs("pull_request", "synchronize", labels=("run-heavy", "docs"))
    assert not runs("pull_request", "labeled", "docs", ("run-heavy", "docs"))
    assert not runs("pull_request", "synchronize", labels=("docs",))
    # The run another label starts has a group of its own: it cancels no heavy run.
    group = yaml.safe_load(heavy)["concurrency"]["group"]
    assert "github.event.label.name != 'run-heavy' && github.run_id" in group


def test_a_schedule_restores_the_default_branchs_history(tmp_path: Path) -> None:
    # A schedule event's payload has no repository: the configured branch stands in.
    files = rendered(project(tmp_path, '[tool.tierci]\nbase_branch = "trunk"\n'))
    assert "default_branch || 'trunk' }}-" in files[".github/workflows/ci.yml"]
