"""What `nox -s report` says of each report: its failures by name, never only a count."""

from __future__ import annotations

from tierci.junit import Counts
from tierci.noxlib import _counted


def test_a_report_with_a_failure_says_so() -> None:
    counts = Counts(passed=924, failed=1)
    assert _counted(925, counts) == "925 tests, 1 failed"


def test_every_kind_of_outcome_that_is_not_a_pass_is_named() -> None:
    counts = Counts(passed=3, failed=2, errors=1, flaky=4, skipped=5)
    assert _counted(15, counts) == "15 tests, 2 failed, 1 error, 4 flaky, 5 skipped"
    assert _counted(3, Counts(passed=1, errors=2)) == "3 tests, 2 errors"


def test_a_green_report_is_its_count() -> None:
    assert _counted(7, Counts(passed=7)) == "7 tests"
