"""``tierci``: the command line over the library. Thin: parse, call, map errors to exits."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from tierci import __version__, locks
from tierci.config import load_config
from tierci.console import print_error, print_summary
from tierci.errors import StaleLockError, TierciError
from tierci.invoke_tasks import DEFAULT_PIPELINE
from tierci.pipeline import failed_tiers, run_pipeline

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tierci", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tierci {__version__}")
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="project folder")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("config", help="print the resolved [tool.tierci] configuration as JSON")
    lock = commands.add_parser("lock", help="report stale lock files (compile with `nox -s lock`)")
    lock.add_argument("--check", action="store_true", help="exit 3 if any lock is stale")
    run = commands.add_parser("pipeline", help="run tiers as nox sessions and summarise them")
    run.add_argument("tiers", nargs="*", default=list(DEFAULT_PIPELINE))
    run.add_argument(
        "--keep-going", action="store_true", help="run every tier even after a failure"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        config = load_config(arguments.project)
        if arguments.command == "config":
            print(json.dumps(asdict(config), indent=2, default=str))  # noqa: T201 - the output
            return 0
        if arguments.command == "lock":
            stale = locks.find_stale(locks.lock_specs(config), config.pyproject)
            for entry in stale:
                print(f"stale: {entry.spec.lock} ({entry.reason})")  # noqa: T201
            return StaleLockError.return_code if stale else 0
        results = run_pipeline(config, arguments.tiers, stop_on_failure=not arguments.keep_going)
        print_summary(results)
        return 1 if failed_tiers(results) else 0
    except TierciError as exc:
        print_error(str(exc))
        return exc.return_code


if __name__ == "__main__":
    sys.exit(main())
