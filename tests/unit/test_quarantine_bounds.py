"""Quarantine is bounded: every entry ends within the horizon, and none names no test or
covers too much of a tier. The rules in process, on entries read from real files; the
date is always given, never the machine's."""

from __future__ import annotations

import fnmatch
import itertools
from datetime import date, timedelta
from pathlib import Path

import pytest

from tierci.errors import ConfigError
from tierci.quarantine import DEFAULT_DAYS, Entry, load_quarantine
from tierci.quarantine_bounds import (
    QuarantineBounds,
    names_no_test,
    refusal_error,
    refused_by_date_or_glob,
    refused_by_share,
)

ON = date(2026, 11, 24)
BOUNDS = QuarantineBounds()
#: Test ids of every shape tierci meets: pytest's, parametrized, JUnit from other tools,
#: unicode, brackets and colons in names.
IDS = (
    "tests.test_net::test_retry",
    "tests.test_m.TestX::test_y[1-2]",
    "b::c",
    "Ü.ß::ĳ[名前]",
    "github.com/o/r/pkg::TestX/sub_case",
    "src/a.test.js::renders * when [empty]",
    ":::",
    "x::y::z",
)


def entries_of(tmp_path: Path, body: str) -> tuple[Entry, ...]:
    path = tmp_path / "quarantine.toml"
    path.write_text(body, encoding="utf-8")
    return load_quarantine(path)


def entry(test: str, expires: date | None = ON) -> Entry:
    return Entry(test=test, reason="flaky", expires=expires)


UNIVERSAL = [
    "*",
    "**",
    "?*",
    "*?",
    "***?***",
    "*::*",
    "*:*",
    "*::?*",
    "*[:]*",
    "[!\u2603]*",  # all but a snowman first
    "*[!\u2603]*",
    "*[!]]*",  # a class of "not ]"
    "[!]a]*[!]a]*",
    "*[\x00-\U0010ffff]*",
    "*[!\x00-\x01]*",
]
NAMES_NOTHING = [
    "[*]*",  # ids that begin with *: a class, not a name
    "*[a]*",
    "*[A-Za-z0-9_]*",
    "*.*",
    "*/*",
    "*_*",
    "*-*",
    "::",
    "?*::?*",  # all but ":::"
    "[",
    "[*",
    "*[",
    "*]",
    "*\u200b*",  # a zero-width space
    "*\u00a0*",
    "*\u0301*",  # a lone combining accent
    "[!]",  # unclosed: [, ! and ] are literal, none a letter
]
NAMES_A_TEST = [
    "tests.test_net::test_retry_*",
    "tests.test_net::test_retry",
    "t*",
    "*T*",
    "*x*",
    "*é*",
    "*\uff54*",  # a fullwidth t: a letter, though no id here has one
    "*ß*",
    "*²*",
    "[*]a",
    "[a",  # unclosed: [ and a are literal
    "*[!]a]*b",
    "?*::test_[ab]",
]


@pytest.mark.parametrize("pattern", UNIVERSAL)
def test_a_glob_that_matches_every_id_is_refused(pattern: str) -> None:
    assert all(fnmatch.fnmatchcase(test_id, pattern) for test_id in IDS)  # it is universal
    assert names_no_test(pattern)


@pytest.mark.parametrize("pattern", NAMES_NOTHING)
def test_a_glob_of_wildcards_classes_and_punctuation_names_no_test(pattern: str) -> None:
    assert names_no_test(pattern)


@pytest.mark.parametrize("pattern", NAMES_A_TEST)
def test_a_glob_with_a_letter_or_digit_names_a_test_and_misses_ids_without_it(
    pattern: str,
) -> None:
    assert not names_no_test(pattern)
    spare = next(c for c in "bcdkqvwz" if c not in pattern)
    assert not fnmatch.fnmatchcase(f"{spare}::{spare}", pattern)


