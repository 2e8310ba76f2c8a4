"""Reading JUnit XML safely: no entity resolution, no DTD, no network, streaming.

Counts are recomputed from ``<testcase>`` elements; the totals a suite claims in its
attributes are not trusted (Surefire, gotestsum and Jenkins files disagree with their
own testcases).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from tierci.errors import TierciError
from tierci.results import TestCounts

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["JUnitError", "count_outcomes"]

_OUTCOME_TAGS = {"failure": "failures", "error": "errors", "skipped": "skipped"}


class JUnitError(TierciError):
    """A JUnit file that cannot be read as JUnit XML."""


def count_outcomes(path: Path) -> TestCounts:
    """Count a report's testcases by outcome, streaming, in bounded memory."""
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    seen_root = False
    try:
        for _, element in etree.iterparse(
            str(path),
            events=("end",),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
        ):
            seen_root = seen_root or element.tag in ("testsuites", "testsuite")
            if element.tag == "testcase":
                totals["tests"] += 1
                outcome = next(
                    (_OUTCOME_TAGS[c.tag] for c in element if c.tag in _OUTCOME_TAGS), None
                )
                if outcome:
                    totals[outcome] += 1
                element.clear(keep_tail=False)
    except etree.XMLSyntaxError as exc:
        raise JUnitError(
            f"{path}: not well-formed XML ({exc})",
            fix="the run that wrote it probably crashed; re-run that tier or shard",
        ) from exc
    if not seen_root:
        raise JUnitError(
            f"{path}: not a JUnit report (no <testsuites> or <testsuite> element)",
            fix="point tierci at the JUnit XML your test runner writes (pytest --junitxml)",
        )
    return TestCounts(**totals)
