"""``tierci``: the command line over the library. Thin: parse, call, map errors to exits."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from tierci import __version__, cli_heavy, cli_release, locks
from tierci.config import load_config
from tierci.console import print_error, print_reports, print_summary
from tierci.errors import StaleLockError, TierciError
from tierci.history import RunContext, open_history
from tierci.hud import build_hud, gate_targets, write_hud
from tierci.invoke_tasks import DEFAULT_PIPELINE
from tierci.merge import collect_inputs, merge_reports, parse_expectation
from tierci.pipeline import failed_tiers, run_pipeline

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tierci.config import TierciConfig

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tierci", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tierci {__version__}")
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="project folder")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("config", help="print the resolved [tool.tierci] configuration as JSON")
    lock = commands.add_parser("lock", help="report stale lock files (compile with `nox -s lock`)")
    lock.add_argument("--check", action="store_true", help="exit 3 if any lock is stale")
    junit = commands.add_parser("junit", help="JUnit XML: merge reports of every tier and shard")
    junit_commands = junit.add_subparsers(dest="junit_command", required=True)
    merge = junit_commands.add_parser("merge", help="merge reports into one JUnit file")
    merge.add_argument("out", type=Path, help="the merged JUnit file to write")
    merge.add_argument("inputs", type=Path, nargs="+", help="report files or folders of *.xml")
    merge.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="TIER[:SHARDS]",
        help="a report that must be there (unit:4 = shards 1/4..4/4); repeatable",
    )
    merge.add_argument("--huge-tree", action="store_true", help="lift libxml2's size limits")
    merge.add_argument(
        "--jobs", type=int, default=None, help="worker processes (default: the usable CPUs)"
    )
    report = commands.add_parser("report", help="run history and the HUD")
    report_commands = report.add_subparsers(dest="report_command", required=True)
    ingest = report_commands.add_parser("ingest", help="store JUnit reports of one commit")
    ingest.add_argument("inputs", type=Path, nargs="+", help="report files or folders of *.xml")
    ingest.add_argument("--db", type=Path, default=Path("build/tierci/history.sqlite"))
    ingest.add_argument("--commit", help="the commit tested (default: from CI or git)")
    ingest.add_argument("--branch", default="", help="its branch")
    ingest.add_argument("--job", default="", help="the CI job that produced the reports")
    ingest.add_argument("--ref-time", default="", help="ISO time ordering this commit in the HUD")
    ingest.add_argument("--expect", action="append", default=[], metavar="TIER[:SHARDS]")
    ingest.add_argument("--huge-tree", action="store_true", help="lift libxml2's size limits")
    hud = report_commands.add_parser("hud", help="render the HUD from the history")
    hud.add_argument("--db", type=Path, default=Path("build/tierci/history.sqlite"))
    hud.add_argument("--out", type=Path, default=Path("build/hud"))
    hud.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=("html", "markdown", "json"),
        help="repeatable; default html (markdown also goes to $GITHUB_STEP_SUMMARY)",
    )
    hud.add_argument("--commits", type=int, default=30, help="newest commits shown")
    cli_heavy.add_commands(commands)
    cli_release.add_commands(commands)
    run = commands.add_parser("pipeline", help="run tiers as nox sessions and summarise them")
    run.add_argument("tiers", nargs="*", default=list(DEFAULT_PIPELINE))
    run.add_argument(
        "--keep-going", action="store_true", help="run every tier even after a failure"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    command = arguments.command
    if command in ("junit", "report", "wheelhouse", "env"):
        command = f"{command} {getattr(arguments, command + '_command')}"
    try:
        return _COMMANDS[command](arguments, load_config(arguments.project))
    except TierciError as exc:
        print_error(str(exc))
        return exc.return_code


def _config(_: argparse.Namespace, config: TierciConfig) -> int:
    print(json.dumps(asdict(config), indent=2, default=str))  # noqa: T201 - the output
    return 0


def _lock(_: argparse.Namespace, config: TierciConfig) -> int:
    stale = locks.find_stale(locks.lock_specs(config), config.pyproject)
    for entry in stale:
        print(f"stale: {entry.spec.lock} ({entry.reason})")  # noqa: T201 - the output
    return StaleLockError.return_code if stale else 0


def _pipeline(arguments: argparse.Namespace, config: TierciConfig) -> int:
    results = run_pipeline(config, arguments.tiers, stop_on_failure=not arguments.keep_going)
    print_summary(results)
    return 1 if failed_tiers(results) else 0


def _merge(arguments: argparse.Namespace, _: TierciConfig) -> int:
    expect = [parse_expectation(text) for text in arguments.expect]
    inputs = collect_inputs(arguments.inputs)
    first: Path = arguments.inputs[0]
    # Where a missing report should have been: the folder being merged.
    junit_dir = first if first.is_dir() else first.parent
    entries = merge_reports(
        inputs,
        arguments.out,
        expect=expect,
        junit_dir=junit_dir,
        huge_tree=arguments.huge_tree,
        jobs=arguments.jobs,
    )
    print_reports(entries, title=f"merged into {arguments.out}")
    # Test failures are the report's business; a hole in the reports is the pipeline's.
    return 1 if any(entry.problem for entry in entries) else 0


def _ingest(arguments: argparse.Namespace, config: TierciConfig) -> int:
    first: Path = arguments.inputs[0]
    context = RunContext.detect(
        config.root,
        commit=arguments.commit or "",
        branch=arguments.branch,
        job=arguments.job,
        ref_time=arguments.ref_time,
    )
    with open_history(arguments.db) as history:
        entries = history.ingest(
            collect_inputs(arguments.inputs),
            context,
            expect=[parse_expectation(text) for text in arguments.expect],
            junit_dir=first if first.is_dir() else first.parent,
            huge_tree=arguments.huge_tree,
        )
        repeated = history.already_ingested
    print_reports(entries, title=f"ingested into {arguments.db} for {context.commit[:12]}")
    if repeated:
        print(  # noqa: T201 - the command's output
            f"{len(repeated)} report(s) already in the history for this commit: not stored again"
        )
    return 1 if any(entry.problem for entry in entries) else 0


def _hud(arguments: argparse.Namespace, config: TierciConfig) -> int:
    if not arguments.db.is_file():
        raise TierciError(
            f"no history at {arguments.db}",
            fix="ingest reports first: tierci report ingest build/junit --db ...",
        )
    with open_history(arguments.db) as history:
        model = build_hud(
            history.connection,
            max_commits=arguments.commits,
            targets=gate_targets(config.gates),
        )
    for path in write_hud(model, arguments.out, arguments.formats or ["html"]):
        print(f"HUD written: {path}")  # noqa: T201 - the command's output
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, TierciConfig], int]] = {
    "config": _config,
    "lock": _lock,
    "pipeline": _pipeline,
    "junit merge": _merge,
    "report ingest": _ingest,
    "report hud": _hud,
    **cli_heavy.COMMANDS,
    **cli_release.COMMANDS,
}


if __name__ == "__main__":
    sys.exit(main())
