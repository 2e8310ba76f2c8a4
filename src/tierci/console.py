"""Everything tierci shows a person: the library returns results, this module prints.

CI-aware: on GitHub Actions a failed tier also becomes an ``::error::`` annotation, and
rich honours ``NO_COLOR`` and non-terminal output by itself.

Every console here has rich markup turned off: text from reports and archives (a tier
called ``[/]``, a test named ``[bold]x``) prints as it is, and styles are given as
``Text`` spans, never as markup inside strings.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tierci.escape import show_invisible, workflow_command_data, workflow_command_property
from tierci.pipeline import Status
from tierci.provenance import short_commit

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from datetime import date

    from tierci.junit.merge import ReportEntry
    from tierci.pipeline import TierResult
    from tierci.quarantine import Entry
    from tierci.report.hud.model import FlakyTest
    from tierci.report.ingest import Ingested, Rendered

__all__ = [
    "gates_verdict",
    "output",
    "print_error",
    "print_flaky",
    "print_ingest_notes",
    "print_line",
    "print_quarantine",
    "print_reports",
    "print_summary",
]

_STYLE = {
    Status.PASSED: "bold green",
    Status.FLAKY: "yellow",
    Status.FAILED: "bold red",
    Status.MISSING: "bold red",
    Status.SKIPPED: "yellow",
    Status.NOT_RUN: "dim",
}


#: The width of tables where output is not a terminal (a CI log, a pipe, a test's
#: capture): wide enough that no cell is ever wrapped, since a table only takes the
#: width its cells need.
_LOG_WIDTH = 10_000


def _console(*, stderr: bool = False) -> Console:
    """A console that never hard-wraps a message: on a terminal, text flows as the
    terminal wraps it; elsewhere (CI logs, pipes) every message stays one line, so where
    it breaks never depends on a path's length, and a log search finds it whole."""
    stream = sys.stderr if stderr else sys.stdout
    try:
        terminal = os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):  # a captured or replaced stream
        terminal = False
    return Console(
        stderr=stderr,
        markup=False,
        highlight=False,
        soft_wrap=True,
        width=None if terminal else _LOG_WIDTH,
    )


def output() -> Console:
    """The console a command shows its progress, tables and notes on (stdout)."""
    return _console()


def print_line(text: str, *, stderr: bool = False) -> None:
    """One plain line, exactly as given: a command's machine-readable output (a path,
    a key, JSON) or a line for logs that strip tables."""
    stream = sys.stderr if stderr else sys.stdout
    stream.write(f"{text}\n")
    stream.flush()


def print_summary(results: Sequence[TierResult], *, title: str = "tierci pipeline") -> None:
    table = Table(title=title, title_justify="left")
    for column, justify in (
        ("tier", "left"),
        ("status", "left"),
        ("time", "right"),
        ("tests", "right"),
        ("passed", "right"),
        ("failed", "right"),
        ("errors", "right"),
        ("skipped", "right"),
        ("flaky", "right"),
        ("note", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for result in results:
        counts = result.counts
        numbers = [str(n) for n in counts.row()] if counts else ["-"] * 6
        table.add_row(
            show_invisible(result.tier),
            Text(result.status.value, style=_STYLE[result.status]),
            f"{result.duration_s:.1f}s",
            *numbers,
            show_invisible(result.reason),
        )
    console = _console()
    console.print(table)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for result in results:
            if result.status is Status.FAILED:
                title = workflow_command_property(f"tier {result.tier} failed")
                print_line(f"::error title={title}::{workflow_command_data(result.reason)}")


def print_error(message: str) -> None:
    _console(stderr=True).print(Text.assemble(("error: ", "bold red"), show_invisible(message)))


def print_reports(entries: Sequence[ReportEntry], *, title: str = "JUnit reports") -> None:
    """One row per report: what it held, or why it could not count."""
    table = Table(title=show_invisible(title), title_justify="left")
    for column in ("report", "tier", "shard", "status", "tests", "failed", "errors", "flaky"):
        table.add_column(column)
    problems = []
    for entry in entries:
        summary = entry.summary
        numbers = (
            [
                str(summary.tests),
                str(summary.counts.failed),
                str(summary.counts.errors),
                str(summary.counts.flaky),
            ]
            if summary
            else ["-"] * 4
        )
        table.add_row(
            show_invisible(entry.path.name),
            show_invisible(entry.tier),
            show_invisible(entry.shard),
            Text(entry.status.value, style="green" if entry.ok else "bold red"),
            *numbers,
        )
        if entry.problem:
            problems.append(entry.problem)
    console = _console()
    console.print(table)
    for problem in problems:
        console.print(Text.assemble(("problem: ", "bold red"), show_invisible(problem)))


def print_ingest_notes(ingested: Ingested) -> None:
    """What an ingest did not store, and why (the table shows what it did)."""
    console = _console()
    for path, reason in ingested.skipped:
        console.print(Text.assemble(("skipped: ", "yellow"), show_invisible(f"{path}: {reason}")))
    for _path, problem in ingested.record_problems:
        console.print(Text.assemble(("problem: ", "bold red"), show_invisible(problem)))
    if ingested.repeated:
        print_line(
            f"{len(ingested.repeated)} report(s) already in the history for their commit: "
            "not stored again"
        )


def gates_verdict(rendered: Rendered, *, check: bool) -> int:
    """Name every unmet quality gate; with ``check``, they fail the command (exit 1)."""
    console = _console()
    for gate in rendered.unmet_gates:
        console.print(
            Text.assemble(
                ("gate not met: ", "bold red" if check else "yellow"),
                show_invisible(f"{gate.name}: {gate.value} (target {gate.target})"),
            )
        )
    return 1 if check and rendered.unmet_gates else 0


def print_flaky(tests: Sequence[FlakyTest], *, title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("test", "flake rate", "flaky runs", "runs", "trend", "first seen"):
        table.add_column(column)
    for test in tests:
        table.add_row(
            show_invisible(test.test_id),
            f"{test.rate:.1%}",
            str(test.flaky_runs),
            str(test.runs),
            test.trend,
            show_invisible(short_commit(test.first_seen)),
        )
    _console().print(table)


def print_quarantine(
    entries: Sequence[Entry],
    recent: dict[str, tuple[int, int]],
    *,
    on: date,
    ready_after: int,
    refused: Collection[str] = (),
) -> None:
    """Each entry, its expiry, and how its tests did lately (ready to leave: all passed);
    ``refused``: the tests of entries the bounds refuse (never ends, too far off, names
    no test)."""
    table = Table(title=f"quarantine ({len(entries)} entries)", title_justify="left")
    for column in ("test", "reason", "link", "expires", "recent passes", "state"):
        table.add_column(column)
    for entry in entries:
        passed, runs = recent.get(entry.test, (0, 0))
        if entry.expired(on):
            state = Text("expired", style="bold red")
        elif entry.test in refused:
            state = Text("refused", style="bold red")
        elif runs >= ready_after and passed == runs:
            state = Text("ready to leave", style="green")
        else:
            state = Text("quarantined", style="yellow")
        table.add_row(
            show_invisible(entry.test),
            show_invisible(entry.reason),
            show_invisible(entry.link),
            str(entry.expires or ""),
            f"{passed}/{runs}" if runs else "-",
            state,
        )
    _console().print(table)
