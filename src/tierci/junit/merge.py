"""Many JUnit reports (tiers and shards) → one truthful picture and one merged file.

Each input is judged on its own: a missing, empty, truncated or unparseable report
becomes an explicit ``missing``/``error``/``empty`` entry naming the file, while every
other report is still read. An expected manifest (``unit:4`` = shards 1/4 … 4/4 of the
unit tier) turns "that shard never wrote anything" into a failure instead of silence.

The merged file is written in one streaming pass: one ``<testsuite>`` per report, its
properties kept, testcases normalised. Nothing compares suites pairwise, so the cost is
linear in the input.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import enum
import functools
import io
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from tierci.config import slot_file_stem, tier_slot
from tierci.errors import ConfigError
from tierci.junit.model import CaseResult, Counts, JUnitError, Outcome, ReportSummary
from tierci.junit.read import ReportReader, summarize_reader
from tierci.junit.whole import WHOLE_DOCUMENT_MAX_BYTES, read_whole
from tierci.provenance import short_commit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from tierci.junit.producer import Producer

__all__ = [
    "MAX_IMPLIED_SHARDS",
    "EntryStatus",
    "Expectation",
    "ReportEntry",
    "add_missing",
    "collect_inputs",
    "implied_expectations",
    "judge_reports",
    "merge_reports",
    "parse_expectation",
    "producer_for",
    "read_entry",
]

_FILE_NAME = re.compile(r"^(?P<tier>.+?)(?:-(?P<index>\d+)of(?P<count>\d+))?\.xml$")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;"})
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Characters XML 1.0 cannot carry at all; test output (ANSI escapes, NULs) has them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile('[&<>"\n\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')


class EntryStatus(enum.StrEnum):
    OK = "ok"
    MISSING = "missing"  # expected, never written
    ERROR = "error"  # written, unreadable
    EMPTY = "empty"  # readable, but no testcase in it: nothing ran


@dataclass(frozen=True, kw_only=True)
class Expectation:
    tier: str
    shards: int | None = None  # None: one unsharded report
    #: "3.12": only reports of tests that ran on Python 3.12 count (a tier run on
    #: several Pythons expects each one's shards); empty: any Python's.
    python: str = ""

    def slots(self) -> list[tuple[str, str]]:
        if self.shards is None:
            return [(self.tier, "")]
        return [(self.tier, f"{i}/{self.shards}") for i in range(1, self.shards + 1)]


@dataclass(kw_only=True)
class ReportEntry:
    """One report's place in the picture, whether or not it could be read."""

    path: Path
    tier: str
    shard: str
    status: EntryStatus
    problem: str = ""
    summary: ReportSummary | None = None  # None when the report could not be read
    warnings: list[str] = field(default_factory=list)
    #: sha256 of the bytes read (an unreadable file's too); empty when it was refused
    #: unread (missing, a FIFO, a device) or never existed.
    digest: str = ""
    #: The Python an expected report was for (a missing one has no properties to say).
    python: str = ""

    @property
    def label(self) -> str:
        """``unit shard 1/3 on Python 3.12``: a report of a tier run on several Pythons
        says which (as the plugin stamped it), or which one a hole was expected for."""
        where = f"{self.tier} shard {self.shard}" if self.shard else self.tier
        return f"{where} on Python {self.ran_on}" if self.ran_on else where

    @property
    def ran_on(self) -> str:
        """``3.12``: the Python its tests ran on (the plugin's ``python`` property), or
        the one it was expected for."""
        full = self.summary.properties.get("python", "") if self.summary else ""
        return ".".join(full.split(".")[:2]) if full else self.python

    @property
    def ok(self) -> bool:
        """Read, ran tests, and nothing is wrong with it as a report."""
        return self.status is EntryStatus.OK and not self.problem


def per_python(
    expect: Sequence[Expectation], pythons: Mapping[str, Sequence[str]]
) -> list[Expectation]:
    """Each expectation of a tier that runs on several Pythons (``pythons``: tier →
    its Pythons), without a Python of its own, as one per Python: ``--expect unit:3``
    then wants each Python's three shards, as the tier declares them."""
    expanded = []
    for expectation in expect:
        versions = pythons.get(expectation.tier, ())
        if expectation.python or not versions:
            expanded.append(expectation)
        else:
            expanded += [dataclasses.replace(expectation, python=python) for python in versions]
    return expanded


