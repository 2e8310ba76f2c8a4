"""``[tool.tierci]`` in pyproject.toml, resolved once into frozen dataclasses.

Every tier has a built-in default, so a project with no table at all still gets the
standard tiers; a project's table overrides field by field and may add tiers. Unknown
keys and wrong types are errors that name the file, the table and the fix.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierci.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DEFAULT_TIERS",
    "TierConfig",
    "TierciConfig",
    "find_pyproject",
    "load_config",
    "parse_config",
]

#: Marker expressions of the built-in test tiers; ``None`` means the tier runs no pytest.
_BUILTIN_MARKERS: dict[str, str | None] = {
    "lint": None,
    "unit": "not heavy and not device and not e2e",
    "packaging": None,
    "heavy": "heavy",
    "device": "device",
}
DEFAULT_TIERS: tuple[str, ...] = tuple(_BUILTIN_MARKERS)

_TOP_KEYS: dict[str, type] = {"junit_dir": str, "tiers": dict, "project_dependency_locks": list}
_TIER_KEYS: dict[str, type] = {
    "lock": str,
    "markers": str,
    "allow_empty": bool,
    "install_project": bool,
    "pytest_args": list,
}
_TYPE_WORDS = {str: "a string", bool: "a boolean (true/false)", list: "a list", dict: "a table"}


@dataclass(frozen=True, kw_only=True)
class TierConfig:
    """One tier: which lock its environment is synced to and which tests it selects."""

    name: str
    lock: Path
    markers: str | None
    allow_empty: bool
    install_project: bool
    pytest_args: tuple[str, ...]

    @property
    def lock_input(self) -> Path:
        """The ``.in`` file the lock is compiled from."""
        return self.lock.with_suffix(".in")

    @property
    def runs_tests(self) -> bool:
        return self.markers is not None


@dataclass(frozen=True, kw_only=True)
class TierciConfig:
    """The resolved configuration of one project."""

    root: Path
    pyproject: Path
    junit_dir: Path
    tiers: Mapping[str, TierConfig]
    #: Locks that no tier installs the project from but that still need its
    #: dependencies (``bootstrap``, when the project runs its own tools from source).
    project_dependency_locks: tuple[str, ...] = ()

    def tier(self, name: str) -> TierConfig:
        try:
            return self.tiers[name]
        except KeyError:
            raise ConfigError(
                f"{self.pyproject}: no tier named {name!r}{_did_you_mean(name, self.tiers)}",
                fix=f"use one of: {', '.join(sorted(self.tiers))}, "
                f"or add [tool.tierci.tiers.{name}] to {self.pyproject.name}",
            ) from None

    def junit_path(self, tier: str, shard: str | None = None) -> Path:
        """``<junit_dir>/<tier>[-<i>of<n>].xml``: one file per tier and shard."""
        suffix = f"-{shard.replace('/', 'of')}" if shard else ""
        return self.junit_dir / f"{tier}{suffix}.xml"


def find_pyproject(start: Path) -> Path:
    """The nearest pyproject.toml at or above ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no pyproject.toml at or above {start}",
        fix="run from the project's directory, or create pyproject.toml with a [tool.tierci] table",
    )


def load_config(start: Path | None = None) -> TierciConfig:
    """Read and validate ``[tool.tierci]`` of the project containing ``start``."""
    pyproject = find_pyproject(start or Path.cwd())
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{pyproject}: not valid TOML: {exc}", fix="correct the syntax at the named line"
        ) from exc
    table = data.get("tool", {}).get("tierci", {})
    return parse_config(table, pyproject=pyproject)


def parse_config(table: Mapping[str, Any], *, pyproject: Path) -> TierciConfig:
    """Validate a ``[tool.tierci]`` table already read from ``pyproject``."""
    where = f"{pyproject}: [tool.tierci]"
    _check_keys(table, _TOP_KEYS, where=where)
    root = pyproject.parent
    tiers_table: Mapping[str, Any] = table.get("tiers", {})
    names = list(DEFAULT_TIERS) + [n for n in tiers_table if n not in DEFAULT_TIERS]
    tiers: dict[str, TierConfig] = {}
    for name in names:
        entry = tiers_table.get(name, {})
        if not isinstance(entry, dict):
            raise ConfigError(
                f"{where}.tiers.{name} must be a table, got {type(entry).__name__}",
                fix=f"write it as [tool.tierci.tiers.{name}] with keys {', '.join(_TIER_KEYS)}",
            )
        tiers[name] = _parse_tier(name, entry, root=root, where=f"{where}.tiers.{name}")
    return TierciConfig(
        root=root,
        pyproject=pyproject,
        junit_dir=root / table.get("junit_dir", "build/junit"),
        tiers=tiers,
        project_dependency_locks=tuple(_strings(table, "project_dependency_locks", where=where)),
    )


def _parse_tier(name: str, entry: Mapping[str, Any], *, root: Path, where: str) -> TierConfig:
    _check_keys(entry, _TIER_KEYS, where=where)
    default_markers = _BUILTIN_MARKERS.get(name, name)
    pytest_args = _strings(entry, "pytest_args", where=where)
    return TierConfig(
        name=name,
        lock=root / entry.get("lock", f"requirements/{name}.txt"),
        markers=entry.get("markers", default_markers),
        allow_empty=entry.get("allow_empty", False),
        install_project=entry.get("install_project", True),
        pytest_args=tuple(pytest_args),
    )


def _strings(table: Mapping[str, Any], key: str, *, where: str) -> list[str]:
    values = table.get(key, [])
    if not all(isinstance(value, str) for value in values):
        raise ConfigError(f"{where}: {key} must be a list of strings", fix='write e.g. ["a", "b"]')
    return list(values)


def _check_keys(table: Mapping[str, Any], schema: Mapping[str, type], *, where: str) -> None:
    for key, value in table.items():
        expected = schema.get(key)
        if expected is None:
            raise ConfigError(
                f"{where}: unknown key {key!r}{_did_you_mean(key, schema)}",
                fix=f"valid keys here are: {', '.join(schema)}",
            )
        if not isinstance(value, expected):
            raise ConfigError(
                f"{where}: {key} must be {_TYPE_WORDS[expected]}, "
                f"got {type(value).__name__} {value!r}",
                fix=f"change {key} to {_TYPE_WORDS[expected]}",
            )


def _did_you_mean(word: str, choices: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
