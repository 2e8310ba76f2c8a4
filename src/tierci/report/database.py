"""Where a history lives, and one way to query it whatever the engine.

A history is a SQLite file (the embedded default: a path) or a PostgreSQL database (a
``postgresql://`` URL: many runners writing one history). The HUD, shard durations
and the quarantine read both through :class:`Database`: the same SQL, written once in
the subset both engines share (``count(*) FILTER (WHERE …)`` for conditional counts,
``?`` placeholders), with the two places they differ given by the database: a list
parameter (:meth:`Database.among`) and joining text lines (:meth:`Database.lines`).

A URL's password is never shown: :class:`HistoryUrl` prints without it, so a history's
location can go into any log line or error message.
"""

from __future__ import annotations

import json
import sqlite3
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from tierci.errors import UsageError
from tierci.report.untrusted import limit_hit

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from tierci.report.untrusted import Schema

__all__ = [
    "URL_SCHEMES",
    "Database",
    "HistoryLocation",
    "HistoryUrl",
    "Row",
    "SqliteDatabase",
    "location_exists",
    "parse_location",
]

URL_SCHEMES = ("postgresql", "postgres")
_NOT_READABLE_FIX = (
    "point --db at the history that `tierci report ingest` or `nox -s report` writes; "
    "`nox -s report` (and `tierci report ingest --set-aside-corrupt`) sets a carried one "
    "that cannot be read aside and starts a fresh one"
)


class Row(Protocol):
    """A result row: by position or by column name (sqlite3.Row, and the PostgreSQL
    backend's rows, both are)."""

    def __getitem__(self, key: int | str, /) -> Any: ...  # noqa: ANN401 - a column's value

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class HistoryUrl:
    """A PostgreSQL history: a libpq connection URL. Printed without its password
    (libpq also reads ``PGPASSWORD`` and ``~/.pgpass``, which never show at all)."""

    url: str = field(repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in URL_SCHEMES:
            raise UsageError(
                f"{self.redacted}: not a PostgreSQL URL",
                fix="give postgresql://USER@HOST:PORT/DATABASE (password in PGPASSWORD or "
                "~/.pgpass), or a path for a SQLite history",
            )

    @property
    def redacted(self) -> str:
        parts = urlsplit(self.url)
        netloc = parts.netloc
        if "@" in netloc:
            credentials, host = netloc.rsplit("@", 1)
            user = credentials.split(":", 1)[0]
            netloc = f"{user}:***@{host}" if ":" in credentials else f"{user}@{host}"
        # Query parameters may carry a password too (?password=…): keep only their names.
        query = "&".join(
            item if item.split("=", 1)[0] != "password" else "password=***"
            for item in parts.query.split("&")
            if item
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))

    def __str__(self) -> str:
        return self.redacted


HistoryLocation = Path | HistoryUrl


def parse_location(text: str) -> HistoryLocation:
    """``--db`` and ``$TIERCI_HISTORY_URL``: a ``postgresql://`` URL, else a path."""
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in URL_SCHEMES:
        return HistoryUrl(text.strip())
    if scheme:
        raise UsageError(
            f"{scheme}://…: tierci keeps a history in SQLite (a path) or PostgreSQL "
            "(postgresql://…), not this",
            fix="give a file path, or a postgresql:// URL",
        )
    return Path(text).expanduser()


def location_exists(location: HistoryLocation) -> bool:
    """Whether there may be a history to read: a file there, or any server (a server's
    tables are looked for when it is opened)."""
    return isinstance(location, HistoryUrl) or location.is_file()


class Database(ABC):
    """One open history database, read through the SQL both engines share."""

    #: Where it is, fit to print.
    name: str

    @abstractmethod
    def rows(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]:
        """Run one statement (``?`` placeholders) and return its rows."""

    @property
    @abstractmethod
    def among(self) -> str:
        """``IN`` a list passed as one parameter (:meth:`members`): no SQL text is
        ever built from data."""

    @abstractmethod
    def members(self, values: Sequence[str | int]) -> object:
        """A list of values as the one parameter :attr:`among` takes."""

    @abstractmethod
    def lines(self, expression: str) -> str:
        """An aggregate joining ``expression``'s non-null values with newlines."""

    #: A join whose written order is kept (SQLite's CROSS JOIN … ON); PostgreSQL's
    #: planner chooses well by itself.
    ordered_join: str = "JOIN"


class SqliteDatabase(Database):
    """A SQLite history, read as data (:mod:`tierci.report.untrusted`): every value is
    checked against ``schema`` as it is read."""

    ordered_join = "CROSS JOIN"

    def __init__(self, connection: sqlite3.Connection, name: str, schema: Schema) -> None:
        self.connection = connection
        self.name = name
        self.schema = schema

    def rows(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]:
        cursor = self.connection.cursor()
        cursor.row_factory = sqlite3.Row  # this cursor's rows only: the connection's stay tuples
        try:
            found: list[Row] = cursor.execute(sql, tuple(parameters)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise UsageError(
                f"{self.name}: not a readable tierci history ({limit_hit(exc) or exc})",
                fix=_NOT_READABLE_FIX,
            ) from exc
        names = [column[0] for column in cursor.description or ()]
        problem = self.schema.value_problem(names, found)
        if problem:
            raise UsageError(
                f"{self.name}: not a history tierci wrote ({problem})", fix=_NOT_READABLE_FIX
            )
        return found

    @property
    def among(self) -> str:
        return "IN (SELECT value FROM json_each(?))"

    def members(self, values: Sequence[str | int]) -> object:
        return json.dumps(list(values))

    def lines(self, expression: str) -> str:
        return f"group_concat({expression}, char(10))"
