"""An env folder that cannot hold environments, for real: `tierci env …` processes with
TIERCI_ENV_DIR (or [tool.tierci] env_dir) at a file, below a file, or at an env's own
folder that is a file. Every verb exits 7 naming the path; nothing is created or deleted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.test_wheelhouse import SMALL_LOCKS
from tests.support import Ran, tierci

VERBS = [
    ("env", "ensure", "worker"),
    ("env", "status", "worker"),
    ("env", "status", "--json"),
    ("env", "list"),
    ("env", "delete", "worker"),
]
CONTENT = "not a folder: tierci must leave this file as it is\n"


def make_project(folder: Path, *, extra: str = "") -> Path:
    (folder / "requirements").mkdir(parents=True)
    shutil.copy(SMALL_LOCKS / "six-1.17.txt", folder / "requirements" / "env.txt")
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "env-user"\nversion = "1"\n\n'
        f'[tool.tierci]\n{extra}\n[tool.tierci.envs.worker]\nlock = "requirements/env.txt"\n',
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "envs-file"
    path.write_text(CONTENT, encoding="utf-8")
    return path


def flat(result: Ran) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize("verb", VERBS, ids=lambda verb: " ".join(verb[1:]))
def test_an_env_dir_that_is_a_file_is_exit_7_naming_it(
    project: Path, a_file: Path, tmp_path: Path, verb: tuple[str, ...]
) -> None:
    before = files_under(tmp_path)
    result = tierci(project, *verb, TIERCI_ENV_DIR=str(a_file))
    assert result.returncode == 7, result
    assert f"{a_file} is a file, not a folder" in flat(result)
    assert "fix: set TIERCI_ENV_DIR to a folder tierci can write" in flat(result)
    assert "deleted" not in flat(result)
    assert "Traceback" not in flat(result)
    assert a_file.read_text(encoding="utf-8") == CONTENT
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("verb", VERBS, ids=lambda verb: " ".join(verb[1:]))
def test_an_env_dir_below_a_file_is_exit_7_naming_the_file(
    project: Path, a_file: Path, tmp_path: Path, verb: tuple[str, ...]
) -> None:
    before = files_under(tmp_path)
    result = tierci(project, *verb, TIERCI_ENV_DIR=str(a_file / "envs"))
    assert result.returncode == 7, result
    assert f"{a_file} is a file, not a folder (so {a_file}/envs/worker cannot be made)" in flat(
        result
    )
    assert a_file.read_text(encoding="utf-8") == CONTENT
    assert files_under(tmp_path) == before


def test_an_env_dir_from_the_config_that_is_a_file_names_the_setting(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", extra='env_dir = "envs"\n')
    (project / "envs").write_text(CONTENT, encoding="utf-8")
    result = tierci(project, "env", "ensure", "worker")  # TIERCI_ENV_DIR unset: the config's
    assert result.returncode == 7, result
    assert f"{project / 'envs'} is a file, not a folder" in flat(result)
    assert f"fix: set [tool.tierci] env_dir in {project / 'pyproject.toml'}" in flat(result)
    assert (project / "envs").read_text(encoding="utf-8") == CONTENT


@pytest.mark.parametrize("verb", VERBS, ids=lambda verb: " ".join(verb[1:]))
def test_an_envs_own_folder_that_is_a_file_is_exit_7_not_deleted_nothing(
    project: Path, tmp_path: Path, verb: tuple[str, ...]
) -> None:
    envs = tmp_path / "envs"
    envs.mkdir()
    home = envs / "worker"
    home.write_text(CONTENT, encoding="utf-8")
    result = tierci(project, *verb, TIERCI_ENV_DIR=str(envs))
    assert result.returncode == 7, result
    assert f"{home} is a file, not a folder" in flat(result)
    assert "0.0 MB" not in flat(result)
    assert home.read_text(encoding="utf-8") == CONTENT
    assert files_under(envs) == ["worker"]


PROC = Path("/proc/self")


@pytest.mark.skipif(not PROC.is_dir(), reason="needs Linux /proc: a folder no one may write")
@pytest.mark.parametrize("verb", VERBS, ids=lambda verb: " ".join(verb[1:]))
@pytest.mark.parametrize(
    ("env_dir", "expected"),
    [
        ("/proc/tierci-envs", "env folder /proc/tierci-envs cannot be made: "),
        ("/proc/self", "env folder /proc/self is not writable"),
    ],
)
def test_an_env_dir_that_cannot_be_made_or_written_is_exit_7_naming_it(
    project: Path, verb: tuple[str, ...], env_dir: str, expected: str
) -> None:
    result = tierci(project, *verb, TIERCI_ENV_DIR=env_dir)
    assert result.returncode == 7, result
    assert expected in flat(result)
    assert "fix: set TIERCI_ENV_DIR to a folder tierci can write" in flat(result)
    assert not Path("/proc/tierci-envs").exists()
