"""The HUD's view model, read from the run history: plain data, no presentation.

Cells (commit x tier) aggregate every run of that tier for that commit (its shards and
reruns):
- ``failed``: a test failed or errored, or a report was unreadable;
- ``missing``: an expected report never arrived;
- ``flaky``: everything passed, some tests only on retry;
- ``skipped``: nothing ran that was not skipped;
- ``passed``: everything else.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import median
from typing import TYPE_CHECKING

import tierci.quarantine
from tierci.junit import Outcome
from tierci.pipeline import Status
from tierci.provenance import short_commit
from tierci.quarantine_bounds import QuarantineBounds, refused_by_date_or_glob, refused_by_share

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from tierci.config import GateConfig
    from tierci.quarantine import Entry
    from tierci.report.database import Database, Row

__all__ = [
    "Cell",
    "CommitRow",
    "DurationPoint",
    "Failure",
    "FlakyTest",
    "Gate",
    "GateScope",
    "GateTargets",
    "Hud",
    "QuarantineRow",
    "ReportWarnings",
    "RolloutStage",
    "build_hud",
    "gate_targets",
]

_MAX_FAILURES_PER_CELL = 50


class FailureLabel(enum.StrEnum):
    """A failure compared with the base branch's latest recorded commit before it."""

    NEW = "new"  # passed there (or did not exist there): this change broke it
    PRE_EXISTING = "pre-existing"  # failed there too
    FLAKY = "flaky"  # known flaky in the commits shown
    UNKNOWN = "unknown"  # no base branch data to compare with


@dataclass(frozen=True, kw_only=True)
class Failure:
    test_id: str
    outcome: Outcome
    message: str
    shard: str
    label: FailureLabel = FailureLabel.UNKNOWN


@dataclass(frozen=True, kw_only=True)
class Cell:
    commit: str
    tier: str
    status: Status
    runs: int
    tests: int
    failed: int
    errors: int
    flaky: int
    skipped: int
    time_to_signal_s: float
    #: Earlier attempts of the cell's slots (re-runs): not counted in its numbers.
    reruns: int = 0
    #: Reports that could not be read, and expected ones that ran no test.
    unreadable: int = 0
    empty: int = 0
    problems: tuple[str, ...] = ()
    failures: tuple[Failure, ...] = ()

    @property
    def anchor(self) -> str:
        return f"cell-{short_commit(self.commit)}-{self.tier}"

    @property
    def state(self) -> str:
        """The status in words; a failure that is a report's, not a test's, says so
        (an unreadable report is never "0 failed")."""
        if self.status is Status.FAILED and not self.failed + self.errors:
            return "unreadable" if self.unreadable else "empty"
        return self.status.value

    @property
    def label(self) -> str:
        """What the cell in the grid says."""
        if self.status is Status.FAILED and self.failed + self.errors:
            return f"{self.failed + self.errors} failed"
        if self.status is Status.FAILED:
            return self.state
        if self.status is Status.FLAKY:
            return f"{self.flaky} flaky"
        if self.status is Status.MISSING or not self.tests:
            return self.status.value  # missing, not run, or a tier that runs no tests
        return str(self.tests)

    @property
    def css(self) -> str:
        """The status as a CSS class (``not run`` → ``not-run``)."""
        return self.status.value.replace(" ", "-")


@dataclass(frozen=True, kw_only=True)
class CommitRow:
    sha: str
    branch: str
    ref_time: str
    cells: dict[str, Cell]
    #: Wall clock from the pipeline's start to the last tier's end (from the tiers'
    #: records); None where no tier recorded its run.
    time_to_signal_s: float | None = None

    @property
    def short(self) -> str:
        """The abbreviated commit; a changed working tree's keeps its mark and state."""
        return short_commit(self.sha)


@dataclass(frozen=True, kw_only=True)
class FlakyTest:
    test_id: str
    runs: int
    flaky_runs: int
    #: The oldest commit shown on which it flaked, and whether its flakes are more
    #: ("rising"), fewer ("falling") or as many ("steady") in the newer half of the view.
    first_seen: str = ""
    trend: str = "steady"

    @property
    def rate(self) -> float:
        return self.flaky_runs / self.runs if self.runs else 0.0


