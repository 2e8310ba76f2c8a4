"""tierci: a tiered CI pipeline defined once as nox sessions.

The package root stays import-light on purpose: ``noxfile.py`` and ``tasks.py`` import
``tierci`` from the source tree inside the bootstrap interpreter.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
