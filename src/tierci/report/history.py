"""Run history: every tier's and shard's report, per commit, with per-test outcomes.

SQLite in WAL mode: readers never block the writer, and several CI processes may ingest
at once. Each report is ingested in one ``BEGIN IMMEDIATE`` transaction with a generous
busy timeout, so concurrent writers queue instead of failing and nothing is lost or
half-written. Holes (missing, unreadable, empty reports) are stored as runs too: the HUD
must show them.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tierci.errors import TierciError
from tierci.junit import Counts
from tierci.junit.merge import EntryStatus, add_missing, read_entry
from tierci.provenance import ci_job, commit_sha, commit_time, current_branch, host_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tierci.junit import CaseResult
    from tierci.junit.merge import Expectation, ReportEntry

__all__ = ["History", "RunContext", "open_history"]

SCHEMA_VERSION = 2  # 2: runs.warnings
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    commit_sha TEXT NOT NULL,
    branch TEXT NOT NULL DEFAULT '',
    ref_time TEXT NOT NULL,          -- orders commits (commit time, else ingestion time)
    tier TEXT NOT NULL,
    shard TEXT NOT NULL DEFAULT '',
    job TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL DEFAULT '',
    started TEXT NOT NULL DEFAULT '',
    duration_s REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL,            -- ok | missing | error | empty
    problem TEXT NOT NULL DEFAULT '',
    report TEXT NOT NULL DEFAULT '',
    report_digest TEXT NOT NULL DEFAULT '',  -- sha256 of the file: ingesting twice is a no-op
    scope TEXT NOT NULL DEFAULT '',
    tests INTEGER NOT NULL DEFAULT 0,
    passed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    flaky INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL,
    warnings TEXT NOT NULL DEFAULT ''  -- what the reader assumed or fixed, one per line
);
CREATE INDEX IF NOT EXISTS runs_by_commit ON runs (commit_sha, tier);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (ref_time);
CREATE INDEX IF NOT EXISTS runs_by_digest ON runs (commit_sha, report_digest);
CREATE TABLE IF NOT EXISTS outcomes (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    test_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    time_s REAL NOT NULL,
    attempts INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outcomes_by_run ON outcomes (run_id);
CREATE INDEX IF NOT EXISTS outcomes_by_test ON outcomes (test_id);
"""
_BATCH = 2000


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """Where a batch of reports belongs: the same for every file of one ingest."""

    commit: str
    branch: str = ""
    job: str = ""
    host: str = ""
    ref_time: str = ""  # ISO 8601; empty: now

    @classmethod
    def detect(
        cls,
        root: Path,
        *,
        commit: str = "",
        branch: str = "",
        job: str = "",
        ref_time: str = "",
    ) -> RunContext:
        """What is given, else what CI variables or git say about ``root``."""
        return cls(
            commit=commit or commit_sha(root),
            branch=branch or current_branch(root),
            job=job or ci_job(),
            host=host_name(),
            ref_time=ref_time or commit_time(commit or None, root),
        )


