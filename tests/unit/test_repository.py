"""Habits of this repository that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from tierci.cli import main

REPO = Path(__file__).parents[2]
SRC = REPO / "src" / "tierci"


def test_pre_commit_runs_the_lint_locks_ruff() -> None:
    locked = re.search(r"^ruff==(\S+)", (REPO / "requirements" / "lint.txt").read_text(), re.M)
    assert locked is not None
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    pins = {dep for hook in hooks for dep in hook.get("additional_dependencies", [])}
    assert pins == {f"ruff=={locked.group(1)}"}
    assert {hook["id"] for hook in hooks} == {"ruff-check", "ruff-format", "mypy"}


def test_nothing_reads_beside_the_clone() -> None:
    """A user's clone has nothing beside it: tests, benchmarks and CI read only the
    repository (the JUnit corpus lives in tests/fixtures/junit-corpus)."""
    paths = [*REPO.glob("tests/**/*.py"), *REPO.glob("benchmarks/*.py"), REPO / ".ci" / "run"]
    beside = re.compile(r"\.\./shared|[\"']shared[\"']")
    offenders = [
        str(path.relative_to(REPO))
        for path in paths
        if path != Path(__file__) and beside.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _calls(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name):  # print(...), Console(...)
                names.append(function.id)
            elif isinstance(function, ast.Attribute) and function.attr == "Console":
                names.append(function.attr)  # rich.console.Console(...)
    return names


def test_only_console_prints() -> None:
    """Library code returns values and raises; console.py is the one place that prints
    (and makes rich Consoles)."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "console.py":
            continue
        calls = _calls(ast.parse(path.read_text(encoding="utf-8")))
        offenders += [
            f"{path.relative_to(SRC)}: {name}()" for name in calls if name in {"print", "Console"}
        ]
    assert offenders == []


def _leaf_commands() -> list[list[str]]:
    return [
        ["config"],
        ["lock"],
        ["pipeline"],
        ["junit", "merge"],
        ["report", "ingest"],
        ["report", "hud"],
        ["flaky"],
        *(["quarantine", verb] for verb in ("list", "add", "check")),
        *(
            ["wheelhouse", verb]
            for verb in ("build", "validate", "key", "pack", "unpack", "install")
        ),
        *(["env", verb] for verb in ("ensure", "status", "list", "delete")),
        ["release"],
    ]


@pytest.mark.parametrize("command", _leaf_commands(), ids=" ".join)
def test_every_command_explains_itself_with_an_example(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text
    assert "the command line over the library" not in text


def test_the_top_help_speaks_to_users(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "examples:" in text
    assert "exit codes:" in text
    assert "Thin:" not in text
