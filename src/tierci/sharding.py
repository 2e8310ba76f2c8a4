"""Splitting one tier's tests over several CI jobs: ``--shard i/n``.

Every test lands in exactly one shard, deterministically, so n jobs with the same
collection (and the same recorded durations) together run each test once.

With recorded durations the split is balanced: longest test first onto the least
loaded shard (ties: the lower shard; equal durations: by test id). Tests with no
recorded duration are dealt round-robin in collection order on top.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from tierci.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "MAX_SHARDS",
    "Shard",
    "balanced_assignment",
    "in_scope",
    "parse_scope",
    "parse_shard",
    "select_balanced",
    "select_shard",
]

_T = TypeVar("_T")
# ASCII digits only: int() would take other scripts' digits too.
_SHARD_PATTERN = re.compile(r"^\s*([0-9]+)\s*/\s*([0-9]+)\s*$")
#: The most shards a tier may be split into. CI matrices stop far below (GitHub Actions
#: runs at most 256 jobs per matrix); the cap refuses a typo like 1/100000000000 before
#: anything is allocated per shard.
MAX_SHARDS = 10_000


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
        raise UsageError(
            f"--shard {text!r} is not of the form i/n", fix="write e.g. --shard 2/4 (2nd of 4)"
        )
    index, count = (_bounded(number) for number in match.groups())
    if count > MAX_SHARDS:
        raise UsageError(
            f"--shard {text!r}: at most {MAX_SHARDS} shards",
            fix=f"split into fewer shards, e.g. --shard 1/4 (the count may be 1 … {MAX_SHARDS})",
        )
    if not 1 <= index <= count:
        raise UsageError(
            f"--shard {text!r}: the index must be between 1 and the count",
            fix=f"use 1/{count} … {count}/{count}" if count else "use a count of at least 1",
        )
    return Shard(index=index, count=count)


def _bounded(digits: str) -> int:
    """The number, or ``MAX_SHARDS + 1`` for any larger one (without converting thousands
    of digits, which int() refuses)."""
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= len(str(MAX_SHARDS)) else MAX_SHARDS + 1


def select_shard(items: Sequence[_T], shard: Shard) -> list[_T]:
    """The items of ``shard``: round-robin over the collection order."""
    return [
        item for position, item in enumerate(items) if position % shard.count == shard.index - 1
    ]


def balanced_assignment(
    test_ids: Sequence[str], durations: Mapping[str, float], count: int
) -> list[int]:
    """The 0-based shard of each test id: longest known first onto the least loaded."""
    shard_of = [-1] * len(test_ids)
    # (load, shard): the heap's top is the least loaded shard, the lower one on a tie.
    loads = [(0.0, shard) for shard in range(count)]
    known = sorted(
        (position for position, test in enumerate(test_ids) if test in durations),
        key=lambda position: (-durations[test_ids[position]], test_ids[position], position),
    )
    for position in known:
        load, target = loads[0]
        shard_of[position] = target
        heapq.heapreplace(loads, (load + durations[test_ids[position]], target))
    unknown = (position for position in range(len(test_ids)) if shard_of[position] < 0)
    for dealt, position in enumerate(unknown):
        shard_of[position] = dealt % count
    return shard_of


def select_balanced(
    items: Sequence[_T],
    shard: Shard,
    durations: Mapping[str, float],
    test_id: Callable[[_T], str],
) -> list[_T]:
    """The items of ``shard`` under ``balanced_assignment``, in collection order."""
    shard_of = balanced_assignment([test_id(item) for item in items], durations, shard.count)
    return [item for item, index in zip(items, shard_of, strict=True) if index == shard.index - 1]


def parse_scope(text: str) -> float:
    """``"25"`` or ``"25%"`` → 25.0, a percentage in (0, 100]."""
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        value = -1.0
    if not 0 < value <= 100:  # noqa: PLR2004 - a percentage
        raise UsageError(
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
