"""From JUnit reports to the HUD: ingest into the history, then render from it.

``nox -s report`` does both in one call; ``tierci report ingest`` and ``tierci report
hud`` do one each. All three go through these functions, so they cannot drift apart.
A carried history (a cache, an artifact) is looked at first (:func:`check_carried`):
missing is a notice, and a broken one may be set aside; ``tierci report prune`` and
``nox -s report -- --keep-commits N`` keep it small (:func:`prune`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierci.junit.merge import collect_inputs
from tierci.records import RECORD_SUFFIX
from tierci.report.database import location_exists
from tierci.report.history import (
    Carried,
    check_carried,
    open_history,
    read_history,
    refuse_conflicting_stamps,
    report_claims,
)
from tierci.report.hud.model import GateScope

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from tierci.junit.merge import Expectation, ReportEntry
    from tierci.junit.producer import Producer
    from tierci.quarantine import Entry
    from tierci.quarantine_bounds import QuarantineBounds
    from tierci.report.database import HistoryLocation
    from tierci.report.history import Pruned, Retention, RunContext
    from tierci.report.hud import GateTargets
    from tierci.report.hud.model import Gate

__all__ = ["Ingested", "Rendered", "ingest", "ingest_and_render", "prune", "render"]


@dataclass(frozen=True, kw_only=True)
class Ingested:
    """Each report's place (stored, or why it could not count), the ones skipped
    because their commit's history already had their exact bytes, the ones not filed
    (stamped with another commit), and tier records that could not be read; what was
    at the history's path before (``history``) and, when asked, what was pruned."""

    entries: tuple[ReportEntry, ...]
    repeated: tuple[Path, ...]
    skipped: tuple[tuple[Path, str], ...] = ()
    record_problems: tuple[tuple[Path, str], ...] = ()
    records: int = 0
    #: Every tier (slot) this ingest filed a report, hole or record of.
    tiers: frozenset[str] = frozenset()
    history: Carried | None = None
    pruned: Pruned | None = None

    @property
    def problems(self) -> list[str]:
        return [entry.problem for entry in self.entries if entry.problem] + [
            problem for _path, problem in self.record_problems
        ]


def ingest(
    db: HistoryLocation,
    inputs: Sequence[Path],
    context: RunContext,
    *,
    expect: Sequence[Expectation] = (),
    junit_dir: Path | None = None,
    huge_tree: bool = False,
    strict: bool = False,
    only_commit: str = "",
    set_aside_corrupt: bool = False,
    producers: Mapping[str, Producer] | None = None,
) -> Ingested:
    """Store ``inputs`` (report files, tier records, or folders of both) in the history.

    Each is filed under the commit it is stamped with; ``context.commit`` is the default
    for unstamped reports. ``only_commit`` keeps what another commit left behind out
    (``nox -s report`` files only this commit's run). A missing history is started
    (``Ingested.history`` says so); with ``set_aside_corrupt``, a file at ``db`` that is
    not a readable history is renamed aside and a fresh one started, instead of
    refused. ``producers``: the tiers whose reports' producer is configured
    (``junit_producer``), with it; any other report's is detected."""
    reports = [path for path in collect_inputs(inputs) if not path.name.endswith(RECORD_SUFFIX)]
    if strict:
        refuse_conflicting_stamps(reports, context, only_commit, huge_tree=huge_tree)
    carried = check_carried(db, set_aside=set_aside_corrupt)
    records = _records(inputs)
    folder = junit_dir or _folder_of(inputs)
    with open_history(db) as history:
        entries = history.ingest(
            reports,
            context,
            expect=expect,
            junit_dir=folder,
            huge_tree=huge_tree,
            strict=strict,
            only_commit=only_commit,
            claims=report_claims(records, context),
            producers=producers,
        )
        skipped = list(history.skipped)
        repeated = list(history.already_ingested)
        record_problems = history.ingest_records(records, context, only_commit=only_commit)
        record_tiers = history.record_tiers
        skipped += history.skipped
        repeated += history.already_ingested
    return Ingested(
        entries=tuple(entries),
        repeated=tuple(repeated),
        skipped=tuple(skipped),
        record_problems=tuple(record_problems),
        records=len(records) - len(record_problems),
        tiers=frozenset({entry.tier for entry in entries} | record_tiers),
        history=carried,
    )