class History:
    """A connection to one history database."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path
        #: Reports the last ingest left out because this commit already has them.
        self.already_ingested: list[Path] = []

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def ingest(
        self,
        reports: Sequence[Path],
        context: RunContext,
        *,
        expect: Sequence[Expectation] = (),
        junit_dir: Path | None = None,
        huge_tree: bool = False,
    ) -> list[ReportEntry]:
        """Store each report (one transaction each), then a ``missing`` run for every
        expected tier/shard that has no report (looked for in ``junit_dir``).

        A report whose exact bytes this commit already has is not stored again."""
        entries = self._ingest_reports(reports, context, huge_tree=huge_tree)
        present = {(entry.tier, entry.shard) for entry in entries}
        folder = junit_dir or (reports[0].parent if reports else Path())
        holes = [h for h in add_missing([], expect, folder) if (h.tier, h.shard) not in present]
        self._store_holes(holes, context)
        return add_missing(entries, expect, folder)

    def _ingest_reports(
        self, reports: Sequence[Path], context: RunContext, *, huge_tree: bool
    ) -> list[ReportEntry]:
        entries = []
        self.already_ingested = []
        for path in reports:
            digest = _file_digest(path)
            if digest and self._has_report(context.commit, digest):
                self.already_ingested.append(path)
                entries.append(read_entry(path, huge_tree=huge_tree))  # shown, not stored
                continue
            entries.append(self._ingest_report(path, context, digest, huge_tree=huge_tree))
        return entries

    def _store_holes(self, holes: Sequence[ReportEntry], context: RunContext) -> None:
        for entry in holes:
            # A hole has no bytes; its identity is its slot, so re-ingesting adds no copy.
            digest = f"{entry.status.value}:{entry.tier}:{entry.shard}"
            if self._has_report(context.commit, digest):
                continue
            with self._transaction() as cursor:
                run_id = self._insert_run(cursor, entry, context)
                cursor.execute("UPDATE runs SET report_digest = ? WHERE id = ?", (digest, run_id))

    def _has_report(self, commit: str, digest: str) -> bool:
        found = self.connection.execute(
            "SELECT 1 FROM runs WHERE commit_sha = ? AND report_digest = ? LIMIT 1",
            (commit, digest),
        ).fetchone()
        return found is not None

    def _ingest_report(
        self, path: Path, context: RunContext, digest: str, *, huge_tree: bool
    ) -> ReportEntry:
        """Outcomes stream into the open transaction in batches (memory stays bounded);
        the run row gets its final counts at the end, atomically with its outcomes."""
        with self._transaction() as cursor:
            run_id = self._insert_run(cursor, None, context)
            batch: list[tuple[int, str, str, float, int, str]] = []

            def keep(case: CaseResult) -> None:
                batch.append(
                    (run_id, case.test_id, case.outcome, case.time_s, case.attempts, case.message)
                )
                if len(batch) >= _BATCH:
                    _insert_outcomes(cursor, batch)

            entry = read_entry(path, huge_tree=huge_tree, on_case=keep)
            if entry.status is EntryStatus.ERROR:  # keep no partial outcomes of a broken file
                batch.clear()
                cursor.execute("DELETE FROM outcomes WHERE run_id = ?", (run_id,))
            _insert_outcomes(cursor, batch)
            self._update_run(cursor, run_id, entry, context)
            cursor.execute("UPDATE runs SET report_digest = ? WHERE id = ?", (digest, run_id))
        return entry

    def _insert_run(
        self, cursor: sqlite3.Cursor, entry: ReportEntry | None, context: RunContext
    ) -> int:
        now = _now()
        cursor.execute(
            "INSERT INTO runs (commit_sha, branch, ref_time, tier, status, ingested_at) "
            "VALUES (?, ?, ?, '', 'error', ?)",
            (context.commit, context.branch, context.ref_time or now, now),
        )
        run_id = int(cursor.lastrowid or 0)
        if entry is not None:
            self._update_run(cursor, run_id, entry, context)
        return run_id

    def _update_run(
        self, cursor: sqlite3.Cursor, run_id: int, entry: ReportEntry, context: RunContext
    ) -> None:
        summary = entry.summary
        counts = summary.counts if summary else Counts()
        properties = summary.properties if summary else {}
        cursor.execute(
            """UPDATE runs SET tier = ?, shard = ?, job = ?, host = ?, started = ?,
                   duration_s = ?, status = ?, problem = ?, report = ?, scope = ?, tests = ?,
                   passed = ?, failed = ?, errors = ?, skipped = ?, flaky = ?, warnings = ?
               WHERE id = ?""",
            (
                entry.tier,
                entry.shard,
                context.job,
                context.host or properties.get("host", ""),
                (summary.timestamp if summary else "") or _now(),
                summary.duration_s if summary else 0.0,
                entry.status.value,
                entry.problem,
                str(entry.path),
                properties.get("scope", ""),
                *counts.row(),
                "\n".join(entry.warnings),
                run_id,
            ),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self.connection)

    def count_runs(self) -> int:
        return int(self.connection.execute("SELECT count(*) FROM runs").fetchone()[0])


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: takes the write lock up front, so two writers
    queue on the busy timeout instead of deadlocking on a lock upgrade."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Cursor:
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection.cursor()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.connection.execute("COMMIT" if kind is None else "ROLLBACK")


def _insert_outcomes(
    cursor: sqlite3.Cursor, batch: list[tuple[int, str, str, float, int, str]]
) -> None:
    cursor.executemany(
        "INSERT INTO outcomes (run_id, test_id, outcome, time_s, attempts, message) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        batch,
    )
    batch.clear()


def _file_digest(path: Path) -> str:
    """sha256 of the file's bytes; empty when it cannot be read (it is a hole then)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_history(path: Path, *, busy_timeout_s: float = 120.0) -> History:
    """Open (creating if needed) a history database in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), not the module's.
        connection = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        _migrate(connection)
    except sqlite3.DatabaseError as exc:
        raise TierciError(
            f"{path}: cannot be used as a tierci history database ({exc})",
            fix="point --db at a tierci history file, or at a new path to start one",
        ) from exc
    return History(connection, path)


def _migrate(connection: sqlite3.Connection) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(f"schema version {version} is newer than this tierci's")
    # Idempotent DDL (IF NOT EXISTS): two processes creating the store at once is fine.
    connection.executescript(_SCHEMA)
    columns = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
    if "warnings" not in columns:  # a version 1 store: keep its runs, add the column
        connection.execute("ALTER TABLE runs ADD COLUMN warnings TEXT NOT NULL DEFAULT ''")
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
