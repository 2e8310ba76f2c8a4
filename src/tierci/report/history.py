"""Run history: every tier's and shard's report, per commit, with per-test outcomes.

SQLite in WAL mode: readers never block the writer, and several CI processes may ingest
at once. A report is parsed first, outside any lock, into a private staging table (a
temporary file that SQLite unlinks as it creates it, so not even a SIGKILL leaves it
behind); then one short ``BEGIN IMMEDIATE`` transaction checks whether this commit
already has the report's bytes and, if not, copies the run and its outcomes in with one
``INSERT … SELECT``. Writers therefore wait only for each other's copy, never for a
parse, and the check and the insert cannot be split by another writer; a UNIQUE index
on (commit, report digest) is the schema's own guarantee. Holes (missing, unreadable,
empty reports) are stored as runs too: the HUD must show them.

The schema is migrated under the same write lock, its version read again inside it, so
two processes opening an old store at once migrate it once. Reading (the HUD, shard
durations) opens the file read-only and never migrates, so a history on a read-only
folder, mount or file can still be rendered; a schema too old to read is refused, and
ingesting upgrades it.

A history is data, whoever wrote it (:mod:`tierci.report.untrusted`): every open checks
the file's schema against tierci's own, and the types of its runs and tier records,
before anything is read or written; a file that holds anything else (a trigger, a view,
a table redefined) is refused, or set aside like a broken one.

A history carried between CI runs (a cache, an artifact, a shared path: see
:func:`history_path` and ``TIERCI_HISTORY``) may be missing, which is a first run, or
broken on the way, which must not fail a pipeline: :func:`check_carried` says which,
and sets a broken one aside. :meth:`History.prune` keeps it small.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
import sqlite3
import stat
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Self, overload

from tierci.errors import CommandFailedError, TierciError, UsageError
from tierci.junit import Counts
from tierci.junit.merge import EntryStatus, add_missing, producer_for, read_entry
from tierci.provenance import (
    ci_job,
    commit_sha,
    commit_time,
    current_branch,
    host_name,
    short_commit,
)
from tierci.records import RecordError, file_sha256, read_record
from tierci.report import DEFAULT_HISTORY
from tierci.report.database import HistoryLocation, HistoryUrl, SqliteDatabase, parse_location
from tierci.report.untrusted import Schema, connect, limit_hit

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from tierci.junit import CaseResult
    from tierci.junit.merge import Expectation, ReportEntry
    from tierci.junit.producer import Producer
    from tierci.report.database import Database, Row
    from tierci.report.postgres import PostgresHistory

__all__ = [
    "HISTORY_URL_VARIABLE",
    "HISTORY_VARIABLE",
    "Carried",
    "History",
    "Pruned",
    "Retention",
    "RunContext",
    "check_carried",
    "history_location",
    "history_path",
    "open_history",
    "read_history",
    "refuse_conflicting_stamps",
    "report_claims",
]

#: A path for the run history (absolute, or relative to the project root) used instead
#: of ``build/tierci/history.sqlite`` by ``nox -s report``, ``tierci report`` and the
#: shards' recorded durations: a file on a Jenkins agent that outlives its builds, say.
HISTORY_VARIABLE = "TIERCI_HISTORY"
#: A ``postgresql://`` URL of a history shared by many runners; it wins over
#: ``TIERCI_HISTORY``. Its password belongs in ``PGPASSWORD`` or ``~/.pgpass``.
HISTORY_URL_VARIABLE = "TIERCI_HISTORY_URL"

# 2: runs.warnings; 3: one run per (commit, report digest), enforced by a UNIQUE index;
# 4: outcomes indexed by (run, test); 5: tier_runs (the sessions' own records);
# 6: runs.python (one slot per Python: the 3.12 leg is not a re-run of the 3.11 one)
SCHEMA_VERSION = 6
#: The oldest schema that readers (the HUD, durations) can read as it is: the HUD reads
#: tier_runs (5) and runs.python (6).
READABLE_FROM = 6
_TABLES = (
    """CREATE TABLE IF NOT EXISTS runs (
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
    warnings TEXT NOT NULL DEFAULT '',  -- what the reader assumed or fixed, one per line
    python TEXT NOT NULL DEFAULT ''     -- the Python the tests ran on: part of the slot
)""",
    "CREATE INDEX IF NOT EXISTS runs_by_commit ON runs (commit_sha, tier)",
    "CREATE INDEX IF NOT EXISTS runs_by_time ON runs (ref_time)",
    """CREATE TABLE IF NOT EXISTS outcomes (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    test_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    time_s REAL NOT NULL,
    attempts INTEGER NOT NULL,
    message TEXT NOT NULL
)""",
    # (run, test): a run's outcomes, and one test's outcome in a run, each one lookup
    # (the HUD checks a failure against the other runs of its commit this way).
    "CREATE INDEX IF NOT EXISTS outcomes_by_run_test ON outcomes (run_id, test_id)",
    "CREATE INDEX IF NOT EXISTS outcomes_by_test ON outcomes (test_id)",
    # A tier session's own record (records.py): every tier, with or without JUnit, and
    # the wall-clock times that time to signal is made of.
    """CREATE TABLE IF NOT EXISTS tier_runs (
    id INTEGER PRIMARY KEY,
    commit_sha TEXT NOT NULL,
    branch TEXT NOT NULL DEFAULT '',
    ref_time TEXT NOT NULL,
    tier TEXT NOT NULL,
    shard TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,            -- passed | failed | skipped | not run
    exit_code INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    started TEXT NOT NULL,
    ended TEXT NOT NULL,
    pipeline_started TEXT NOT NULL DEFAULT '',
    python TEXT NOT NULL DEFAULT '',
    platform TEXT NOT NULL DEFAULT '',
    junit TEXT NOT NULL DEFAULT '',
    record_digest TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    UNIQUE (commit_sha, record_digest)
)""",
    "CREATE INDEX IF NOT EXISTS tier_runs_by_commit ON tier_runs (commit_sha, tier)",
)
# Columns a migration adds to a table that exists, in order (2: runs.warnings; 6:
# runs.python): an older history's table lacks the last few.
_ADDED_COLUMNS = (
    ("runs", "warnings TEXT NOT NULL DEFAULT ''"),
    ("runs", "python TEXT NOT NULL DEFAULT ''"),
)
# Indexes of older schemas that a migration drops (3 and 4 replaced them).
_RETIRED_INDEXES = (
    ("runs_by_digest", "CREATE INDEX runs_by_digest ON runs (commit_sha, report_digest)"),
    ("outcomes_by_run", "CREATE INDEX outcomes_by_run ON outcomes (run_id)"),
)
# Tables every reader reads whole (a row per report or tier record): the types of their
# values are checked when a history is opened. Outcomes, the bulk, as they are read.
_CHECKED_WHOLE = ("runs", "tier_runs")
# Runs stored twice before version 3 (parallel ingests of one report): the first stays.
_DROP_DUPLICATES = (
    """DELETE FROM outcomes WHERE run_id IN (
        SELECT id FROM runs WHERE report_digest != '' AND id NOT IN (
            SELECT min(id) FROM runs WHERE report_digest != ''
            GROUP BY commit_sha, report_digest))""",
    """DELETE FROM runs WHERE report_digest != '' AND id NOT IN (
        SELECT min(id) FROM runs WHERE report_digest != '' GROUP BY commit_sha, report_digest)""",
)
_UNIQUE_REPORT = (
    "CREATE UNIQUE INDEX IF NOT EXISTS runs_one_per_report "
    "ON runs (commit_sha, report_digest) WHERE report_digest != ''"
)
# Outcomes as read, then sorted by test: copied in that order, the outcomes_by_test index
# grows at its edge instead of everywhere at once (4x shorter under the write lock).
_STAGING = tuple(
    f"""CREATE TEMP TABLE IF NOT EXISTS {name} (
    test_id TEXT NOT NULL, outcome TEXT NOT NULL, time_s REAL NOT NULL,
    attempts INTEGER NOT NULL, message TEXT NOT NULL)"""
    for name in ("staged", "ready")
)
_BATCH = 2000
_DEFAULT_BUSY_TIMEOUT_S = 600.0
_CANNOT_WRITE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")
_NOT_A_DATABASE = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
# Commits newest first, exactly as the HUD orders its rows (hud/model.py), so that
# keeping N commits keeps the HUD's newest N.
COMMITS_NEWEST_FIRST = """SELECT commit_sha, max(ref_time) FROM (
        SELECT commit_sha, ref_time, id, 0 AS kind FROM runs
        UNION ALL
        SELECT commit_sha, ref_time, id, 1 AS kind FROM tier_runs) AS seen
    GROUP BY commit_sha ORDER BY max(ref_time) DESC, min(kind) DESC, max(id) DESC"""
_PRUNED_COMMITS = "CREATE TEMP TABLE IF NOT EXISTS pruned_commits (sha TEXT PRIMARY KEY)"
# Outcomes first (their runs name them), then the runs, then the tier records.
_PRUNE = (
    """DELETE FROM outcomes WHERE run_id IN (SELECT id FROM runs
        WHERE commit_sha IN (SELECT sha FROM temp.pruned_commits))""",
    "DELETE FROM runs WHERE commit_sha IN (SELECT sha FROM temp.pruned_commits)",
    "DELETE FROM tier_runs WHERE commit_sha IN (SELECT sha FROM temp.pruned_commits)",
)

#: The columns a run and a tier record are written with (all but ``id``): ingest and
#: ``tierci report copy`` write the same rows, on either engine.
RUN_COLUMNS = (
    "commit_sha",
    "branch",
    "ref_time",
    "tier",
    "shard",
    "job",
    "host",
    "started",
    "duration_s",
    "status",
    "problem",
    "report",
    "report_digest",
    "scope",
    "tests",
    "passed",
    "failed",
    "errors",
    "skipped",
    "flaky",
    "ingested_at",
    "warnings",
    "python",
)
OUTCOME_COLUMNS = ("test_id", "outcome", "time_s", "attempts", "message")
RECORD_COLUMNS = (
    "commit_sha",
    "branch",
    "ref_time",
    "tier",
    "shard",
    "status",
    "exit_code",
    "note",
    "started",
    "ended",
    "pipeline_started",
    "python",
    "platform",
    "junit",
    "record_digest",
    "ingested_at",
)
_INSERT_RUN = (
    f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) "  # noqa: S608 - constants
    f"VALUES ({', '.join('?' * len(RUN_COLUMNS))})"
)
# A copied run whose commit already has its report (the unique index) is left out.
_INSERT_RUN_UNLESS_PRESENT = _INSERT_RUN.replace("INSERT", "INSERT OR IGNORE", 1)


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """Where a batch of reports belongs: the same for every file of one ingest."""

    commit: str
    branch: str = ""
    job: str = ""
    host: str = ""
    ref_time: str = ""  # ISO 8601; empty: now
    #: The commit was given (``--commit``), not found: a report stamped with another one
    #: is then skipped (or refused, strictly) instead of filed under its own.
    explicit: bool = False
    #: The checkout, to ask git when a commit that a report names was made.
    root: Path | None = None

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
        found = commit or commit_sha(root)
        return cls(
            commit=found,
            branch=branch or current_branch(root),
            job=job or ci_job(),
            host=host_name(),
            ref_time=ref_time or commit_time(found, root),
            explicit=bool(commit),
            root=root,
        )

    def for_commit(self, sha: str) -> RunContext:
        """The same run, filed under ``sha`` (the commit a report is stamped with)."""
        if sha == self.commit:
            return self
        return dataclasses.replace(
            self, commit=sha, ref_time=commit_time(sha, self.root) if self.root else ""
        )


class History(ABC):
    """An open history, SQLite (:class:`SqliteHistory`) or PostgreSQL
    (:class:`tierci.report.postgres.PostgresHistory`): the ingest rules are written once
    here; each engine stages, stores, prunes and copies in its own way."""

    #: Queries for the HUD, durations and the quarantine.
    database: Database

    def __init__(self, name: str) -> None:
        #: Where the history is, fit to print (a URL without its password).
        self.name = name
        #: Reports the last ingest left out because this commit already has them.
        self.already_ingested: list[Path] = []
        #: Reports (and records) the last ingest did not file, and why: stamped with a
        #: commit other than the one asked for.
        self.skipped: list[tuple[Path, str]] = []
        #: The tiers (slots) of the records the last record ingest filed or found filed.
        self.record_tiers: set[str] = set()
        #: Seconds each write transaction waited for the write lock (others' copies),
        #: and held it (its own check and copy).
        self.lock_waits_s: list[float] = []
        self.lock_held_s: list[float] = []

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
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
        strict: bool = False,
        only_commit: str = "",
        claims: Mapping[ClaimSlot, frozenset[str]] | None = None,
        producers: Mapping[str, Producer] | None = None,
    ) -> list[ReportEntry]:
        """Store each report (one transaction each), then a ``missing`` run for every
        expected tier/shard of ``context``'s commit that has no report (looked for in
        ``junit_dir``).

        A report stamped with a commit (tierci's plugin writes ``commit``) is filed
        under that commit; ``context.commit`` is only the default for unstamped ones. A
        stamp that disagrees with an explicit ``--commit`` or with ``only_commit`` is
        skipped and listed in :attr:`skipped` (``strict``: refused, a UsageError).
        A report whose exact bytes its commit already has is not stored again, however
        many processes ingest it at once. ``claims`` (:func:`report_claims`): where a
        tier record names the report its session wrote, any other report of that slot is
        unclaimed, left out and named (a passing copy a test dropped decides nothing).
        ``producers``: the tiers whose reports' producer is configured
        (``junit_producer``), with it."""
        self.already_ingested = []
        self.skipped = []
        entries = []
        # The claimed reports come last: by then every unclaimed one of their slot is
        # known, and the claimed one is stored carrying that warning.
        claims = claims or {}
        claimed = {digest for digests in claims.values() for digest in digests}
        unclaimed: dict[ClaimSlot, list[str]] = {}
        in_order = (
            sorted(reports, key=lambda path: file_sha256(path) in claimed) if claimed else reports
        )
        for path in in_order:
            entry = self._stage(path, huge_tree=huge_tree, producer=producer_for(path, producers))
            stamp = entry.summary.properties.get("commit", "") if entry.summary else ""
            reason = _stamp_conflict(stamp, context, only_commit)
            if reason:
                if strict:
                    raise UsageError(
                        f"{path}: {reason}",
                        fix="ingest it for its own commit (no --commit), or leave it out",
                    )
                self.skipped.append((path, reason))
                continue
            slot = (stamp or context.commit, entry.tier, entry.shard, entry.ran_on)
            if slot in claims and entry.digest not in claims[slot]:
                self.skipped.append((path, _unclaimed(entry)))
                unclaimed.setdefault(slot, []).append(path.name)
                continue
            if unclaimed.get(slot):
                left_out = ", ".join(unclaimed[slot])
                warning = (
                    f"unclaimed report(s) in this slot, left out: {left_out} (not written "
                    "by the tier session whose record is here)"
                )
                entry.warnings = [*entry.warnings, warning]
            if not self._store(entry, context.for_commit(stamp or context.commit)):
                self.already_ingested.append(path)
            entries.append(entry)
        # Holes per commit filed: the expected reports (``expect``: this run's commit) and
        # those the reports themselves imply (shard i/n: all n), each under its commit.
        by_commit: dict[str, list[ReportEntry]] = {context.commit: []}
        for entry in entries:
            stamp = entry.summary.properties.get("commit", "") if entry.summary else ""
            by_commit.setdefault(stamp or context.commit, []).append(entry)
        folder = junit_dir or (reports[0].parent if reports else Path())
        holes: list[ReportEntry] = []
        for commit, filed in by_commit.items():
            wanted = expect if commit == context.commit else ()
            for hole in add_missing(list(filed), wanted, folder)[len(filed) :]:
                if self._slot_reported(commit, hole):
                    continue  # another job's ingest stored it: a hole must not shadow it
                # A hole has no bytes; its identity is its slot: re-ingesting adds no copy.
                where = f"{hole.tier}:{hole.shard}" + (f":{hole.python}" if hole.python else "")
                self._store(hole, context.for_commit(commit), digest=f"{hole.status.value}:{where}")
                holes.append(hole)
        return entries + holes

    def _slot_reported(self, commit: str, hole: ReportEntry) -> bool:
        """Whether ``commit`` already has a report (not a hole) for ``hole``'s slot:
        shards ingested by separate jobs arrive in any order."""
        python = hole.python
        return bool(
            self.database.rows(
                "SELECT 1 FROM runs WHERE commit_sha = ? AND tier = ? AND shard = ? "
                "AND status != ? AND (? = '' OR python = ? OR python LIKE ?) LIMIT 1",
                (
                    commit,
                    hole.tier,
                    hole.shard,
                    EntryStatus.MISSING.value,
                    python,
                    python,
                    f"{python}.%",
                ),
            )
        )

    def ingest_records(
        self, paths: Sequence[Path], context: RunContext, *, only_commit: str = ""
    ) -> list[tuple[Path, str]]:
        """Store tier records (records.py) under the commit each names; returns the
        unreadable ones with their problem. Stamps follow :meth:`ingest`'s rule."""
        self.already_ingested = []
        self.skipped = []
        self.record_tiers = set()
        problems = []
        for path in paths:
            try:
                record = read_record(path)
            except RecordError as exc:
                problems.append((path, str(exc)))
                continue
            reason = _stamp_conflict(record.commit, context, only_commit)
            if reason:
                self.skipped.append((path, reason))
                continue
            filed = context.for_commit(record.commit or context.commit)
            self.record_tiers.add(record.tier)
            digest = hashlib.sha256(record.to_json().encode()).hexdigest()
            values = (
                filed.commit,
                record.branch or filed.branch,
                filed.ref_time or record.started,
                record.tier,
                record.shard,
                record.status.value,
                record.exit_code,
                record.note,
                record.started,
                record.ended,
                record.pipeline_started,
                record.python,
                record.platform,
                record.junit,
                digest,
                _now(),
            )
            if not self.insert_records([values]):
                self.already_ingested.append(path)
        return problems

    @abstractmethod
    def _stage(self, path: Path, *, huge_tree: bool, producer: Producer | None) -> ReportEntry:
        """Read ``path``'s outcomes into this connection's private staging, holding no
        lock on the shared history."""

    @abstractmethod
    def _store(self, entry: ReportEntry, context: RunContext, *, digest: str = "") -> bool:
        """The run and its staged outcomes in one transaction; False when this commit
        already has the report (its digest)."""

    @abstractmethod
    def insert_records(self, rows: Sequence[Sequence[object]]) -> int:
        """Tier records (values in :data:`RECORD_COLUMNS` order), each unless its commit
        already has its digest, in one transaction; how many were new."""

    @abstractmethod
    def import_runs(
        self, runs: Sequence[Row], outcomes: Mapping[int, Sequence[Sequence[object]]]
    ) -> list[int]:
        """Runs read from another history (``id`` and :data:`RUN_COLUMNS`) with their
        outcomes (by that ``id``; :data:`OUTCOME_COLUMNS`), in one transaction; a run
        whose commit already has its report is left out. The ``id`` of each run copied."""

    @abstractmethod
    def count_runs(self) -> int: ...

    @abstractmethod
    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load (``tierci report copy``)."""

    @abstractmethod
    def prune(self, retention: Retention, *, now: datetime | None = None) -> Pruned:
        """Delete every run, outcome and tier record of the commits ``retention`` does
        not keep, in one transaction."""


class SqliteHistory(History):
    """A history in one SQLite file (read-only from :func:`read_history`)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        super().__init__(str(path))
        self.connection = connection
        self.path = path
        self.database = SqliteDatabase(connection, str(path), _schema())

    def close(self) -> None:
        self.connection.close()

    def analyze(self) -> None:
        """Nothing: SQLite's HUD queries are planned by hand (CROSS JOIN order)."""

    def insert_records(self, rows: Sequence[Sequence[object]]) -> int:
        """Tier records (values in :data:`RECORD_COLUMNS` order), each unless its commit
        already has its digest, in one transaction; how many were new."""
        with self._write() as cursor:
            added = 0
            for values in rows:
                cursor.execute(
                    f"INSERT OR IGNORE INTO tier_runs ({', '.join(RECORD_COLUMNS)}) "  # noqa: S608 - constants
                    f"VALUES ({', '.join('?' * len(RECORD_COLUMNS))})",
                    tuple(values),
                )
                added += cursor.rowcount
        return added

    def import_runs(
        self, runs: Sequence[Row], outcomes: Mapping[int, Sequence[Sequence[object]]]
    ) -> list[int]:
        added: list[int] = []
        with self._write() as cursor:
            for run in runs:
                cursor.execute(
                    _INSERT_RUN_UNLESS_PRESENT, tuple(run[column] for column in RUN_COLUMNS)
                )
                if not cursor.rowcount:
                    continue
                run_id = cursor.lastrowid
                cursor.executemany(
                    f"INSERT INTO outcomes (run_id, {', '.join(OUTCOME_COLUMNS)}) "  # noqa: S608 - constants
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(run_id, *outcome) for outcome in outcomes.get(int(run["id"]), ())],
                )
                added.append(int(run["id"]))
        return added

    def _stage(self, path: Path, *, huge_tree: bool, producer: Producer | None) -> ReportEntry:
        """Read ``path`` into the staging table: however long it takes, no lock on the
        history is held (the temporary database is this connection's alone)."""
        connection = self.connection
        batch: list[tuple[str, str, float, int, str]] = []

        def flush() -> None:
            connection.executemany("INSERT INTO temp.staged VALUES (?, ?, ?, ?, ?)", batch)
            batch.clear()

        def keep(case: CaseResult) -> None:
            batch.append((case.test_id, case.outcome, case.time_s, case.attempts, case.message))
            if len(batch) >= _BATCH:
                flush()

        try:
            connection.execute("BEGIN")  # touches the temporary database only
            try:
                connection.execute("DELETE FROM temp.staged")
                connection.execute("DELETE FROM temp.ready")
                entry = read_entry(path, huge_tree=huge_tree, on_case=keep, producer=producer)
                flush()
                if entry.status is not EntryStatus.ERROR:
                    connection.execute(
                        "INSERT INTO temp.ready SELECT * FROM temp.staged ORDER BY test_id"
                    )
                connection.execute("DELETE FROM temp.staged")
            finally:
                connection.execute("COMMIT")
        except sqlite3.Error as exc:
            raise _history_error(self.path, exc, writing=True) from exc
        return entry

    def _store(self, entry: ReportEntry, context: RunContext, *, digest: str = "") -> bool:
        """The run (and, for a readable report, the staged outcomes) in one short write
        transaction; False when this commit already has the report."""
        # An unreadable file's bytes may be unknown (a FIFO is never read): its path is
        # then its identity.
        digest = digest or entry.digest or f"unreadable:{entry.path}"
        with self._write() as cursor:
            if cursor.execute(
                "SELECT 1 FROM runs WHERE commit_sha = ? AND report_digest = ? LIMIT 1",
                (context.commit, digest),
            ).fetchone():
                return False
            cursor.execute(_INSERT_RUN, run_values(entry, context, digest))
            run_id = int(cursor.lastrowid or 0)
            if entry.status is not EntryStatus.ERROR and entry.summary is not None:
                cursor.execute(
                    "INSERT INTO outcomes (run_id, test_id, outcome, time_s, attempts, message) "
                    "SELECT ?, test_id, outcome, time_s, attempts, message FROM temp.ready "
                    "ORDER BY rowid",
                    (run_id,),
                )
        return True

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: takes the write lock up front, so writers
        queue on the busy timeout instead of deadlocking on a lock upgrade."""
        started = time.monotonic()
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _history_error(self.path, exc, writing=True) from exc
        locked = time.monotonic()
        self.lock_waits_s.append(locked - started)
        try:
            yield self.connection.cursor()
            self.connection.execute("COMMIT")
            self.lock_held_s.append(time.monotonic() - locked)
        except sqlite3.Error as exc:
            self._rollback()
            raise _history_error(self.path, exc, writing=True) from exc
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self.connection.in_transaction:  # SQLite may have rolled back by itself
            self.connection.execute("ROLLBACK")

    def count_runs(self) -> int:
        return int(self.connection.execute("SELECT count(*) FROM runs").fetchone()[0])

    def prune(self, retention: Retention, *, now: datetime | None = None) -> Pruned:
        """Delete every run, outcome and tier record of the commits ``retention`` does
        not keep, in one write transaction, then ``VACUUM`` so that the file shrinks
        (only when something was deleted: a no-op prune rewrites nothing)."""
        size_before = self._settled_size()
        with self._write() as cursor:
            commits = [(str(sha), str(when)) for sha, when in cursor.execute(COMMITS_NEWEST_FIRST)]
            doomed = retention.doomed(commits, now or datetime.now(UTC))
            outcomes = runs = tier_runs = 0
            if doomed:
                cursor.execute(_PRUNED_COMMITS)
                cursor.execute("DELETE FROM temp.pruned_commits")
                cursor.executemany(
                    "INSERT INTO temp.pruned_commits VALUES (?)", [(sha,) for sha in doomed]
                )
                outcomes, runs, tier_runs = (
                    cursor.execute(statement).rowcount for statement in _PRUNE
                )
                cursor.execute("DELETE FROM temp.pruned_commits")
        if doomed:
            try:
                self.connection.execute("VACUUM")
            except sqlite3.Error as exc:
                raise _history_error(self.path, exc, writing=True) from exc
        return Pruned(
            commits=len(doomed),
            kept_commits=len(commits) - len(doomed),
            runs=runs,
            outcomes=outcomes,
            tier_runs=tier_runs,
            size_before=size_before,
            size_after=self._settled_size(),
        )

    def _settled_size(self) -> int:
        """The file's size with everything checkpointed out of the WAL into it (what a
        cache or an artifact of the history carries)."""
        try:
            self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return self.path.stat().st_size
        except sqlite3.Error as exc:
            raise _history_error(self.path, exc, writing=True) from exc


@dataclass(frozen=True, kw_only=True)
class Retention:
    """How much of a history to keep: the newest ``keep_commits`` commits (in the HUD's
    order), and no commit whose latest result is more than ``older_than_days`` old. A
    commit either rule drops is deleted."""

    keep_commits: int | None = None
    older_than_days: float | None = None

    def __post_init__(self) -> None:
        if self.keep_commits is None and self.older_than_days is None:
            raise UsageError(
                "pruning needs a rule: how many commits to keep, or how old a commit may be",
                fix="give --keep-commits N, --older-than DAYS, or both",
            )
        if self.keep_commits is not None and self.keep_commits < 1:
            raise UsageError(
                f"--keep-commits {self.keep_commits}: at least the newest commit is kept",
                fix="give --keep-commits 1 or more (or delete the history file to start over)",
            )
        if self.older_than_days is not None and not self.older_than_days > 0:
            raise UsageError(
                f"--older-than {self.older_than_days}: an age in days must be more than 0",
                fix="give e.g. --older-than 90",
            )

    def doomed(self, commits: Sequence[tuple[str, str]], now: datetime) -> list[str]:
        """The commits to delete among ``commits`` (sha, latest ref time; newest first).
        A time that cannot be read is never a reason to delete."""
        keep = self.keep_commits if self.keep_commits is not None else len(commits)
        doomed = [sha for sha, _when in commits[keep:]]
        if self.older_than_days is not None:
            cutoff = now - timedelta(days=self.older_than_days)
            for sha, when in commits[:keep]:
                moment = _moment(when)
                if moment is not None and moment < cutoff:
                    doomed.append(sha)
        return doomed


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, kw_only=True)
class Pruned:
    """What a prune removed, and the file's size before and after (bytes)."""

    commits: int
    kept_commits: int
    runs: int
    outcomes: int
    tier_runs: int
    size_before: int
    size_after: int

    def describe(self) -> str:
        if not self.commits:
            return f"nothing to prune: {self.kept_commits} commit(s), {_mb(self.size_after)}"
        return (
            f"pruned {self.commits} commit(s) ({self.runs} runs, {self.outcomes} test "
            f"outcomes, {self.tier_runs} tier records), kept {self.kept_commits}: "
            f"{_mb(self.size_before)} -> {_mb(self.size_after)}"
        )


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def run_values(entry: ReportEntry, context: RunContext, digest: str) -> tuple[object, ...]:
    """A run's row, in :data:`RUN_COLUMNS` order."""
    summary = entry.summary
    counts = summary.counts if summary else Counts()
    properties = summary.properties if summary else {}
    now = _now()
    return (
        context.commit,
        context.branch,
        context.ref_time or now,
        entry.tier,
        entry.shard,
        context.job,
        context.host or properties.get("host", ""),
        (summary.timestamp if summary else "") or now,
        summary.duration_s if summary else 0.0,
        entry.status.value,
        entry.problem,
        str(entry.path),
        digest,
        properties.get("scope", ""),
        *counts.row(),
        now,
        "\n".join(entry.warnings),
        properties.get("python", "") or entry.python,
    )


