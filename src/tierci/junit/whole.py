"""The whole-document fast path for merging a report of ordinary size.

The streaming reader (:mod:`tierci.junit.read`) spends a Python step on every testcase. For
a report that fits comfortably in memory, libxml2 can do nearly all of it in C: parse
the whole file, let one light pass find the *exceptional* testcases (with children, a
``status``, an odd time, no name or classname), judge only those with the streaming
reader's own rules, and serialise the suite with one ``tostring``.

It declines (returns None) whenever the streaming reader's semantics need the
sequential view: attempts of one test written as several testcases (adjacent or not),
errors outside any testcase, files too large to hold, and anything unreadable or refused
(so that the streaming reader reports the error, with its message). It opens files as
the streaming reader does (:func:`~tierci.junit.read.open_report`) and parses bytes, never
a file name, so libxml2 never inflates a compressed file by itself.
``tests/unit/test_junit_whole.py`` holds both paths to the same results on every corpus
file.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from tierci.junit.model import UNNAMED, Counts, JUnitError, Outcome, ReportSummary
from tierci.junit.read import (
    WarningLog,
    judge_testcase,
    normalize_suite_name,
    normalize_timestamp,
    open_report,
    parse_time,
    report_property,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["WHOLE_DOCUMENT_MAX_BYTES", "WholeReport", "read_whole"]

#: Larger reports are streamed: a parsed tree costs several times the file's size.
WHOLE_DOCUMENT_MAX_BYTES = 16 * 1024 * 1024
_NEEDS_SEQUENTIAL_VIEW = etree.XPath("boolean(//testsuite/error | //testsuite/failure)")
_REPORT_PROPERTIES = etree.XPath("//properties/property")


@dataclass
class WholeReport:
    """A parsed report: its summary and its testcases, normalised in place."""

    summary: ReportSummary
    cases: list[etree._Element]

    def suite_xml(self, name: str, properties: dict[str, str]) -> str:
        """One ``<testsuite>`` holding every testcase (nested suites flattened)."""
        counts = self.summary.counts
        suite = etree.Element(
            "testsuite",
            name=name,
            tests=str(counts.tests),
            failures=str(counts.failed),
            errors=str(counts.errors),
            skipped=str(counts.skipped),
            time=f"{self.summary.duration_s:.3f}",
        )
        if properties:
            holder = etree.SubElement(suite, "properties")
            for key, value in properties.items():
                etree.SubElement(holder, "property", name=key, value=value)
        suite.extend(self.cases)  # moves the elements: no per-case Python work
        return "  " + etree.tostring(suite, encoding="unicode") + "\n"


def read_whole(
    path: Path, *, huge_tree: bool = False, max_bytes: int = WHOLE_DOCUMENT_MAX_BYTES
) -> WholeReport | None:
    """The report read at once, or None where the streaming reader must read it."""
    try:
        handle = open_report(path)  # the same trust checks as the streaming reader's
    except JUnitError:
        return None
    with handle:
        # Never by file name: libxml2 would inflate a compressed file on its own.
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        return None
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=huge_tree,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None
    if root.tag not in ("testsuites", "testsuite") or _NEEDS_SEQUENTIAL_VIEW(root):
        return None
    return _summarise(path, root)


def _summarise(path: Path, root: etree._Element) -> WholeReport | None:
    summary = ReportSummary(path=path, properties=_report_properties(root))
    warnings = WarningLog()
    cases = list(root.iter("testcase"))
    exceptional = _scan(cases, summary, warnings)
    if exceptional is None:
        return None
    tally = dict.fromkeys(Outcome, 0)
    tally[Outcome.PASSED] = len(cases)
    for case in exceptional:
        if not case.get("name"):
            warnings.add(f"a testcase has no name; called it {UNNAMED!r}")
        tally[Outcome.PASSED] -= 1
        tally[judge_testcase(case)[0]] += 1
    summary.counts = Counts.of(tally)
    if summary.timestamp:
        summary.timestamp, warning = normalize_timestamp(summary.timestamp)
        if warning:
            warnings.add(warning)
    summary.warnings = warnings.messages
    return WholeReport(summary=summary, cases=cases)


def _report_properties(root: etree._Element) -> dict[str, str]:
    properties: dict[str, str] = {}
    for element in _REPORT_PROPERTIES(root):
        found = report_property(element)
        if found is not None and found[0]:
            properties.setdefault(*found)
    return properties


def _scan(
    cases: list[etree._Element], summary: ReportSummary, warnings: WarningLog
) -> list[etree._Element] | None:
    """One pass over every testcase: names missing classnames, fixes odd times, adds up
    the duration and returns the cases that need judging; None if attempts must be folded.

    Flat on purpose: it runs once per testcase of every merged report.
    """
    exceptional = []
    names: list[str | None] = []
    append_name = names.append
    parent: etree._Element | None = None
    suite = ""
    duration = 0.0
    inf = math.inf
    for case in cases:
        container = case.getparent()
        if container is not parent:
            parent = container
            suite = _suite_name(container, summary)
        get = case.get
        name = get("name")
        append_name(name)
        if not (get("classname") or get("class")) and suite:
            case.set("classname", suite)  # as the streaming writer names it
        raw = get("time")
        if raw is None:
            raw = get("duration")  # Bazel
        if raw:
            try:  # the common case, without a call
                seconds = float(raw)
                if not 0.0 <= seconds < inf:
                    seconds = _odd_time(case, raw, warnings)
            except ValueError:
                seconds = _odd_time(case, raw, warnings)
            duration += seconds
        if len(case) or not name or get("status") is not None:
            exceptional.append(case)
    if len(set(names)) != len(names) and _has_attempts(cases, names, summary):
        return None  # attempts to fold: the streaming reader's job
    summary.duration_s = duration
    return exceptional


def _has_attempts(
    cases: list[etree._Element], names: list[str | None], summary: ReportSummary
) -> bool:
    """Whether two testcases share an identity (suite, classname, name, file), looked for
    only among the cases whose name is not unique (most reports have none). Unnamed
    cases are never attempts of one test."""
    shared = {name for name, count in Counter(names).items() if count > 1 and name}
    seen: set[tuple[str, str, str, str]] = set()
    for case in cases:
        name = case.get("name")
        if name not in shared:
            continue
        identity = (
            _suite_name(case.getparent(), summary),
            case.get("classname") or case.get("class") or "",
            name,
            case.get("file") or "",
        )
        if identity in seen:
            return True
        seen.add(identity)
    return False


def _suite_name(parent: etree._Element | None, summary: ReportSummary) -> str:
    if parent is None or parent.tag != "testsuite":
        return ""
    if not summary.timestamp:
        summary.timestamp = parent.get("timestamp") or ""
    return normalize_suite_name(parent.get("name") or "")


def _odd_time(case: etree._Element, raw: str, warnings: WarningLog) -> float:
    seconds = parse_time(raw)
    if seconds is None:
        warnings.add(f"testcase {case.get('name')!r}: time {raw!r} is not a sane duration; used 0")
        seconds = 0.0
    case.set("time", f"{seconds}")
    return seconds