@dataclass(frozen=True, kw_only=True)
class DurationPoint:
    commit: str
    seconds: float


@dataclass(frozen=True, kw_only=True)
class Gate:
    name: str
    value: str
    target: str
    passed: bool
    detail: str = ""
    #: Whether an unmet gate fails `--check-gates` (with ``fail_on = "new"`` only new
    #: failures, holes and failed tiers do).
    blocking: bool = True


@dataclass(frozen=True, kw_only=True)
class GateScope:
    """What one report's commit gates judge: that commit's cells of the tiers the report
    expected or filed. A workflow's gates are its own: a tier another workflow ran (or
    failed to finish) on the same commit neither fails nor passes them."""

    commit: str
    tiers: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class GateTargets:
    """The quality bar (from the device-CI plan users follow: < 5 % flaky tests)."""

    max_flaky_fraction: float = 0.05
    min_pass_rate: float = 0.95
    max_time_to_signal_s: float = 30 * 60
    fail_on: str = "any"


def gate_targets(gates: GateConfig) -> GateTargets:
    """The configured bar (``[tool.tierci.gates]``, in percent and minutes) as targets."""
    return GateTargets(
        max_flaky_fraction=gates.max_flaky_percent / 100,
        min_pass_rate=gates.min_pass_percent / 100,
        max_time_to_signal_s=gates.max_time_to_signal_minutes * 60,
        fail_on=gates.fail_on,
    )


@dataclass(frozen=True, kw_only=True)
class RolloutStage:
    """A tier seen as a rollout stage: how much of the known test scope it runs."""

    tier: str
    scope: str
    tests_run: int
    tests_known: int
    commits_run: int

    @property
    def coverage(self) -> float:
        return self.tests_run / self.tests_known if self.tests_known else 0.0


@dataclass(frozen=True, kw_only=True)
class Hud:
    generated_at: str
    tiers: tuple[str, ...]
    commits: tuple[CommitRow, ...]
    flaky: tuple[FlakyTest, ...]
    durations: dict[str, tuple[DurationPoint, ...]]
    gates: tuple[Gate, ...]
    rollout: tuple[RolloutStage, ...]
    distinct_tests: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: What the JUnit reader assumed or repaired in the latest commit's reports.
    warnings: tuple[ReportWarnings, ...] = ()
    #: The branch failures are labelled against.
    base_branch: str = ""
    quarantine: tuple[QuarantineRow, ...] = ()


@dataclass(frozen=True, kw_only=True)
class QuarantineRow:
    """A quarantine entry and how its tests did in the commits shown."""

    test: str
    reason: str
    link: str
    expires: str
    expired: bool
    passed: int
    runs: int
    #: Why the bounds refuse the entry (the plugin fails the tier for it); empty: not.
    refused: str = ""

    @property
    def pass_rate(self) -> float:
        return self.passed / self.runs if self.runs else 0.0


@dataclass(frozen=True, kw_only=True)
class ReportWarnings:
    tier: str
    shard: str
    report: str
    lines: tuple[str, ...]