#: (commit, tier slot, shard, Python as major.minor or ''): where a report belongs.
ClaimSlot = tuple[str, str, str, str]


def report_claims(records: Sequence[Path], context: RunContext) -> dict[ClaimSlot, frozenset[str]]:
    """The reports the tier records say their sessions wrote, by slot (a record that
    cannot be read claims nothing: ingesting it names its problem). A report without a
    Python (another tool's) is matched by any Python's record of its slot."""
    claims: dict[ClaimSlot, set[str]] = {}
    for path in records:
        try:
            record = read_record(path)
        except RecordError:
            continue
        if not record.junit_sha256:
            continue
        commit = record.commit or context.commit
        python = ".".join(record.python.split(".")[:2])
        for slot_python in {python, ""}:
            slot = (commit, record.tier, record.shard, slot_python)
            claims.setdefault(slot, set()).add(record.junit_sha256)
    return {slot: frozenset(digests) for slot, digests in claims.items()}


def _unclaimed(entry: ReportEntry) -> str:
    return (
        f"an unclaimed report: the tier record of {entry.label} names the report its session "
        "wrote, and this is not it (a copy left by a test or an earlier run); it decides nothing"
    )


def refuse_conflicting_stamps(
    reports: Sequence[Path], context: RunContext, only_commit: str = "", *, huge_tree: bool = False
) -> None:
    """``--strict``, before the history is even opened: the first report whose stamp an
    ingest would skip, refused (a UsageError), so nothing at all is written."""
    for path in reports:
        entry = read_entry(path, huge_tree=huge_tree)
        stamp = entry.summary.properties.get("commit", "") if entry.summary else ""
        reason = _stamp_conflict(stamp, context, only_commit)
        if reason:
            raise UsageError(
                f"{path}: {reason}; nothing was stored",
                fix="ingest it for its own commit (no --commit), or leave it out",
            )


