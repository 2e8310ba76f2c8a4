"""What every command group shares: the parser type, the handler type, and the one
place a command reads the project's configuration."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import TYPE_CHECKING, NoReturn, TypeAlias

from tierci.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from tierci.config import TierciConfig
    from tierci.junit.producer import Producer
    from tierci.report.database import HistoryLocation

    Handler: TypeAlias = Callable[[argparse.Namespace], int]
    Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"

__all__ = ["Parser", "add_command", "db_location", "history_db", "project_config"]


class Parser(argparse.ArgumentParser):
    """argparse, but a wrong command line exits 4 (tierci's usage code), not 2 (which
    tierci keeps for configuration errors)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(UsageError.return_code, f"{self.prog}: error: {message}\n")


def add_command(
    commands: Subcommands,
    name: str,
    handler: Handler | None,
    *,
    summary: str,
    description: str = "",
    examples: tuple[str, ...] = (),
) -> Parser:
    """A subcommand with a one-line summary (for the list), a description and examples
    (for its own --help), running ``handler``."""
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples) if examples else None
    parser: Parser = commands.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description or summary, width=88),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if handler is not None:
        parser.set_defaults(handler=handler)
    return parser


def project_config(arguments: argparse.Namespace) -> TierciConfig:
    """``[tool.tierci]`` of the project at ``--project`` (read only by commands that
    need it)."""
    from tierci.config import load_config

    config: TierciConfig = load_config(arguments.project)
    return config


def junit_producers(arguments: argparse.Namespace) -> dict[str, Producer]:
    """The producers the project's tiers name for their reports (``junit_producer``);
    none where there is no project (a Go or Jest repository): each report's producer is
    then detected from it."""
    from tierci.config import load_config_if_present

    config = load_config_if_present(arguments.project)
    return config.junit_producers if config is not None else {}


def db_location(text: str) -> HistoryLocation:
    """``--db``: a SQLite file's path, or a ``postgresql://`` URL."""
    from tierci.report.database import parse_location

    return parse_location(text)


def history_db(arguments: argparse.Namespace) -> HistoryLocation:
    """``--db``, else where the project's history is (``$TIERCI_HISTORY_URL``,
    ``$TIERCI_HISTORY`` or the default)."""
    from tierci.report.history import history_location

    given: HistoryLocation | None = arguments.db
    return given if given is not None else history_location(arguments.project)