def build_hud(
    db: Database,
    *,
    max_commits: int = 30,
    targets: GateTargets | None = None,
    base_branch: str = "main",
    quarantine: Sequence[Entry] = (),
    quarantine_bounds: QuarantineBounds | None = None,
    scope: GateScope | None = None,
) -> Hud:
    """Read the newest ``max_commits`` commits of history into the HUD's model; failures
    are labelled against ``base_branch``. The commit gates judge the latest commit's
    every cell, or with ``scope`` that commit's cells of those tiers."""
    targets = targets or GateTargets()
    commits = db.rows(
        """SELECT commit_sha, max(branch) AS branch, max(ref_time) AS ref_time FROM (
               SELECT commit_sha, branch, ref_time, id, 0 AS kind FROM runs
               UNION ALL
               SELECT commit_sha, branch, ref_time, id, 1 AS kind FROM tier_runs) AS seen
           GROUP BY commit_sha ORDER BY max(ref_time) DESC, min(kind) DESC, max(id) DESC
           LIMIT ?""",
        (max_commits,),
    )
    shas = [row["commit_sha"] for row in commits]
    tiers = _tiers(db, shas)
    cells_by_commit: dict[str, dict[str, Cell]] = {sha: {} for sha in shas}
    for (sha, tier), cell in _cells(db, shas).items():
        cells_by_commit[sha][tier] = cell
    signal = _time_to_signal(db, shas)
    rows = tuple(
        CommitRow(
            sha=row["commit_sha"],
            branch=row["branch"],
            ref_time=row["ref_time"],
            cells=cells_by_commit[row["commit_sha"]],
            time_to_signal_s=signal.get(row["commit_sha"]),
        )
        for row in commits
    )
    test_scope = _test_scope(db, shas)
    flaky = _flaky_tests(db, shas, test_scope)
    rows = _labelled(db, rows, base_branch, {test.test_id for test in flaky})
    durations = _durations(rows, tiers)
    return Hud(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tiers=tiers,
        commits=rows,
        flaky=flaky,
        durations=durations,
        gates=_gates(_judged(rows, scope), flaky, test_scope.distinct, durations, targets),
        base_branch=base_branch,
        quarantine=_quarantine(
            db, shas, quarantine, set(test_scope.runs), quarantine_bounds or QuarantineBounds()
        ),
        rollout=_rollout(db, shas, tiers, test_scope),
        distinct_tests=test_scope.distinct,
        warnings=_warnings(db, shas[0]) if shas else (),
    )


def _labelled(
    db: Database,
    rows: tuple[CommitRow, ...],
    base_branch: str,
    flaky: set[str],
) -> tuple[CommitRow, ...]:
    """Each failure labelled against the base branch's latest recorded commit older than
    its own (for a commit on the base branch: the one before it). Each reference commit's
    failures are read once, however many rows compare with it."""
    base = [
        (row[0], row[1])
        for row in db.rows(
            """SELECT commit_sha, max(ref_time) FROM runs WHERE branch = ?
               GROUP BY commit_sha ORDER BY max(ref_time) DESC""",
            (base_branch,),
        )
    ]
    references = {
        row.sha: next((sha for sha, when in base if when < row.ref_time), None)
        for row in rows
        if any(cell.failures for cell in row.cells.values())
    }
    # A reference commit in the view, whose cells list every failure, is read from
    # them; any other (older, or with a cell cut at its cap) is queried.
    shown = {row.sha: row for row in rows}
    failing_on: dict[str, set[tuple[str, str]]] = {}
    for sha in {sha for sha in references.values() if sha is not None}:
        row = shown.get(sha)
        if row is not None and all(
            len(cell.failures) < _MAX_FAILURES_PER_CELL for cell in row.cells.values()
        ):
            failing_on[sha] = {
                (tier, failure.test_id)
                for tier, cell in row.cells.items()
                for failure in cell.failures
            }
    failing_on.update(
        _failing({sha for sha in references.values() if sha and sha not in failing_on}, db)
    )
    labelled = []
    for row in rows:
        if row.sha not in references:
            labelled.append(row)
            continue
        reference = references[row.sha]
        failed_there = failing_on.get(reference, set()) if reference is not None else None
        cells = {
            tier: dataclasses.replace(
                cell,
                failures=tuple(
                    dataclasses.replace(f, label=_label(f, tier, failed_there, flaky))
                    for f in cell.failures
                ),
            )
            if cell.failures
            else cell
            for tier, cell in row.cells.items()
        }
        labelled.append(dataclasses.replace(row, cells=cells))
    return tuple(labelled)


def _failing(shas: set[str], db: Database) -> dict[str, set[tuple[str, str]]]:
    """Per commit, (tier, test id) of every failure in its latest attempts: one query."""
    found: dict[str, set[tuple[str, str]]] = {sha: set() for sha in shas}
    for sha, tier, test_id in db.rows(
        f"""SELECT r.commit_sha, r.tier, o.test_id FROM runs r JOIN outcomes o ON o.run_id = r.id
            WHERE r.id IN ({_latest(db)}) AND o.outcome IN ('failed', 'error')""",  # noqa: S608 - no data
        (db.members(sorted(shas)),),
    ):
        found[sha].add((tier, test_id))
    return found