def _stamp_conflict(stamp: str, context: RunContext, only_commit: str) -> str:
    """Why a report stamped ``stamp`` is not filed in this ingest ('' if it is)."""
    if not stamp:
        return ""
    if only_commit and stamp != only_commit:
        return (
            f"stamped with commit {short_commit(stamp)}, not {short_commit(only_commit)}: left "
            "by an earlier run, it is not this run's result"
        )
    if context.explicit and stamp != context.commit:
        return (
            f"stamped with commit {short_commit(stamp)}, but --commit "
            f"{short_commit(context.commit)} was given"
        )
    return ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@overload
def open_history(location: Path, *, busy_timeout_s: float = ...) -> SqliteHistory: ...
@overload
def open_history(location: HistoryUrl, *, busy_timeout_s: float = ...) -> PostgresHistory: ...
@overload
def open_history(location: HistoryLocation, *, busy_timeout_s: float = ...) -> History: ...
def open_history(
    location: HistoryLocation, *, busy_timeout_s: float = _DEFAULT_BUSY_TIMEOUT_S
) -> History:
    """Open a history for ingesting, creating it (for SQLite, its folder too) if needed,
    migrated to this tierci's schema. Raises :class:`UsageError` (exit 4) when it cannot
    be a history that this process writes: a folder, a FIFO, under a file, read-only, a
    server that refuses the connection."""
    if isinstance(location, HistoryUrl):
        from tierci.report.postgres import open_postgres  # noqa: PLC0415 - psycopg: only here

        return open_postgres(location)
    path = location
    _check_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{path}: its folder {path.parent} cannot be created ({exc.strerror})",
            fix="point --db at a path in a folder this process may create or write",
        ) from exc
    try:
        # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), not the module's.
        connection = connect(_uri(path, "mode=rwc"), timeout=busy_timeout_s)
    except sqlite3.Error as exc:
        raise _history_error(path, exc, writing=True) from exc
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        # Before anything is written (the WAL switch writes the header): a file that
        # is not tierci's is refused untouched.
        version = _version(connection)
        _check_not_newer(path, version)
        _refuse_foreign(path, _foreign(connection, version))
        _use_wal(connection, busy_timeout_s)
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA temp_store = FILE")  # staging on disk, not in memory
        _migrate(connection, path)
        for statement in _STAGING:
            connection.execute(statement)
    except BaseException as exc:
        connection.close()
        if isinstance(exc, sqlite3.Error):
            raise _history_error(path, exc, writing=True) from exc
        raise
    return SqliteHistory(connection, path)


