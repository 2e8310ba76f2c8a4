"""How far a quarantine may reach: every entry ends, soon, and none covers a tier.

A quarantine entry turns failures into passes, so an unbounded one hides a broken tier
for good. These rules refuse, by name:

- an entry with no end (neither ``expires`` nor ``added``, whose ``DEFAULT_DAYS`` give
  one), or one that ends more than ``[tool.tierci] quarantine_max_days`` (90) from today;
- a glob that spells no letter or digit of a test outside its wildcards and ``[...]``
  classes (``*``, ``?*``, ``*::*``, ``[!x]*``): it names no test, and may match them all.
  This needs no test list, so ``tierci quarantine check`` applies it anywhere;
- where the tier's tests are known (the plugin's collected items, the history's latest
  commit): an entry that matches more than ``quarantine_max_percent`` (5) of them, or
  every one of them, and entries that together match every one of them. An entry that
  matches a single test is never too broad: it is as narrow as an entry gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from tierci.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import date
    from pathlib import Path

    from tierci.quarantine import Entry

__all__ = [
    "MAX_DAYS_CEILING",
    "QuarantineBounds",
    "Refusal",
    "names_no_test",
    "refusal_error",
    "refused_by_date_or_glob",
    "refused_by_share",
]

#: The most ``quarantine_max_days`` may be: a quarantine longer than a year is a home.
MAX_DAYS_CEILING = 365
#: An entry that matches one test is as narrow as an entry gets: never too broad.
_NARROWEST = 1


@dataclass(frozen=True, kw_only=True)
class QuarantineBounds:
    """``[tool.tierci] quarantine_max_days`` and ``quarantine_max_percent``."""

    #: An entry must expire at most this many days from today.
    max_days: int = 90
    #: An entry may match at most this share (in %) of a tier's tests (one test always).
    max_percent: float = 5.0


@dataclass(frozen=True, kw_only=True)
class Refusal:
    """An entry (or, for the union rule, several) that may not quarantine anything."""

    tests: tuple[str, ...]  # the entry's test as written; for the union rule, all of them
    why: str
    fix: str

    def line(self) -> str:
        return f"{', '.join(map(repr, self.tests))}: {self.why}"


def refused_by_date_or_glob(
    entries: Iterable[Entry], *, on: date, bounds: QuarantineBounds
) -> list[Refusal]:
    """The entries refused without knowing any test: no end, an end beyond the horizon,
    expired, or a glob that names no test."""
    horizon = on + timedelta(days=bounds.max_days)
    refusals = []
    for entry in entries:
        if names_no_test(entry.test):
            refusals.append(
                Refusal(
                    tests=(entry.test,),
                    why="names no test: it spells no letter or digit outside its wildcards "
                    "and [...] classes, so it may match every test",
                    fix="write the test's module, class or name, e.g. "
                    '"tests.test_net::test_retry_*"',
                )
            )
        if entry.expires is None:
            refusals.append(
                Refusal(
                    tests=(entry.test,),
                    why="never expires (no expires, and no added to count from)",
                    fix=f"add expires = {horizon.isoformat()} or sooner "
                    f"(at most quarantine_max_days = {bounds.max_days} from today)",
                )
            )
        elif entry.expires > horizon:
            refusals.append(
                Refusal(
                    tests=(entry.test,),
                    why=f"expires {entry.expires}, beyond the {bounds.max_days} days "
                    f"quarantine_max_days allows (until {horizon})",
                    fix=f"set expires = {horizon.isoformat()} or sooner; a longer quarantine "
                    "means raising [tool.tierci] quarantine_max_days in review",
                )
            )
        elif entry.expired(on):
            refusals.append(
                Refusal(
                    tests=(entry.test,),
                    why=f"expired {entry.expires}: {entry.reason}",
                    fix="fix the test and remove its entry, or extend expires (with a reason) "
                    "in review",
                )
            )
    return refusals


def refused_by_share(
    entries: Sequence[Entry],
    test_ids: Iterable[str],
    *,
    bounds: QuarantineBounds,
    tier: str,
) -> list[Refusal]:
    """The entries too broad for the tier whose tests are ``test_ids``: each matching
    more than ``bounds.max_percent`` of them (two or more), or all of them, and all the
    entries where together they match every one (two or more)."""
    tests = list(dict.fromkeys(test_ids))
    total = len(tests)
    covered: set[str] = set()
    refusals = []
    for entry in entries:
        matched = [test for test in tests if entry.matches(test)]
        covered.update(matched)
        share = 100 * len(matched) / total if total else 0.0
        if len(matched) <= _NARROWEST or (share <= bounds.max_percent and len(matched) < total):
            continue
        refusals.append(
            Refusal(
                tests=(entry.test,),
                why=f"matches {len(matched)} of the {total} tests of {tier} ({share:.0f} %), "
                + (
                    "every one of them"
                    if len(matched) == total
                    else f"more than quarantine_max_percent = {bounds.max_percent:g}"
                ),
                fix="name the flaky tests one by one, or a narrower glob; a broader "
                "quarantine means raising [tool.tierci] quarantine_max_percent in review",
            )
        )
    if total > _NARROWEST and len(covered) == total and not refusals:
        refusals.append(
            Refusal(
                tests=tuple(entry.test for entry in entries),
                why=f"together these entries match every one of the {total} tests of {tier}: "
                "it could never fail",
                fix="remove the entries of the tests that pass now, and fix the rest",
            )
        )
    return refusals


def names_no_test(pattern: str) -> bool:
    """True where ``pattern`` has no literal letter or digit, read as ``fnmatch`` reads it
    (``*``, ``?`` and closed ``[...]`` classes are not literal; an unclosed ``[`` is).

    Sound for "matches every test": where a literal letter or digit ``c`` stands, every
    id the pattern matches contains ``c``, and the id ``a::b`` (or ``b::b``) does not."""
    index, end = 0, len(pattern)
    while index < end:
        char = pattern[index]
        index += 1
        if char == "[":
            close = _class_end(pattern, index)
            if close is not None:
                index = close + 1
                continue
        elif char in "*?":
            continue
        if char.isalnum():
            return False
    return True


def _class_end(pattern: str, index: int) -> int | None:
    """Where the class opened just before ``index`` closes, as fnmatch.translate finds
    it (a leading ``!`` and a first ``]`` belong to the class); None: unclosed."""
    if index < len(pattern) and pattern[index] == "!":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1
    close = pattern.find("]", index)
    return close if close >= 0 else None


def refusal_error(path: Path | None, refusals: Sequence[Refusal]) -> ConfigError:
    """One error naming the file and every refused entry, each with its fix."""
    listing = "; ".join(refusal.line() for refusal in refusals)
    return ConfigError(
        f"{path}: {len(refusals)} quarantine entr(y/ies) refused: {listing}",
        fix="; ".join(dict.fromkeys(refusal.fix for refusal in refusals)),
    )
