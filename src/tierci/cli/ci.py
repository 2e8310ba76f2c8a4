"""``tierci ci render [--check]``: the CI files, rendered from ``[tool.tierci]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierci.cli._common import add_command, project_config

if TYPE_CHECKING:
    import argparse

    from tierci.cli._common import Subcommands

__all__ = ["add_commands"]


def add_commands(commands: Subcommands) -> None:
    group = add_command(
        commands,
        "ci",
        None,
        summary="the GitHub workflows and the Jenkinsfile, rendered from [tool.tierci]",
    )
    subcommands = group.add_subparsers(dest="ci_command", required=True, metavar="COMMAND")
    render = add_command(
        subcommands,
        "render",
        _render,
        summary="write the CI files the tiers of [tool.tierci] describe (--check: compare)",
        description="Render .github/workflows/*.yml and the Jenkinsfile (with .ci/bootstrap, "
        ".ci/agent-check and .groovylintrc.json) from the tiers of [tool.tierci]: their "
        "Pythons, shards, schedules and runners ([tool.tierci.ci] picks the systems). With "
        "--check nothing is written: a file that is missing or differs is named with its "
        "first differing line, and the command exits 2.",
        examples=("tierci ci render", "tierci ci render --check"),
    )
    render.add_argument(
        "--force",
        action="store_true",
        help="also replace a workflow or Jenkinsfile of the project's own (one without "
        "the rendered-by first line), which is otherwise kept and not checked",
    )
    render.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 2 naming each file that is not what the tiers render",
    )


def _render(arguments: argparse.Namespace) -> int:
    from tierci.cirender import write
    from tierci.cirender.render import own_files, require_up_to_date
    from tierci.console import print_line

    config = project_config(arguments)
    own = [] if arguments.force and not arguments.check else own_files(config)
    for own_path in own:
        print_line(
            f"kept {own_path}: the project's own (no rendered-by first line), so its tiers' "
            "jobs are not there; merge them in, or replace it with `tierci ci render --force`"
        )
    if arguments.check:
        require_up_to_date(config)
        print_line("CI files: up to date with [tool.tierci]")
        return 0
    for path in write(config, force=arguments.force):
        print_line(f"rendered {path.relative_to(config.root).as_posix()}")
    return 0