def _use_wal(connection: sqlite3.Connection, timeout_s: float) -> None:
    """``PRAGMA journal_mode = WAL``, retried while other processes hold the file: on a
    new history several openers contend for the lock the change needs, and SQLite may
    answer SQLITE_BUSY at once, without the busy handler (each holds a shared lock and
    wants more: one must give way). Once one of them has switched, the rest find WAL."""
    deadline = time.monotonic() + timeout_s
    pause = 0.01
    while True:
        try:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if not _named(exc, _BUSY) or time.monotonic() > deadline:
                raise
        else:
            if str(mode).lower() == "wal" or time.monotonic() > deadline:
                return
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


@overload
def read_history(location: Path) -> SqliteHistory: ...
@overload
def read_history(location: HistoryUrl) -> PostgresHistory: ...
@overload
def read_history(location: HistoryLocation) -> History: ...
def read_history(location: HistoryLocation) -> History:
    """Open a history for reading only (the HUD, durations): nothing is written, so a
    history on a read-only folder, mount or file (or a read-only database role) can be
    read. A SQLite schema too old to read as it is is refused: ingesting upgrades it."""
    if isinstance(location, HistoryUrl):
        from tierci.report.postgres import read_postgres  # noqa: PLC0415 - psycopg: only here

        return read_postgres(location)
    path = location
    _check_path(path)
    if not path.exists():
        raise TierciError(
            f"no history at {path}",
            fix="ingest reports first: tierci report ingest build/junit --db ...",
        )
    connection = _connect_read_only(path)
    try:
        version = _version(connection)
        _check_not_newer(path, version)
        _refuse_foreign(path, _foreign(connection, version) or _empty(connection))
    except BaseException as exc:
        connection.close()
        if isinstance(exc, sqlite3.Error):
            raise _history_error(path, exc, writing=False) from exc
        raise
    if version < READABLE_FROM:
        connection.close()
        raise UsageError(
            f"{path}: history schema version {version} is older than this tierci reads "
            f"({READABLE_FROM}), and reading never writes, so it is not upgraded here",
            fix="run `tierci report ingest` (or `nox -s report`) once where the file can be "
            "written: ingesting upgrades it",
        )
    return SqliteHistory(connection, path)


