"""``tierci config``, ``tierci lock``, ``tierci pipeline``: the project's own tiers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierci.cli._common import add_command, project_config
from tierci.errors import StaleLockError

if TYPE_CHECKING:
    import argparse

    from tierci.cli._common import Subcommands

__all__ = ["add_commands"]


def add_commands(commands: Subcommands) -> None:
    add_command(
        commands,
        "config",
        _config,
        summary="print the resolved [tool.tierci] configuration as JSON",
        description="Print [tool.tierci] of pyproject.toml as tierci resolves it: every "
        "tier with its defaults filled in, the wheelhouse, the environments, the gates.",
        examples=("tierci config", "tierci --project ../other config"),
    )
    lock = add_command(
        commands,
        "lock",
        _lock,
        summary="report lock files that no longer match their inputs (exit 3)",
        description="Compare each requirements/*.txt with the digest of what it was "
        "compiled from (its .in, the locks it layers on, the project's dependencies). "
        "Compiling is `nox -s lock`, which runs pip-tools in its own pinned environment.",
        examples=("tierci lock --check",),
    )
    lock.add_argument("--check", action="store_true", help="exit 3 if any lock is stale")
    pipeline = add_command(
        commands,
        "pipeline",
        _pipeline,
        summary="run tiers as nox sessions, one after another, and summarise them",
        description="Run each named tier as `nox -s TIER` (as CI does), stop at the first "
        "failure unless --keep-going, print a per-tier summary and write "
        "build/tierci/pipeline.json. `inv ci` does the same and then renders the HUD.",
        examples=("tierci pipeline", "tierci pipeline lint unit --keep-going"),
    )
    pipeline.add_argument("tiers", nargs="*", help="default: lint unit packaging")
    pipeline.add_argument(
        "--keep-going", action="store_true", help="run every tier even after a failure"
    )


def _config(arguments: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from tierci.console import print_line

    print_line(json.dumps(asdict(project_config(arguments)), indent=2, default=str))
    return 0


def _lock(arguments: argparse.Namespace) -> int:
    from tierci.console import print_line
    from tierci.locks.compile import find_stale, lock_specs

    config = project_config(arguments)
    stale = find_stale(lock_specs(config), config.pyproject)
    for entry in stale:
        print_line(f"stale: {entry.spec.lock} ({entry.reason})")
    return StaleLockError.return_code if stale else 0


def _pipeline(arguments: argparse.Namespace) -> int:
    from tierci.console import print_summary
    from tierci.pipeline import DEFAULT_PIPELINE, failed_tiers, run_pipeline

    config = project_config(arguments)
    tiers = arguments.tiers or list(DEFAULT_PIPELINE)
    results = run_pipeline(config, tiers, stop_on_failure=not arguments.keep_going)
    print_summary(results)
    return 1 if failed_tiers(results) else 0
