from pathlib import Path

import pytest

from tierci.artifacts import native as wheels
from tierci.artifacts.native import container_engine
from tierci.errors import ConfigError


def fake_binary(folder: Path, name: str, exit_code: int) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\nexit {exit_code}\n")
    path.chmod(0o755)


def test_a_client_without_a_daemon_is_no_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_binary(tmp_path, "docker", 1)  # what `docker info` does with no daemon
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CIBW_CONTAINER_ENGINE", raising=False)
    assert container_engine() is None


def test_an_answering_engine_is_used_and_the_users_choice_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_binary(tmp_path, "docker", 0)
    fake_binary(tmp_path, "podman", 0)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CIBW_CONTAINER_ENGINE", raising=False)
    assert container_engine() == "docker"
    monkeypatch.setenv("CIBW_CONTAINER_ENGINE", "podman; create_args: --userns=keep-id")
    assert container_engine() == "podman"


def test_the_test_command_is_required(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.cibuildwheel]\nbuild = 'cp311-*'\n")
    with pytest.raises(ConfigError, match="has no test-command"):
        wheels.test_command(pyproject)
    pyproject.write_text("[tool.cibuildwheel]\ntest-command = 'pytest {project}/tests'\n")
    assert wheels.test_command(pyproject) == "pytest {project}/tests"


def test_the_test_step_reads_what_cibuildwheel_reads(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[tool.cibuildwheel]\n"
        'test-command = ["pytest {project}/tests", "python -c \'import x\'"]\n'
        'test-requires = "pytest hypothesis>=6"\n'
        'test-extras = "fast, plots"\n'
        'test-sources = ["tests", "conftest.py"]\n',
        encoding="utf-8",
    )
    step = wheels.test_step(pyproject)
    assert step.command == "pytest {project}/tests && python -c 'import x'"
    assert step.requires == ("pytest", "hypothesis>=6")
    assert step.extras == ("fast", "plots")
    assert step.sources == ("tests", "conftest.py")
    pyproject.write_text('[tool.cibuildwheel]\ntest-command = "t"\ntest-requires = 3\n', "utf-8")
    with pytest.raises(ConfigError, match="test-requires is neither a string nor a list"):
        wheels.test_step(pyproject)
