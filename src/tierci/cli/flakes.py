"""``tierci flaky`` and ``tierci quarantine list|add|check``: acting on flaky tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierci.cli._common import add_command, db_location, history_db, project_config
from tierci.provenance import short_commit

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from tierci.cli._common import Subcommands
    from tierci.config import TierciConfig
    from tierci.report.database import HistoryLocation

__all__ = ["add_commands"]

_DB_HELP = (
    "the history: a SQLite file or a postgresql:// URL (default: $TIERCI_HISTORY_URL, "
    "$TIERCI_HISTORY, else build/tierci/history.sqlite)"
)
#: Passing this many runs in a row makes a quarantined test ready to leave quarantine.
_READY_AFTER = 20


def add_commands(commands: Subcommands) -> None:
    flaky = add_command(
        commands,
        "flaky",
        _flaky,
        summary="flaky tests from the history: rates, and quarantine entries to paste",
        description="A test is a flaky candidate when it passed only on retry, or both "
        "failed and passed on one commit, in the newest --commits commits of the history. "
        "--suggest prints a ready-to-paste [[quarantine]] entry for each.",
        examples=("tierci flaky", "tierci flaky --min-runs 10 --rate 0.05 --suggest"),
    )
    flaky.add_argument("--db", type=db_location, default=None, help=_DB_HELP)
    flaky.add_argument("--commits", type=int, default=100, help="newest commits looked at")
    flaky.add_argument("--min-runs", type=int, default=1, help="runs a test needs to count")
    flaky.add_argument("--rate", type=float, default=0.0, help="lowest flake rate listed")
    flaky.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    flaky.add_argument("--suggest", action="store_true", help="print quarantine entries")
    group = add_command(
        commands,
        "quarantine",
        None,
        summary="quarantined tests: they run, but their failures do not fail the tier",
        description="The reviewed list is quarantine.toml at the project root ([tool.tierci] "
        "quarantine_file): [[quarantine]] entries with test (an id or a glob), reason, link, "
        "added and expires. An expired entry fails the tier.",
    )
    verbs = group.add_subparsers(dest="quarantine_command", required=True, metavar="VERB")
    listing = add_command(
        verbs,
        "list",
        _list,
        summary="the entries, with their recent pass rate; ready-to-leave ones marked",
        examples=("tierci quarantine list",),
    )
    listing.add_argument("--db", type=db_location, default=None, help=_DB_HELP)
    add = add_command(
        verbs,
        "add",
        _add,
        summary="append an entry to the quarantine file",
        examples=('tierci quarantine add "tests.test_net::test_retry" --reason "times out"',),
    )
    add.add_argument("test", help="a test id (classname::name) or a glob")
    add.add_argument("--reason", required=True)
    add.add_argument("--link", default="")
    add.add_argument("--days", type=int, default=30, help="until it expires (default 30)")
    check = add_command(
        verbs,
        "check",
        _check,
        summary="exit 1 for an expired entry, or one that matches no test in the history",
        examples=("tierci quarantine check",),
    )
    check.add_argument("--db", type=db_location, default=None, help=_DB_HELP)


def _quarantine_file(config: TierciConfig) -> Path:
    from tierci.quarantine import DEFAULT_FILE

    return config.quarantine_file or config.root / DEFAULT_FILE


def _flaky(arguments: argparse.Namespace) -> int:
    import json

    from tierci.console import print_flaky, print_line
    from tierci.escape import markdown_code
    from tierci.quarantine import entry_text
    from tierci.report.history import read_history
    from tierci.report.hud import build_hud

    with read_history(history_db(arguments)) as history:
        hud = build_hud(history.database, max_commits=arguments.commits)
    tests = [
        test
        for test in hud.flaky
        if test.runs >= arguments.min_runs and test.rate >= arguments.rate
    ]
    if arguments.format == "json":
        rows = [
            {
                "test_id": t.test_id,
                "runs": t.runs,
                "flaky_runs": t.flaky_runs,
                "rate": round(t.rate, 4),
                "first_seen": t.first_seen,
                "trend": t.trend,
            }
            for t in tests
        ]
        print_line(json.dumps(rows, indent=2))
    elif arguments.format == "markdown":
        print_line("| test | flake rate | flaky runs | runs | trend |\n|---|---:|---:|---:|---|")
        for t in tests:
            print_line(
                f"| {markdown_code(t.test_id, in_table=True)} | {t.rate:.1%} | {t.flaky_runs} "
                f"| {t.runs} | {t.trend} |"
            )
    else:
        print_flaky(tests, title=f"flaky tests in the newest {arguments.commits} commits")
    if arguments.suggest:
        for t in tests:
            reason = (
                f"flaky: {t.flaky_runs} of {t.runs} runs ({t.rate:.1%}), first seen on "
                f"{short_commit(t.first_seen)}"
            )
            print_line(entry_text(t.test_id, reason))
    return 0


def _list(arguments: argparse.Namespace) -> int:
    from tierci.console import print_quarantine
    from tierci.quarantine import load_quarantine, today

    config = project_config(arguments)
    entries = load_quarantine(_quarantine_file(config))
    recent = _recent_passes(history_db(arguments), [entry.test for entry in entries])
    print_quarantine(entries, recent, on=today(), ready_after=_READY_AFTER)
    return 0


def _recent_passes(db: HistoryLocation, patterns: list[str]) -> dict[str, tuple[int, int]]:
    """Per entry: (passed, runs) over the newest outcomes of the tests it matches."""
    import fnmatch

    from tierci.report.database import location_exists
    from tierci.report.history import read_history

    if not location_exists(db) or not patterns:
        return {}
    found: dict[str, tuple[int, int]] = {}
    with read_history(db) as history:
        rows = history.database.rows(
            "SELECT o.test_id, o.outcome FROM outcomes o JOIN runs r ON r.id = o.run_id "
            "ORDER BY r.ref_time DESC, r.id DESC LIMIT 200000"
        )
    for pattern in patterns:
        outcomes = [
            outcome
            for test_id, outcome in rows
            if test_id == pattern or fnmatch.fnmatchcase(test_id, pattern)
        ][:_READY_AFTER]
        found[pattern] = (sum(o in ("passed",) for o in outcomes), len(outcomes))
    return found


def _add(arguments: argparse.Namespace) -> int:
    from tierci.console import print_line
    from tierci.quarantine import entry_text, load_quarantine

    config = project_config(arguments)
    path = _quarantine_file(config)
    text = entry_text(arguments.test, arguments.reason, link=arguments.link, days=arguments.days)
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    separator = "\n" if before and not before.endswith("\n\n") else ""
    path.write_text(before + separator + text, encoding="utf-8")
    try:
        load_quarantine(path)  # what was written must read back
    except Exception:
        path.write_text(before, encoding="utf-8")
        raise
    print_line(f"added to {path}:\n{text}")
    return 0


def _check(arguments: argparse.Namespace) -> int:
    from tierci.console import print_line
    from tierci.quarantine import load_quarantine, today, unused
    from tierci.report.database import location_exists
    from tierci.report.history import read_history

    config = project_config(arguments)
    entries = load_quarantine(_quarantine_file(config))
    problems = [
        f"expired on {entry.expires}: {entry.test} ({entry.reason})"
        for entry in entries
        if entry.expired(today())
    ]
    db = history_db(arguments)
    if location_exists(db):
        with read_history(db) as history:
            latest = history.database.rows(
                "SELECT DISTINCT o.test_id FROM outcomes o JOIN runs r ON r.id = o.run_id "
                "WHERE r.commit_sha = (SELECT commit_sha FROM runs "
                "ORDER BY ref_time DESC, id DESC LIMIT 1)"
            )
        problems += [
            f"matches no test of the latest commit: {entry.test}"
            for entry in unused(entries, [row[0] for row in latest])
        ]
    for problem in problems:
        print_line(f"quarantine: {problem}")
    if not problems:
        print_line(f"quarantine: {len(entries)} entr(y/ies), none expired or unused")
    return 1 if problems else 0
