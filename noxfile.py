"""tierci's own tiers. Every CI file calls these sessions; so can you: `nox -s unit`."""

from __future__ import annotations

import sys
from pathlib import Path

import nox

# nox runs this file in the bootstrap interpreter (requirements/bootstrap.txt), which
# has tierci's dependencies but not tierci itself: use this checkout's copy.
sys.path.insert(0, str(Path(__file__).parent / "src"))

from tierci import noxlib

ROOT = Path(__file__).parent

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
# Reuse is safe: every session syncs its env to the exact lock before running.
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "unit", "packaging"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, mypy strict on src/."""
    noxlib.lint(session)


@nox.session(python=noxlib.tier_pythons(ROOT, "unit"))
def unit(session: nox.Session) -> None:
    """No-device tests: not heavy, not device, not e2e, on each Python of the tier."""
    noxlib.run_tests(session, "unit")


@nox.session
def packaging(session: nox.Session) -> None:
    """Build sdist + wheel, twine check --strict, check-wheel-contents, import-verify."""
    noxlib.packaging(session, package="tierci")


@nox.session
@nox.parametrize("env", noxlib.heavy_envs(ROOT))
def heavy(session: nox.Session, env: str) -> None:
    """Tests marked heavy (torch), offline from the wheelhouse; one run per declared env."""
    noxlib.run_tests(session, "heavy", env=env)


@nox.session
def wheelhouse(session: nox.Session) -> None:
    """Build .wheelhouse/ from the heavy locks, validate it, pack it into build/wheelhouse/."""
    noxlib.wheelhouse_session(session)


@nox.session
def device(session: nox.Session) -> None:
    """Tests marked device, on an accelerator host."""
    noxlib.run_tests(session, "device")


@nox.session
def release(session: nox.Session) -> None:
    """Build, check, upload (-- --repository-url URL), install back from the index, import."""
    noxlib.release_session(session)


@nox.session
def lock(session: nox.Session) -> None:
    """Compile requirements/*.in to hashed locks; `-- --check` fails on stale ones."""
    noxlib.lock(session)


@nox.session(venv_backend="none")
def report(session: nox.Session) -> None:
    """Ingest build/junit/*.xml of this commit into the history, render the HUD to build/hud/."""
    noxlib.report(session)


BENCHMARKS = {
    "junit": "benchmarks/junit_merge.py",
    "heavy": "benchmarks/heavy_env.py",
    "hud": "benchmarks/hud.py",
    "history": "benchmarks/history_ingest.py",
    "ingest": "benchmarks/ingest_cost.py",
    "engines": "benchmarks/history_engines.py",
}


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks beside their baselines: all, or `-- junit --files 200` / `-- heavy` / `-- hud`."""
    noxlib.sync(session, "unit")
    chosen, arguments = list(BENCHMARKS), list(session.posargs)
    if arguments and arguments[0] in BENCHMARKS:
        chosen, arguments = [arguments[0]], arguments[1:]
    for name in chosen:
        session.run("python", BENCHMARKS[name], *arguments)
