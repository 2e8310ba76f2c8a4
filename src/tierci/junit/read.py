"""Reading JUnit XML of every dialect, safely and in streaming fashion.

Safe: no entity resolution, no DTD loading, no network, libxml2's size limits kept
unless ``huge_tree`` is asked for. Streaming: ``iterparse`` with every processed element
cleared and detached, so memory stays flat however large the file.

Truth over claims: counts are recomputed from ``<testcase>`` elements, never taken from
a suite's attributes (Surefire counts attempts, gotestsum and Jenkins files disagree with
their own testcases). Outcomes of one testcase element, by precedence:

- ``error``: an ``<error>`` child, or ``status="errored"``;
- ``failed``: a ``<failure>`` child, or ``status="failed"`` (also when earlier attempts
  were flaky but the tool was configured to fail on flakes);
- ``flaky``: it failed and then passed within the run: ``<flakyFailure>``/``<flakyError>``
  (Surefire, nextest);
- ``skipped``: a ``<skipped>`` child, or ``status="disabled"``/``"notrun"``; and a
  node:test todo test that failed (``<skipped type="todo">`` beside its ``<failure>``:
  by node's rule no failure);
- ``passed``: none of the above; but an element that tierci's pytest plugin marked with
  the property ``tierci.attempt`` (an attempt a rerun plugin ran again) is ``failed`` or
  ``error`` as the property says, with ``tierci.attempt.message`` as its message.

A failure without a message takes the first line of its text with a letter or digit in
it, and one without text the first such line of the test's ``<system-out>``, else
``<system-err>`` (ctest writes ``<failure message=""/>`` and the output beside it).

Identity: a testcase is known by its ``<testsuite>`` element (which one: two of one name
are two suites), its ``file`` (on the testcase, or on its suite as mocha writes it), its
classname and its name. Whether testcases of one identity are one test is the producer's
to say (:mod:`tierci.junit.producer`: detected from the report's shape, or named by the
tier's ``junit_producer``):

- attempts, wherever they stand (pytest, tierci's plugin, and a tool tierci does not
  know, as before producers were told apart): pytest-rerunfailures writes them one
  after another, pytest-xdist puts other tests between them;
- reruns only after a failure (gotestsum ``--rerun-fails`` appends them after the
  package's other tests): a testcase after a pass is another run of the test
  (``go test -count=2``), so a pass after a pass is never flaky;
- other tests (jest, vitest, mocha, node:test, Playwright: names are titles; Surefire and
  nextest write retries inside one testcase): ``test.each`` rows of one title, or one
  title in three files that jest-junit writes as three suites of one name, are three
  tests. jest-junit's pair of cases for a suite that cannot run (classname
  ``Test suite failed to run``) stays one test's attempts.

Attempts fold into one result, left to right:

- a later pass after any earlier attempt but a skip is ``flaky``: reruns happen only after
  a failure, so an earlier attempt that shows no result (pytest-rerunfailures writes a
  failed attempt as a bare ``<testcase>``) failed all the same;
- a later failure after an earlier error stays ``error`` (error outranks failure);
- otherwise the later attempt's outcome (a failure after a pass is a failure);
- attempts are counted, times added, and the message is the deciding attempt's (a flaky
  test's: its last failure's).

Ids (``CaseResult.test_id``): ``classname::name``, after ``file::`` where the producer's
names are titles; the second test of a report with an id is named ``name [2]``, the
third ``name [3]``, in document order, so no two tests of a report share an id (which
of jest's namesakes without a ``file`` is ``[2]`` follows the order jest ran the files).

Nothing is yielded before the file is read: a later attempt may fold into any earlier
case. Only a 64-bit fingerprint of each testcase's classname and name stays in memory
(8 bytes a testcase, twice that while repeats are counted at the end); the cases wait
in memory (up to 4,096, or 8 MB of messages) and in an anonymous temporary file beyond.
A case whose fingerprint is unique is yielded where it stood; the namesakes of one
fingerprint are resolved by their exact identity as the producer says: another test is
yielded where it stood, a test that may take more attempts where the last of its
namesakes stood. So memory stays bounded however large the report, and every consumer
sees each test once, final.

An ``<error>``/``<failure>`` directly inside a ``<testsuite>`` (a crashed fixture, a
suite that never started) becomes a testcase named ``[suite error]``: it must count.
Odd values (negative or non-numeric times, missing names) are normalised with a warning.
A suite name loses unittest-xml-reporting's timestamp suffix (``-20260114093205``): a
case without a classname is known by its suite's name, which must not change every run.

Trust: a report is only read if it is a regular file (a FIFO, device, socket or
directory, or a symlink to one, is refused before a byte is read), not empty and not
compressed (gzip and xz are refused with a fix, never inflated). A text node over
libxml2's 10 MB limit (one test's huge captured output) re-reads that file with the
limit lifted, but only if it has no DOCTYPE (so no entity can be defined, let alone
expanded); the text is kept up to a cap with a visible truncation marker. A raw control
character (an unescaped ANSI colour code) is named with its line and column.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import math
import os
import pickle
import re
import stat
import tempfile
from array import array
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import IO, TYPE_CHECKING

from lxml import etree

from tierci.junit.model import (
    ATTEMPT_MESSAGE_PROPERTY,
    ATTEMPT_PROPERTY,
    QUARANTINE_PROPERTY,
    SUITE_ERROR_NAME,
    UNNAMED,
    CaseResult,
    Counts,
    JUnitError,
    Outcome,
    ReportSummary,
)
from tierci.junit.producer import GENERIC, Producer, Repeats, detect_producer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

__all__ = [
    "ReportReader",
    "WarningLog",
    "count_outcomes",
    "judge_testcase",
    "normalize_suite_name",
    "normalize_timestamp",
    "open_report",
    "parse_time",
    "report_property",
    "summarize",
    "summarize_reader",
]

_NEVER_RETRIES = frozenset({SUITE_ERROR_NAME, UNNAMED})
#: The fingerprint of a case that is never an attempt of another (a suite's error, an
#: unnamed testcase).
_DISTINCT = 0
#: A test that failed so far: a rerun may follow it (``Repeats.RERUNS``), and a todo
#: test's failure is no failure (node:test).
_FAILING = frozenset({Outcome.FAILED, Outcome.ERROR})
# Which <testsuite> element a case is in (two of one name are two suites): the reader
# numbers each suite element it meets in an attribute of its own on the element.
_SUITE_ORDINAL = "{urn:tierci:reader}suite"
#: Cases held in memory while a report is read, and their messages' size; more go to
#: disk. Small batches: many live objects make every garbage collection slower.
_MEMORY_CASES = 4096
_MEMORY_TEXT = 8 * 1024 * 1024
_ONE_BUCKET = 1 << 16
_BUCKETS = 64
# unittest-xml-reporting's default file suffix, which it appends to every suite's name.
_XMLRUNNER_SUFFIX = re.compile(r"-(?P<stamp>\d{14})$")
_MAX_MESSAGE = 500
# Anchored at a line's start, so that a long line without a word costs one scan.
_MEANINGFUL_LINE = re.compile(r"^[^\w\n]*\w[^\n]*", re.MULTILINE)
_MAX_DETAILS = 4000
_MAX_WARNINGS = 20
_CHUNK = 1 << 20
# Characters XML 1.0 forbids even escaped; a test runner's unescaped output has them.
_CONTROL = re.compile(b"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_COMPRESSED = {b"\x1f\x8b": ("gzip", "gzip -dc"), b"\xfd7zXZ\x00": ("xz", "xz -dc")}
_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)
_FAILURE_TAGS = frozenset({"failure", "error"})
_FLAKY_TAGS = frozenset({"flakyFailure", "flakyError"})
_RERUN_TAGS = frozenset({"rerunFailure", "rerunError"})
_MARKED_OUTCOMES = {"failed": Outcome.FAILED, "error": Outcome.ERROR}
_STATUS_OUTCOMES = {
    "failed": "failed",
    "fail": "failed",
    "failure": "failed",
    "errored": "error",
    "error": "error",
    "disabled": "skipped",
    "notrun": "skipped",
    "skipped": "skipped",
    "skip": "skipped",
}


class ReportReader:
    """Iterate a report's testcases; afterwards ``properties``, ``timestamp``,
    ``warnings`` and ``digest`` describe the file."""

    def __init__(
        self, path: Path, *, huge_tree: bool = False, producer: Producer | None = None
    ) -> None:
        self.path = path
        self.huge_tree = huge_tree
        #: The tool that wrote the report: as given (a tier's ``junit_producer``), else
        #: detected at its first testcase (:func:`~tierci.junit.producer.detect_producer`).
        self.producer = producer or GENERIC
        self._given_producer = producer
        self.properties: dict[str, str] = {}
        self.timestamp = ""
        self._warnings = WarningLog()
        self.warnings = self._warnings.messages
        self._root_checked = False
        self._store = _CaseStore()
        #: sha256 of the file's bytes, set when reading ends (after a syntax error too);
        #: empty when the file was refused before it was read.
        self.digest = ""

    def __iter__(self) -> Iterator[CaseResult]:
        """Every test once, its attempts folded (see the module docstring), in file order;
        a test whose attempts stand apart is yielded where its last attempt stood.

        Nothing is yielded before the whole file is read: a later attempt may fold into
        any earlier case. The cases wait in memory, and on disk beyond a few MB.
        """
        with self._store as store:
            self._read(store)
            yield from store.folded(self.producer)

    def _read(self, store: _CaseStore) -> None:  # noqa: PLR0912 - flat on purpose
        """Every testcase of the file into ``store``, with the fingerprint of its identity.

        One flat loop on purpose: a large merge runs it once per testcase, and every
        extra call shows in the benchmark. A second pass (a text node over the size
        limit) starts the store again.
        """
        with open_report(self.path) as handle:
            source = _HashedSource(handle)
            huge_tree = self.huge_tree
            held = store.cases
            hold, fingerprint = held.append, store.fingerprints.append
            while True:
                events = etree.iterparse(
                    source,
                    # Only end events of the elements that matter: everything else is
                    # built by libxml2 in C and never costs a Python iteration.
                    events=("end",),
                    tag=("testcase", "testsuite", "property", "error", "failure"),
                    resolve_entities=False,
                    load_dtd=False,
                    no_network=True,
                    huge_tree=huge_tree,
                    remove_comments=True,
                    remove_pis=True,
                )
                suite_element: etree._Element | None = None
                suite = suite_file = ""
                try:
                    for _, element in events:
                        tag = element.tag
                        if tag == "testcase":
                            parent = element.getparent()
                            if parent is not suite_element:
                                suite_element, suite, suite_file = self._enter_suite(
                                    element, parent, store
                                )
                            case, identity = self._case(element, suite, suite_file)
                            # _release, inlined: this line runs once per testcase.
                            element.clear(keep_tail=False)
                            if parent is not None:
                                while element.getprevious() is not None:
                                    del parent[0]
                            hold(case)
                            fingerprint(identity)
                            if len(held) >= _MEMORY_CASES:
                                store.spill()
                        elif tag == "testsuite":
                            self._check_root(element)
                            _release(element)
                        elif tag == "property":
                            self._property(element)
                        elif _parent_tag(element) == "testsuite":  # <error>/<failure> of a suite
                            fingerprint(_DISTINCT)
                            hold(self._suite_error(element))
                except JUnitError:
                    self.digest = source.finish()
                    raise
                except etree.XMLSyntaxError as exc:
                    self.digest = source.finish()  # before anything else moves the handle
                    if huge_tree or not _over_size_limit(exc) or _has_doctype(handle):
                        raise self._syntax_error(exc, handle, limit_lifted=huge_tree) from exc
                    # One test's output is over libxml2's 10 MB text limit and no entity
                    # can exist (no DOCTYPE): read again with the limit lifted.
                    huge_tree = True
                    source.restart()
                    store.clear()
                    self._start_over()
                    self.warn(
                        "a text node is larger than libxml2's 10 MB limit: read again with "
                        "the limit lifted (the file has no DOCTYPE); its text is truncated"
                    )
                    continue
                break
            self.digest = source.finish()
            self._check_root(events.root)

    def warn(self, message: str) -> None:
        """Add a warning about this report (capped, like the reader's own)."""
        self._warnings.add(message)

    def _start_over(self) -> None:
        """Forget what a first pass learnt: the second one learns it again."""
        self.properties.clear()
        self.timestamp = ""
        self._warnings.clear()
        self._root_checked = False
        self.producer = self._given_producer or GENERIC

    def _check_root(self, element: etree._Element | None) -> None:
        if self._root_checked:
            return
        root = element.getroottree().getroot() if element is not None else None
        if root is None or root.tag not in ("testsuites", "testsuite"):
            raise self._not_junit(str(root.tag) if root is not None else "none")
        self._root_checked = True

    def _enter_suite(
        self, case: etree._Element, parent: etree._Element | None, store: _CaseStore
    ) -> tuple[etree._Element, str, str]:
        """``parent``, which holds the cases from ``case`` on: its name and ``file``
        (mocha writes the file on the suite), which suite element it is noted in
        ``store``. At the first testcase, the report's producer is detected (unless
        given)."""
        name = self._suite_name(parent)  # checks the root first
        if parent is None:  # a <testcase> root: refused above
            raise self._not_junit("testcase")
        if not store.suite_starts and self._given_producer is None:
            self.producer = detect_producer(case.getroottree().getroot(), case)
        ordinal = parent.get(_SUITE_ORDINAL)
        if ordinal is None:
            ordinal = str(len(store.suite_ordinals))
            parent.set(_SUITE_ORDINAL, ordinal)
        store.suite_starts.append(len(store.fingerprints))
        store.suite_ordinals.append(int(ordinal))
        return parent, name, (parent.get("file") or "") if parent.tag == "testsuite" else ""

    def _suite_name(self, parent: etree._Element | None) -> str:
        """The enclosing suite's name; the first suite timestamp seen is kept."""
        self._check_root(parent)
        if parent is None or parent.tag != "testsuite":
            return ""
        if not self.timestamp:
            self.timestamp = parent.get("timestamp") or ""
        return normalize_suite_name(parent.get("name") or "")

    def _not_junit(self, tag: str) -> JUnitError:
        return JUnitError(
            f"{self.path}: not a JUnit report (root element <{tag}>, expected <testsuites> "
            "or <testsuite>)",
            fix="point tierci at the JUnit XML your test runner writes (pytest --junitxml=...)",
        )

    def _syntax_error(
        self, exc: etree.XMLSyntaxError, handle: IO[bytes], *, limit_lifted: bool
    ) -> JUnitError:
        text = str(exc)
        line, column = exc.position if exc.position else (0, 0)
        if "amplification" in text.lower():
            return JUnitError(
                f"{self.path}: refused: its entity definitions expand beyond libxml2's limit "
                f"(an entity bomb) ({text})",
                fix="JUnit reports never need <!ENTITY> definitions; regenerate the file with "
                "the test runner",
            )
        control = _control_character(handle, line) if line else None
        # At or before where libxml2 stopped (its column counts bytes, or characters).
        if control is not None and (not column or control[1] <= column):
            code, column = control
            return JUnitError(
                f"{self.path}: contains a raw control character U+{code:04X} (not allowed in "
                f"XML) at line {line}, column {column}: the test runner wrote test output "
                "without escaping it",
                fix="make the test runner's JUnit writer escape or strip control characters "
                "(ANSI colour codes in captured output are the usual ones), then re-run that "
                "tier or shard",
            )
        reference = _BAD_REFERENCE.search(text)
        if reference is not None:
            code = int(reference["code"])
            return JUnitError(
                f"{self.path}: contains a character reference &#{code}; to U+{code:04X}, which "
                f"XML 1.0 does not allow even escaped, at line {line}, column {column}",
                fix="make the test runner's JUnit writer strip control characters instead of "
                "escaping them, then re-run that tier or shard",
            )
        if _over_size_limit(exc):
            if limit_lifted:
                return JUnitError(
                    f"{self.path}: exceeds libxml2's hard size limit even with the limits "
                    f"lifted ({text})",
                    fix="cap the test output the runner captures into the report "
                    "(pytest: -o junit_logging=no)",
                )
            return JUnitError(
                f"{self.path}: a text node exceeds libxml2's 10 MB safety limit, and the file "
                f"has a DOCTYPE, so tierci does not lift the limit by itself ({text})",
                fix="JUnit reports never need a DOCTYPE: regenerate the file without one; if "
                "the file is trusted, allow it with --huge-tree",
            )
        return JUnitError(
            f"{self.path}: not well-formed XML ({text})",
            fix="the run that wrote it probably crashed or was cut off; re-run that tier or "
            "shard (a template with unescaped '<' in attributes is not XML either)",
        )

    def _property(self, element: etree._Element) -> None:
        found = report_property(element)
        if found is None:
            return
        name, value = found
        if not name:
            self.warn("a <property> without a name was ignored")
            return
        self.properties.setdefault(name, value)

    def _case(self, element: etree._Element, suite: str, suite_file: str) -> tuple[CaseResult, int]:
        """The case and the fingerprint of its name (see ``_CaseStore``)."""
        get = element.get
        name = get("name") or ""
        if not name:
            self.warn(f"a testcase in suite {suite!r} has no name; called it {UNNAMED!r}")
            name = UNNAMED
        classname = get("classname") or get("class") or ""
        raw_time = get("time")
        if raw_time is None:
            raw_time = get("duration")  # Bazel
        try:  # the common case, without a call: a plain, sane number
            time_s = float(raw_time) if raw_time else 0.0
            if not 0.0 <= time_s < math.inf:
                time_s = self._time(raw_time or "", name)
        except ValueError:
            time_s = self._time(raw_time or "", name)
        file = get("file") or suite_file
        id_file = file if self.producer.file_in_id else ""
        # Of the name only: which of the cases that share one are one test is decided
        # when the report is read (``_Namesakes``); most reports have none.
        identity = hash((classname or suite, name)) if name not in _NEVER_RETRIES else _DISTINCT
        if not len(element) and get("status") is None and get("attempts") is None:
            return CaseResult(
                suite, classname, name, time_s, Outcome.PASSED, "", "", file, 1, id_file
            ), identity
        outcome, message, details, attempts = judge_testcase(
            element, todo_is_skipped=self.producer.todo_is_skipped
        )
        declared = get("attempts")  # written by tierci's own merge
        if declared and declared.isdigit():
            attempts = max(attempts, int(declared))
        store = self._store
        store.text += len(details)
        if store.text > _MEMORY_TEXT:
            store.spill()  # the cases before this one
        return CaseResult(
            suite, classname, name, time_s, outcome, message, details, file, attempts, id_file
        ), identity

    def _suite_error(self, element: etree._Element) -> CaseResult:
        suite = self._suite_name(element.getparent())
        outcome = Outcome.ERROR if element.tag == "error" else Outcome.FAILED
        message, details = _message_and_details(element)
        self.warn(f"suite {suite!r} reports an <{element.tag!s}> outside any testcase")
        return CaseResult(suite, suite, SUITE_ERROR_NAME, 0.0, outcome, message, details)

    def _time(self, raw: str, name: str) -> float:
        value = parse_time(raw)
        if value is None:
            self.warn(f"testcase {name!r}: time {raw!r} is not a sane duration; used 0")
            return 0.0
        return value


def parse_time(raw: str) -> float | None:
    """Seconds from a ``time``/``duration`` attribute ("1,234.5" too); None when the value
    is not a number, negative, infinite or NaN."""
    try:
        value = float(raw)
    except ValueError:
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            return None
    return value if 0.0 <= value < math.inf else None  # the comparison is false for NaN


def normalize_timestamp(raw: str) -> tuple[str, str]:
    """``(ISO 8601 in UTC, warning)`` from any timestamp a JUnit writer uses; an empty
    string for what cannot be a real time. The warning is empty when nothing was assumed.

    Seen in the wild: no zone, ``Z``, ``±hh:mm``, fractions of any length, a date only,
    a space instead of ``T``, ``T 12:40``, and gotestsum's ``0001-01-01`` placeholder.
    """
    text = raw.strip().replace("T ", "T")
    if len(text) > 10 and text[10] == " ":  # noqa: PLR2004 - after YYYY-MM-DD
        text = f"{text[:10]}T{text[11:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return "", f"timestamp {raw!r} is not a date and time; ignored"
    if moment.year <= 1:
        return "", f"timestamp {raw!r} is a placeholder, not a time; ignored"
    warning = ""
    if len(text) <= 10:  # noqa: PLR2004 - a date only
        warning = f"timestamp {raw!r} has no time of day; assumed midnight UTC"
    elif moment.tzinfo is None:
        warning = f"timestamp {raw!r} has no time zone; assumed UTC"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(), warning


class WarningLog:
    """A report's warnings, capped: a file with 7,000 odd times gets 20 and a note."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._count = 0

    def add(self, message: str) -> None:
        self._count += 1
        if self._count <= _MAX_WARNINGS:
            self.messages.append(message)
        elif self._count == _MAX_WARNINGS + 1:
            self.messages.append("… further warnings suppressed")

    def clear(self) -> None:
        self.messages.clear()
        self._count = 0


def normalize_suite_name(name: str) -> str:
    """A suite's name without what changes from run to run: unittest-xml-reporting
    appends its file suffix (``-20260114093205`` by default) to every suite, and a case
    without a classname is known by its suite's name."""
    found = _XMLRUNNER_SUFFIX.search(name)
    if found is None:
        return name
    try:
        datetime.strptime(found["stamp"], "%Y%m%d%H%M%S")  # noqa: DTZ007 - only its shape
    except ValueError:
        return name
    return name[: found.start()]


def report_property(element: etree._Element) -> tuple[str, str] | None:
    """``(name, value)`` of a report-level ``<property>`` (a value may be element text);
    None for a testcase's own properties, which describe one test, not the report."""
    holder = element.getparent()
    owner = holder.getparent() if holder is not None else None
    if owner is None or owner.tag not in ("testsuite", "testsuites"):
        return None
    value = element.get("value")
    return element.get("name") or "", value if value is not None else (element.text or "").strip()


def judge_testcase(
    element: etree._Element, *, todo_is_skipped: bool = False
) -> tuple[Outcome, str, str, int]:
    """Outcome, message, details and attempts of one testcase element, by the rules in
    this module's docstring (shared by the streaming and the whole-document reader).

    ``todo_is_skipped``: the producer's ``<skipped type="todo">`` outranks a failure
    (node:test: a todo test that throws is no failure)."""
    result: etree._Element | None = None
    outcome = Outcome.PASSED
    flaky = reruns = 0
    marked: tuple[Outcome, str] | None = None
    quarantined: str | None = None
    for child in element:
        tag = child.tag
        if tag == "properties":
            marked = _marked_attempt(child) or marked
            quarantined = _quarantine_reason(child) if quarantined is None else quarantined
        elif tag == "error":
            outcome, result = Outcome.ERROR, child
        elif tag == "failure" and outcome is not Outcome.ERROR:
            outcome, result = Outcome.FAILED, child
        elif tag in _FLAKY_TAGS:
            flaky += 1
            result = result if result is not None else child
        elif tag in _RERUN_TAGS:
            reruns += 1
        elif tag == "skipped" and outcome is Outcome.PASSED:
            outcome = Outcome.SKIPPED
            result = result if result is not None else child
    outcome, result = _unless_todo(element, outcome, result, todo_is_skipped=todo_is_skipped)
    if outcome is Outcome.PASSED and marked is not None and not flaky:
        return marked[0], marked[1], "", 1
    if outcome is Outcome.PASSED and flaky:
        outcome = Outcome.FLAKY
    elif outcome is Outcome.PASSED and result is None:
        status = (element.get("status") or "").strip().lower()
        outcome = Outcome(_STATUS_OUTCOMES.get(status, "passed"))
    if outcome is Outcome.PASSED:
        return outcome, "", "", 1
    message, details = _message_and_details(result) if result is not None else ("", "")
    if not message:
        message = _message_elsewhere(element, outcome)
    outcome, message = _unless_quarantined(outcome, message, quarantined)
    return outcome, message, details, 1 + flaky + reruns


def _unless_todo(
    element: etree._Element,
    outcome: Outcome,
    result: etree._Element | None,
    *,
    todo_is_skipped: bool,
) -> tuple[Outcome, etree._Element | None]:
    """A failed test that is a todo (``<skipped type="todo">``) is skipped, where that
    is its producer's rule (node:test)."""
    if not todo_is_skipped or outcome not in _FAILING:
        return outcome, result
    for todo in element.iterchildren("skipped"):
        if todo.get("type") == "todo":
            return Outcome.SKIPPED, todo
    return outcome, result


def _message_elsewhere(element: etree._Element, outcome: Outcome) -> str:
    """The message of a result whose element has none, nor any text: a skipped test's
    ``status``; a failure's first meaningful line of the test's own output (ctest's
    ``<failure message=""/>``)."""
    if outcome is Outcome.SKIPPED:
        return element.get("status") or ""
    return _output_line(element)


def _unless_quarantined(outcome: Outcome, message: str, reason: str | None) -> tuple[Outcome, str]:
    """A quarantined test ran and failed, as it is known to: flaky, never a failure that
    fails its tier (the message says it was quarantined, and why)."""
    if reason is None or outcome not in (Outcome.FAILED, Outcome.ERROR):
        return outcome, message
    return Outcome.FLAKY, f"quarantined ({reason}): {message}"[:_MAX_MESSAGE]


def _quarantine_reason(properties: etree._Element) -> str | None:
    for item in properties:
        if item.get("name") == QUARANTINE_PROPERTY:
            return (item.get("value") or "").strip()[:_MAX_MESSAGE]
    return None


def _marked_attempt(properties: etree._Element) -> tuple[Outcome, str] | None:
    """The outcome and message tierci's pytest plugin wrote on an attempt that was run
    again (its result element is missing: pytest-rerunfailures writes it bare)."""
    outcome: Outcome | None = None
    message = ""
    for item in properties:
        name = item.get("name")
        if name == ATTEMPT_PROPERTY:
            value = item.get("value") or ""
            outcome = _MARKED_OUTCOMES.get(value)
        elif name == ATTEMPT_MESSAGE_PROPERTY:
            message = (item.get("value") or "").strip()[:_MAX_MESSAGE]
    return None if outcome is None else (outcome, message)


def _message_and_details(element: etree._Element) -> tuple[str, str]:
    """The result's message and text, each capped; a cut says so and by how much."""
    kept: list[str] = []
    size = 0
    cut: list[str] = []
    for piece in element.itertext():
        if size < _MAX_DETAILS:
            kept.append(piece)
            size += len(piece)
        else:
            cut.append(piece)
    text = "".join(kept).strip()
    message = (element.get("message") or "").strip() or _meaningful_line(text)
    # Cut to the cap, the marker included: read again (a merged file), nothing changes.
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    if cut or len(text) > _MAX_DETAILS:
        total = sum(_utf8_size(piece) for piece in (text, *cut))
        marker = f"… [truncated: {_size_text(total)} of output]"
        text = text[: _MAX_DETAILS - len(marker)] + marker
    return message, text


def _meaningful_line(text: str) -> str:
    """The first line of ``text`` with a letter or digit in it, stripped ("" if none):
    a message, where the tool wrote none."""
    found = _MEANINGFUL_LINE.search(text)
    return found.group().strip() if found is not None else ""


def _output_line(testcase: etree._Element) -> str:
    """The first meaningful line of the testcase's ``<system-out>``, else of its
    ``<system-err>``, capped as a message is."""
    for tag in ("system-out", "system-err"):
        for output in testcase.iterchildren(tag):
            line = _meaningful_line("".join(output.itertext())[:_MAX_DETAILS])
            if line:
                return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 1] + "…"
    return ""


