"""The lint tier: the tools a project declares (else detected), none of which edits a
file, each from the lint lock; a tool that cannot run is an error naming the fix."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.support import REPO, commit_all, run
from tierci.errors import ConfigError
from tierci.lint import lint_tools

if TYPE_CHECKING:
    from pathlib import Path

UNUSED_IMPORT = "import os\n\n\ndef answer() -> int:\n    return 42\n"


@pytest.fixture
def linted(sample_project: Path, tierci_wheel: Path) -> Path:
    """The sample with a lint tier on tierci's own lint lock (ruff, mypy, zizmor),
    ruff configured to fix, and a fixable finding committed."""
    digest = hashlib.sha256(tierci_wheel.read_bytes()).hexdigest()
    lock = (REPO / "requirements" / "lint.txt").read_text(encoding="utf-8")
    lock += f"tierci @ {tierci_wheel.as_uri()} \\\n    --hash=sha256:{digest}\n"
    (sample_project / "requirements" / "lint.txt").write_text(lock, encoding="utf-8")
    pyproject = sample_project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8")
        + '\n[tool.tierci.tiers.lint]\nlock = "requirements/lint.txt"\ninstall_project = false\n'
        + "\n[tool.ruff]\nfix = true\n",
        encoding="utf-8",
    )
    noxfile = sample_project / "noxfile.py"
    noxfile.write_text(
        noxfile.read_text(encoding="utf-8")
        + '\n\n@nox.session\ndef lint(session):\n    """Lint."""\n    noxlib.lint(session)\n',
        encoding="utf-8",
    )
    (sample_project / "src" / "sample" / "unused.py").write_text(UNUSED_IMPORT, encoding="utf-8")
    commit_all(sample_project)
    return sample_project


def status(project: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_lint_reports_and_never_edits_even_with_fix_true(linted: Path) -> None:
    ran = run([sys.executable, "-m", "nox", "-s", "lint"], linted)
    assert ran.returncode == 1, ran
    assert "ruff check --no-fix ." in ran.output
    assert "F401" in ran.output  # the unused import, reported
    assert "lint: ruff, ruff-format\n" in ran.output  # no mypy config, no CI files: detected
    assert status(linted) == ""  # nothing tracked changed
    assert (linted / "src" / "sample" / "unused.py").read_text(encoding="utf-8") == UNUSED_IMPORT


def test_a_declared_tool_that_cannot_run_is_an_error_naming_the_fix(linted: Path) -> None:
    pyproject = linted / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace(
            "install_project = false\n", 'install_project = false\ntools = ["actionlint"]\n'
        ),
        encoding="utf-8",
    )
    ran = run([sys.executable, "-m", "nox", "-s", "lint"], linted, PATH="/usr/bin:/bin")
    assert ran.returncode == 4, ran
    assert "the lint tier runs actionlint, and actionlint is not on PATH" in ran.output
    assert "install the actionlint binary" in ran.output


def test_the_tools_are_detected_from_the_project(tmp_path: Path) -> None:
    assert [t.name for t in lint_tools(tmp_path, ())] == ["ruff", "ruff-format"]
    (tmp_path / "pyproject.toml").write_text("[tool.mypy]\nstrict = true\n", encoding="utf-8")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "Jenkinsfile").write_text("pipeline {}\n", encoding="utf-8")
    assert [t.name for t in lint_tools(tmp_path, ())] == [
        "ruff",
        "ruff-format",
        "mypy",
        "zizmor",
        "actionlint",
        "groovy-lint",
    ]
    assert [t.name for t in lint_tools(tmp_path, ("mypy", "ruff"))] == ["ruff", "mypy"]
    with pytest.raises(ConfigError, match="unknown 'pylint'"):
        lint_tools(tmp_path, ("pylint",))
