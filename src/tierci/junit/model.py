"""The vocabulary every part of tierci speaks about test results.

One ``Outcome`` per test, one ``CaseResult`` per test in one report, one ``Counts`` for
any number of them (a report, a suite, a tier, a merge), one ``ReportSummary`` per file.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from tierci.errors import TierciError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

__all__ = [
    "ATTEMPT_MESSAGE_PROPERTY",
    "ATTEMPT_PROPERTY",
    "QUARANTINE_PROPERTY",
    "SUITE_ERROR_NAME",
    "UNNAMED",
    "CaseResult",
    "Counts",
    "JUnitError",
    "Outcome",
    "ReportSummary",
]

#: The testcase an ``<error>``/``<failure>`` outside any testcase becomes.
SUITE_ERROR_NAME = "[suite error]"
#: The name a testcase without one is given.
UNNAMED = "(unnamed)"
#: Testcase properties tierci's pytest plugin writes on an attempt that a rerun plugin
#: ran again: its outcome (``failed`` or ``error``) and its message.
ATTEMPT_PROPERTY = "tierci.attempt"
ATTEMPT_MESSAGE_PROPERTY = "tierci.attempt.message"
#: On a testcase: it is quarantined (the value is the reason): a failure of it is read
#: as flaky, never as a failure of its tier.
QUARANTINE_PROPERTY = "tierci.quarantined"


class Outcome(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    FLAKY = "flaky"


class JUnitError(TierciError):
    """A file that cannot be read as JUnit XML."""


class CaseResult(NamedTuple):
    """One test's result in one report (its attempts already folded into ``attempts``).

    A NamedTuple, not a dataclass: a large merge creates one per testcase.
    """

    suite: str
    classname: str
    name: str
    time_s: float
    outcome: Outcome
    message: str = ""
    details: str = ""
    file: str = ""
    attempts: int = 1
    #: The file that is part of the test's id: where the producer's names are titles
    #: (jest, mocha, ...), only a file tells two tests apart; empty for every other
    #: producer, whose classname and name already say where a test is.
    id_file: str = ""

    @property
    def test_id(self) -> str:
        """Stable identity across runs: classname and name (the suite if no classname),
        after the file where the producer's ids carry it (``id_file``).

        A name that repeats in one report is numbered by the reader (``is odd [2]``), so
        that no two tests of a report share an id.
        """
        test = f"{self.classname or self.suite}::{self.name}"
        return f"{self.id_file}::{test}" if self.id_file else test


@dataclass(frozen=True, kw_only=True, slots=True)
class Counts:
    """How many tests had each outcome; always counted from testcases, never taken
    from a suite's own attributes (Surefire, gotestsum and Jenkins files disagree)."""

    __test__ = False  # not a pytest test class, whatever its module holds

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0

    @classmethod
    def of(cls, tally: Mapping[Outcome, int]) -> Counts:
        """From a per-outcome tally (the form a hot counting loop keeps)."""
        return cls(
            passed=tally.get(Outcome.PASSED, 0),
            failed=tally.get(Outcome.FAILED, 0),
            errors=tally.get(Outcome.ERROR, 0),
            skipped=tally.get(Outcome.SKIPPED, 0),
            flaky=tally.get(Outcome.FLAKY, 0),
        )

    @property
    def tests(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped + self.flaky

    def __getitem__(self, outcome: Outcome) -> int:
        return {
            Outcome.PASSED: self.passed,
            Outcome.FAILED: self.failed,
            Outcome.ERROR: self.errors,
            Outcome.SKIPPED: self.skipped,
            Outcome.FLAKY: self.flaky,
        }[outcome]

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            passed=self.passed + other.passed,
            failed=self.failed + other.failed,
            errors=self.errors + other.errors,
            skipped=self.skipped + other.skipped,
            flaky=self.flaky + other.flaky,
        )

    def row(self) -> tuple[int, int, int, int, int, int]:
        """tests, passed, failed, errors, skipped, flaky: the order tables and stores use."""
        return (self.tests, self.passed, self.failed, self.errors, self.skipped, self.flaky)

    def to_dict(self) -> dict[str, int]:
        """As ``pipeline.json`` has always written them."""
        return {
            "tests": self.tests,
            "passed": self.passed,
            "failures": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
            "flaky": self.flaky,
        }

    def suite_attributes(self, seconds: float) -> str:
        """`` tests=… failures=… errors=… skipped=… time=…`` of a ``<testsuite>``.

        JUnit has no flaky count: a flaky test passed in the end, so it counts as a test.
        """
        return (
            f' tests="{self.tests}" failures="{self.failed}" errors="{self.errors}"'
            f' skipped="{self.skipped}" time="{seconds:.3f}"'
        )


@dataclass
class ReportSummary:
    """What one report file holds, counted from its testcases."""

    path: Path
    properties: dict[str, str] = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)
    duration_s: float = 0.0
    timestamp: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def tests(self) -> int:
        return self.counts.tests
