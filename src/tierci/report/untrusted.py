"""A SQLite history is data, never code.

A history file may come from anyone: a CI cache restored from a poisoned key, a shared
path on a build agent, an artifact. SQLite runs what a file's schema says (a trigger on
every insert, a view on every select), so every history is opened as data only:

- the connection trusts no schema (``trusted_schema`` off, ``cell_size_check`` on, no
  memory map; on Python 3.12+ also SQLite's defensive mode, and triggers and views off);
- no value over :data:`VALUE_LIMIT_BYTES` is read, and a query that keeps SQLite busy
  for :data:`QUERY_LIMIT_S` is stopped: a crafted file cannot hang a command;
- before use, the file's schema must be tierci's own (:class:`Schema`): its tables and
  indexes, and nothing else (no trigger, no view), each with tierci's SQL token for
  token; the small tables' values must have tierci's types, and every value read later
  is checked as it is read (:meth:`Schema.value_problem`).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tierci.report.database import Row

__all__ = [
    "QUERY_LIMIT_S",
    "VALUE_LIMIT_BYTES",
    "Schema",
    "connect",
    "limit_hit",
]

#: Seconds SQLite may work on a query without a break before it is stopped. The
#: heaviest work tierci does on a 352 MB history (a 1,000-commit HUD, a prune's VACUUM)
#: takes under 6 s; a file crafted to make a query loop or go quadratic never ends.
QUERY_LIMIT_S = 120.0
#: The largest text or BLOB value read from (or bound into) a history. tierci writes
#: messages of at most 500 characters and test ids of a few hundred.
VALUE_LIMIT_BYTES = 16 * 1024 * 1024
# SQLite calls the progress handler every this many virtual-machine steps (well under
# a millisecond): often enough to stop a query promptly, rarely enough to cost nothing.
_STEPS_PER_CHECK = 10_000
# A pause this long between two calls is time outside SQLite (a lock wait, the caller's
# own work between statements), so the next call starts a new stretch of work.
_PAUSE_S = 1.0
# Set by a clock as it stops a query, read where the interrupted query is reported: an
# interrupt that no clock caused is the user's Ctrl-C, which a progress handler turns
# into an interrupted query too.
_stops = threading.local()


class _WorkClock:
    """Stops SQLite once it has worked for ``limit_s`` without a pause: the progress
    handler's answer. Lock waits and the caller's own work are pauses, so a statement
    that waited for the write lock is never stopped for the wait."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s
        self.last = float("-inf")
        self.deadline = float("inf")

    def expired(self) -> bool:
        now = time.monotonic()
        if now - self.last > _PAUSE_S:
            self.deadline = now + self.limit_s
        self.last = now
        if now > self.deadline:
            _stops.fired = True
            return True
        return False


def connect(uri: str, *, timeout: float = 5.0) -> sqlite3.Connection:
    """A connection (``isolation_level=None``: transactions are the caller's) to the
    history at ``uri`` that reads its file as data only."""
    connection = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    try:
        _distrust(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def _distrust(connection: sqlite3.Connection) -> None:
    if sys.version_info >= (3, 12):
        # Where Python exposes it: SQLite's own switches for untrusted files. Triggers
        # and views are off outright (tierci's schema has none), not only refused.
        for name, enabled in (
            ("SQLITE_DBCONFIG_DEFENSIVE", True),
            ("SQLITE_DBCONFIG_TRUSTED_SCHEMA", False),
            ("SQLITE_DBCONFIG_ENABLE_TRIGGER", False),
            ("SQLITE_DBCONFIG_ENABLE_VIEW", False),
        ):
            option = getattr(sqlite3, name, None)  # absent where SQLite is too old for it
            if option is not None:
                connection.setconfig(option, enabled)
    # Functions a schema names run only if SQLite marks them harmless; damaged cells
    # are found as they are read; no file is mapped into memory.
    connection.execute("PRAGMA trusted_schema = OFF")
    connection.execute("PRAGMA cell_size_check = ON")
    connection.execute("PRAGMA mmap_size = 0")
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, VALUE_LIMIT_BYTES)
    connection.set_progress_handler(_WorkClock(QUERY_LIMIT_S).expired, _STEPS_PER_CHECK)


