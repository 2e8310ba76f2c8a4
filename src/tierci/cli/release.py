"""``tierci release``: the release tier's command."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierci.cli._common import add_command, project_config

if TYPE_CHECKING:
    import argparse

    from tierci.cli._common import Subcommands

__all__ = ["add_commands"]


def add_commands(commands: Subcommands) -> None:
    parser = add_command(
        commands,
        "release",
        _release,
        summary="build, check, upload, install back from the index, import (exit 9 if refused)",
        description="Refuse a dirty tree or a version that is not the tag's; build the "
        "sdist and wheel, `twine check --strict` them, upload (credentials from "
        "TWINE_USERNAME/TWINE_PASSWORD or twine's keyring, never printed), then install "
        "the release back from that index into a fresh environment and import it.",
        examples=(
            "tierci release --check-only --tag v1.2.0",
            "tierci release --repository-url https://test.pypi.org/legacy/",
        ),
    )
    parser.add_argument("--repository-url", help="upload URL (default: PyPI's)")
    parser.add_argument("--index-url", help="simple index to install back from (default: derived)")
    parser.add_argument("--tag", help="the tag released (default: CI variables, git describe)")
    parser.add_argument("--import-name", help="module to import (default: from the name)")
    parser.add_argument(
        "--check-only", action="store_true", help="refuse/build/check only; no upload"
    )
    parser.add_argument(
        "--dependency-index", help="where its dependencies come from (default: PyPI)"
    )


def _release(arguments: argparse.Namespace) -> int:
    from tierci.artifacts.release import PYPI_SIMPLE, PYPI_UPLOAD, release
    from tierci.console import print_line

    release(
        project_config(arguments).root,
        repository_url=arguments.repository_url or PYPI_UPLOAD,
        tag=arguments.tag,
        index_url=arguments.index_url,
        import_name=arguments.import_name,
        dependency_index=arguments.dependency_index or PYPI_SIMPLE,
        check_only=arguments.check_only,
        log=print_line,
    )
    return 0