def _label(
    failure: Failure, tier: str, failed_there: set[tuple[str, str]] | None, flaky: set[str]
) -> FailureLabel:
    if failure.test_id in flaky:
        return FailureLabel.FLAKY
    if failed_there is None:
        return FailureLabel.UNKNOWN
    if (tier, failure.test_id) in failed_there:
        return FailureLabel.PRE_EXISTING
    return FailureLabel.NEW


def _quarantine(
    db: Database,
    shas: Sequence[str],
    entries: Sequence[Entry],
    known: set[str],
    bounds: QuarantineBounds,
) -> tuple[QuarantineRow, ...]:
    on = tierci.quarantine.today()  # one clock with the plugin and the CLI
    refused = _refused(db, shas[0] if shas else "", entries, on, bounds)
    rows = []
    for entry in entries:
        tests = [test for test in known if entry.matches(test)]
        passed, runs = db.rows(
            f"""SELECT count(*) FILTER (WHERE o.outcome IN ('passed', 'flaky')), count(*)
               FROM runs r JOIN outcomes o ON o.run_id = r.id
               WHERE r.commit_sha {db.among} AND o.test_id {db.among}""",  # noqa: S608 - no data
            (db.members(shas), db.members(tests)),
        )[0]
        rows.append(
            QuarantineRow(
                test=entry.test,
                reason=entry.reason,
                link=entry.link,
                expires=str(entry.expires or ""),
                expired=entry.expired(on),
                passed=passed,
                runs=runs,
                refused=refused.get(entry.test, ""),
            )
        )
    return tuple(rows)


def _refused(
    db: Database, sha: str, entries: Sequence[Entry], on: date, bounds: QuarantineBounds
) -> dict[str, str]:
    """Why each refused entry is refused: no end, too far off, names no test, or too
    broad for a tier of the latest commit."""
    refusals = refused_by_date_or_glob(entries, on=on, bounds=bounds)
    if entries and sha:
        by_tier: dict[str, list[str]] = {}
        for tier, test_id in db.rows(
            "SELECT DISTINCT r.tier, o.test_id FROM runs r JOIN outcomes o ON o.run_id = r.id "
            "WHERE r.commit_sha = ? ORDER BY r.tier, o.test_id",
            (sha,),
        ):
            by_tier.setdefault(tier, []).append(test_id)
        for tier, tests in by_tier.items():
            where = f"tier {tier!r} at {short_commit(sha)}"
            refusals += refused_by_share(entries, tests, bounds=bounds, tier=where)
    why: dict[str, str] = {}
    for refusal in refusals:
        for test in refusal.tests:
            why.setdefault(test, refusal.why)
    return why


def _warnings(db: Database, sha: str) -> tuple[ReportWarnings, ...]:
    rows = db.rows(
        "SELECT tier, shard, report, warnings FROM runs WHERE commit_sha = ? AND warnings != '' "
        "ORDER BY tier, shard",
        (sha,),
    )
    return tuple(
        ReportWarnings(
            tier=row["tier"],
            shard=row["shard"],
            report=row["report"],
            lines=tuple(row["warnings"].splitlines()),
        )
        for row in rows
    )


# Commit lists travel as one parameter (`{db.among}`), so no SQL text is ever built
# from data.


def _tiers(db: Database, shas: Sequence[str]) -> tuple[str, ...]:
    found = [
        row[0]
        for row in db.rows(
            f"""SELECT tier FROM runs WHERE commit_sha {db.among}
               UNION
               SELECT tier FROM tier_runs WHERE commit_sha {db.among}""",  # noqa: S608 - no data
            (db.members(shas), db.members(shas)),
        )
    ]
    # The tier ladder: fast and blocking first, then what gates a release.
    order = [
        "lock",
        "lint",
        "unit",
        "packaging",
        "heavy",
        "device",
        "wheelhouse",
        "wheels",
        "release",
    ]
    return tuple(sorted(found, key=lambda t: (order.index(t) if t in order else len(order), t)))