def limit_hit(exc: sqlite3.Error) -> str:
    """Which of these limits ``exc`` is ('' if none): what to tell the user. A query
    interrupted by no limit was interrupted by the user (Ctrl-C): that is raised again
    as the KeyboardInterrupt it was."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    if name == "SQLITE_INTERRUPT":
        if not getattr(_stops, "fired", False):
            raise KeyboardInterrupt from exc
        _stops.fired = False
        return f"a query ran for {QUERY_LIMIT_S:g} s and was stopped"
    if name == "SQLITE_TOOBIG":
        return f"it holds a value over {VALUE_LIMIT_BYTES // (1024 * 1024)} MiB"
    return ""


# SQLite's tokens, as far as tierci's schema needs them: comments and spacing are
# dropped; anything else (a quote left open, a character tierci never writes) is a
# token of its own, which no schema of tierci's matches.
_TOKEN = re.compile(
    r"""(?P<skip>[ \t\n\f\r]+|--[^\n]*|/\*.*?(?:\*/|\Z))
      | (?P<literal>'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
      | (?P<word>[A-Za-z_][A-Za-z0-9_$]*|[0-9][A-Za-z0-9_.]*)
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


def tokens(sql: str | None) -> tuple[str, ...]:
    """``sql`` as SQLite reads it: words in lower case (SQL is case-blind), literals as
    written, no comments or spacing. ``None`` (an index SQLite made itself) is ()."""
    found = []
    for match in _TOKEN.finditer(sql or ""):
        if match.lastgroup == "skip":
            continue
        text = match.group()
        found.append(text.lower() if match.lastgroup == "word" else text)
    return tuple(found)


@dataclass(frozen=True, kw_only=True)
class _Object:
    """One entry of ``sqlite_master``: a table or an index and the SQL it was made by."""

    kind: str
    name: str
    table: str
    forms: frozenset[tuple[str, ...]]  # every spelling of it tierci ever wrote, as tokens


# SQLite's type names for the kinds of value tierci stores.
_TEXT: tuple[str, ...] = ("text",)
_NUMBER: tuple[str, ...] = ("integer", "real")


class Schema:
    """tierci's schema: its objects, the older forms a migration accepts, and the type
    of each column.

    ``statements`` make the current schema (executed into an in-memory database, so
    the SQL compared is the SQL SQLite stores). ``added_columns`` are the columns that
    migrations add to an existing table, in order (an older table lacks the last few);
    ``retired`` makes the objects a migration drops."""

    def __init__(
        self,
        statements: Sequence[str],
        *,
        added_columns: Sequence[tuple[str, str]] = (),
        retired: Sequence[str] = (),
    ) -> None:
        current, self.columns = _made_by(statements)
        self.current = {item.name: item for item in current}
        self.known = dict(self.current)
        for table in {table for table, _column in added_columns}:
            self.known[table] = _with_older_forms(
                self.current[table],
                [column for of, column in added_columns if of == table],
            )
        for item in _made_by([*statements, *retired])[0]:  # on the tables they index
            self.known.setdefault(item.name, item)
        #: Column name -> SQLite types its values may have (for values read by name).
        self.kinds: dict[str, tuple[str, ...]] = {}
        for kinds in self.columns.values():
            for column, kind in kinds.items():
                if self.kinds.setdefault(column, kind) != kind:
                    message = f"column {column} has two types in tierci's schema"
                    raise ValueError(message)

    def schema_problem(self, connection: sqlite3.Connection, *, older: bool) -> str:
        """What in the file's schema is not tierci's ('' if nothing). ``older``: a
        schema a migration will bring up to date, so any object tierci ever made, in
        any form it ever had, may be there and any may be missing; otherwise exactly
        the current schema."""
        found = connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
        ).fetchall()
        expected = self.known if older else self.current
        seen = set()
        for kind, name, table, sql in found:
            label = f"{kind} {name}" + (f" on {table}" if kind in ("index", "trigger") else "")
            item = expected.get(name)
            if item is None or (kind, table) != (item.kind, item.table):
                return f"it has {label}, which tierci's schema has not"
            if name in seen:
                return f"it has {label} twice"
            seen.add(name)
            if tokens(sql) not in item.forms:
                return f"its {label} differs from tierci's"
        if not older and (missing := sorted(set(expected) - seen)):
            return f"it lacks tierci's {', '.join(missing)}"
        return ""

    def type_problem(self, connection: sqlite3.Connection, tables: Sequence[str]) -> str:
        """The first value in ``tables`` whose type is not tierci's ('' if none): a
        BLOB, a NULL, text where a number belongs. For tables whose every row the
        readers need (one per report): the bulk (outcomes) is checked as it is read."""
        for table in tables:
            present = {str(row[1]) for row in connection.execute(f"PRAGMA table_info({table})")}
            kinds = {
                column: kind for column, kind in self.columns[table].items() if column in present
            }
            if not kinds:
                continue
            wrong = " OR ".join(
                f"typeof({column}) NOT IN ({', '.join(repr(k) for k in kind)})"
                for column, kind in kinds.items()
            )
            row = connection.execute(
                f"SELECT rowid, {', '.join(f'typeof({c})' for c in kinds)} "  # noqa: S608 - tierci's own names
                f"FROM {table} WHERE {wrong} LIMIT 1"
            ).fetchone()
            if row is None:
                continue
            for (column, kind), found in zip(kinds.items(), row[1:], strict=True):
                if found not in kind:
                    return _wrong(f"{table} row {row[0]}: {column}", found, kind)
        return ""

    def value_problem(self, names: Sequence[str], rows: Sequence[Row]) -> str:
        """The first value of ``rows`` (columns ``names``) that tierci never writes:
        any BLOB, and under a column of tierci's name, NULL or a value of another
        type. '' if none."""
        for index, name in enumerate(names):
            kind = self.kinds.get(name)
            allowed = _PYTHON_TYPES[kind] if kind else _ANY_BUT_BLOB
            for row in rows:  # column by column: one set lookup per value
                if type(row[index]) not in allowed:
                    found = _SQLITE_TYPES.get(type(row[index]), "blob")
                    return _wrong(f"column {name}", found, kind or _TEXT + _NUMBER)
        return ""


