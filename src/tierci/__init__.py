"""tierci: a tiered CI pipeline defined once as nox sessions.

The package root stays import-light on purpose: ``noxfile.py`` and ``tasks.py`` import
``tierci`` from the source tree inside the bootstrap interpreter.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("tierci")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
