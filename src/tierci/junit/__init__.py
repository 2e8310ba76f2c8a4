"""JUnit XML of every dialect: one model, a streaming reader, a whole-document fast
path, and the merge of many reports (``tierci.junit.merge``)."""

from __future__ import annotations

from tierci.junit.model import (
    SUITE_ERROR_NAME,
    UNNAMED,
    CaseResult,
    Counts,
    JUnitError,
    Outcome,
    ReportSummary,
)
from tierci.junit.read import ReportReader, count_outcomes, summarize

__all__ = [
    "SUITE_ERROR_NAME",
    "UNNAMED",
    "CaseResult",
    "Counts",
    "JUnitError",
    "Outcome",
    "ReportReader",
    "ReportSummary",
    "count_outcomes",
    "summarize",
]
