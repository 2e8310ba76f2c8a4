"""Invoke tasks mirroring the nox sessions one to one, for Jenkins stages and people.

``inv <name> [--python X.Y] [-- ARGS]`` runs exactly ``nox -s <name> [--python X.Y] [--
ARGS]`` (``--python``: only that Python's session of a tier with pythons); the task list is read
from ``nox --list --json`` so it cannot drift from the noxfile. ``inv ci`` runs the
local pipeline and prints the per-tier summary.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.exceptions import Exit
from invoke.tasks import Task

from tierci.config import load_config
from tierci.errors import CommandFailedError
from tierci.pipeline import failed_tiers, run_pipeline

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from invoke.context import Context

__all__ = ["nox_collection", "nox_sessions"]


def nox_sessions(root: Path) -> dict[str, str]:
    """Session name → one-line description, as ``nox --list --json`` reports them.

    Parametrized sessions (``heavy(env='legacy')``) collapse to their name: ``nox -s
    heavy`` runs every parametrization.
    """
    # `nox --list --json` lists only the selected sessions (nox.options.sessions); a
    # keyword expression that every name satisfies selects them all.
    completed = subprocess.run(
        [sys.executable, "-m", "nox", "--list", "--json", "-k", "not tierci_selects_all"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise CommandFailedError(
            f"`nox --list --json` failed in {root}:\n{completed.stderr.strip()}",
            fix="fix the error in noxfile.py shown above",
        )
    sessions: dict[str, str] = {}
    for entry in json.loads(completed.stdout):
        sessions.setdefault(entry["name"], entry.get("description") or "")
    return sessions


def _nox_task(name: str, description: str) -> Task[Callable[..., None]]:
    def body(c: Context, python: str = "") -> None:
        command = [sys.executable, "-m", "nox", "--session", name]
        if python:  # one Python of a tier that runs on several: `inv unit --python 3.12`
            command += ["--python", python]
        if c.remainder:
            command += ["--", *shlex.split(c.remainder)]
        c.run(shlex.join(command), pty=False)

    body.__doc__ = f"{description or f'nox session {name}'} (nox -s {name})"
    body.__name__ = name
    return Task(body, name=name, help={"python": "only this Python's session (e.g. 3.12)"})


def _ci_task(
    root: Path, tiers: Sequence[str], sessions: dict[str, str]
) -> Task[Callable[..., None]]:
    def ci(c: Context) -> None:
        from tierci.console import print_summary  # noqa: PLC0415 - only this task needs rich

        results = run_pipeline(load_config(root), tiers)
        print_summary(results)
        if "report" in sessions:
            # Always, after a failure too: the HUD is where the failure is read.
            c.run(shlex.join([sys.executable, "-m", "nox", "--session", "report"]), warn=True)
        failed = failed_tiers(results)
        if failed:
            raise Exit(f"tierci: failed tier(s): {', '.join(failed)}", code=1)

    ci.__doc__ = (
        f"Run the local pipeline ({' → '.join(tiers)}), stopping at the first failure, "
        "print a per-tier summary, then render the HUD (nox -s report)."
    )
    return Task(ci, name="ci")


def nox_collection(root: Path | str, *, pipeline: Sequence[str] = ()) -> Collection:
    """A task per nox session in ``root``'s noxfile, plus ``ci`` running ``pipeline``
    (default: the project's pipeline tiers, ``TierciConfig.pipeline_tiers``)."""
    root = Path(root)
    pipeline = pipeline or load_config(root).pipeline_tiers
    collection = Collection()
    sessions = nox_sessions(root)
    for name, description in sessions.items():
        collection.add_task(_nox_task(name, description))
    collection.add_task(_ci_task(root, pipeline, sessions))
    return collection
