"""Splitting one tier's tests over several CI jobs: ``--shard i/n``.

Every test lands in exactly one shard, deterministically, so n jobs with the same
collection together run each test once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from tierci.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Shard", "in_scope", "parse_scope", "parse_shard", "select_shard"]

_T = TypeVar("_T")
_SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True, kw_only=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"2/4"`` → ``Shard(index=2, count=4)``, with a clear error for anything else."""
    match = _SHARD_PATTERN.match(text)
    if match is None:
        raise ConfigError(
            f"--shard {text!r} is not of the form i/n", fix="write e.g. --shard 2/4 (2nd of 4)"
        )
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= count:
        raise ConfigError(
            f"--shard {text!r}: the index must be between 1 and the count",
            fix=f"use 1/{count} … {count}/{count}" if count else "use a count of at least 1",
        )
    return Shard(index=index, count=count)


def select_shard(items: Sequence[_T], shard: Shard) -> list[_T]:
    """The items of ``shard``: round-robin over the collection order."""
    return [
        item for position, item in enumerate(items) if position % shard.count == shard.index - 1
    ]


def parse_scope(text: str) -> float:
    """``"25"`` or ``"25%"`` → 25.0, a percentage in (0, 100]."""
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        value = -1.0
    if not 0 < value <= 100:  # noqa: PLR2004 - a percentage
        raise ConfigError(
            f"--scope {text!r} is not a percentage in (0, 100]", fix="write e.g. --scope 25"
        )
    return value


def in_scope(test_id: str, percent: float) -> bool:
    """Whether a test belongs to the first ``percent``% of all tests.

    The position comes from a hash of the test's id, stable across machines and runs
    (Python's own ``hash`` is salted per process), so scopes nest: a test in the 5%
    stage is also in the 25% stage.
    """
    position = int.from_bytes(hashlib.sha256(test_id.encode()).digest()[:4], "big") / 2**32
    return position * 100 < percent
