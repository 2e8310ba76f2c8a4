"""What the lint tier runs: the tools a project declares, else what it has.

``[tool.tierci.tiers.lint] tools = [...]`` names them; without it they are detected:
ruff's check and format check always, mypy where it is configured (``[tool.mypy]``,
``mypy.ini``, ``.mypy.ini``, ``setup.cfg``'s ``[mypy]``), zizmor and actionlint where
``.github/workflows`` exists, npm-groovy-lint where a ``Jenkinsfile`` does. No tool
ever edits a file: ``ruff check --no-fix`` whatever the project's ``fix = true`` says,
``ruff format --check``. The Python tools run from the lint lock (its versions); one
the lock lacks is an error naming the fix, before anything runs.
"""

from __future__ import annotations

import configparser
import tomllib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tierci.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["LINT_TOOLS", "LintTool", "lint_tools"]

#: Pinned: npm-groovy-lint 16+ needs Node >= 22.15; 15 runs on Node 20 with Java 17.
NPM_GROOVY_LINT = "npm-groovy-lint@15.2.2"


@dataclass(frozen=True)
class LintTool:
    name: str
    #: The command, with ``{workflows}`` / ``{jenkinsfile}`` filled in by the session.
    command: tuple[str, ...]
    #: Installed from the lint lock (its version is the lock's); else a host program.
    from_lock: bool = field(kw_only=True)
    #: Where to get it when it is missing.
    fix: str = field(kw_only=True)


_FROM_LOCK = "add {} to requirements/lint.in"
_GROOVY_LINT = (
    *("npx", "--yes", NPM_GROOVY_LINT),
    *("--noserver", "--failon", "warning", "--output", "txt", "{jenkinsfile}"),
)
LINT_TOOLS: dict[str, LintTool] = {
    tool.name: tool
    for tool in (
        LintTool(
            "ruff",
            ("ruff", "check", "--no-fix", "."),
            from_lock=True,
            fix=_FROM_LOCK.format("ruff"),
        ),
        LintTool(
            "ruff-format",
            ("ruff", "format", "--check", "."),
            from_lock=True,
            fix=_FROM_LOCK.format("ruff"),
        ),
        LintTool("mypy", ("mypy",), from_lock=True, fix=_FROM_LOCK.format("mypy")),
        LintTool(
            "zizmor",
            ("zizmor", "--offline", "--strict-collection", "{workflows}"),
            from_lock=True,
            fix=_FROM_LOCK.format("zizmor"),
        ),
        LintTool(
            "actionlint",
            ("actionlint",),
            from_lock=False,
            fix="install the actionlint binary on PATH (no installable wheel reaches it offline)",
        ),
        LintTool(
            "groovy-lint",
            _GROOVY_LINT,
            from_lock=False,
            fix="install Node.js 20+ (npx) and Java 17 (npm-groovy-lint needs both)",
        ),
    )
}


def lint_tools(root: Path, declared: tuple[str, ...]) -> list[LintTool]:
    """The tools the project's lint tier runs, in a fixed order (fast ones first)."""
    unknown = [name for name in declared if name not in LINT_TOOLS]
    if unknown:
        raise ConfigError(
            f"{root / 'pyproject.toml'}: [tool.tierci.tiers.lint] tools has unknown "
            f"{', '.join(repr(name) for name in unknown)}",
            fix=f"choose from {', '.join(LINT_TOOLS)}",
        )
    chosen = set(declared) if declared else _detected(root)
    return [tool for name, tool in LINT_TOOLS.items() if name in chosen]


def _detected(root: Path) -> set[str]:
    found = {"ruff", "ruff-format"}
    if _mypy_configured(root):
        found.add("mypy")
    if (root / ".github" / "workflows").is_dir():
        found |= {"zizmor", "actionlint"}
    if (root / "Jenkinsfile").is_file():
        found.add("groovy-lint")
    return found


def _mypy_configured(root: Path) -> bool:
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            if "mypy" in tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}):
                return True
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return False
    if (root / "mypy.ini").is_file() or (root / ".mypy.ini").is_file():
        return True
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser()
        try:
            parser.read(setup_cfg, encoding="utf-8")
        except configparser.Error:
            return False
        return parser.has_section("mypy")
    return False
