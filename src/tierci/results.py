"""What a tier's run came to: a status and a result that serialises to a dict."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = ["Status", "TestCounts", "TierResult"]


class Status(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_RUN = "not run"


@dataclass(frozen=True, kw_only=True)
class TestCounts:
    """Outcomes counted from testcases (never from a suite's own attributes)."""

    __test__ = False  # not a pytest test class, whatever its name says

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped - self.flaky

    def row(self) -> tuple[int, int, int, int, int, int]:
        """tests, passed, failures, errors, skipped, flaky: the order tables and stores use."""
        return (self.tests, self.passed, self.failures, self.errors, self.skipped, self.flaky)

    def to_dict(self) -> dict[str, int]:
        return {
            "tests": self.tests,
            "passed": self.passed,
            "failures": self.failures,
            "errors": self.errors,
            "skipped": self.skipped,
            "flaky": self.flaky,
        }


@dataclass(frozen=True, kw_only=True)
class TierResult:
    tier: str
    status: Status
    duration_s: float
    reason: str = ""
    counts: TestCounts | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "status": self.status.value,
            "duration_s": round(self.duration_s, 3),
            "reason": self.reason,
            "counts": self.counts.to_dict() if self.counts else None,
        }
