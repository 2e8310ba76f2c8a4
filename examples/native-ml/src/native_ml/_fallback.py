"""The kernels in plain Python: slow, used only when the user opts out of the core.

Same contract as ``_core.c``: numbers only (a string is a TypeError, as in C), equal
lengths (else ValueError).
"""

from __future__ import annotations

from numbers import Real
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def _number(value: object) -> float:
    if not isinstance(value, Real):
        raise TypeError(f"must be real number, not {type(value).__name__}")
    return float(value)


def dot(a: Sequence[float], b: Sequence[float], /) -> float:
    if len(a) != len(b):
        raise ValueError(f"dot: lengths differ ({len(a)} and {len(b)})")
    total = 0.0
    for x, y in zip(a, b, strict=True):
        total += _number(x) * _number(y)
    return total