def history_location(root: Path, environ: Mapping[str, str] | None = None) -> HistoryLocation:
    """Where the run history of the project at ``root`` is: ``$TIERCI_HISTORY_URL`` (a
    PostgreSQL history many runners share), else :func:`history_path`."""
    url = (os.environ if environ is None else environ).get(HISTORY_URL_VARIABLE, "").strip()
    return parse_location(url) if url else history_path(root, environ)


def history_path(root: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Where the run history of the project at ``root`` is: ``$TIERCI_HISTORY`` (relative
    to ``root`` unless absolute), else ``build/tierci/history.sqlite`` under ``root``."""
    value = (os.environ if environ is None else environ).get(HISTORY_VARIABLE, "").strip()
    return root / (Path(value).expanduser() if value else Path(DEFAULT_HISTORY))


@dataclass(frozen=True, kw_only=True)
class Carried:
    """What was at a history's path before an ingest opened it: nothing (a first run, a
    cache miss), a history, or a file that was not a readable one and was set aside."""

    path: HistoryLocation
    found: bool
    #: Where a file that was not a readable history was moved (a fresh one starts).
    set_aside: Path | None = None
    #: Why it was set aside (SQLite's words, or what was wrong with its tables).
    problem: str = ""

    @property
    def notice(self) -> str:
        """The line to log: a start, or a set-aside; empty when a history was there."""
        if self.set_aside is not None:
            return (
                f"{self.path} is not a readable tierci history ({self.problem}): set aside "
                f"as {self.set_aside}, starting a fresh one"
            )
        return "" if self.found else f"no history yet at {self.path}: starting one"


def check_carried(location: HistoryLocation, *, set_aside: bool) -> Carried:
    """Look at the history an ingest is about to open (or create).

    Missing is a first run (or a cache miss): the ingest starts one. With ``set_aside``,
    a file that is not a readable tierci history (not SQLite, truncated, corrupted,
    another program's database, or one holding what tierci's schema has not or values
    of other types: :func:`_foreign`) is renamed, with its ``-wal``/``-shm``, to
    ``<name>.corrupt-<UTC time>`` so that a fresh one starts: a broken carried history
    never fails a pipeline by itself. What tierci must not touch is left for opening
    to refuse by name: a history of a newer schema, a folder, a FIFO, an unreadable
    path. A PostgreSQL history is not carried, so it is never set aside."""
    if isinstance(location, HistoryUrl):
        return Carried(path=location, found=True)
    path = location
    _check_path(path)
    if not path.exists():
        return Carried(path=path, found=False)
    if not set_aside:
        return Carried(path=path, found=True)
    problem = _unreadable(path)
    if not problem:
        return Carried(path=path, found=True)
    return Carried(path=path, found=True, set_aside=_set_aside(path, problem), problem=problem)


def _unreadable(path: Path) -> str:
    """Why the file at ``path`` is not a tierci history that can be read ('' if it is,
    or if it is empty: SQLite starts a database in an empty file). A history of a newer
    schema is not judged here: opening refuses it."""
    if path.stat().st_size == 0:
        return ""
    try:
        with contextlib.closing(connect(_uri(path, "mode=ro"))) as connection:
            version = _version(connection)
            if version > SCHEMA_VERSION:
                return ""
            problem = _foreign(connection, version)
            if problem:
                return problem
            damage = [str(row[0]) for row in connection.execute("PRAGMA quick_check(3)")]
    except sqlite3.Error as exc:
        if _named(exc, _NOT_A_DATABASE) or limit_hit(exc):
            return limit_hit(exc) or str(exc)
        raise _history_error(path, exc, writing=False) from exc
    return "" if damage == ["ok"] else "; ".join(damage)


@functools.cache
def _schema() -> Schema:
    """tierci's own schema, every form an older history may have, and each column's type."""
    return Schema(
        [*_TABLES, _UNIQUE_REPORT],
        added_columns=_ADDED_COLUMNS,
        retired=[made_by for _index, made_by in _RETIRED_INDEXES],
    )


def _version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _foreign(connection: sqlite3.Connection, version: int) -> str:
    """Why the database on ``connection`` is not a history that tierci wrote ('' if it
    is, or if it is a new, empty one): tables that are not tierci's, anything in its
    schema that tierci's has not (a trigger, a view, an index, a table made otherwise),
    or a run or tier record holding a value of a type tierci never writes there. For a
    schema this tierci knows (:func:`_check_not_newer` comes first)."""
    names = sorted(str(row[0]) for row in connection.execute("SELECT name FROM sqlite_master"))
    if not names and version == 0:
        return ""
    if version == 0 or "runs" not in names:
        held = f"holding {', '.join(names[:5])}" if names else "empty"
        return f"a SQLite database without tierci's tables, {held}"
    schema = _schema()
    problem = schema.schema_problem(connection, older=version < SCHEMA_VERSION)
    return problem or schema.type_problem(connection, _CHECKED_WHOLE)


def _empty(connection: sqlite3.Connection) -> str:
    """For reading: a database with no tables at all is no history either."""
    found = connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone()
    return "" if found else "a SQLite database without tierci's tables, empty"


def _refuse_foreign(path: Path, problem: str) -> None:
    if problem:
        raise UsageError(
            f"{path}: not a tierci history ({problem}); a history is data, so tierci uses "
            "no file whose schema or values are not its own",
            fix=f"point --db at the history tierci writes, or move {path} away; "
            "`nox -s report` (and `tierci report ingest --set-aside-corrupt`) sets such a "
            "carried history aside and starts a fresh one",
        )


def _set_aside(path: Path, problem: str) -> Path:
    """Rename ``path`` (and its WAL and shared-memory files, which belong to it and
    must never be applied to a fresh database) to ``<name>.corrupt-<UTC time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
        number += 1
    try:
        path.rename(target)
        for suffix in ("-wal", "-shm"):
            sidecar = path.with_name(path.name + suffix)
            if sidecar.exists():
                sidecar.rename(target.with_name(target.name + suffix))
    except OSError as exc:
        raise UsageError(
            f"{path}: not a readable tierci history ({problem}), and it cannot be set aside "
            f"({exc.strerror})",
            fix=f"move {path} (and any {path.name}-wal, {path.name}-shm) away by hand, or "
            f"point {HISTORY_VARIABLE} / --db at another path",
        ) from exc
    return target


