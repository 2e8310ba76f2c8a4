"""``tierci report copy``: a history moved between SQLite and PostgreSQL (either way), so a
team can start with the embedded file and move to a shared server, or take a server's
history home as one file.

Runs are copied in their order (``id``), so the target keeps which attempt of a slot
was the latest; a run whose commit the target already has the report of is left out,
so copying twice, or into a history that already holds part of it, adds nothing twice.
Each batch of runs is one transaction in the target: an interrupted copy leaves whole
runs only, and running it again completes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierci.errors import UsageError
from tierci.report.history import (
    OUTCOME_COLUMNS,
    RECORD_COLUMNS,
    RUN_COLUMNS,
    open_history,
    read_history,
)

if TYPE_CHECKING:
    from tierci.report.database import HistoryLocation

__all__ = ["Copied", "copy_history"]

_RUNS_PER_BATCH = 500


@dataclass(frozen=True, kw_only=True)
class Copied:
    runs: int
    runs_present: int
    outcomes: int
    records: int
    records_present: int

    def describe(self) -> str:
        return (
            f"copied {self.runs} run(s) with {self.outcomes} test outcomes and "
            f"{self.records} tier record(s); {self.runs_present} run(s) and "
            f"{self.records_present} record(s) were there already"
        )


def copy_history(source: HistoryLocation, target: HistoryLocation) -> Copied:
    """Copy every run, outcome and tier record of ``source`` into ``target`` (created if
    missing). The source is only read."""
    if str(source) == str(target):
        raise UsageError(
            f"--from and --to are the same history ({source})",
            fix="copy into another file or database",
        )
    runs = outcomes = records = 0
    with read_history(source) as reading, open_history(target) as writing:
        database = reading.database
        listed = database.rows(f"SELECT id, {', '.join(RUN_COLUMNS)} FROM runs ORDER BY id")  # noqa: S608 - constants
        for start in range(0, len(listed), _RUNS_PER_BATCH):
            batch = listed[start : start + _RUNS_PER_BATCH]
            by_run: dict[int, list[tuple[object, ...]]] = {}
            for row in database.rows(
                f"SELECT run_id, {', '.join(OUTCOME_COLUMNS)} FROM outcomes "  # noqa: S608 - no data
                f"WHERE run_id {database.among} ORDER BY run_id",
                (database.members([int(run["id"]) for run in batch]),),
            ):
                by_run.setdefault(int(row[0]), []).append(tuple(row)[1:])
            copied = writing.import_runs(batch, by_run)
            runs += len(copied)
            outcomes += sum(len(by_run.get(run_id, ())) for run_id in copied)
        tier_records = database.rows(
            f"SELECT {', '.join(RECORD_COLUMNS)} FROM tier_runs ORDER BY id"  # noqa: S608 - constants
        )
        records = writing.insert_records([tuple(row) for row in tier_records])
        writing.analyze()
        listed_runs = len(listed)
        listed_records = len(tier_records)
    return Copied(
        runs=runs,
        runs_present=listed_runs - runs,
        outcomes=outcomes,
        records=records,
        records_present=listed_records - records,
    )
