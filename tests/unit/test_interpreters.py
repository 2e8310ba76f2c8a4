"""Every session finds a tier's Pythons the same way: PATH, then pyenv; none downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tierci.interpreters import find_python, how_to_get, make_findable


def fake_python(folder: Path, version: str) -> Path:
    """An executable that answers the version probe as Python ``version`` would."""
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / f"python{version}"
    program.write_text(f"#!/bin/sh\necho {version}\n", encoding="utf-8")
    program.chmod(0o755)
    return program


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH of one folder and an empty pyenv root: nothing of this machine's."""
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.delenv("UV_PYTHON_DOWNLOADS", raising=False)
    return tmp_path


def test_path_comes_first_then_pyenvs_newest_patch(machine: Path) -> None:
    older = fake_python(machine / "pyenv" / "versions" / "3.98.9" / "bin", "3.98")
    newer = fake_python(machine / "pyenv" / "versions" / "3.98.10" / "bin", "3.98")
    assert find_python("3.98") == str(newer)
    on_path = fake_python(machine / "bin", "3.98")
    assert find_python("3.98") == str(on_path)
    assert older.exists()


def test_a_program_that_is_not_that_python_is_passed_over(machine: Path) -> None:
    # A pyenv shim for a version pyenv does not select answers, but not with it.
    shim = machine / "bin" / "python3.98"
    shim.write_text("#!/bin/sh\necho 'pyenv: version not installed' >&2\nexit 127\n", "utf-8")
    shim.chmod(0o755)
    assert find_python("3.98") is None
    found = fake_python(machine / "pyenv" / "versions" / "3.98.1" / "bin", "3.98")
    assert find_python("3.98") == str(found)


def test_found_pythons_go_on_path_and_uv_downloads_none(machine: Path) -> None:
    pyenv_bin = machine / "pyenv" / "versions" / "3.98.1" / "bin"
    fake_python(pyenv_bin, "3.98")
    assert make_findable(["3.98", "3.97", "3.98"]) == ["3.97"]
    assert os.environ["PATH"].split(os.pathsep) == [str(machine / "bin"), str(pyenv_bin)]
    assert os.environ["UV_PYTHON_DOWNLOADS"] == "never"
    make_findable(["3.98"])  # twice is once
    assert os.environ["PATH"].count(str(pyenv_bin)) == 1


def test_a_callers_own_uv_setting_is_kept(machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "manual")
    make_findable([])
    assert os.environ["UV_PYTHON_DOWNLOADS"] == "manual"
    assert machine.is_dir()


def test_the_missing_line_says_how_to_get_it() -> None:
    assert "pyenv install 3.97" in how_to_get("3.97")
    assert "python3.97 on PATH" in how_to_get("3.97")
