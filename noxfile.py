"""tierci's own tiers. Every CI file calls these sessions; so can you: `nox -s unit`.

The tiers come from [tool.tierci] (pyproject.toml) like any adopter's; `bench` is this
repository's own session beside them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

# nox runs this file in the bootstrap interpreter (requirements/bootstrap.txt), which
# has tierci's dependencies but not tierci itself: use this checkout's copy.
sys.path.insert(0, str(Path(__file__).parent / "src"))

import tierci.nox
from tierci import noxlib

nox.needs_version = ">=2025.2.9"
tierci.nox.register(globals())

BENCHMARKS = {
    "junit": "benchmarks/junit_merge.py",
    "heavy": "benchmarks/heavy_env.py",
    "hud": "benchmarks/hud.py",
    "history": "benchmarks/history_ingest.py",
    "ingest": "benchmarks/ingest_cost.py",
    "engines": "benchmarks/history_engines.py",
}


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks beside their baselines: all, or `-- junit --files 200` / `-- heavy` / `-- hud`."""
    noxlib.sync(session, "unit")
    chosen, arguments = list(BENCHMARKS), list(session.posargs)
    if arguments and arguments[0] in BENCHMARKS:
        chosen, arguments = [arguments[0]], arguments[1:]
    for name in chosen:
        session.run("python", BENCHMARKS[name], *arguments)
