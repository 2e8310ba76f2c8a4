"""``tierci wheelhouse …`` and ``tierci env …``: the heavy tier's commands (thin)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tierci import wheelhouse, wheelhouse_archive, wheelhouse_build, wheelhouse_install
from tierci.envs import EnvManager
from tierci.errors import ConfigError, WheelhouseError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from tierci.config import TierciConfig, WheelhouseConfig

__all__ = ["COMMANDS", "add_commands"]

_out = Console(highlight=False, soft_wrap=True)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    house = commands.add_parser("wheelhouse", help="the heavy tier's validated wheelhouse")
    verbs = house.add_subparsers(dest="wheelhouse_command", required=True)
    for verb, text in (
        ("build", "download (or build) a wheel for every pin of the locks"),
        ("validate", "check coverage, compatibility and hashes; exit 6 listing problems"),
        ("key", "print the cache key (lock digest + Python + platform + variant)"),
        ("pack", "write wheelhouse-<key>.tar.gz with its manifest"),
        ("unpack", "verify an archive and make it the wheelhouse; refuse a bad one"),
        ("install", "install the locks into an interpreter's env from the wheelhouse"),
    ):
        parser = verbs.add_parser(verb, help=text)
        parser.add_argument("--dir", type=Path, help="the wheelhouse folder (default: config)")
        parser.add_argument(
            "--lock", action="append", type=Path, default=[], help="lock file (repeatable)"
        )
        if verb in ("build", "validate", "key"):
            parser.add_argument("--python-version", help="target CPython X.Y (default: this)")
            parser.add_argument(
                "--platform", help="target platform, e.g. manylinux_2_28_aarch64 (default: this)"
            )
        if verb == "build":
            parser.add_argument("--jobs", type=int, default=4, help="parallel downloads")
        if verb == "pack":
            parser.add_argument("--out", type=Path, default=Path("build/wheelhouse"), help="folder")
        if verb == "unpack":
            parser.add_argument("archive", type=Path)
            parser.add_argument(
                "--any-key", action="store_true", help="accept an archive for other locks"
            )
        if verb == "install":
            parser.add_argument("--python", required=True, help="the target env's interpreter")
            parser.add_argument(
                "--allow-fallback", action="store_true", help="missing wheels from the index"
            )
    env = commands.add_parser("env", help="on-demand environments ([tool.tierci.envs.NAME])")
    env_verbs = env.add_subparsers(dest="env_command", required=True)
    ensure = env_verbs.add_parser("ensure", help="build it if needed (once), print its path")
    ensure.add_argument("name")
    for verb in ("status", "list"):
        parser = env_verbs.add_parser(verb, help="not_installed/installing/ready/stale, size")
        if verb == "status":
            parser.add_argument("names", nargs="*")
        parser.add_argument("--json", action="store_true")
    delete = env_verbs.add_parser("delete", help="remove it and free its disk")
    delete.add_argument("name")


def _house(config: TierciConfig) -> WheelhouseConfig:
    if config.wheelhouse is None:
        raise ConfigError(
            f"{config.pyproject}: no [tool.tierci.wheelhouse] table",
            fix='add [tool.tierci.wheelhouse] (e.g. required = ["numpy", "torch"])',
        )
    return config.wheelhouse


def _selection(
    arguments: argparse.Namespace, config: TierciConfig
) -> tuple[Path, list[Path], wheelhouse.Target]:
    folder: Path = arguments.dir or _house(config).dir
    locks = [config.root / lock for lock in arguments.lock] or list(_house(config).locks)
    version = getattr(arguments, "python_version", None)
    platform = getattr(arguments, "platform", None)
    target = (
        wheelhouse.Target.for_python(
            version or f"{sys.version_info[0]}.{sys.version_info[1]}", platform
        )
        if version or platform
        else wheelhouse.Target.host()
    )
    return folder, locks, target


def _print_problems(problems: list[wheelhouse.Problem], folder: Path) -> int:
    table = Table(title=f"wheelhouse {folder}: {len(problems)} problem(s)", title_justify="left")
    for column in ("problem", "package", "detail"):
        table.add_column(column)
    for problem in problems:
        table.add_row(problem.kind, problem.package, problem.detail)
    _out.print(table)
    print(  # noqa: T201 - plain line for logs that strip tables
        "wheelhouse invalid: " + "; ".join(f"{p.kind} {p.package}" for p in problems),
        file=sys.stderr,
    )
    return WheelhouseError.return_code


def _build(arguments: argparse.Namespace, config: TierciConfig) -> int:
    folder, locks, target = _selection(arguments, config)
    house = config.wheelhouse
    with Progress(
        TextColumn("[bold]wheelhouse"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=_out,
    ) as progress:
        task = progress.add_task("", total=None)

        def advance(done: int, total: int, pin: str) -> None:
            progress.update(task, completed=done, total=total, description=pin)

        failures = wheelhouse_build.build(
            folder,
            locks,
            target,
            pip_args=house.pip_args if house else (),
            variant=house.variant if house else "",
            jobs=arguments.jobs,
            log=progress.console.print,
            progress=advance,
        )
    check = wheelhouse.validate(folder, locks, target, required=house.required if house else ())
    failed = {failure.package for failure in failures}  # reported once, with pip's reason
    problems = failures + [p for p in check.problems if p.package not in failed]
    if problems:
        return _print_problems(problems, folder)
    _out.print(
        f"wheelhouse {folder}: {check.checked} pins covered and hash-checked "
        f"for {target.python_tag} {target.platform}"
    )
    return 0


def _validate(arguments: argparse.Namespace, config: TierciConfig) -> int:
    folder, locks, target = _selection(arguments, config)
    required = config.wheelhouse.required if config.wheelhouse else ()
    check = wheelhouse.validate(folder, locks, target, required=required)
    if not check.ok:
        return _print_problems(check.problems, folder)
    _out.print(
        f"wheelhouse {folder}: valid, {check.checked} pins covered for "
        f"{target.python_tag} {target.platform}"
    )
    return 0


def _key(arguments: argparse.Namespace, config: TierciConfig) -> int:
    _folder, locks, target = _selection(arguments, config)
    variant = config.wheelhouse.variant if config.wheelhouse else ""
    print(wheelhouse.cache_key(locks, target, variant))  # noqa: T201 - the command's output
    return 0


def _pack(arguments: argparse.Namespace, config: TierciConfig) -> int:
    folder, _locks, _target = _selection(arguments, config)
    print(wheelhouse_archive.pack(folder, arguments.out))  # noqa: T201 - the command's output
    return 0


def _unpack(arguments: argparse.Namespace, config: TierciConfig) -> int:
    folder, locks, target = _selection(arguments, config)
    variant = config.wheelhouse.variant if config.wheelhouse else ""
    expected = None if arguments.any_key else wheelhouse.cache_key(locks, target, variant)
    manifest = wheelhouse_archive.unpack(arguments.archive, folder, expected_key=expected)
    _out.print(
        f"wheelhouse {folder}: {len(manifest['wheels'])} wheels verified and unpacked "
        f"({manifest.get('key')})"
    )
    return 0


def _install(arguments: argparse.Namespace, config: TierciConfig) -> int:
    folder, locks, _target = _selection(arguments, config)
    house = config.wheelhouse
    wheelhouse_install.install(
        folder,
        locks,
        arguments.python,
        allow_fallback=arguments.allow_fallback or bool(house and house.fallback),
        log=_out.print,
    )
    return 0


def _env_ensure(arguments: argparse.Namespace, config: TierciConfig) -> int:
    result = EnvManager(config, log=_out.print).ensure(arguments.name)
    how = f"built in {result.seconds:.1f} s" if result.built else "reused"
    _out.print(f"env {result.name}: ready ({how})")
    print(result.path)  # noqa: T201 - the path, alone on the last line, for scripts
    return 0


def _env_status(arguments: argparse.Namespace, config: TierciConfig) -> int:
    manager = EnvManager(config, log=_out.print)
    names = getattr(arguments, "names", None) or sorted(config.envs)
    statuses = [manager.status(name) for name in names]
    if arguments.json:
        print(  # noqa: T201 - the command's output
            json.dumps(
                [
                    {
                        "name": s.name,
                        "state": s.state.value,
                        "key": s.key,
                        "path": str(s.path) if s.path else None,
                        "size_bytes": s.size_bytes,
                        "note": s.note,
                    }
                    for s in statuses
                ],
                indent=2,
            )
        )
        return 0
    table = Table(title=f"environments in {manager.env_dir}", title_justify="left")
    for column in ("env", "state", "size", "key", "note"):
        table.add_column(column)
    for status in statuses:
        size = f"{status.size_bytes / 1e6:.1f} MB" if status.size_bytes else ""
        table.add_row(status.name, status.state.value, size, status.key, status.note)
    _out.print(table)
    return 0


def _env_delete(arguments: argparse.Namespace, config: TierciConfig) -> int:
    freed = EnvManager(config, log=_out.print).delete(arguments.name)
    _out.print(f"env {arguments.name}: deleted, {freed / 1e6:.1f} MB freed")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, TierciConfig], int]] = {
    "wheelhouse build": _build,
    "wheelhouse validate": _validate,
    "wheelhouse key": _key,
    "wheelhouse pack": _pack,
    "wheelhouse unpack": _unpack,
    "wheelhouse install": _install,
    "env ensure": _env_ensure,
    "env status": _env_status,
    "env list": _env_status,
    "env delete": _env_delete,
}