def prune(db: HistoryLocation, retention: Retention) -> Pruned | None:
    """Delete the commits ``retention`` does not keep from the history at ``db`` and
    shrink the file; None when there is no history there (nothing to prune)."""
    if not location_exists(db):
        return None
    with open_history(db) as history:
        return history.prune(retention)


def _records(inputs: Sequence[Path]) -> list[Path]:
    """Tier records among the inputs: given by name, or found in a given folder."""
    found: list[Path] = []
    for path in inputs:
        if path.is_dir():
            found.extend(sorted(path.glob(f"*{RECORD_SUFFIX}")))
        elif path.name.endswith(RECORD_SUFFIX):
            found.append(path)
    return found


@dataclass(frozen=True, kw_only=True)
class Rendered:
    """The HUD's files, and the quality gates it shows as not met."""

    files: tuple[Path, ...]
    unmet_gates: tuple[Gate, ...]


def render(
    db: HistoryLocation,
    out: Path,
    *,
    formats: Sequence[str] = ("html",),
    max_commits: int = 30,
    targets: GateTargets | None = None,
    base_branch: str = "main",
    quarantine: Sequence[Entry] = (),
    quarantine_bounds: QuarantineBounds | None = None,
    scope: GateScope | None = None,
) -> Rendered:
    """Write the HUD from the history at ``db`` into ``out`` (``scope``: what the commit
    gates judge; see :func:`tierci.report.hud.build_hud`).

    The history is opened read-only: a history on a read-only folder, mount or file
    renders as well as any."""
    from tierci.report.hud import build_hud, write_hud  # noqa: PLC0415 - jinja2: only here

    with read_history(db) as history:
        model = build_hud(
            history.database,
            max_commits=max_commits,
            targets=targets,
            base_branch=base_branch,
            quarantine=quarantine,
            quarantine_bounds=quarantine_bounds,
            scope=scope,
        )
    files = write_hud(model, out, formats)
    return Rendered(
        files=tuple(files),
        unmet_gates=tuple(gate for gate in model.gates if not gate.passed and gate.blocking),
    )


def ingest_and_render(
    db: HistoryLocation,
    inputs: Sequence[Path],
    context: RunContext,
    out: Path,
    *,
    expect: Sequence[Expectation] = (),
    junit_dir: Path | None = None,
    formats: Sequence[str] = ("html", "markdown", "json"),
    targets: GateTargets | None = None,
    only_commit: str = "",
    base_branch: str = "main",
    set_aside_corrupt: bool = False,
    retention: Retention | None = None,
    quarantine: Sequence[Entry] = (),
    quarantine_bounds: QuarantineBounds | None = None,
    producers: Mapping[str, Producer] | None = None,
) -> tuple[Ingested, Rendered]:
    """:func:`ingest`, then :func:`prune` when a ``retention`` is given, then
    :func:`render` (the HUD shows whatever the ingest found). The commit gates judge
    this run: its commit, and the tiers it expected or filed."""
    ingested = ingest(
        db,
        inputs,
        context,
        expect=expect,
        junit_dir=junit_dir,
        only_commit=only_commit,
        set_aside_corrupt=set_aside_corrupt,
        producers=producers,
    )
    if retention is not None:
        ingested = dataclasses.replace(ingested, pruned=prune(db, retention))
    scope = GateScope(
        commit=only_commit or context.commit,
        tiers=frozenset({expectation.tier for expectation in expect} | ingested.tiers),
    )
    rendered = render(
        db,
        out,
        formats=formats,
        targets=targets,
        base_branch=base_branch,
        quarantine=quarantine,
        quarantine_bounds=quarantine_bounds,
        scope=scope,
    )
    return ingested, rendered


def _folder_of(inputs: Sequence[Path]) -> Path | None:
    """Where a missing report should have been: the first folder given, else the
    first file's folder."""
    if not inputs:
        return None
    first = inputs[0]
    return first if first.is_dir() else first.parent