# The latest attempt of each (commit, tier, shard, Python) slot is its result; earlier attempts
# of the slot are re-runs: counted as such, kept for flake detection, never summed. A hole
# (`missing`) is the result only where the slot has no report at all: shards ingested by
# separate jobs arrive in any order, and an early job's hole must not shadow a later report.
def _latest(db: Database) -> str:
    latest = "coalesce(max(CASE WHEN status != 'missing' THEN id END), max(id))"
    return f"SELECT {latest} FROM runs WHERE commit_sha {db.among} GROUP BY commit_sha, tier, shard, python"  # noqa: S608, E501 - no data


def _cells(db: Database, shas: Sequence[str]) -> dict[tuple[str, str], Cell]:
    runs = db.rows(
        f"""SELECT commit_sha, tier, count(*) AS runs, sum(tests) AS tests,
                   sum(failed) AS failed, sum(errors) AS errors, sum(flaky) AS flaky,
                   sum(skipped) AS skipped, max(duration_s) AS time_to_signal,
                   count(*) FILTER (WHERE status = 'error') AS unreadable,
                   count(*) FILTER (WHERE status = 'missing') AS missing,
                   count(*) FILTER (WHERE status = 'empty' AND problem != '') AS empty,
                   {db.lines("CASE WHEN problem != '' THEN problem END")} AS problems
            FROM runs WHERE id IN ({_latest(db)})
            GROUP BY commit_sha, tier""",  # noqa: S608 - no data
        (db.members(shas),),
    )
    attempts = {
        (row[0], row[1]): row[2]
        for row in db.rows(
            f"""SELECT commit_sha, tier, count(*) FROM runs
               WHERE commit_sha {db.among} GROUP BY commit_sha, tier""",  # noqa: S608 - no data
            (db.members(shas),),
        )
    }
    records = _tier_records(db, shas)
    failures = _failures(db, shas)
    cells = {}
    for row in runs:
        key = (row["commit_sha"], row["tier"])
        record = records.pop(key, None)
        status = _cell_status(row)
        problems = tuple((row["problems"] or "").split("\n")) if row["problems"] else ()
        if record is not None and record.failed and status is not Status.FAILED:
            status, problems = Status.FAILED, (*problems, *record.notes)
        cells[key] = Cell(
            commit=row["commit_sha"],
            tier=row["tier"],
            status=status,
            runs=row["runs"],
            reruns=attempts.get(key, row["runs"]) - row["runs"],
            tests=row["tests"],
            failed=row["failed"],
            errors=row["errors"],
            flaky=row["flaky"],
            skipped=row["skipped"],
            time_to_signal_s=record.wall_s if record else row["time_to_signal"] or 0.0,
            unreadable=row["unreadable"],
            empty=row["empty"],
            problems=problems,
            failures=tuple(failures.get(key, ())),
        )
    for (sha, tier), record in records.items():  # tiers that wrote no JUnit
        cells[(sha, tier)] = Cell(
            commit=sha,
            tier=tier,
            status=record.status,
            runs=record.runs,
            tests=0,
            failed=0,
            errors=0,
            flaky=0,
            skipped=0,
            time_to_signal_s=record.wall_s,
            problems=record.notes,
        )
    return cells


@dataclass(frozen=True, kw_only=True)
class _TierRecords:
    """The latest record of each shard of one tier on one commit, folded."""

    status: Status
    runs: int
    wall_s: float  # first start to last end: the shards ran side by side
    notes: tuple[str, ...]

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED


