"""Which tool wrote a JUnit report, and what a repeated test name means in its reports.

Two testcases of one report with the same suite, classname, name and file are, for one
tool, two attempts of one test (pytest-rerunfailures writes a rerun that way) and, for
another, two tests (jest writes ``test.each`` rows of one title alike). Only the
producer says which, so a report's producer is detected from its shape (the root's and
the first suite's names and attributes: the real files of each tool are in
``tests/fixtures/junit-corpus``), and a tier may name it (``junit_producer``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml import etree

__all__ = ["GENERIC", "PRODUCERS", "Producer", "Repeats", "detect_producer", "producer_named"]


class Repeats(enum.Enum):
    """What a second testcase of one identity is, in a producer's reports."""

    #: Another attempt of the test, whatever came before: pytest-rerunfailures writes a
    #: failed attempt as a bare testcase, so a pass before the last one was no pass.
    ATTEMPTS = "attempts"
    #: A rerun if the test had failed so far (reruns follow failures only), else
    #: another run of it (``go test -count=2``): gotestsum.
    RERUNS = "reruns"
    #: Another test: names are titles (jest, vitest, mocha, node:test, Playwright), or
    #: the tool writes its retries inside one testcase (Surefire, nextest).
    DISTINCT = "distinct"


@dataclass(frozen=True, kw_only=True)
class Producer:
    """A tool's JUnit writer, as far as reading its reports needs to know it."""

    name: str
    #: What the tool's JUnit writer is called, for messages and docs.
    title: str
    repeats: Repeats
    #: The test's file is part of its id: its names are titles, which only the file
    #: tells apart (others' classname and name already say where a test is).
    file_in_id: bool = False
    #: Classnames whose repeats are one test's attempts even where names are titles:
    #: jest-junit writes a suite that cannot run as an ``<error>`` and a ``<failure>``
    #: case of one name.
    attempt_classnames: frozenset[str] = frozenset()
    #: ``<skipped type="todo">`` outranks a ``<failure>``: a failing todo test is no
    #: failure (node:test).
    todo_is_skipped: bool = False

    def repeats_of(self, classname: str) -> Repeats:
        """How repeats of a test of ``classname`` are read."""
        return Repeats.ATTEMPTS if classname in self.attempt_classnames else self.repeats


GENERIC = Producer(
    name="generic",
    title="any other tool",
    repeats=Repeats.ATTEMPTS,  # what tierci read every report as before producers
)
PRODUCERS: dict[str, Producer] = {
    producer.name: producer
    for producer in (
        GENERIC,
        Producer(name="pytest", title="pytest", repeats=Repeats.ATTEMPTS),
        Producer(name="gotestsum", title="gotestsum", repeats=Repeats.RERUNS),
        Producer(
            name="jest",
            title="jest-junit",
            repeats=Repeats.DISTINCT,
            file_in_id=True,
            attempt_classnames=frozenset({"Test suite failed to run"}),
        ),
        Producer(name="vitest", title="vitest", repeats=Repeats.DISTINCT, file_in_id=True),
        Producer(
            name="mocha", title="mocha-junit-reporter", repeats=Repeats.DISTINCT, file_in_id=True
        ),
        Producer(
            name="node",
            title="node:test",
            repeats=Repeats.DISTINCT,
            file_in_id=True,
            todo_is_skipped=True,
        ),
        Producer(name="playwright", title="Playwright", repeats=Repeats.DISTINCT, file_in_id=True),
        Producer(name="surefire", title="Maven Surefire", repeats=Repeats.DISTINCT),
        Producer(name="nextest", title="cargo-nextest", repeats=Repeats.DISTINCT),
    )
}

# The root <testsuites name="..."> each tool writes by default.
_ROOT_NAMES = {
    "jest tests": "jest",
    "vitest tests": "vitest",
    "Mocha Tests": "mocha",
    "pytest tests": "pytest",
    "nextest-run": "nextest",
}
_SCHEMA_LOCATION = "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation"


def producer_named(name: str) -> Producer:
    """The producer called ``name`` (one of :data:`PRODUCERS`); KeyError if none is."""
    return PRODUCERS[name]


def detect_producer(root: etree._Element, first_case: etree._Element) -> Producer:
    """The producer of a report, from its root and its first testcase with the element
    that holds it (both readers ask when they meet that testcase); generic if unknown."""
    parent = first_case.getparent()
    if root.tag == "testsuites":
        known = _ROOT_NAMES.get(root.get("name") or "")
        if known is not None:
            return PRODUCERS[known]
    suite = parent if parent is not None and parent.tag == "testsuite" else None
    if suite is not None:
        if suite.get("name") == "pytest":  # pytest's junit_suite_name, by default
            return PRODUCERS["pytest"]
        if "surefire" in (suite.get(_SCHEMA_LOCATION) or ""):
            return PRODUCERS["surefire"]
        if any(item.get("name") == "go.version" for item in suite.iterfind("properties/property")):
            return PRODUCERS["gotestsum"]
    if _node_shape(root, first_case, suite):
        return PRODUCERS["node"]
    return GENERIC


def _node_shape(
    root: etree._Element, first_case: etree._Element, suite: etree._Element | None
) -> bool:
    """node:test's reporter writes a bare ``<testsuites>``, top-level tests right in it,
    a test with subtests as a ``<testsuite>`` with ``disabled`` and ``hostname``, and
    ``classname="test"`` on every testcase."""
    if root.tag != "testsuites" or len(root.attrib):
        return False
    if first_case.getparent() is root:
        return True
    return (
        first_case.get("classname") == "test"
        and suite is not None
        and "disabled" in suite.attrib
        and "hostname" in suite.attrib
    )
