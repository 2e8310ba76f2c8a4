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
    init = add_command(
        commands,
        "init",
        _init,
        summary="adopt tierci: write [tool.tierci], noxfile, tasks, requirements, CI; compile",
        description="Detect the project (package, layout, compiled extensions, tests and "
        "their markers, mypy, .github/, Jenkinsfile), write what it lacks: a [tool.tierci] "
        "table with only what differs from the defaults, noxfile.py, tasks.py, "
        "requirements/*.in, the CI files rendered from the tiers; then compile every lock. "
        "An existing file is never changed without --force: what would be written is shown.",
        examples=("tierci init", "tierci init --find-links wheels", "tierci init --force"),
    )
    init.add_argument("--force", action="store_true", help="overwrite files that differ")
    init.add_argument(
        "--find-links",
        action="append",
        default=[],
        metavar="FOLDER_OR_URL",
        help="where packages no index has come from (an unreleased tierci's wheel): a "
        "folder of the repository or an https URL; written to [tool.tierci] find_links",
    )
    init.add_argument("--no-lock", action="store_true", help="write the files, compile no lock")
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
    pipeline.add_argument(
        "tiers",
        nargs="*",
        help="default: the tiers every push runs (lint, unit, custom tiers, packaging)",
    )
    pipeline.add_argument(
        "--keep-going", action="store_true", help="run every tier even after a failure"
    )


def _config(arguments: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from tierci.console import print_line

    print_line(json.dumps(asdict(project_config(arguments)), indent=2, default=str))
    return 0


def _init(arguments: argparse.Namespace) -> int:
    from tierci.console import print_line
    from tierci.init import NEXT_COMMANDS, compile_locks, init_project

    root = arguments.project.resolve()
    result = init_project(root, force=arguments.force, find_links=tuple(arguments.find_links))
    facts = result.facts
    systems = [(".github/", facts.github), ("Jenkinsfile", facts.jenkins)]
    ci = " and ".join(name for name, present in systems if present) or "none yet"
    print_line(
        f"project {facts.name}: package {facts.package} ({facts.layout} layout, "
        f"{facts.backend}), tests in {facts.tests_dir or 'none found'}, "
        f"markers {', '.join(sorted(facts.markers)) or 'none'}, "
        f"native modules {', '.join(facts.native_modules) or 'none'}, "
        f"mypy {'configured' if facts.mypy else 'not configured'}, CI files: {ci}"
    )
    for path in result.written:
        print_line(f"wrote      {path}")
    for path in result.unchanged:
        print_line(f"unchanged  {path}")
    for path, text in result.kept.items():
        print_line(f"kept       {path} (it exists and differs; --force writes this:)")
        print_line("".join(f"    {line}\n" for line in text.splitlines()).rstrip("\n"))
    for advice in result.advice:
        print_line(f"to do:     {advice}")
    if arguments.no_lock:
        print_line("locks: not compiled (--no-lock): `nox -s lock` compiles them")
    elif not compile_locks(root, print_line):
        print_line("locks: every lock is up to date")
    print_line("next:\n" + "\n".join(f"  {command}" for command in NEXT_COMMANDS))
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
    from tierci.pipeline import failed_tiers, run_pipeline

    config = project_config(arguments)
    tiers = arguments.tiers or list(config.pipeline_tiers)
    results = run_pipeline(config, tiers, stop_on_failure=not arguments.keep_going)
    print_summary(results)
    return 1 if failed_tiers(results) else 0