def _tier_records(db: Database, shas: Sequence[str]) -> dict[tuple[str, str], _TierRecords]:
    rows = db.rows(
        f"""SELECT commit_sha, tier, count(*) AS runs, min(started) AS started,
                  max(ended) AS ended, count(*) FILTER (WHERE status = 'failed') AS failed,
                  count(*) FILTER (WHERE status = 'passed') AS passed,
                  count(*) FILTER (WHERE status = 'skipped') AS skipped,
                  {db.lines("CASE WHEN note != '' THEN note END")} AS notes
           FROM tier_runs WHERE id IN (
               SELECT max(id) FROM tier_runs WHERE commit_sha {db.among}
               GROUP BY commit_sha, tier, shard, python)
           GROUP BY commit_sha, tier""",  # noqa: S608 - no data
        (db.members(shas),),
    )
    folded = {}
    for row in rows:
        if row["failed"]:
            status = Status.FAILED
        elif row["passed"]:
            status = Status.PASSED
        elif row["skipped"]:
            status = Status.SKIPPED
        else:
            status = Status.NOT_RUN
        folded[(row["commit_sha"], row["tier"])] = _TierRecords(
            status=status,
            runs=row["runs"],
            wall_s=_seconds_between(row["started"], row["ended"]),
            notes=tuple(row["notes"].split("\n")) if row["notes"] else (),
        )
    return folded


def _time_to_signal(db: Database, shas: Sequence[str]) -> dict[str, float]:
    """Per commit, its latest pipeline's: from the pipeline's start (as CI, `inv ci` or
    the `nox` invocation recorded it, else its first tier's start) to its last tier's
    end. Each local invocation is a pipeline of its own, so a later `nox -s unit` never
    stretches an earlier `inv ci`'s time; CI runs that record no start are one."""
    return {
        row[0]: _seconds_between(row[1] or row[2], row[3])
        for row in db.rows(
            f"""SELECT t.commit_sha, max(t.pipeline_started), min(t.started), max(t.ended)
               FROM tier_runs t WHERE t.commit_sha {db.among} AND t.status != 'not run'
               AND t.pipeline_started = (
                   SELECT max(x.pipeline_started) FROM tier_runs x
                   WHERE x.commit_sha = t.commit_sha AND x.status != 'not run')
               GROUP BY t.commit_sha""",  # noqa: S608 - no data
            (db.members(shas),),
        )
    }


def _seconds_between(start: str, end: str) -> float:
    try:
        span = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, span)


def _cell_status(row: Row) -> Status:
    if row["failed"] or row["errors"] or row["unreadable"] or row["empty"]:
        return Status.FAILED
    if row["missing"]:
        return Status.MISSING
    if row["flaky"]:
        return Status.FLAKY
    if row["tests"] == row["skipped"]:
        return Status.SKIPPED
    return Status.PASSED


def _failures(db: Database, shas: Sequence[str]) -> dict[tuple[str, str], list[Failure]]:
    found: dict[tuple[str, str], list[Failure]] = {}
    for row in db.rows(
        f"""SELECT r.commit_sha, r.tier, r.shard, o.test_id, o.outcome, o.message
            FROM outcomes o JOIN runs r ON r.id = o.run_id
            WHERE r.id IN ({_latest(db)}) AND o.outcome IN ('failed', 'error')
            ORDER BY r.tier, o.test_id""",  # noqa: S608 - no data
        (db.members(shas),),
    ):
        bucket = found.setdefault((row["commit_sha"], row["tier"]), [])
        if len(bucket) < _MAX_FAILURES_PER_CELL:
            bucket.append(
                Failure(
                    test_id=row["test_id"],
                    outcome=Outcome(row["outcome"]),
                    message=row["message"],
                    shard=row["shard"],
                )
            )
    return found


@dataclass(frozen=True, kw_only=True)
class _TestScope:
    """Per test and tier over the commits shown: one pass over their outcomes."""

    runs: dict[str, int]  # test id -> outcomes recorded
    retried: dict[str, int]  # test id -> runs in which it passed only on retry
    known: dict[str, int]  # tier -> distinct tests

    @property
    def distinct(self) -> int:
        return len(self.runs)


