"""``tierci release``: the release tier's command (thin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierci import release

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from tierci.config import TierciConfig

__all__ = ["COMMANDS", "add_commands"]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "release",
        help="build, check, upload (credentials from TWINE_* or keyring), install back, import",
    )
    parser.add_argument("--repository-url", default=release.PYPI_UPLOAD, help="upload URL")
    parser.add_argument("--index-url", help="simple index to install back from (default: derived)")
    parser.add_argument("--tag", help="the tag released (default: CI variables, git describe)")
    parser.add_argument("--import-name", help="module to import (default: from the name)")
    parser.add_argument(
        "--check-only", action="store_true", help="refuse/build/check only; no upload"
    )
    parser.add_argument(
        "--dependency-index", default=release.PYPI_SIMPLE, help="where its dependencies come from"
    )


def _release(arguments: argparse.Namespace, config: TierciConfig) -> int:
    release.release(
        config.root,
        repository_url=arguments.repository_url,
        tag=arguments.tag,
        index_url=arguments.index_url,
        import_name=arguments.import_name,
        dependency_index=arguments.dependency_index,
        check_only=arguments.check_only,
    )
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, TierciConfig], int]] = {"release": _release}
