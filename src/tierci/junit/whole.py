"""The whole-document fast path for merging a report of ordinary size.

The streaming reader (:mod:`tierci.junit.read`) spends a Python step on every testcase. For
a report that fits comfortably in memory, libxml2 can do nearly all of it in C: parse
the whole file, let one light pass find the *exceptional* testcases (with children, a
``status``, an odd time, no name or classname), judge only those with the streaming
reader's own rules, and serialise the suite with one ``tostring``.

It declines (returns None) whenever the streaming reader's semantics need the
sequential view: testcases of one classname and name where the producer may write a
test's attempts that way (pytest, gotestsum, an unknown tool: adjacent or not), a
node:test todo test that failed, errors outside any testcase, files too large to hold,
and anything unreadable or refused (so that the streaming reader reports the error,
with its message). Where the producer's names are titles (jest, mocha, ...), namesakes
are numbered here as the streaming reader numbers them (``is odd [2]``), and a suite's
``file`` (mocha) is written on its cases. It opens files as
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
from tierci.junit.producer import GENERIC, Producer, Repeats, detect_producer
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
    path: Path,
    *,
    huge_tree: bool = False,
    max_bytes: int = WHOLE_DOCUMENT_MAX_BYTES,
    producer: Producer | None = None,
) -> WholeReport | None:
    """The report read at once, or None where the streaming reader must read it;
    ``producer`` as for :class:`~tierci.junit.read.ReportReader` (None: detected)."""
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
    return _summarise(path, root, producer)


def _summarise(path: Path, root: etree._Element, producer: Producer | None) -> WholeReport | None:
    summary = ReportSummary(path=path, properties=_report_properties(root))
    warnings = WarningLog()
    cases = list(root.iter("testcase"))
    if producer is None:
        producer = detect_producer(root, cases[0]) if cases else GENERIC
    exceptional = _scan(cases, summary, warnings, producer)
    if exceptional is None:
        return None
    tally = dict.fromkeys(Outcome, 0)
    tally[Outcome.PASSED] = len(cases)
    todo_is_skipped = producer.todo_is_skipped
    for case in exceptional:
        if not case.get("name"):
            warnings.add(f"a testcase has no name; called it {UNNAMED!r}")
        outcome = judge_testcase(case, todo_is_skipped=todo_is_skipped)[0]
        if todo_is_skipped and outcome is Outcome.SKIPPED and _failed(case):
            return None  # its <failure> stays in the merged file: the streaming writer's job
        tally[Outcome.PASSED] -= 1
        tally[outcome] += 1
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


def _failed(case: etree._Element) -> bool:
    return case.find("failure") is not None or case.find("error") is not None


def _scan(
    cases: list[etree._Element], summary: ReportSummary, warnings: WarningLog, producer: Producer
) -> list[etree._Element] | None:
    """One pass over every testcase: names missing classnames, gives cases their
    suite's file, fixes odd times, numbers namesakes, adds up the duration and returns
    the cases that need judging; None if attempts must be folded.

    Flat on purpose: it runs once per testcase of every merged report.
    """
    exceptional = []
    names: list[str | None] = []
    append_name = names.append
    parent: etree._Element | None = None
    suite = suite_file = ""
    duration = 0.0
    inf = math.inf
    for case in cases:
        container = case.getparent()
        if container is not parent:
            parent = container
            suite = _suite_name(container, summary)
            suite_file = _suite_file(container)
        get = case.get
        name = get("name")
        append_name(name)
        if not (get("classname") or get("class")) and suite:
            case.set("classname", suite)  # as the streaming writer names it
        if suite_file and not get("file"):
            case.set("file", suite_file)  # as the streaming writer writes it
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
    if len(set(names)) != len(names) and not _number_namesakes(cases, names, producer):
        return None  # attempts to fold: the streaming reader's job
    summary.duration_s = duration
    return exceptional


def _number_namesakes(
    cases: list[etree._Element], names: list[str | None], producer: Producer
) -> bool:
    """Name the second test of an id ``name [2]`` and so on, in document order, as the
    streaming reader does, where the producer's repeats are distinct tests; False (and
    nothing renamed) where two testcases share a classname and name and the producer
    may have written one test's attempts so. Looked for only among the cases whose name
    is not unique (most reports have none); unnamed cases are never attempts."""
    shared = {name for name, count in Counter(names).items() if count > 1 and name}
    namesakes: Counter[tuple[str, str]] = Counter()
    numbers: Counter[tuple[str, str, str]] = Counter()
    renames: list[tuple[etree._Element, str]] = []
    for case in cases:
        name = case.get("name")
        if name not in shared:
            continue
        classname = case.get("classname") or case.get("class") or ""  # or its suite's, now
        namesakes[classname, name] += 1
        if producer.repeats_of(classname) is not Repeats.DISTINCT:
            if namesakes[classname, name] > 1:
                return False
            continue
        test_id = ((case.get("file") or "") if producer.file_in_id else "", classname, name)
        numbers[test_id] += 1
        if numbers[test_id] > 1:
            renames.append((case, f"{name} [{numbers[test_id]}]"))
    for case, numbered in renames:
        case.set("name", numbered)
    return True


def _suite_name(parent: etree._Element | None, summary: ReportSummary) -> str:
    if parent is None or parent.tag != "testsuite":
        return ""
    if not summary.timestamp:
        summary.timestamp = parent.get("timestamp") or ""
    return normalize_suite_name(parent.get("name") or "")


def _suite_file(parent: etree._Element | None) -> str:
    return (parent.get("file") or "") if parent is not None and parent.tag == "testsuite" else ""


def _odd_time(case: etree._Element, raw: str, warnings: WarningLog) -> float:
    seconds = parse_time(raw)
    if seconds is None:
        warnings.add(f"testcase {case.get('name')!r}: time {raw!r} is not a sane duration; used 0")
        seconds = 0.0
    case.set("time", f"{seconds}")
    return seconds
