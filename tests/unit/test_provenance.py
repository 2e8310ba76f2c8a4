"""Which commit a run is filed under: CI's word, else git's, marked when the tree is not
the commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tierci.provenance import DIRTY_SUFFIX, commit_sha, commit_time


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


@pytest.mark.parametrize(
    "change",
    ["edit a test", "add a test", "stage a deletion"],
)
def test_a_changed_tree_is_filed_as_dirty_never_as_its_commit(
    repository: tuple[Path, str], change: str
) -> None:
    root, head = repository
    if change == "edit a test":
        (root / "tests" / "test_a.py").write_text("def test_a():\n    assert 0\n", "utf-8")
    elif change == "add a test":
        (root / "tests" / "test_b.py").write_text("def test_b():\n    pass\n", "utf-8")
    else:
        subprocess.run(["git", "rm", "-q", "tests/test_a.py"], cwd=root, check=True)
    assert commit_sha(root) == head + DIRTY_SUFFIX
    (root / "docs").mkdir()
    assert commit_sha(root / "docs") == head + DIRTY_SUFFIX  # from a subfolder too
    # A dirty tree has no commit time: its results are ordered by when they came.
    assert commit_time(head + DIRTY_SUFFIX, root) == ""


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

    row = CommitRow(sha="a" * 40 + DIRTY_SUFFIX, branch="main", ref_time="", cells={})
    assert row.short == "a" * 12 + DIRTY_SUFFIX
    assert CommitRow(sha="b" * 40, branch="", ref_time="", cells={}).short == "b" * 12
