"""Locating the uv binary that syncs environments and creates clean ones."""

from __future__ import annotations

import shutil
from functools import cache

from tierci.errors import TierciError

__all__ = ["find_uv"]


@cache
def find_uv() -> str:
    """uv from the ``uv`` package of this interpreter, else from PATH."""
    try:
        from uv import find_uv_bin  # noqa: PLC0415 - optional: uv may be a system binary

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found is None:
        raise TierciError(
            "uv was not found: tierci syncs every tier's environment with `uv pip sync`",
            fix="pip install -r requirements/bootstrap.txt (it pins uv), or put uv on PATH",
        )
    return found
