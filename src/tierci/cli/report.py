"""``tierci report ingest|hud|prune|copy``: the run history and the HUD.

Needs no project: the gates come from ``[tool.tierci.gates]`` where a pyproject.toml
is found, else from the defaults. The history is ``--db`` (a SQLite file or a
``postgresql://`` URL), else ``$TIERCI_HISTORY_URL``, else ``$TIERCI_HISTORY``, else
``build/tierci/history.sqlite`` under ``--project``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tierci.cli._common import add_command, db_location, history_db, junit_producers
from tierci.provenance import short_commit
from tierci.report import DEFAULT_HISTORY, DEFAULT_HUD_DIR

if TYPE_CHECKING:
    import argparse

    from tierci.cli._common import Subcommands

__all__ = ["add_commands"]

_HISTORY = Path(DEFAULT_HISTORY)
_DB_HELP = (
    "the history: a SQLite file, or a postgresql://USER@HOST:PORT/DATABASE URL (password "
    "in PGPASSWORD or ~/.pgpass) (default: $TIERCI_HISTORY_URL, else $TIERCI_HISTORY, "
    f"relative to --project unless absolute, else {_HISTORY} under --project)"
)
_HUGE_TREE_HELP = (
    "lift all of libxml2's size limits for trusted files (one text node over 10 MB is "
    "read without this, truncated, when the file has no DOCTYPE)"
)


def add_commands(commands: Subcommands) -> None:
    group = add_command(
        commands,
        "report",
        None,
        summary="the run history and the HUD (commits x tiers)",
        description="Store every tier's and shard's JUnit report per commit, then render "
        "the HUD: a static page (and Markdown, JSON) of commits x tiers, failures, flaky "
        "tests, durations and quality gates.",
    )
    verbs = group.add_subparsers(dest="report_command", required=True, metavar="VERB")
    ingest = add_command(
        verbs,
        "ingest",
        _ingest,
        summary="store JUnit reports and tier records in the history",
        description="Store each report (one transaction each) under the commit it is "
        "stamped with (--commit for unstamped ones); the same "
        "bytes twice for one commit are stored once, however many jobs ingest them at "
        "once. Exit 1 when a report is missing, empty or unreadable (it is stored as "
        "such: the HUD shows the hole); only regular, uncompressed files are read. Exit 4 "
        "when --db cannot be a history this process writes (a folder, under a file, "
        "read-only).",
        examples=(
            "tierci report ingest build/junit",
            "tierci report ingest junit/ --commit $SHA --branch main --expect unit:4",
        ),
    )
    ingest.add_argument(
        "inputs",
        type=Path,
        nargs="+",
        help="report files, tier records (*.tier.json), or folders of both",
    )
    ingest.add_argument(
        "--db", type=db_location, help=f"{_DB_HELP}; created with its folders if missing"
    )
    ingest.add_argument(
        "--set-aside-corrupt",
        action="store_true",
        help="a --db that is not a readable history (not SQLite, truncated, corrupted, or "
        "holding anything tierci's schema has not: a trigger, a view) is renamed to "
        "NAME.corrupt-TIME and a fresh history started, instead of refused (exit 4): for a "
        "history carried between CI runs",
    )
    ingest.add_argument(
        "--commit",
        help="the commit of unstamped reports (default: from CI or git); a report stamped "
        "with another commit is skipped with a warning",
    )
    ingest.add_argument(
        "--strict",
        action="store_true",
        help="refuse (exit 4) a report stamped with another commit than --commit",
    )
    ingest.add_argument("--branch", default="", help="its branch")
    ingest.add_argument("--job", default="", help="the CI job that produced the reports")
    ingest.add_argument("--ref-time", default="", help="ISO time ordering this commit in the HUD")
    ingest.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="TIER[@PYTHON][:SHARDS]",
        help="a report that must be there (@3.12: that Python's; `nox -s report` expects "
        "each of a tier's pythons)",
    )
    ingest.add_argument("--huge-tree", action="store_true", help=_HUGE_TREE_HELP)
    hud = add_command(
        verbs,
        "hud",
        _hud,
        summary="render the HUD from the history",
        description="Write index.html (one self-contained page), summary.md (also "
        "appended to $GITHUB_STEP_SUMMARY) and/or hud.json from the history, which is "
        "opened read-only (a history on a read-only folder or mount renders too) and never "
        "upgraded: an older schema is refused (exit 4) until an ingest upgrades it.",
        examples=(
            "tierci report hud",
            "tierci report hud --format markdown --commits 10 --check-gates",
        ),
    )
    hud.add_argument("--db", type=db_location, help=_DB_HELP)
    hud.add_argument(
        "--out", type=Path, default=Path(DEFAULT_HUD_DIR), help=f"default: {DEFAULT_HUD_DIR}"
    )
    hud.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=("html", "markdown", "json"),
        help="repeatable; default html (markdown also goes to $GITHUB_STEP_SUMMARY)",
    )
    hud.add_argument("--commits", type=int, default=30, help="newest commits shown")
    hud.add_argument(
        "--base-branch",
        default="",
        help="label failures against this branch (default: [tool.tierci] base_branch, "
        "GITHUB_BASE_REF / CHANGE_TARGET, or the repository's default branch)",
    )
    hud.add_argument(
        "--check-gates",
        action="store_true",
        help="exit 1 when a quality gate is not met (after writing the HUD)",
    )
    prune = add_command(
        verbs,
        "prune",
        _prune,
        summary="delete old commits from the history and shrink the file",
        description="Delete every run, test outcome and tier record of the commits beyond "
        "the newest --keep-commits (in the HUD's order) and/or of the commits whose latest "
        "result is older than --older-than days, in one transaction under the write lock, "
        "then VACUUM so that the file shrinks. Prints what was removed and the size before "
        "and after. No history at --db is a notice, exit 0.",
        examples=(
            "tierci report prune --keep-commits 500",
            "tierci report prune --older-than 90 --db /var/lib/tierci/history.sqlite",
        ),
    )
    prune.add_argument("--db", type=db_location, help=_DB_HELP)
    prune.add_argument(
        "--keep-commits", type=int, metavar="N", help="keep the newest N commits (N >= 1)"
    )
    prune.add_argument(
        "--older-than",
        type=float,
        metavar="DAYS",
        help="delete commits whose latest result is more than DAYS old",
    )
    copy = add_command(
        verbs,
        "copy",
        _copy,
        summary="copy a history between SQLite and PostgreSQL (either way)",
        description="Copy every run, test outcome and tier record of --from into --to "
        "(created if missing), in order, one transaction per batch of runs. What --to "
        "already has (the same report for the same commit, the same tier record) is left "
        "out, so copying twice adds nothing twice and an interrupted copy completes when "
        "run again. --from is only read.",
        examples=(
            "tierci report copy --from history.sqlite --to postgresql://ci@db.internal/tierci",
            "tierci report copy --from postgresql://ci@db.internal/tierci --to history.sqlite",
        ),
    )
    copy.add_argument("--from", dest="source", type=db_location, required=True, metavar="DB")
    copy.add_argument("--to", dest="target", type=db_location, required=True, metavar="DB")


def _ingest(arguments: argparse.Namespace) -> int:
    # Each command imports what it needs: `tierci --help` stays fast.
    from tierci.console import print_ingest_notes, print_line, print_reports
    from tierci.junit.merge import parse_expectation
    from tierci.report.history import RunContext
    from tierci.report.ingest import ingest

    context = RunContext.detect(
        arguments.project,
        commit=arguments.commit or "",
        branch=arguments.branch,
        job=arguments.job,
        ref_time=arguments.ref_time,
    )
    db = history_db(arguments)
    ingested = ingest(
        db,
        arguments.inputs,
        context,
        expect=[parse_expectation(text) for text in arguments.expect],
        huge_tree=arguments.huge_tree,
        strict=arguments.strict,
        set_aside_corrupt=arguments.set_aside_corrupt,
        producers=junit_producers(arguments),
    )
    if ingested.history is not None and ingested.history.notice:
        print_line(ingested.history.notice)
    print_reports(ingested.entries, title=f"ingested into {db} for {short_commit(context.commit)}")
    print_ingest_notes(ingested)
    return 1 if ingested.problems else 0


def _hud(arguments: argparse.Namespace) -> int:
    from tierci.config import load_config_if_present
    from tierci.console import gates_verdict, print_line
    from tierci.provenance import base_branch
    from tierci.quarantine import load_quarantine
    from tierci.report.hud import gate_targets
    from tierci.report.ingest import render

    config = load_config_if_present(arguments.project)
    rendered = render(
        history_db(arguments),
        arguments.out,
        formats=arguments.formats or ["html"],
        max_commits=arguments.commits,
        targets=gate_targets(config.gates) if config else None,
        base_branch=arguments.base_branch
        or base_branch(arguments.project, config.base_branch if config else ""),
        quarantine=load_quarantine(config.quarantine_file)
        if config and config.quarantine_file
        else (),
        quarantine_bounds=config.quarantine_bounds if config else None,
    )
    for path in rendered.files:
        print_line(f"HUD written: {path}")
    return gates_verdict(rendered, check=arguments.check_gates)


def _prune(arguments: argparse.Namespace) -> int:
    from tierci.console import print_line
    from tierci.report.history import Retention
    from tierci.report.ingest import prune

    retention = Retention(keep_commits=arguments.keep_commits, older_than_days=arguments.older_than)
    db = history_db(arguments)
    pruned = prune(db, retention)
    print_line(f"{db}: {pruned.describe()}" if pruned else f"no history at {db}: nothing to prune")
    return 0


def _copy(arguments: argparse.Namespace) -> int:
    from tierci.console import print_line
    from tierci.report.copy import copy_history

    copied = copy_history(arguments.source, arguments.target)
    print_line(f"{arguments.source} -> {arguments.target}: {copied.describe()}")
    return 0
