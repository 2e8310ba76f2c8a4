"""From JUnit reports to the HUD: ingest into the history, then render from it.

``nox -s report`` does both in one call; ``tierci report ingest`` and ``tierci report
hud`` do one each. All three go through these functions, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierci.junit.merge import collect_inputs
from tierci.report.history import open_history, read_history
from tierci.report.hud import build_hud, write_hud

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from tierci.junit.merge import Expectation, ReportEntry
    from tierci.report.history import RunContext
    from tierci.report.hud import GateTargets

__all__ = ["Ingested", "ingest", "ingest_and_render", "render"]


@dataclass(frozen=True, kw_only=True)
class Ingested:
    """Each report's place (stored, or why it could not count), and the ones skipped
    because this commit's history already had their exact bytes."""

    entries: tuple[ReportEntry, ...]
    repeated: tuple[Path, ...]

    @property
    def problems(self) -> list[str]:
        return [entry.problem for entry in self.entries if entry.problem]


def ingest(
    db: Path,
    inputs: Sequence[Path],
    context: RunContext,
    *,
    expect: Sequence[Expectation] = (),
    junit_dir: Path | None = None,
    huge_tree: bool = False,
) -> Ingested:
    """Store ``inputs`` (files, or folders of ``*.xml``) under ``context``'s commit."""
    reports = collect_inputs(inputs)
    folder = junit_dir or _folder_of(inputs)
    with open_history(db) as history:
        entries = history.ingest(
            reports, context, expect=expect, junit_dir=folder, huge_tree=huge_tree
        )
        repeated = tuple(history.already_ingested)
    return Ingested(entries=tuple(entries), repeated=repeated)


def render(
    db: Path,
    out: Path,
    *,
    formats: Sequence[str] = ("html",),
    max_commits: int = 30,
    targets: GateTargets | None = None,
) -> list[Path]:
    """Write the HUD from the history at ``db`` into ``out``; the files written.

    The history is opened read-only: a history on a read-only folder, mount or file
    renders as well as any."""
    with read_history(db) as history:
        model = build_hud(history.connection, max_commits=max_commits, targets=targets)
    return write_hud(model, out, formats)


def ingest_and_render(
    db: Path,
    inputs: Sequence[Path],
    context: RunContext,
    out: Path,
    *,
    expect: Sequence[Expectation] = (),
    junit_dir: Path | None = None,
    formats: Sequence[str] = ("html", "markdown", "json"),
    targets: GateTargets | None = None,
) -> tuple[Ingested, list[Path]]:
    """:func:`ingest`, then :func:`render` (the HUD shows whatever the ingest found)."""
    ingested = ingest(db, inputs, context, expect=expect, junit_dir=junit_dir)
    return ingested, render(db, out, formats=formats, targets=targets)


def _folder_of(inputs: Sequence[Path]) -> Path | None:
    """Where a missing report should have been: the first folder given, else the
    first file's folder."""
    if not inputs:
        return None
    first = inputs[0]
    return first if first.is_dir() else first.parent