def test_every_short_glob_that_matches_every_id_is_refused() -> None:
    """Every glob of up to 4 characters over fnmatch's syntax, a letter and a colon: any
    that matches all the sample ids names no test (the rule is sound, not a list)."""
    alphabet = "*?[]!:-a"
    universal = 0
    for length in range(1, 5):
        for chars in itertools.product(alphabet, repeat=length):
            pattern = "".join(chars)
            if all(fnmatch.fnmatchcase(test_id, pattern) for test_id in IDS):
                universal += 1
                assert names_no_test(pattern), pattern
    assert universal >= 30  # the search did meet many spellings of "everything"


def test_matching_is_case_sensitive_so_case_tricks_match_nothing() -> None:
    assert not entry("TESTS.*").matches("tests.test_net::test_retry")
    assert not entry("*::TEST_RETRY").matches("tests.test_net::test_retry")


def test_entries_that_match_everything_are_refused_as_read_from_the_file(tmp_path: Path) -> None:
    body = "".join(
        f'[[quarantine]]\ntest = "{test}"\nreason = "r"\nexpires = {ON}\n\n'
        for test in ("*", " ?* ", "*::*", "\\u00a0*", "tests.test_net::test_retry")
    )
    refusals = refused_by_date_or_glob(entries_of(tmp_path, body), on=ON, bounds=BOUNDS)
    assert [refusal.tests for refusal in refusals] == [("*",), ("?*",), ("*::*",), ("*",)]
    assert all("names no test" in refusal.why for refusal in refusals)


@pytest.mark.parametrize(
    ("dates", "why"),
    [
        ("expires = 9999-12-31", "expires 9999-12-31, beyond the 90 days"),
        ("expires = 2027-02-23", "beyond the 90 days"),  # the horizon is 2027-02-22
        ("", "never expires"),
        ("added = 2030-01-01", "expires 2030-01-31, beyond"),  # DEFAULT_DAYS from added
        ("expires = 2026-11-23", "expired 2026-11-23"),
        ("expires = 2027-02-23T00:00:00Z", "beyond the 90 days"),
    ],
)
def test_an_entry_must_end_within_the_horizon(tmp_path: Path, dates: str, why: str) -> None:
    body = f'[[quarantine]]\ntest = "tests.test_net::test_retry"\nreason = "r"\n{dates}\n'
    (refusal,) = refused_by_date_or_glob(entries_of(tmp_path, body), on=ON, bounds=BOUNDS)
    assert why in refusal.why
    assert refusal.tests == ("tests.test_net::test_retry",)


@pytest.mark.parametrize(
    "dates",
    [
        "expires = 2027-02-22",  # the last day of the horizon
        "expires = 2026-11-24",  # its last day is today
        "added = 2026-11-24",  # DEFAULT_DAYS from added
        "added = 2026-10-25",
    ],
)
def test_an_entry_within_the_horizon_is_accepted(tmp_path: Path, dates: str) -> None:
    body = f'[[quarantine]]\ntest = "tests.test_net::test_retry"\nreason = "r"\n{dates}\n'
    assert refused_by_date_or_glob(entries_of(tmp_path, body), on=ON, bounds=BOUNDS) == []


def test_an_entry_without_expires_lasts_the_default_days_from_added(tmp_path: Path) -> None:
    body = '[[quarantine]]\ntest = "a::b"\nreason = "r"\nadded = 2026-11-01\n'
    (read,) = entries_of(tmp_path, body)
    assert read.expires == date(2026, 11, 1) + timedelta(days=DEFAULT_DAYS)
    assert read.expired(date(2026, 12, 2))