def _test_scope(db: Database, shas: Sequence[str]) -> _TestScope:
    runs: dict[str, int] = {}
    retried: dict[str, int] = {}
    known: dict[str, int] = {}
    for tier, test_id, count, flaky in db.rows(
        f"""SELECT r.tier, o.test_id, count(*), count(*) FILTER (WHERE o.outcome = 'flaky')
           FROM runs r JOIN outcomes o ON o.run_id = r.id
           WHERE r.commit_sha {db.among}
           GROUP BY r.tier, o.test_id""",  # noqa: S608 - no data
        (db.members(shas),),
    ):
        runs[test_id] = runs.get(test_id, 0) + count
        if flaky:
            retried[test_id] = retried.get(test_id, 0) + flaky
        known[tier] = known.get(tier, 0) + 1
    return _TestScope(runs=runs, retried=retried, known=known)


def _flaky_tests(db: Database, shas: Sequence[str], scope: _TestScope) -> tuple[FlakyTest, ...]:
    """A flake: passed only on retry within a run, or both failed and passed on one commit.

    Failures are rare, so the second kind is looked for from them: each (test, commit)
    that failed, checked against that commit's other runs through the (run, test) index
    (CROSS JOIN keeps SQLite from walking a test's whole history instead).
    """
    flips = db.rows(
        f"""WITH failing AS MATERIALIZED (
               SELECT DISTINCT o.test_id, r.commit_sha FROM runs r
               JOIN outcomes o ON o.run_id = r.id
               WHERE r.commit_sha {db.among} AND o.outcome IN ('failed', 'error'))
           SELECT DISTINCT f.test_id, f.commit_sha FROM failing f
           {db.ordered_join} runs r ON r.commit_sha = f.commit_sha
           {db.ordered_join} outcomes o ON o.run_id = r.id AND o.test_id = f.test_id
           WHERE o.outcome IN ('passed', 'flaky')""",  # noqa: S608 - no data
        (db.members(shas),),
    )
    retries = db.rows(
        f"""SELECT o.test_id, r.commit_sha FROM runs r JOIN outcomes o ON o.run_id = r.id
           WHERE r.commit_sha {db.among} AND o.outcome = 'flaky'""",  # noqa: S608 - no data
        (db.members(shas),),
    )
    newest_first = {sha: position for position, sha in enumerate(shas)}
    events: dict[str, list[int]] = {}
    for test_id, sha in [*flips, *retries]:
        events.setdefault(test_id, []).append(newest_first[sha])
    half = len(shas) / 2
    flaky = []
    for test_id, positions in events.items():
        newer = sum(position < half for position in positions)
        older = len(positions) - newer
        flaky.append(
            FlakyTest(
                test_id=test_id,
                runs=scope.runs.get(test_id, len(positions)),
                flaky_runs=len(positions),
                first_seen=shas[max(positions)],
                trend="rising" if newer > older else "falling" if newer < older else "steady",
            )
        )
    return tuple(sorted(flaky, key=lambda test: (-test.rate, -test.flaky_runs, test.test_id)))


def _durations(
    rows: Sequence[CommitRow], tiers: Sequence[str]
) -> dict[str, tuple[DurationPoint, ...]]:
    """Time to signal per tier (its slowest shard), oldest commit first."""
    return {
        tier: tuple(
            DurationPoint(commit=row.short, seconds=row.cells[tier].time_to_signal_s)
            for row in reversed(rows)
            if tier in row.cells
        )
        for tier in tiers
    }


def _judged(rows: Sequence[CommitRow], scope: GateScope | None) -> list[CommitRow]:
    """The rows with the one the commit gates judge first: the scope's commit with only
    its tiers' cells (the newest row where the scope's commit is not shown)."""
    if scope is None or not rows:
        return list(rows)
    judged = next((row for row in rows if row.sha == scope.commit), rows[0])
    cells = {tier: cell for tier, cell in judged.cells.items() if tier in scope.tiers}
    return [dataclasses.replace(judged, cells=cells), *(row for row in rows if row is not judged)]


