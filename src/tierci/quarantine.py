"""Quarantine as code: flaky tests that keep running without blocking, reviewed in a file.

``quarantine.toml`` at the project root (another path: ``[tool.tierci]
quarantine_file``) lists entries::

    [[quarantine]]
    test = "tests.test_net::test_retry_*"   # a test id, or a glob over test ids
    reason = "times out on the shared runner"
    link = "https://tracker.example/ISSUE-12"
    added = 2026-11-24
    expires = 2026-12-24                    # then it fails the tier, naming the entry

Test ids are the history's and the HUD's (``classname::name``, as tierci's JUnit reports
name a test). The pytest plugin runs quarantined tests; their failures do not fail the
tier and their JUnit testcase says ``quarantined``. An entry without ``expires`` ends
``DEFAULT_DAYS`` after ``added``. An expired entry fails the tier, and so does one that
quarantine_bounds refuses (no end, too far off, too broad).
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from tierci.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_FILE",
    "Entry",
    "entry_text",
    "load_quarantine",
    "matching",
    "today",
    "unused",
]

DEFAULT_FILE = "quarantine.toml"
_KEYS = {"test", "reason", "link", "added", "expires"}
#: How long a new entry lasts unless told: long enough to fix, short enough to matter.
DEFAULT_DAYS = 30


@dataclass(frozen=True, kw_only=True)
class Entry:
    test: str  # a test id or a glob
    reason: str
    link: str = ""
    added: date | None = None
    expires: date | None = None

    def matches(self, test_id: str) -> bool:
        return test_id == self.test or fnmatch.fnmatchcase(test_id, self.test)

    def expired(self, on: date) -> bool:
        return self.expires is not None and self.expires < on


def today() -> date:
    return datetime.now(UTC).date()


def load_quarantine(path: Path) -> tuple[Entry, ...]:
    """The entries of ``path`` (none when the file does not exist), each checked."""
    if not path.exists():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"{path}: not a readable quarantine file ({exc})",
            fix="correct it (TOML, [[quarantine]] entries), or restore it from git",
        ) from exc
    entries = data.get("quarantine", [])
    if not isinstance(entries, list) or set(data) - {"quarantine"}:
        raise ConfigError(
            f"{path}: expected only [[quarantine]] entries",
            fix="write each entry as [[quarantine]] with test, reason, link, added, expires",
        )
    return tuple(_entry(raw, path, number) for number, raw in enumerate(entries, start=1))


def _entry(raw: object, path: Path, number: int) -> Entry:
    where = f"{path}: quarantine entry {number}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} is not a table", fix="write it as [[quarantine]]")
    unknown = set(raw) - _KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}",
            fix=f"valid keys: {', '.join(sorted(_KEYS))}",
        )
    test, reason = raw.get("test"), raw.get("reason")
    if not isinstance(test, str) or not test.strip():
        raise ConfigError(f"{where} names no test", fix='add test = "tests.test_x::test_y"')
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(
            f"{where} ({test}) gives no reason",
            fix='add reason = "..." : a quarantine nobody can explain is never lifted',
        )
    link = raw.get("link", "")
    if not isinstance(link, str):
        raise ConfigError(f"{where} ({test}): link must be a string", fix='write link = "URL"')
    added = _date(raw.get("added"), where, "added")
    expires = _date(raw.get("expires"), where, "expires")
    if expires is None and added is not None:
        # An entry without expires lasts DEFAULT_DAYS from added; without either it has
        # no end, and quarantine_bounds refuses it.
        expires = added + timedelta(days=DEFAULT_DAYS)
    return Entry(test=test.strip(), reason=reason.strip(), link=link, added=added, expires=expires)


def _date(value: object, where: str, key: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise ConfigError(f"{where}: {key} must be a date", fix=f"write e.g. {key} = 2026-12-24")


def matching(entries: Sequence[Entry], test_id: str) -> Entry | None:
    """The first entry that quarantines ``test_id``."""
    return next((entry for entry in entries if entry.matches(test_id)), None)


def entry_text(test: str, reason: str, *, link: str = "", days: int = DEFAULT_DAYS) -> str:
    """A ready-to-paste ``[[quarantine]]`` block (strings quoted as TOML basic strings)."""
    added = today()
    lines = [
        "[[quarantine]]",
        f"test = {_toml(test)}",
        f"reason = {_toml(reason)}",
        f"link = {_toml(link)}",
        f"added = {added.isoformat()}",
        f"expires = {(added + timedelta(days=days)).isoformat()}",
    ]
    return "\n".join(lines) + "\n"


def _toml(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in escaped)
    return f'"{escaped}"'


def unused(entries: Iterable[Entry], test_ids: Iterable[str]) -> list[Entry]:
    """Entries that match none of ``test_ids``: stale, or a typo."""
    known = list(test_ids)
    return [entry for entry in entries if not any(entry.matches(test) for test in known)]
