"""native-ml: small numeric kernels with a compiled core.

The core is never silently replaced: if ``native_ml._core`` is missing (a wheel built
without it), importing the package fails and says so, unless the user opts out with
``NATIVE_ML_DISABLE_NATIVE=1``, which selects the pure-Python fallback on purpose.
``native_status()`` tells which: ``loaded``, ``disabled`` or (in the error) ``missing``.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Literal

__all__ = ["OPT_OUT_VARIABLE", "dot", "native_status"]

OPT_OUT_VARIABLE = "NATIVE_ML_DISABLE_NATIVE"
Status = Literal["loaded", "disabled", "missing"]


def _load() -> tuple[ModuleType, Status]:
    if os.environ.get(OPT_OUT_VARIABLE) == "1":
        from native_ml import _fallback  # noqa: PLC0415 - chosen at import time

        return _fallback, "disabled"
    try:
        from native_ml import _core  # noqa: PLC0415 - chosen at import time
    except ImportError as exc:
        raise ImportError(
            "native-ml: native core missing (native_ml._core could not be imported: "
            f"{exc}). Install a wheel built with its compiled core, or set "
            f"{OPT_OUT_VARIABLE}=1 to run the slow pure-Python fallback on purpose."
        ) from exc
    return _core, "loaded"


_implementation, _status = _load()
dot = _implementation.dot


def native_status() -> Status:
    """``loaded`` (the compiled core) or ``disabled`` (opted out: the Python fallback)."""
    return _status