# What sqlite3 gives for each SQLite type (bytes for a BLOB), and what each kind allows.
_SQLITE_TYPES: dict[type, str] = {type(None): "null", str: "text", int: "integer", float: "real"}
_PYTHON_TYPES: dict[tuple[str, ...], frozenset[type]] = {
    _TEXT: frozenset({str}),
    _NUMBER: frozenset({int, float}),
}
_ANY_BUT_BLOB = frozenset(_SQLITE_TYPES)


_IN_WORDS = {
    "null": "NULL",
    "blob": "a BLOB",
    "text": "text",
    "integer": "an integer",
    "real": "a real number",
}


def _wrong(where: str, found: str, kind: tuple[str, ...]) -> str:
    wanted = "text" if kind == _TEXT else "a number" if kind == _NUMBER else "text or a number"
    return f"{where} holds {_IN_WORDS.get(found, found)}, where tierci writes {wanted}"


def _made_by(
    statements: Sequence[str],
) -> tuple[list[_Object], dict[str, dict[str, tuple[str, ...]]]]:
    """The objects ``statements`` make, as SQLite stores them, and each table's columns
    with the SQLite types their values have."""
    with contextlib.closing(sqlite3.connect(":memory:", isolation_level=None)) as connection:
        for statement in statements:
            connection.execute(statement)
        objects = [
            _Object(kind=kind, name=name, table=table, forms=frozenset({tokens(sql)}))
            for kind, name, table, sql in connection.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
            )
        ]
        columns = {
            item.name: {
                str(name): _TEXT if str(declared).upper() == "TEXT" else _NUMBER
                for _cid, name, declared, *_rest in connection.execute(
                    f"PRAGMA table_info({item.name})"
                )
            }
            for item in objects
            if item.kind == "table"
        }
    return objects, columns


def _with_older_forms(table: _Object, added: Sequence[str]) -> _Object:
    """``table`` as it also is in a history made before the last of ``added`` were
    added (``ALTER TABLE … ADD COLUMN`` writes ``, <column>`` before the final ``)``)."""
    (current,) = table.forms
    tails = [(",", *tokens(column)) for column in added]
    end = len(current) - 1 - sum(len(tail) for tail in tails)
    if current[end:-1] != tuple(token for tail in tails for token in tail):
        message = f"{table.name}: the added columns are not its last ones"
        raise ValueError(message)
    forms = {
        (*current[:end], *(token for tail in tails[:kept] for token in tail), ")")
        for kept in range(len(tails) + 1)
    }
    return _Object(kind=table.kind, name=table.name, table=table.table, forms=frozenset(forms))
