"""On-demand environments for real: uv venvs built from a real lock, two processes
ensuring at once, a build killed mid-way, a lock change making an env stale."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_wheelhouse import NO_INDEX, SMALL_LOCKS
from tests.support import REPO, Ran, run, tierci, tierci_command

# post_install waits while this file exists: a build that can be caught in the act.
PAUSE_COMMAND = (
    "import pathlib, time, sys\nwhile pathlib.Path(sys.argv[1]).exists(): time.sleep(0.05)\n"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "requirements").mkdir(parents=True)
    shutil.copy(SMALL_LOCKS / "six-1.17.txt", folder / "requirements" / "env.txt")
    pause = tmp_path / "pause"
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "env-user"\nversion = "1"\n\n'
        "[tool.tierci.envs.worker]\n"
        'lock = "requirements/env.txt"\n'
        f'post_install = [["python", "-c", {json.dumps(PAUSE_COMMAND)}, "{pause}"]]\n',
        encoding="utf-8",
    )
    return folder


def env_vars(project: Path) -> dict[str, str]:
    return {"TIERCI_ENV_DIR": str(project.parent / "envs")}


def env_cli(project: Path, *args: str) -> Ran:
    """tierci in ``project``, with its environments under the test's own folder."""
    return tierci(project, *args, **env_vars(project))


def start(project: Path, *args: str) -> subprocess.Popen[str]:
    # Its own process group, so that it can be killed whole, as a CI runner kills a job.
    return subprocess.Popen(
        tierci_command(project, *args),
        cwd=project,
        env={**os.environ, **env_vars(project)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def status(project: Path) -> dict[str, Any]:
    result = env_cli(project, "env", "status", "worker", "--json")
    assert result.returncode == 0, result
    entry: dict[str, Any] = json.loads(result.output)[0]
    return entry


def six_version(env_path: str) -> str:
    check = run([f"{env_path}/bin/python", "-c", "import six; print(six.__version__)"], REPO)
    assert check.returncode == 0, check
    return check.output.strip()


def test_ensure_builds_once_then_reuses(project: Path) -> None:
    assert status(project)["state"] == "not_installed"
    first = env_cli(project, "env", "ensure", "worker")
    assert first.returncode == 0, first
    assert "ready (built in" in first.output
    path = first.output.strip().splitlines()[-1]
    assert six_version(path) == "1.17.0"  # usable after the rename: relocatable
    second = env_cli(project, "env", "ensure", "worker")
    assert "ready (reused)" in second.output
    assert second.output.strip().splitlines()[-1] == path
    ready = status(project)
    assert ready["state"] == "ready"
    assert ready["size_bytes"] > 30_000  # six and the venv scaffolding


def test_two_processes_ensuring_at_once_build_it_once(project: Path) -> None:
    both = [start(project, "env", "ensure", "worker") for _ in range(2)]
    outputs = [process.communicate(timeout=300)[0] for process in both]
    assert [process.returncode for process in both] == [0, 0], outputs
    assert sum(output.count(": building ") for output in outputs) == 1, outputs
    paths = {output.strip().splitlines()[-1] for output in outputs}
    assert len(paths) == 1
    assert six_version(paths.pop()) == "1.17.0"


def test_a_build_killed_midway_leaves_nothing_ready(project: Path, tmp_path: Path) -> None:
    pause = tmp_path / "pause"
    pause.touch()
    builder = start(project, "env", "ensure", "worker")
    deadline = time.monotonic() + 120
    home = tmp_path / "envs" / "worker"
    # Killed while its half-built folder exists (post_install waits on the pause file):
    # "installing" alone can show before that folder is made.
    while status(project)["state"] != "installing" or not list(home.glob(".build-*")):
        assert builder.poll() is None, builder.communicate()[0]
        assert time.monotonic() < deadline, "the build never showed as installing"
        time.sleep(0.1)
    os.killpg(builder.pid, signal.SIGKILL)
    builder.communicate(timeout=30)  # reaps it and closes its pipe
    after_kill = status(project)
    assert after_kill["state"] == "not_installed"
    assert "interrupted build" in str(after_kill["note"])
    pause.unlink()
    again = env_cli(project, "env", "ensure", "worker")
    assert again.returncode == 0, again
    assert "left by an interrupted build" in again.output
    assert not list(home.glob(".build-*"))
    assert six_version(again.output.strip().splitlines()[-1]) == "1.17.0"


def test_a_changed_lock_makes_it_stale_and_ensure_rebuilds(project: Path, tmp_path: Path) -> None:
    old = env_cli(project, "env", "ensure", "worker").output.strip().splitlines()[-1]
    shutil.copy(SMALL_LOCKS / "six-1.16.txt", project / "requirements" / "env.txt")
    stale = status(project)
    assert stale["state"] == "stale"
    assert stale["path"] == old
    rebuilt = env_cli(project, "env", "ensure", "worker")
    assert rebuilt.returncode == 0, rebuilt
    new = rebuilt.output.strip().splitlines()[-1]
    assert new != old
    assert not Path(old).exists()  # the stale build's disk is freed
    assert six_version(new) == "1.16.0"
    assert status(project)["state"] == "ready"


def test_delete_frees_it(project: Path) -> None:
    assert env_cli(project, "env", "ensure", "worker").returncode == 0
    deleted = env_cli(project, "env", "delete", "worker")
    assert deleted.returncode == 0, deleted
    assert "deleted" in deleted.output
    assert status(project)["state"] == "not_installed"


def test_an_unknown_env_is_a_config_error_with_a_hint(project: Path) -> None:
    result = env_cli(project, "env", "ensure", "wroker")
    assert result.returncode == 2, result
    assert "did you mean 'worker'" in result.output


def test_ensure_installs_from_the_wheelhouse_offline(tmp_path: Path) -> None:
    from tests.integration.test_wheelhouse import make_project  # noqa: PLC0415

    project = make_project(
        tmp_path / "p", extra='\n[tool.tierci.envs.small]\nlock = "requirements/small.txt"\n'
    )
    built = tierci(project, "wheelhouse", "build")
    assert built.returncode == 0, built
    ensured = tierci(
        project,
        "env",
        "ensure",
        "small",
        TIERCI_ENV_DIR=str(tmp_path / "envs"),
        UV_CACHE_DIR=str(tmp_path / "cold-uv-cache"),
        **NO_INDEX,
    )
    assert ensured.returncode == 0, ensured
    assert "installed 4 package(s) offline" in ensured.output
    python = ensured.output.strip().splitlines()[-1] + "/bin/python"
    check = run([python, "-c", "import docopt, six, tomli_w, iniconfig"], tmp_path)
    assert check.returncode == 0, check
