"""Splitting one tier's tests over several CI jobs: ``--shard i/n``.

Every test lands in exactly one shard, deterministically, so n jobs with the same
collection (and the same recorded durations) together run each test once.

With recorded durations the split is balanced: heaviest test first onto the least
loaded shard (ties: the shard with fewer tests, then the lower one; equal weights: by
test id). A test with no recorded duration weighs the mean of the known ones.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
import statistics
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
#: pytest writes times to the millisecond: a recorded 0.000 is under a millisecond, not
#: free, and weighing it so spreads many fast tests instead of piling them up.
_RESOLUTION_S = 0.001
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
    """The 0-based shard of each test id: heaviest first onto the least loaded shard.

    A test weighs its recorded duration; a test with none (or an unusable one: NaN,
    infinite, negative) weighs the mean of the known ones, as pytest-split does. Ties
    between shards go to the one with fewer tests, then the lower one: pytest writes
    fast tests as ``time="0.000"``, and without the count a shard's load never grows
    and every such test would pile onto shard 1.
    """
    known = {
        test: max(seconds, _RESOLUTION_S)
        for test, seconds in durations.items()
        if 0.0 <= seconds < math.inf
    }
    mean = statistics.fmean(known.values()) if known else _RESOLUTION_S
    weights = [known.get(test, mean) for test in test_ids]
    order = sorted(
        range(len(test_ids)), key=lambda position: (-weights[position], test_ids[position])
    )
    shard_of = [-1] * len(test_ids)
    # (load, tests, shard): the heap's top is the least loaded, then the emptiest shard.
    loads = [(0.0, 0, shard) for shard in range(count)]
    for position in order:
        load, tests, target = loads[0]
        shard_of[position] = target
        heapq.heapreplace(loads, (load + weights[position], tests + 1, target))
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
