"""tierci: a tiered CI pipeline defined once as nox sessions.

The package root stays import-light on purpose: ``noxfile.py`` and ``tasks.py`` import
``tierci`` from the source tree inside the bootstrap interpreter, and every ``tierci``
command starts here. ``__version__`` is read from the installed distribution's
metadata when first asked for (reading it costs more than the rest of this module).
"""

from __future__ import annotations

from functools import cache

__all__ = ["__version__"]


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - see above

    try:
        return version("tierci")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