def _utf8_size(text: str) -> int:
    # isascii() is O(1) in CPython: no copy of a large text just to measure it.
    return len(text) if text.isascii() else len(text.encode())


def _size_text(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _fold_retry(earlier: CaseResult, later: CaseResult) -> CaseResult:
    """Two attempts of one test as one result, by the rules of the module docstring."""
    outcome, source = later.outcome, later
    if outcome is Outcome.PASSED:
        if earlier.outcome is not Outcome.SKIPPED:
            # A rerun follows a failure, shown or not: passing now makes the test flaky.
            outcome, source = Outcome.FLAKY, earlier
    elif outcome is Outcome.FAILED and earlier.outcome is Outcome.ERROR:
        outcome, source = Outcome.ERROR, earlier
    return CaseResult(
        suite=later.suite,
        classname=later.classname,
        name=later.name,
        time_s=earlier.time_s + later.time_s,
        outcome=outcome,
        message=source.message,
        details=source.details,
        file=later.file or earlier.file,
        attempts=earlier.attempts + later.attempts,
        id_file=later.id_file or earlier.id_file,
    )


def _repeats(fingerprints: array[int]) -> dict[int, int]:
    """How often each fingerprint that occurs more than once occurs (never ``_DISTINCT``).

    In buckets when there are many, so that no set ever holds them all: the common
    answer, none, then costs one C-level ``set()`` per bucket.
    """
    if len(fingerprints) <= _ONE_BUCKET:
        buckets = [fingerprints]
    else:
        buckets = [array("q") for _ in range(_BUCKETS)]
        appends = [bucket.append for bucket in buckets]
        mask = _BUCKETS - 1
        for fingerprint in fingerprints:
            appends[fingerprint & mask](fingerprint)
    repeats: dict[int, int] = {}
    for bucket in buckets:
        if len(set(bucket)) != len(bucket):
            repeats.update((f, n) for f, n in Counter(bucket).items() if n > 1)
    repeats.pop(_DISTINCT, None)
    return repeats


# tuple.__new__ in C: CaseResult._make would cost a Python call per case.
_as_case = functools.partial(tuple.__new__, CaseResult)


class _CaseStore:
    """A report's cases in file order, each with the fingerprint of its name, until
    the report is read: in memory up to ``_MEMORY_CASES`` cases or ``_MEMORY_TEXT``
    characters of messages, pickled to an anonymous temporary file beyond, so memory
    stays bounded however large the report (the fingerprints stay: 8 bytes a case).

    The reading loop appends to ``cases`` and ``fingerprints`` itself (a method call per
    testcase shows in the benchmark); both keep their identity for its whole life.
    """

    def __init__(self) -> None:
        self.fingerprints = array("q")
        self.cases: list[CaseResult] = []
        #: Characters of messages held in ``cases`` (the reader adds them).
        self.text = 0
        #: Which suite element holds which cases: from case ``suite_starts[i]`` on, the
        #: suite numbered ``suite_ordinals[i]`` (one entry each time the suite changes).
        self.suite_starts = array("q")
        self.suite_ordinals = array("q")
        self._spill: IO[bytes] | None = None

    def __enter__(self) -> _CaseStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.clear()

    def spill(self) -> None:
        if self._spill is None:
            self._spill = tempfile.TemporaryFile(prefix="tierci-cases-")  # noqa: SIM115
        # As plain tuples: a NamedTuple pickles through a Python-level __getnewargs__.
        pickle.dump([*map(tuple, self.cases)], self._spill, protocol=pickle.HIGHEST_PROTOCOL)
        self.cases.clear()
        self.text = 0

    def clear(self) -> None:
        del self.fingerprints[:]
        del self.suite_starts[:]
        del self.suite_ordinals[:]
        self.cases.clear()
        self.text = 0
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def _batches(self) -> Iterator[list[CaseResult]]:
        if self._spill is not None:
            self._spill.seek(0)
            while True:
                try:
                    batch = pickle.load(self._spill)  # noqa: S301 - our own temporary file
                except EOFError:
                    break
                yield [*map(_as_case, batch)]
        yield self.cases

    def suite_of(self, index: int) -> int:
        """The ordinal of the suite element that holds case ``index``."""
        return self.suite_ordinals[bisect.bisect_right(self.suite_starts, index) - 1]

    def folded(self, producer: Producer) -> Iterator[CaseResult]:
        """The cases, every test once: the cases that share a name read as ``producer``
        means them (attempts folded, namesakes numbered)."""
        stored = chain.from_iterable(self._batches())
        repeats = _repeats(self.fingerprints)
        if not repeats:
            return stored
        return _fold(stored, self.fingerprints, repeats, producer, self.suite_of)


def _fold(
    cases: Iterator[CaseResult],
    fingerprints: array[int],
    repeats: dict[int, int],
    producer: Producer,
    suite_of: Callable[[int], int],
) -> Iterator[CaseResult]:
    """Every case whose fingerprint is unique as it is; those that share one, through
    a :class:`_Namesakes` until the last of them is read."""
    namesakes: dict[int, _Namesakes] = {}
    for index, (case, fingerprint) in enumerate(zip(cases, fingerprints, strict=True)):
        left = repeats.get(fingerprint)
        if left is None:
            yield case
            continue
        group = namesakes.get(fingerprint)
        if group is None:
            group = namesakes[fingerprint] = _Namesakes(producer)
        yield from group.add(case, index, suite_of(index))
        if left > 1:
            repeats[fingerprint] = left - 1
        else:
            del repeats[fingerprint]
            yield from namesakes.pop(fingerprint).finish()


# Suite element ordinal, suite, classname, name, file: what makes two testcases one test.
_Identity = tuple[int, str, str, str, str]


@dataclass(slots=True)
class _Held:
    """A test that may take more attempts: itself so far, and where its last attempt
    stood."""

    test: CaseResult
    position: int


class _Namesakes:
    """The testcases of a report that share a fingerprint (a classname and a name, but
    for a collision), read as their producer means them:

    - a distinct test (``Repeats.DISTINCT``) is yielded at once;
    - testcases of one identity (suite element, suite, classname, name, file) are one
      test's attempts (``ATTEMPTS``): they wait for the last of the namesakes, then each
      test is yielded in the order of its last attempt;
    - under ``RERUNS`` only a test that failed so far waits for a rerun: one that passed
      or was skipped is yielded at once, and a later testcase of its identity is
      another run of it (``go test -count=2``), another test;
    - the second test of one id is named ``name [2]``, the third ``name [3]``, in the
      order they are yielded: no two tests of a report share an id.
    """

    def __init__(self, producer: Producer) -> None:
        self._producer = producer
        self._open: dict[_Identity, _Held] = {}
        self._numbers: Counter[str] = Counter()

    def add(self, case: CaseResult, position: int, suite: int) -> list[CaseResult]:
        """What can be yielded now that ``case`` (at ``position``, in suite element
        ``suite``) was read."""
        repeats = self._producer.repeats_of(case.classname)
        if repeats is Repeats.DISTINCT:
            return [self._numbered(case)]
        identity = (suite, case.suite, case.classname, case.name, case.file)
        earlier = self._open.pop(identity, None)
        test = case if earlier is None else _fold_retry(earlier.test, case)
        if repeats is Repeats.RERUNS and test.outcome not in _FAILING:
            return [self._numbered(test)]  # no rerun follows a pass
        self._open[identity] = _Held(test, position)
        return []

    def finish(self) -> Iterator[CaseResult]:
        """The tests still held, once the last namesake is read, in the order of their
        last attempts."""
        for held in sorted(self._open.values(), key=lambda held: held.position):
            yield self._numbered(held.test)

    def _numbered(self, test: CaseResult) -> CaseResult:
        test_id = test.test_id
        self._numbers[test_id] += 1
        number = self._numbers[test_id]
        return test if number == 1 else test._replace(name=f"{test.name} [{number}]")


def _parent_tag(element: etree._Element) -> str:
    parent = element.getparent()
    return str(parent.tag) if parent is not None else ""


def _release(element: etree._Element) -> None:
    """Free a processed element and the siblings before it: memory stays flat."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def open_report(path: Path) -> IO[bytes]:
    """``path`` opened for reading, if it is a regular file, not empty, not compressed.

    Anything else is a :class:`JUnitError` naming the path, raised before a byte is
    read: the type is checked before opening (opening a device can act on it) and again
    on the open descriptor (the path could be swapped in between), and the open itself
    never blocks, so a FIFO cannot hang a command.
    """
    try:
        kind = _special_kind(path.stat().st_mode)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    if kind:
        raise _refused(path, kind)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    handle: IO[bytes] | None = None
    try:
        _check_descriptor(path, descriptor)
        os.set_blocking(descriptor, True)
        handle = os.fdopen(descriptor, "rb")
        _refuse_compressed(path, handle)
    except BaseException:
        if handle is None:
            os.close(descriptor)
        else:
            handle.close()
        raise
    return handle


def _check_descriptor(path: Path, descriptor: int) -> None:
    info = os.fstat(descriptor)
    kind = _special_kind(info.st_mode)
    if kind:
        raise _refused(path, kind)
    if info.st_size == 0:
        raise JUnitError(
            f"{path}: empty file (0 bytes)",
            fix="the run that should have written it crashed or was killed; re-run that "
            "tier or shard",
        )


def _special_kind(mode: int) -> str:
    """What a file that is not a regular file is ("" for a regular file)."""
    return next((kind for test, kind in _FILE_KINDS if test(mode)), "")


def _unreadable(path: Path, exc: OSError) -> JUnitError:
    return JUnitError(
        f"{path}: cannot be read ({exc.strerror})",
        fix="check that the tier or shard that should write it ran",
    )


def _refused(path: Path, kind: str) -> JUnitError:
    what = f"a symlink to {os.path.realpath(path)}, which is {kind}" if path.is_symlink() else kind
    return JUnitError(
        f"{path}: refused: it is {what}, not a regular file",
        fix="point tierci at the report file the test runner wrote; only regular files are "
        "read (a pipe or a device may never end)",
    )


def _refuse_compressed(path: Path, handle: IO[bytes]) -> None:
    head = handle.read(8)
    handle.seek(0)
    for magic, (name, command) in _COMPRESSED.items():
        if head.startswith(magic):
            raise JUnitError(
                f"{path}: refused: it is {name}-compressed (it starts with {name}'s magic "
                "bytes), not XML; tierci does not inflate reports (a small file can inflate "
                "to gigabytes)",
                fix=f"decompress it first ({command} {path} > report.xml) or have the test "
                "runner write plain XML",
            )


class _HashedSource:
    """The report's bytes as the parser reads them, hashed on the way: the digest is of
    exactly what was parsed, in one read of the file."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._hash.update(data)
        return data

    def restart(self) -> None:
        self._handle.seek(0)
        self._hash = hashlib.sha256()

    def finish(self) -> str:
        """The digest of the whole file (what the parser left unread is hashed too)."""
        for block in iter(lambda: self._handle.read(_CHUNK), b""):
            self._hash.update(block)
        return self._hash.hexdigest()


_BAD_REFERENCE = re.compile(r"xmlParseCharRef: invalid xmlChar value (?P<code>\d+)")
_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _over_size_limit(exc: etree.XMLSyntaxError) -> bool:
    """libxml2 refused a text node, attribute or CDATA section for its size."""
    text = str(exc).lower()
    return "amplification" not in text and any(
        word in text for word in ("xml_parse_huge", "huge", "too big", "too long")
    )


def _has_doctype(handle: IO[bytes]) -> bool:
    """Whether the document has a DOCTYPE (read up to its root's start tag only); True
    when that cannot even be told, so that no limit is lifted for it."""
    handle.seek(0)
    events = etree.iterparse(
        handle, events=("start",), resolve_entities=False, load_dtd=False, no_network=True
    )
    try:
        for _, element in events:
            return bool(element.getroottree().docinfo.doctype)
    except etree.XMLSyntaxError:
        return True
    return True


def _control_character(handle: IO[bytes], line: int) -> tuple[int, int] | None:
    """The first character XML forbids on ``line`` (1-based) as (code point, column),
    or None. Read in chunks: a report may be one 2 GB line."""
    handle.seek(0)
    if handle.read(2) in _UTF16_BOMS:  # bytes are not characters there
        return None
    handle.seek(0)
    current, column = 1, 0
    for chunk in iter(lambda: handle.read(_CHUNK), b""):
        start = 0
        if current < line:
            newlines = chunk.count(b"\n")
            if current + newlines < line:
                current += newlines
                continue
            while current < line:
                start = chunk.index(b"\n", start) + 1
                current += 1
        end = chunk.find(b"\n", start)
        segment = chunk[start : end if end >= 0 else len(chunk)]
        found = _CONTROL.search(segment)
        if found is not None:
            before = segment[: found.start()]
            return found.group()[0], column + len(before.translate(None, _CONTINUATION_BYTES)) + 1
        if end >= 0:
            return None
        column += len(segment.translate(None, _CONTINUATION_BYTES))
    return None


def summarize(
    path: Path,
    *,
    huge_tree: bool = False,
    on_case: Callable[[CaseResult], object] | None = None,
    producer: Producer | None = None,
) -> ReportSummary:
    """Count one report's outcomes and collect its properties, streaming; ``on_case``
    sees every case on the way (to write or store it in the same single pass);
    ``producer``: the tool that wrote it, where known (None: detected)."""
    return summarize_reader(
        ReportReader(path, huge_tree=huge_tree, producer=producer), on_case=on_case
    )


def summarize_reader(
    reader: ReportReader, *, on_case: Callable[[CaseResult], object] | None = None
) -> ReportSummary:
    """:func:`summarize` with a reader of the caller's (to read its ``digest`` after,
    whether the report could be read or not)."""
    summary = ReportSummary(path=reader.path)
    tally = dict.fromkeys(Outcome, 0)  # a dict in the hot loop; Counts at the end
    duration = 0.0
    for case in reader:
        tally[case.outcome] += 1
        duration += case.time_s
        if on_case is not None:
            on_case(case)
    summary.counts = Counts.of(tally)
    summary.duration_s = duration
    summary.properties = reader.properties
    summary.timestamp, warning = (
        normalize_timestamp(reader.timestamp) if reader.timestamp else ("", "")
    )
    if warning:
        reader.warn(warning)
    summary.warnings = reader.warnings
    return summary


def count_outcomes(path: Path) -> Counts:
    """Outcome counts of one report (a convenience over :func:`summarize`)."""
    return summarize(path).counts