def parse_expectation(text: str) -> Expectation:
    """``unit``, ``unit:4`` (four shards), ``unit@3.12:4`` (four shards on Python 3.12)."""
    slot, _, shards = text.partition(":")
    tier, _, python = slot.partition("@")
    if (
        not tier
        or (shards and not shards.isdigit())
        or shards == "0"
        or ("@" in slot and not re.fullmatch(r"3\.\d{1,2}", python))
    ):
        raise ConfigError(
            f"--expect {text!r} is not TIER, TIER:SHARDS or TIER@PYTHON:SHARDS",
            fix="write e.g. --expect lint --expect unit:4 --expect unit@3.13:4",
        )
    return Expectation(tier=tier, shards=int(shards) if shards else None, python=python)


def collect_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders expanded to their ``*.xml`` (sorted, so runs are stable)."""
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.glob("*.xml")) if path.is_dir() else [path])
    return found


def _slot_from_name(path: Path) -> tuple[str, str]:
    match = _FILE_NAME.match(path.name)
    if match is None:
        return path.stem, ""
    shard = f"{match['index']}/{match['count']}" if match["index"] else ""
    return match["tier"], shard


def producer_for(path: Path, producers: Mapping[str, Producer] | None) -> Producer | None:
    """The producer a tier's ``junit_producer`` names for the report ``path``, by the
    tier its file name gives (``js.xml``, ``js-2of4.xml``, ``js-legacy.xml``: tier
    ``js``); None (detected from the report) where none does."""
    if not producers:
        return None
    tier = _slot_from_name(path)[0]
    while tier:
        found = producers.get(tier)
        if found is not None:
            return found
        tier = tier.rpartition("-")[0]  # without its env or Python
    return None


def read_entry(
    path: Path,
    *,
    huge_tree: bool = False,
    on_case: Callable[[CaseResult], object] | None = None,
    producer: Producer | None = None,
) -> ReportEntry:
    """One report judged: ``ok``, ``empty`` or ``error`` (never an exception);
    ``producer``: the tool that wrote it, where a tier names it (None: detected)."""
    reader = ReportReader(path, huge_tree=huge_tree, producer=producer)
    try:
        summary = summarize_reader(reader, on_case=on_case)
    except JUnitError as exc:
        tier, shard = _slot_from_name(path)
        return ReportEntry(
            path=path,
            tier=tier,
            shard=shard,
            status=EntryStatus.ERROR,
            problem=str(exc),
            digest=reader.digest,
        )
    return _entry(path, summary, digest=reader.digest)


def _entry(path: Path, summary: ReportSummary, *, digest: str = "") -> ReportEntry:
    tier, shard = _slot_from_name(path)
    # The tier plugin's properties are the truth; the file name is the fallback.
    if summary.properties.get("tier"):
        properties = summary.properties
        tier = tier_slot(properties["tier"], properties.get("env"))
        shard = properties.get("shard", "")
    status = EntryStatus.OK if summary.tests else EntryStatus.EMPTY
    warnings = summary.warnings
    if shard and _shard_count(shard) is None:
        unusable = (
            f"shard {shard} is not i/n with 1 <= i <= n <= {MAX_IMPLIED_SHARDS}: "
            "no other shard is expected from it"
        )
        warnings = [*warnings, unusable]
    return ReportEntry(
        path=path,
        tier=tier,
        shard=shard,
        status=status,
        summary=summary,
        warnings=warnings,
        digest=digest,
    )


#: The most shards a report may say its tier ran in: "shard 1 of 10^9" asks for no holes.
MAX_IMPLIED_SHARDS = 256
_SHARD = re.compile(r"(?P<index>[0-9]{1,9})/(?P<count>[0-9]{1,9})")


def _shard_count(shard: str) -> int | None:
    """``n`` of a shard ``i/n`` with ``1 <= i <= n <= MAX_IMPLIED_SHARDS``; else None."""
    match = _SHARD.fullmatch(shard)
    if match is None:
        return None
    index, count = int(match["index"]), int(match["count"])
    return count if 1 <= index <= count <= MAX_IMPLIED_SHARDS else None


def implied_expectations(entries: Sequence[ReportEntry]) -> list[Expectation]:
    """What the reports themselves say ran: a report of shard ``i/n`` means the tier ran
    in ``n`` shards (on that report's Python), so every one of them is expected, given
    ``--expect`` or not. A count beyond :data:`MAX_IMPLIED_SHARDS` implies nothing (the
    entry's warning says so: :func:`_entry`)."""
    implied: dict[tuple[str, int, str], None] = {}
    for entry in entries:
        count = _shard_count(entry.shard)
        if count is not None and entry.status is not EntryStatus.MISSING:
            implied[(entry.tier, count, entry.ran_on)] = None
    return [Expectation(tier=tier, shards=count, python=python) for tier, count, python in implied]


def add_missing(
    entries: list[ReportEntry], expect: Sequence[Expectation], junit_dir: Path
) -> list[ReportEntry]:
    """Append a ``missing`` entry for every expected tier/shard without a report (those
    ``expect`` names and those the reports imply: :func:`implied_expectations`), and
    flag expected reports that ran nothing."""
    present = {(e.tier, e.shard, e.ran_on) for e in entries}
    implied = [
        one
        for one in implied_expectations(entries)
        if not any(
            (given.tier, given.shards) == (one.tier, one.shards)
            and given.python in ("", one.python)
            for given in expect
        )
    ]
    expect = [*expect, *implied]
    for expectation in expect:
        python = expectation.python
        for tier, shard in expectation.slots():
            if any((tier, shard) == (t, s) and python in ("", ran_on) for t, s, ran_on in present):
                continue
            present.add((tier, shard, python))  # one hole per slot, however many expect it
            hole = ReportEntry(
                path=junit_dir / f"{slot_file_stem(tier, shard, python)}.xml",
                tier=tier,
                shard=shard,
                status=EntryStatus.MISSING,
                python=python,
            )
            hole.problem = (
                f"no report for {hole.label}: expected {hole.path} "
                "(the job crashed, timed out or never ran)"
            )
            entries.append(hole)
    expected_tiers = {x.tier for x in expect}
    for entry in entries:
        if entry.tier in expected_tiers and entry.status is EntryStatus.EMPTY:
            entry.problem = f"{entry.path}: ran no tests, where {entry.label} was expected to"
    return entries


def judge_reports(
    inputs: Sequence[Path],
    *,
    expect: Sequence[Expectation] = (),
    junit_dir: Path | None = None,
    huge_tree: bool = False,
    producers: Mapping[str, Producer] | None = None,
) -> list[ReportEntry]:
    """Every input judged on its own, plus the expected reports that are missing;
    ``producers``: the tiers whose reports' producer is configured, with it."""
    entries = [
        read_entry(path, huge_tree=huge_tree, producer=producer_for(path, producers))
        for path in inputs
    ]
    return add_missing(entries, expect, junit_dir or _default_dir(inputs))


def _default_dir(inputs: Sequence[Path]) -> Path:
    return inputs[0].parent if inputs else Path()


def merge_reports(
    inputs: Sequence[Path],
    out: Path,
    *,
    expect: Sequence[Expectation] = (),
    junit_dir: Path | None = None,
    huge_tree: bool = False,
    whole_document_max_bytes: int = WHOLE_DOCUMENT_MAX_BYTES,
    jobs: int | None = None,
    commit: str = "",
    producers: Mapping[str, Producer] | None = None,
) -> list[ReportEntry]:
    """Judge and merge every input, in input order (``producers``: the tiers whose
    reports' producer is configured, with it; any other report's is detected).

    Reports up to ``whole_document_max_bytes`` are parsed whole and serialised in C
    (:mod:`tierci.junit.whole`), on ``jobs`` worker processes when there are many
    (default: the CPUs this process may use); larger reports, and those that need the
    sequential view, are streamed, the large ones here in bounded memory.

    The output has one ``<testsuite>`` per report and a failing ``[missing report]`` /
    ``[unreadable report]`` case for each report that could not contribute, so a
    downstream tool (Jenkins' junit step) sees the hole too.

    Stamps follow ingest's rule: given a ``commit``, a report stamped with another one is
    left out (a problem, and its slot a hole where expected); without one, reports of
    several commits are each merged but named as a problem.
    """
    totals = Counts()
    total_time = 0.0
    out.parent.mkdir(parents=True, exist_ok=True)
    entries: list[ReportEntry] = []
    left_out: list[ReportEntry] = []
    is_small = [_size(path) <= whole_document_max_bytes for path in inputs]
    small = [path for path, fits in zip(inputs, is_small, strict=True) if fits]
    render = functools.partial(
        _render_small,
        huge_tree=huge_tree,
        whole_max_bytes=whole_document_max_bytes,
        producers=producers,
    )
    with _spool() as body, _mapper(jobs, len(small)) as mapper:
        rendered = mapper(render, small)
        for path, fits in zip(inputs, is_small, strict=True):
            if fits:
                entry, text, counts = next(rendered)
                reason = _other_commit(entry, commit)
                if not reason:
                    body.write(text)
            else:
                entry, counts = _merge_streaming(
                    path,
                    body,
                    huge_tree=huge_tree,
                    commit=commit,
                    producer=producer_for(path, producers),
                )
                reason = _other_commit(entry, commit)
            if reason:
                entry.problem = f"{path}: {reason}"
                left_out.append(entry)
                continue
            totals += counts
            total_time += entry.summary.duration_s if entry.summary else 0.0
            entries.append(entry)
        if not commit:
            _name_mixed_commits(entries)
        for entry in add_missing(entries, expect, junit_dir or _default_dir(inputs)):
            if entry.status is EntryStatus.MISSING:
                totals += _write_problem_suite(entry, body)
        body.seek(0)
        with out.open("w", encoding="utf-8") as handle:
            handle.write('<?xml version="1.0" encoding="utf-8"?>\n')
            handle.write(f'<testsuites name="tierci merge"{totals.suite_attributes(total_time)}>\n')
            shutil.copyfileobj(body, handle, 1024 * 1024)
            handle.write("</testsuites>\n")
    return entries + left_out


def _stamp(entry: ReportEntry) -> str:
    return entry.summary.properties.get("commit", "") if entry.summary else ""


def _other_commit(entry: ReportEntry, commit: str) -> str:
    """Why ``entry`` is not merged for ``commit`` ('' when it is)."""
    stamp = _stamp(entry)
    if commit and stamp and stamp != commit:
        return (
            f"stamped with commit {short_commit(stamp)}, not {short_commit(commit)}: left by "
            "an earlier run, it is not merged"
        )
    return ""


def _name_mixed_commits(entries: Sequence[ReportEntry]) -> None:
    """Reports of several commits merged into one file would pass one commit's holes
    off as another's results: each report not of the most common commit says so."""
    stamps = Counter(stamp for entry in entries if (stamp := _stamp(entry)))
    if len(stamps) < 2:  # noqa: PLR2004 - one commit, or none stated
        return
    (main, count), *_ = sorted(stamps.items(), key=lambda item: (-item[1], item[0]))
    for entry in entries:
        stamp = _stamp(entry)
        if stamp and stamp != main and not entry.problem:
            entry.problem = (
                f"{entry.path}: stamped with commit {short_commit(stamp)}, while {count} "
                f"report(s) are of {short_commit(main)}: merge one commit's reports, or "
                "name it with --commit"
            )


_Rendered = tuple[ReportEntry, str, Counts]
_MIN_FILES_PER_WORKER = 8  # below this, starting workers costs more than it saves


@contextlib.contextmanager
def _mapper(
    jobs: int | None, tasks: int
) -> Iterator[Callable[[Callable[[Path], _Rendered], Sequence[Path]], Iterator[_Rendered]]]:
    """``map`` in order: over worker processes when it pays, else in this process."""
    workers = jobs if jobs is not None else _usable_cpus()
    workers = min(workers, tasks // _MIN_FILES_PER_WORKER)
    if workers <= 1:
        yield map
        return
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        yield lambda function, items: pool.map(function, items, chunksize=8)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # unreadable: the small path reports it


def _render_small(
    path: Path,
    *,
    huge_tree: bool,
    whole_max_bytes: int,
    producers: Mapping[str, Producer] | None,
) -> _Rendered:
    """One report's suite as text (it fits in memory by size), its entry and counts."""
    producer = producer_for(path, producers)
    whole = read_whole(path, huge_tree=huge_tree, max_bytes=whole_max_bytes, producer=producer)
    if whole is None:
        with io.StringIO() as text:
            entry, counts = _merge_streaming(path, text, huge_tree=huge_tree, producer=producer)
            return entry, text.getvalue(), counts
    entry = _entry(path, whole.summary)
    return entry, whole.suite_xml(entry.label, whole.summary.properties), whole.summary.counts


def _spool() -> IO[str]:
    # In memory while small, on disk when large: memory stays bounded either way.
    return tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024, mode="w+", encoding="utf-8")


_BATCH = 4096  # testcases serialised before one write to the spool


class _CaseBuffer:
    """Serialised testcases, handed to a spool in batches: one write per case through
    SpooledTemporaryFile's Python-level wrapper costs more than the serialising."""

    def __init__(self, spool: IO[str]) -> None:
        self.spool = spool
        self.parts: list[str] = []

    def __call__(self, case: CaseResult) -> None:
        parts = self.parts
        parts.append(_case_xml(case))
        if len(parts) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        self.spool.write("".join(self.parts))
        self.parts.clear()


def _merge_streaming(
    path: Path, out: IO[str], *, huge_tree: bool, producer: Producer | None, commit: str = ""
) -> tuple[ReportEntry, Counts]:
    """Read ``path`` case by case and write its suite to ``out`` (not when it is stamped
    with another ``commit``): memory stays bounded."""
    with _spool() as spool:
        buffer = _CaseBuffer(spool)
        entry = read_entry(path, huge_tree=huge_tree, on_case=buffer, producer=producer)
        if entry.summary is None:  # unreadable: what was read before the break is dropped
            return entry, _write_problem_suite(entry, out)
        if _other_commit(entry, commit):
            return entry, Counts()
        buffer.flush()
        spool.seek(0)
        counts = entry.summary.counts
        out.write(
            f'  <testsuite name="{_attr(entry.label)}"'
            f"{counts.suite_attributes(entry.summary.duration_s)}>\n"
        )
        _write_properties(out, entry.summary.properties)
        shutil.copyfileobj(spool, out, 1024 * 1024)
        out.write("  </testsuite>\n")
    return entry, counts


def _write_problem_suite(entry: ReportEntry, out: IO[str]) -> Counts:
    """A failing case standing for a report that could not contribute; its counts."""
    counts = Counts(errors=1)  # its one case below
    kind = "missing" if entry.status is EntryStatus.MISSING else "unreadable"
    case = CaseResult(
        suite=entry.label,
        classname="tierci",
        name=f"[{kind} report]",
        time_s=0.0,
        outcome=Outcome.ERROR,
        message=entry.problem.split("\n", 1)[0],
        details=entry.problem,
        file=str(entry.path),
    )
    out.write(f'  <testsuite name="{_attr(entry.label)}"{counts.suite_attributes(0.0)}>\n')
    _write_properties(out, {"tier": entry.tier, "shard": entry.shard})
    out.write(_case_xml(case))
    out.write("  </testsuite>\n")
    return counts


def _write_properties(out: IO[str], properties: dict[str, str]) -> None:
    if not properties:
        return
    out.write("    <properties>\n")
    for name, value in properties.items():
        out.write(f'      <property name="{_attr(name)}" value="{_attr(value)}"/>\n')
    out.write("    </properties>\n")


_RESULT_ELEMENT = {
    Outcome.FAILED: "failure",
    Outcome.ERROR: "error",
    Outcome.SKIPPED: "skipped",
    Outcome.FLAKY: "flakyFailure",  # Surefire's spelling: failed, then passed on rerun
}


def _case_xml(case: CaseResult) -> str:
    suite, classname, name, time_s, outcome, message, details, file, attempts, _ = case
    head = (
        f'    <testcase classname="{_attr(classname or suite)}" name="{_attr(name)}" '
        f'time="{time_s:.6f}"'
    )
    if file:
        head += f' file="{_attr(file)}"'
    if attempts > 1:
        head += f' attempts="{attempts}"'
    if outcome is Outcome.PASSED:
        return head + "/>\n"
    element = _RESULT_ELEMENT[outcome]
    return (
        f'{head}>\n      <{element} message="{_attr(message)}">{_text(details)}'
        f"</{element}>\n    </testcase>\n"
    )


def _attr(value: str) -> str:
    # Most names need no escaping: a C-level search is far cheaper than a translate.
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return _NOT_XML.sub("\ufffd", value).translate(_ESCAPES)


def _text(value: str) -> str:
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return _NOT_XML.sub("\ufffd", value).translate(_TEXT_ESCAPES)