def _gates(
    rows: Sequence[CommitRow],
    flaky: Sequence[FlakyTest],
    distinct_tests: int,
    durations: dict[str, tuple[DurationPoint, ...]],
    targets: GateTargets,
) -> tuple[Gate, ...]:
    gates = []
    fraction = len(flaky) / distinct_tests if distinct_tests else 0.0
    only_new = targets.fail_on == "new"
    gates.append(
        Gate(
            name="flaky tests",
            value=f"{fraction:.1%} ({len(flaky)} of {distinct_tests})",
            target=f"< {targets.max_flaky_fraction:.0%}",
            passed=fraction < targets.max_flaky_fraction,
            blocking=not only_new,
        )
    )
    if rows:
        latest = rows[0]
        ran = sum(c.tests - c.skipped for c in latest.cells.values())
        good = sum(c.tests - c.skipped - c.failed - c.errors for c in latest.cells.values())
        rate = good / ran if ran else 0.0
        gates.append(
            Gate(
                name="pass rate (latest commit)",
                value=f"{rate:.1%} ({good} of {ran})",
                target=f">= {targets.min_pass_rate:.0%}",
                passed=rate >= targets.min_pass_rate,
                detail=latest.short,
                blocking=not only_new,
            )
        )
        new = [
            failure.test_id
            for cell in latest.cells.values()
            for failure in cell.failures
            if failure.label is FailureLabel.NEW
        ]
        gates.append(
            Gate(
                name="new failures (latest commit, against the base branch)",
                value=f"{len(new)} new",
                target="0",
                passed=not new,
                detail=", ".join(new[:5]),
                blocking=only_new,
            )
        )
        holes = [c for c in latest.cells.values() if c.status is Status.MISSING or c.problems]
        gates.append(
            Gate(
                name="every expected report arrived (latest commit)",
                value=f"{len(holes)} tier(s) with holes",
                target="0",
                passed=not holes,
                detail=", ".join(c.tier for c in holes),
            )
        )
    signals = [row.time_to_signal_s for row in rows if row.time_to_signal_s is not None]
    if signals:
        typical = median(signals)
        gates.append(
            Gate(
                name="time to signal (pipeline start to last tier's end)",
                value=f"{typical:.0f} s median",
                target=f"<= {targets.max_time_to_signal_s:.0f} s",
                passed=typical <= targets.max_time_to_signal_s,
                detail=f"latest {rows[0].time_to_signal_s or 0:.0f} s" if rows else "",
                blocking=not only_new,
            )
        )
    for tier, points in durations.items():
        if not points or signals:
            continue  # with wall-clock records, the pipeline's own time is the gate
        typical = median(p.seconds for p in points)
        gates.append(
            Gate(
                name=f"time to signal: {tier}",
                value=f"{typical:.0f} s median",
                target=f"<= {targets.max_time_to_signal_s:.0f} s",
                passed=typical <= targets.max_time_to_signal_s,
                blocking=not only_new,
            )
        )
    return tuple(gates)


def _rollout(
    db: Database, shas: Sequence[str], tiers: Sequence[str], scope: _TestScope
) -> tuple[RolloutStage, ...]:
    """Each tier's test scope: what its latest run covered of the tests it ran in the
    commits shown (the view, never the whole history: its cost follows the view)."""
    if not shas:
        return ()
    latest = shas[0]
    now = {
        row["tier"]: row
        for row in db.rows(
            """SELECT r.tier, max(r.scope) AS scope,
                      (SELECT count(DISTINCT o.test_id) FROM runs x
                       JOIN outcomes o ON o.run_id = x.id
                       WHERE x.commit_sha = ? AND x.tier = r.tier) AS tests
               FROM runs r WHERE r.commit_sha = ? GROUP BY r.tier""",
            (latest, latest),
        )
    }
    commits_run: dict[str, int] = {
        row[0]: row[1]
        for row in db.rows(
            f"""SELECT tier, count(DISTINCT commit_sha) FROM runs
               WHERE commit_sha {db.among} GROUP BY tier""",  # noqa: S608 - no data
            (db.members(shas),),
        )
    }
    return tuple(
        RolloutStage(
            tier=tier,
            scope=(now[tier]["scope"] if tier in now else "") or "100%",
            tests_run=now[tier]["tests"] if tier in now else 0,
            tests_known=scope.known.get(tier, 0),
            commits_run=commits_run.get(tier, 0),
        )
        for tier in tiers
    )