def _connect_read_only(path: Path) -> sqlite3.Connection:
    try:
        return _probed(path, "mode=ro")
    except sqlite3.Error as exc:
        if not _named(exc, ("SQLITE_CANTOPEN",)):
            raise _history_error(path, exc, writing=False) from exc
    # A read-only folder or mount: SQLite cannot create the WAL index beside the file,
    # which also means no WAL writer is connected now. Read the file as it is.
    try:
        return _probed(path, "immutable=1")
    except sqlite3.Error as again:
        raise _history_error(path, again, writing=False) from again


def _probed(path: Path, mode: str) -> sqlite3.Connection:
    """A read-only connection that has read the file once; closed again if it cannot."""
    connection = connect(_uri(path, mode))
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        connection.execute("PRAGMA query_only = ON")
    except BaseException:
        connection.close()
        raise
    return connection


def _uri(path: Path, query: str) -> str:
    # as_uri() percent-encodes: a path with '?' or '#' stays one path.
    return f"{path.absolute().as_uri()}?{query}"


def _check_path(path: Path) -> None:
    """Refuse, by name, what can never be a history file: a folder, a FIFO or device,
    a path under a regular file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except NotADirectoryError as exc:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        raise UsageError(
            f"{path}: {blocker} is a file, not a folder, so no history can be there",
            fix=f"point --db at a path in a folder (or move {blocker} away)",
        ) from exc
    except OSError as exc:
        raise UsageError(
            f"{path}: cannot be reached ({exc.strerror})",
            fix="point --db at a history file this process may read",
        ) from exc
    if stat.S_ISREG(mode):
        return
    kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a FIFO, device or socket)"
    raise UsageError(
        f"{path}: is {kind}, not a history file",
        fix=f"point --db at a file, e.g. {path / 'history.sqlite'}"
        if stat.S_ISDIR(mode)
        else "point --db at a history file, or at a new path to start one",
    )


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Bring the schema to :data:`SCHEMA_VERSION` under the write lock, once: the
    version is read inside the transaction, so a process that waited for another's
    migration finds it done. Every write open passes here, so an unwritable history is
    found before any report is parsed."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        _check_not_newer(path, version)
        if version < SCHEMA_VERSION:
            # Statement by statement: executescript would COMMIT the open transaction.
            for statement in _TABLES:
                connection.execute(statement)
            for table, column in _ADDED_COLUMNS:  # keep the table's rows, add the column
                present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
                if column.split()[0] not in present:
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
            for statement in _DROP_DUPLICATES:
                connection.execute(statement)
            # runs_one_per_report replaces runs_by_digest; (run, test) covers outcomes_by_run.
            for index, _made_by in _RETIRED_INDEXES:
                connection.execute(f"DROP INDEX IF EXISTS {index}")
            connection.execute(_UNIQUE_REPORT)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _check_not_newer(where: HistoryLocation, version: int) -> None:
    """A schema newer than this tierci's is refused by name (a URL without its password)."""
    if version > SCHEMA_VERSION:
        raise UsageError(
            f"{where}: history schema version {version} is newer than this tierci's "
            f"({SCHEMA_VERSION})",
            fix="use the tierci release that wrote it (or a newer one), or another --db",
        )


