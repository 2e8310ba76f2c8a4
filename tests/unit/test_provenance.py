"""Which commit a run is filed under: CI's word, else git's, marked when the tree is not
the commit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tierci.provenance import (
    COMMIT_VARIABLE,
    DIRTY_SUFFIX,
    commit_sha,
    commit_time,
    is_dirty,
    pin_commit,
)


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, str]:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_a():\n    pass\n", "utf-8")
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "a"],
    ):
        subprocess.run(command, cwd=tmp_path, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    return tmp_path, head


def test_a_clean_tree_is_its_commit(repository: tuple[Path, str]) -> None:
    root, head = repository
    assert commit_sha(root) == head
    assert commit_time(head, root)


def test_what_the_tiers_write_leaves_the_tree_clean(repository: tuple[Path, str]) -> None:
    root, head = repository
    for written in (
        ".nox/unit/bin/python",
        "build/junit/unit.xml",
        "dist/x-1.0.tar.gz",
        "tests/__pycache__/test_a.cpython-311.pyc",
        ".pytest_cache/v/x",
    ):
        (root / written).parent.mkdir(parents=True, exist_ok=True)
        (root / written).write_text("x", encoding="utf-8")  # fmt: skip
    assert commit_sha(root) == head


def _change(root: Path, change: str) -> None:
    if change == "edit a test":
        (root / "tests" / "test_a.py").write_text("def test_a():\n    assert 0\n", "utf-8")
    elif change == "add a test":
        (root / "tests" / "test_b.py").write_text("def test_b():\n    pass\n", "utf-8")
    else:
        subprocess.run(["git", "rm", "-q", "tests/test_a.py"], cwd=root, check=True)


@pytest.mark.parametrize("change", ["edit a test", "add a test", "stage a deletion"])
def test_a_changed_tree_is_filed_as_dirty_never_as_its_commit(
    repository: tuple[Path, str], change: str
) -> None:
    root, head = repository
    _change(root, change)
    sha = commit_sha(root)
    assert sha.startswith(head + DIRTY_SUFFIX + ".")
    assert is_dirty(sha)
    assert not is_dirty(head)
    (root / "docs").mkdir()
    assert commit_sha(root / "docs") == sha  # from a subfolder too: the same state
    # A dirty tree has no commit time: its results are ordered by when they came.
    assert commit_time(sha, root) == ""


def test_each_edit_of_a_tree_is_its_own_state(repository: tuple[Path, str]) -> None:
    """One edit's results never fill the cells of another: the states differ, while
    the same tree gives the same state again (so a rerun still lands in its row)."""
    root, head = repository
    test_file = root / "tests" / "test_a.py"
    test_file.write_text("def test_a():\n    assert 0\n", "utf-8")
    first = commit_sha(root)
    assert commit_sha(root) == first
    test_file.write_text("def test_a():\n    assert 1\n", "utf-8")
    second = commit_sha(root)
    assert second != first
    assert second.startswith(head + DIRTY_SUFFIX)
    (root / "notes.txt").write_text("x", "utf-8")  # an untracked file is part of it too
    assert commit_sha(root) not in (first, second)
    (root / "notes.txt").unlink()
    assert commit_sha(root) == second
    test_file.write_text("def test_a():\n    pass\n", "utf-8")  # back to HEAD's bytes
    assert commit_sha(root) == head


def test_an_invocation_pins_the_tree_it_started_with(
    repository: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = repository
    monkeypatch.delenv(COMMIT_VARIABLE, raising=False)
    (root / "tests" / "test_a.py").write_text("def test_a():\n    assert 0\n", "utf-8")
    pinned = pin_commit(root)
    (root / "tests" / "test_a.py").write_text("def test_a():\n    assert 1\n", "utf-8")
    assert commit_sha(root) == pinned  # an edit made while the pipeline runs
    assert os.environ[COMMIT_VARIABLE] == pinned


def test_ci_commit_is_never_pinned_over(
    repository: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = repository
    monkeypatch.setenv("GITHUB_SHA", "e" * 40)
    assert pin_commit(root) == "e" * 40
    assert COMMIT_VARIABLE not in os.environ


def test_ci_names_the_commit_it_tests(
    repository: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = repository
    (root / "stray.txt").write_text("x", encoding="utf-8")
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    assert commit_sha(root) == "f" * 40


def test_outside_git_the_commit_is_unknown(tmp_path: Path) -> None:
    assert commit_sha(tmp_path) == "unknown"


def test_the_hud_shows_a_dirty_trees_mark() -> None:
    from tierci.report.hud.model import CommitRow  # noqa: PLC0415 - only this test

    dirty = "a" * 40 + DIRTY_SUFFIX + ".0123abcd"
    row = CommitRow(sha=dirty, branch="main", ref_time="", cells={})
    assert row.short == "a" * 12 + DIRTY_SUFFIX + ".0123abcd"
    assert CommitRow(sha="b" * 40, branch="", ref_time="", cells={}).short == "b" * 12
