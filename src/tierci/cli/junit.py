"""``tierci junit merge``: many JUnit reports (any tool's) into one truthful file.

Needs no project: it runs in a Go, Jest or ctest repository as well.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tierci.cli._common import add_command, junit_producers

if TYPE_CHECKING:
    import argparse

    from tierci.cli._common import Subcommands

__all__ = ["add_commands"]


def add_commands(commands: Subcommands) -> None:
    group = add_command(
        commands,
        "junit",
        None,
        summary="merge JUnit reports of every tier and shard into one file",
        description="JUnit XML from any tool (pytest, Surefire, gotestsum, jest-junit, "
        "nextest, ...). Counts are recomputed from the testcases; missing, empty and "
        "unreadable reports become explicit failures, never silence.",
    )
    verbs = group.add_subparsers(dest="junit_command", required=True, metavar="VERB")
    merge = add_command(
        verbs,
        "merge",
        _merge,
        summary="merge reports into one JUnit file",
        description="Write OUT with one <testsuite> per report. Exit 1 when a report is "
        "missing (see --expect), empty, unreadable or refused (only regular, uncompressed "
        "files are read: a FIFO, a device or a gzip file is named and left out); failing "
        "tests alone exit 0 (they are the report's business).",
        examples=(
            "tierci junit merge build/all.xml build/junit",
            "tierci junit merge all.xml shard-*/junit.xml --expect unit:4",
        ),
    )
    merge.add_argument("out", type=Path, help="the merged JUnit file to write")
    merge.add_argument("inputs", type=Path, nargs="+", help="report files or folders of *.xml")
    merge.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="TIER[:SHARDS]",
        help="a report that must be there (unit:4 = shards 1/4..4/4); repeatable",
    )
    merge.add_argument(
        "--huge-tree",
        action="store_true",
        help="lift all of libxml2's size limits for trusted files (one text node over 10 MB "
        "is read without this, truncated, when the file has no DOCTYPE)",
    )
    merge.add_argument(
        "--jobs", type=int, default=None, help="worker processes (default: the usable CPUs)"
    )
    merge.add_argument(
        "--commit",
        default=None,
        help="the commit being merged: a report stamped with another is left out and named "
        "(default: the commit CI or TIERCI_COMMIT states; without one, reports of several "
        "commits are named as a problem)",
    )


def _merge(arguments: argparse.Namespace) -> int:
    from tierci.console import print_reports
    from tierci.junit.merge import collect_inputs, merge_reports, parse_expectation
    from tierci.provenance import stated_commit

    expect = [parse_expectation(text) for text in arguments.expect]
    first: Path = arguments.inputs[0]
    entries = merge_reports(
        collect_inputs(arguments.inputs),
        arguments.out,
        expect=expect,
        # Where a missing report should have been: the folder being merged.
        junit_dir=first if first.is_dir() else first.parent,
        huge_tree=arguments.huge_tree,
        jobs=arguments.jobs,
        commit=arguments.commit if arguments.commit is not None else stated_commit(),
        producers=junit_producers(arguments),
    )
    print_reports(entries, title=f"merged into {arguments.out}")
    # Test failures are the report's business; a hole in the reports is the pipeline's.
    return 1 if any(entry.problem for entry in entries) else 0