def test_the_horizon_is_the_projects(tmp_path: Path) -> None:
    body = '[[quarantine]]\ntest = "a::b"\nreason = "r"\nexpires = 2026-12-09\n'
    entries = entries_of(tmp_path, body)
    assert refused_by_date_or_glob(entries, on=ON, bounds=QuarantineBounds(max_days=15)) == []
    (refusal,) = refused_by_date_or_glob(entries, on=ON, bounds=QuarantineBounds(max_days=14))
    assert "beyond the 14 days" in refusal.why
    assert "expires = 2026-12-08 or sooner" in refusal.fix


def tier_of(count: int) -> list[str]:
    return [f"tests.test_m::test_{number:03}" for number in range(count)]


@pytest.mark.parametrize(
    ("pattern", "refused"),
    [
        ("tests.test_m::test_00?", True),  # 10 of 100: 10 %
        ("tests.test_m::test_00[0-5]", True),  # 6 of 100
        ("tests.test_m::test_00[0-4]", False),  # 5 of 100: 5 %, not more
        ("tests.test_m::test_0[0-9][0-4]", True),  # half
        ("tests.test_*", True),  # every one
        ("tests.test_m::test_007", False),
        ("tests.test_other::*", False),  # none (an unused entry, not a broad one)
    ],
)
def test_an_entry_may_match_at_most_the_share_of_the_tiers_tests(
    pattern: str, refused: bool
) -> None:
    refusals = refused_by_share([entry(pattern)], tier_of(100), bounds=BOUNDS, tier="tier 'unit'")
    assert bool(refusals) is refused
    if refused:
        assert refusals[0].tests == (pattern,)
        assert "of the 100 tests of tier 'unit'" in refusals[0].why


def test_one_test_is_never_too_broad_but_every_test_of_two_is() -> None:
    two = tier_of(2)
    assert refused_by_share([entry(two[0])], two, bounds=BOUNDS, tier="t") == []
    assert refused_by_share([entry("tests.test_m::test_00[01]")], two, bounds=BOUNDS, tier="t")
    (lone,) = tier_of(1)
    assert refused_by_share([entry(lone)], [lone], bounds=BOUNDS, tier="t") == []


def test_every_test_is_refused_even_where_the_share_allows_all() -> None:
    anything = QuarantineBounds(max_percent=100)
    (refusal,) = refused_by_share(
        [entry("tests.test_m::*")], tier_of(10), bounds=anything, tier="t"
    )
    assert "every one of them" in refusal.why
    nine = [entry("tests.test_m::test_00[0-8]")]
    assert refused_by_share(nine, tier_of(10), bounds=anything, tier="t") == []


def test_entries_that_together_match_every_test_are_refused() -> None:
    tests = tier_of(3)
    (refusal,) = refused_by_share([entry(t) for t in tests], tests, bounds=BOUNDS, tier="t")
    assert refusal.tests == tuple(tests)
    assert "could never fail" in refusal.why
    assert refused_by_share([entry(t) for t in tests[:2]], tests, bounds=BOUNDS, tier="t") == []


def test_no_tests_known_refuses_nothing_by_share() -> None:
    assert refused_by_share([entry("tests.*")], [], bounds=BOUNDS, tier="t") == []


def test_the_error_names_the_file_every_entry_and_the_fixes(tmp_path: Path) -> None:
    body = (
        '[[quarantine]]\ntest = "*"\nreason = "r"\nexpires = 2026-12-01\n\n'
        '[[quarantine]]\ntest = "a::b"\nreason = "r"\nexpires = 9999-12-31\n'
    )
    path = tmp_path / "quarantine.toml"
    path.write_text(body, encoding="utf-8")
    error = refusal_error(
        path, refused_by_date_or_glob(load_quarantine(path), on=ON, bounds=BOUNDS)
    )
    assert isinstance(error, ConfigError)
    assert str(path) in error.message
    assert "2 quarantine entr(y/ies) refused: '*': names no test" in error.message
    assert "'a::b': expires 9999-12-31" in error.message
    assert error.fix is not None
    assert "write the test's module" in error.fix
    assert "set expires = 2027-02-22 or sooner" in error.fix