def _named(exc: sqlite3.Error, names: tuple[str, ...]) -> bool:
    return str(getattr(exc, "sqlite_errorname", "")).startswith(names)


def _history_error(path: Path, exc: sqlite3.Error, *, writing: bool) -> TierciError:
    """What a failure of SQLite on the history means, and what to do about it."""
    limit = limit_hit(exc)
    if limit:
        return UsageError(
            f"{path}: not a readable tierci history ({limit}): a history tierci wrote "
            "never does this",
            fix=f"move {path} away (`nox -s report` and `tierci report ingest "
            "--set-aside-corrupt` set a carried history aside), or point --db at another path",
        )
    if _named(exc, _NOT_A_DATABASE):
        return UsageError(
            f"{path}: not a tierci history database ({exc})",
            fix="point --db at the history file tierci wrote, or at a new path to start one",
        )
    if writing and _named(exc, _CANNOT_WRITE):
        return UsageError(
            f"{path}: the history cannot be written by this process ({exc}): the file, its "
            "folder or the mount is read-only",
            fix="ingest into a history this process may write (--db PATH); `tierci report hud` "
            "can still render this one, read-only",
        )
    if _named(exc, _BUSY):
        return CommandFailedError(
            f"{path}: the history stayed locked by other writers past the busy timeout ({exc})",
            fix="re-run the ingest; if it recurs, look for a process holding the history open "
            "in a write transaction",
        )
    return CommandFailedError(
        f"{path}: SQLite failed on the history ({exc})",
        fix="check the disk (space, errors) and that the file is a history tierci wrote",
    )
