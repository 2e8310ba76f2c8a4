"""``tierci flaky`` and ``tierci quarantine list|add|check``: acting on flaky tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierci.cli._common import add_command, db_location, history_db, project_config
from tierci.provenance import short_commit

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from pathlib import Path

    from tierci.cli._common import Subcommands
    from tierci.config import TierciConfig
    from tierci.quarantine import Entry
    from tierci.quarantine_bounds import QuarantineBounds
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
        "added and expires. An expired entry fails the tier, and so does one that never ends, "
        "ends beyond quarantine_max_days, names no test, or matches more than "
        "quarantine_max_percent of the tier's tests.",
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
    add.add_argument(
        "--days",
        type=int,
        default=None,
        help="until it expires (default 30, or quarantine_max_days where that is less)",
    )
    check = add_command(
        verbs,
        "check",
        _check,
        summary="exit 1 for an entry that is expired, unbounded or too broad, or that "
        "matches no test in the history",
        description="Exit 1, naming the file, each entry and its fix, for an entry that is "
        "expired, never ends, ends beyond quarantine_max_days, or names no test (a glob such "
        "as * or *::*); and, where there is a history, for one that matches no test of its "
        "latest commit, or more than quarantine_max_percent (or all) of a tier's tests there.",
        examples=("tierci quarantine check",),
    )
    check.add_argument("--db", type=db_location, default=None, help=_DB_HELP)


def _quarantine_file(config: TierciConfig) -> Path:
    from tierci.quarantine import DEFAULT_FILE

    return config.quarantine_file or config.root / DEFAULT_FILE


def _flaky(arguments: argparse.Namespace) -> int:
    import json

    from tierci.config import load_config_if_present
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
        days = _entry_days(load_config_if_present(arguments.project))
        for t in tests:
            reason = (
                f"flaky: {t.flaky_runs} of {t.runs} runs ({t.rate:.1%}), first seen on "
                f"{short_commit(t.first_seen)}"
            )
            print_line(entry_text(t.test_id, reason, days=days))
    return 0


def _list(arguments: argparse.Namespace) -> int:
    from tierci.console import print_quarantine
    from tierci.quarantine import load_quarantine, today
    from tierci.quarantine_bounds import refused_by_date_or_glob

    config = project_config(arguments)
    entries = load_quarantine(_quarantine_file(config))
    recent = _recent_passes(history_db(arguments), [entry.test for entry in entries])
    on = today()
    refused = {
        test
        for refusal in refused_by_date_or_glob(entries, on=on, bounds=config.quarantine_bounds)
        for test in refusal.tests
    }
    print_quarantine(entries, recent, on=on, ready_after=_READY_AFTER, refused=refused)
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
    from tierci.errors import UsageError
    from tierci.quarantine import entry_text, load_quarantine
    from tierci.quarantine_bounds import names_no_test

    config = project_config(arguments)
    path = _quarantine_file(config)
    days = _entry_days(config) if arguments.days is None else arguments.days
    most = config.quarantine_bounds.max_days
    if not 1 <= days <= most:
        raise UsageError(
            f"--days {days}: an entry expires 1 to {most} days from today "
            f"(quarantine_max_days in {config.pyproject})",
            fix=f"pass --days {min(_entry_days(config), most)}, or raise quarantine_max_days "
            "in review",
        )
    if names_no_test(arguments.test.strip()):
        raise UsageError(
            f"{arguments.test!r} names no test: a glob of wildcards alone may match them all",
            fix='write the test\'s module, class or name, e.g. "tests.test_net::test_retry_*"',
        )
    text = entry_text(arguments.test, arguments.reason, link=arguments.link, days=days)
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


def _entry_days(config: TierciConfig | None) -> int:
    """How long a new entry lasts: DEFAULT_DAYS, or the project's horizon where shorter."""
    from tierci.quarantine import DEFAULT_DAYS

    return min(DEFAULT_DAYS, config.quarantine_bounds.max_days) if config else DEFAULT_DAYS


def _check(arguments: argparse.Namespace) -> int:
    from tierci.console import print_line
    from tierci.quarantine import load_quarantine, today
    from tierci.quarantine_bounds import refused_by_date_or_glob

    config = project_config(arguments)
    path = _quarantine_file(config)
    entries = load_quarantine(path)
    bounds = config.quarantine_bounds
    problems = [
        (refusal.line(), refusal.fix)
        for refusal in refused_by_date_or_glob(entries, on=today(), bounds=bounds)
    ]
    problems += _history_problems(entries, history_db(arguments), bounds)
    for problem, fix in problems:
        print_line(f"quarantine: {path}: {problem}\n  fix: {fix}")
    if not problems:
        print_line(f"quarantine: {path}: {len(entries)} entr(y/ies), all bounded and in use")
    return 1 if problems else 0


def _history_problems(
    entries: Sequence[Entry], db: HistoryLocation, bounds: QuarantineBounds
) -> list[tuple[str, str]]:
    """(problem, fix) for entries that match no test of the history's latest commit, or
    too many of one of its tiers' tests; none without a history."""
    from tierci.quarantine import unused
    from tierci.quarantine_bounds import refused_by_share
    from tierci.report.database import location_exists
    from tierci.report.history import read_history

    if not entries or not location_exists(db):
        return []
    with read_history(db) as history:
        latest = history.database.rows(
            "SELECT DISTINCT r.tier, o.test_id, r.commit_sha FROM outcomes o "
            "JOIN runs r ON r.id = o.run_id WHERE r.commit_sha = (SELECT commit_sha FROM runs "
            "ORDER BY ref_time DESC, id DESC LIMIT 1) ORDER BY r.tier, o.test_id"
        )
    by_tier: dict[str, list[str]] = {}
    for tier, test_id, _ in latest:
        by_tier.setdefault(tier, []).append(test_id)
    problems = [
        (
            f"{entry.test!r}: matches no test of the latest commit",
            "remove the entry (its test was renamed or deleted), or correct its test",
        )
        for entry in unused(entries, [row[1] for row in latest])
    ]
    commit = short_commit(latest[0][2]) if latest else ""
    for tier, tests in by_tier.items():
        problems += [
            (refusal.line(), refusal.fix)
            for refusal in refused_by_share(
                entries, tests, bounds=bounds, tier=f"tier {tier!r} at {commit}"
            )
        ]
    return problems
