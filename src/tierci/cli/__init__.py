"""The ``tierci`` command: one module per command group, each registering its
subcommands; errors become their exit codes here, and only here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tierci.cli import ci, flakes, heavy, junit, project, release, report
from tierci.cli._common import Parser
from tierci.errors import TierciError, UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

_DESCRIPTION = """\
tierci runs a project's CI tiers (lint, unit, packaging, heavy, device, wheels,
release) the same way on a laptop, in GitHub Actions and in Jenkins. The tiers
themselves are nox sessions (`nox -s unit`); this command holds what those sessions
and CI jobs use: JUnit merging, the run history and its HUD, the heavy tier's
wheelhouse and environments, lock checks and releases.
"""

_EPILOG = """\
examples:
  tierci junit merge build/all.xml build/junit --expect unit:4
  tierci report ingest build/junit && tierci report hud --format html --format markdown
  tierci wheelhouse build && tierci wheelhouse pack
  tierci lock --check

exit codes: 0 ok, 1 failed tier or tests, 2 configuration, 3 lock, 4 command or usage,
5 empty tier, 6 wheelhouse, 7 environment, 8 no device, 9 release.
`tierci COMMAND --help` explains each command.
"""


def _parser() -> Parser:
    parser = Parser(
        prog="tierci",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, help="show tierci's version and exit")
    parser.add_argument(
        "--project",
        type=Path,
        default=Path.cwd(),
        help="the project folder, where pyproject.toml is (default: the current folder)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (project, junit, report, flakes, heavy, release, ci):
        group.add_commands(commands)
    return parser


class _Version(argparse.Action):
    """--version, reading the version only when asked (it costs a metadata lookup)."""

    def __init__(self, option_strings: list[str], dest: str, help: str) -> None:  # noqa: A002 - argparse's name
        super().__init__(option_strings, dest, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from tierci import __version__

        sys.stdout.write(f"tierci {__version__}\n")
        parser.exit(0)


#: Modules of the `ci` extra (pyproject.toml): the host side, not the pytest plugin's.
HOST_MODULES = frozenset({"filelock", "invoke", "jinja2", "nox", "platformdirs", "rich"})


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        code: int = arguments.handler(arguments)
    except TierciError as exc:
        from tierci.console import print_error

        print_error(str(exc))
        return exc.return_code
    except ModuleNotFoundError as exc:
        if exc.name not in HOST_MODULES:
            raise
        # The plugin's install (plain `tierci`) has no host side: say how to get it.
        # Not through tierci.console: rich may be what is missing.
        sys.stderr.write(
            f"tierci: this command needs {exc.name}, which comes with tierci's host tools\n"
            "  fix: pip install 'tierci[ci]' (the test environments need only 'tierci')\n"
        )
        return UsageError.return_code
    return code
