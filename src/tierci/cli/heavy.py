"""``tierci wheelhouse …`` and ``tierci env …``: the heavy tier's commands (thin)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tierci.cli._common import add_command, project_config
from tierci.errors import ConfigError, WheelhouseError

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from tierci.cli._common import Subcommands
    from tierci.config import TierciConfig, WheelhouseConfig
    from tierci.envs import EnvManager
    from tierci.locks.lockfile import Lock
    from tierci.wheelhouse.model import Problem, Target

__all__ = ["add_commands"]

_WHEELHOUSE_VERBS = (
    ("build", "download (or build) a wheel for every pin of the locks", "tierci wheelhouse build"),
    (
        "validate",
        "check coverage, compatibility and hashes; exit 6 listing problems",
        "tierci wheelhouse validate --python-version 3.12",
    ),
    (
        "key",
        "print the cache key (lock digest + Python + platform + variant)",
        'key="$(tierci wheelhouse key)"',
    ),
    ("pack", "write wheelhouse-<key>.tar.gz with its manifest", "tierci wheelhouse pack"),
    (
        "unpack",
        "verify an archive against the locks and make it the wheelhouse; refuse a bad one",
        "tierci wheelhouse unpack build/wheelhouse/wheelhouse-cp311-linux_x86_64-cpu-0123.tar.gz",
    ),
    (
        "install",
        "install the locks into an interpreter's env from the wheelhouse, offline",
        "tierci wheelhouse install --python .venv/bin/python",
    ),
)


def add_commands(commands: Subcommands) -> None:
    _add_wheelhouse(commands)
    _add_env(commands)


def _add_wheelhouse(commands: Subcommands) -> None:
    house = add_command(
        commands,
        "wheelhouse",
        None,
        summary="the heavy tier's validated wheelhouse (torch, CUDA wheels) for offline installs",
        description="A folder with a wheel for every pin of the heavy locks, each checked "
        "against the lock's hash, packed into one archive for CI caches and installed from "
        "offline. Configured in [tool.tierci.wheelhouse].",
    )
    verbs = house.add_subparsers(dest="wheelhouse_command", required=True, metavar="VERB")
    for verb, summary, example in _WHEELHOUSE_VERBS:
        parser = add_command(verbs, verb, _HANDLERS[verb], summary=summary, examples=(example,))
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
                "--any-key",
                action="store_true",
                help="accept an archive packed for other locks (wheels no lock pins are left out)",
            )
        if verb == "install":
            parser.add_argument("--python", required=True, help="the target env's interpreter")
            parser.add_argument(
                "--allow-fallback", action="store_true", help="missing wheels from the index"
            )


def _add_env(commands: Subcommands) -> None:
    env = add_command(
        commands,
        "env",
        None,
        summary="on-demand environments ([tool.tierci.envs.NAME]): ensure, status, delete",
        description="Environments built from their own lock when first needed, then "
        "reused; a lock edit makes them stale. Safe under concurrency and interruption.",
    )
    verbs = env.add_subparsers(dest="env_command", required=True, metavar="VERB")
    ensure = add_command(
        verbs,
        "ensure",
        _env_ensure,
        summary="build it if needed (once), print its path",
        examples=('"$(tierci env ensure legacy | tail -1)/bin/python" -m pytest',),
    )
    ensure.add_argument("name")
    for verb in ("status", "list"):
        parser = add_command(
            verbs,
            verb,
            _env_status,
            summary="not_installed/installing/ready/stale, and size",
            examples=(f"tierci env {verb} --json",),
        )
        if verb == "status":
            parser.add_argument("names", nargs="*")
        parser.add_argument("--json", action="store_true")
    delete = add_command(
        verbs,
        "delete",
        _env_delete,
        summary="remove it and free its disk",
        examples=("tierci env delete legacy",),
    )
    delete.add_argument("name")


def _house(config: TierciConfig) -> WheelhouseConfig:
    if config.wheelhouse is None:
        raise ConfigError(
            f"{config.pyproject}: no [tool.tierci.wheelhouse] table",
            fix='add [tool.tierci.wheelhouse] (e.g. required = ["numpy", "torch"])',
        )
    return config.wheelhouse


@dataclass(frozen=True, kw_only=True)
class _Selection:
    """What a wheelhouse command works on: the folder, its locks (read once, here),
    the target, and the project's wheelhouse settings where it has them."""

    folder: Path
    locks: tuple[Lock, ...]
    target: Target
    house: WheelhouseConfig | None

    @property
    def variant(self) -> str:
        return self.house.variant if self.house else ""

    def key(self) -> str:
        from tierci.wheelhouse.model import cache_key

        return cache_key(self.locks, self.target, self.variant)


def _selection(arguments: argparse.Namespace) -> _Selection:
    from tierci.locks.lockfile import read_locks
    from tierci.wheelhouse.model import Target

    config = project_config(arguments)
    folder: Path = arguments.dir or _house(config).dir
    paths = [config.root / lock for lock in arguments.lock] or list(_house(config).locks)
    version = getattr(arguments, "python_version", None)
    platform = getattr(arguments, "platform", None)
    target = (
        Target.for_python(version or f"{sys.version_info[0]}.{sys.version_info[1]}", platform)
        if version or platform
        else Target.host()
    )
    locks = read_locks(paths, allowed_options=config.lock_options)
    return _Selection(folder=folder, locks=locks, target=target, house=config.wheelhouse)


def _output() -> Console:
    # Each handler imports what it needs, so `tierci --help` and the commands that
    # need none of this stay fast.
    from tierci.console import output

    return output()


def _print_problems(problems: list[Problem], folder: Path) -> int:
    from rich.table import Table

    from tierci.console import print_line
    from tierci.escape import show_invisible
    from tierci.wheelhouse.model import ProblemKind
    from tierci.wheelhouse.trust import BUILT_FILE

    table = Table(title=f"wheelhouse {folder}: {len(problems)} problem(s)", title_justify="left")
    for column in ("problem", "package", "detail"):
        table.add_column(column)
    for problem in problems:
        # Details name files found in the folder: text from outside, shown as it is.
        table.add_row(problem.kind.value, problem.package, show_invisible(problem.detail))
    _output().print(table)
    # One plain line too, for logs that strip tables.
    summary = "; ".join(f"{p.kind.value} {p.package}" for p in problems)
    print_line(f"wheelhouse invalid: {summary}", stderr=True)
    if any(p.kind is ProblemKind.HASH for p in problems):
        print_line(
            "  fix: rebuild the wheelhouse (`tierci wheelhouse build`); a wheel built from "
            f"an sdist is trusted only by its hash in {BUILT_FILE} beside the locks: "
            "review and commit that file",
            stderr=True,
        )
    return WheelhouseError.return_code


def _build(arguments: argparse.Namespace) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from tierci.wheelhouse.build import build, wheel_sources
    from tierci.wheelhouse.model import validate

    chosen = _selection(arguments)
    folder, locks, target, house = chosen.folder, chosen.locks, chosen.target, chosen.house
    out = _output()
    sources = wheel_sources(house.pip_args if house else ())
    # Only these: pip's own configuration (pip.conf, PIP_*) is ignored. Credentials in
    # an index URL are not shown.
    shown = re.sub(r"//[^/@\s]+@", "//***@", " ".join(sources)) if sources else "PyPI"
    out.print(f"wheel sources: {shown} (pip's own configuration ignored)")
    with Progress(
        TextColumn("[bold]wheelhouse"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=out,
    ) as progress:
        task = progress.add_task("", total=None)

        def advance(done: int, total: int, pin: str) -> None:
            progress.update(task, completed=done, total=total, description=pin)

        failures = build(
            folder,
            locks,
            target,
            pip_args=sources,
            variant=house.variant if house else "",
            jobs=arguments.jobs,
            log=progress.console.print,
            progress=advance,
            # --lock names only some locks: keep built entries the others may need.
            prune_built=not arguments.lock,
        )
    check = validate(folder, locks, target, required=house.required if house else ())
    failed = {failure.package for failure in failures}  # reported once, with pip's reason
    problems = failures + [p for p in check.problems if p.package not in failed]
    if problems:
        return _print_problems(problems, folder)
    out.print(
        f"wheelhouse {folder}: {check.checked} pins covered and hash-checked "
        f"for {target.python_tag} {target.platform}"
    )
    return 0


def _validate(arguments: argparse.Namespace) -> int:
    from tierci.wheelhouse.model import validate

    chosen = _selection(arguments)
    required = chosen.house.required if chosen.house else ()
    check = validate(chosen.folder, chosen.locks, chosen.target, required=required)
    if not check.ok:
        return _print_problems(check.problems, chosen.folder)
    _output().print(
        f"wheelhouse {chosen.folder}: valid, {check.checked} pins covered for "
        f"{chosen.target.python_tag} {chosen.target.platform}"
    )
    return 0


def _key(arguments: argparse.Namespace) -> int:
    from tierci.console import print_line

    print_line(_selection(arguments).key())
    return 0


def _pack(arguments: argparse.Namespace) -> int:
    from tierci.console import print_line
    from tierci.wheelhouse.archive import pack

    print_line(str(pack(_selection(arguments).folder, arguments.out)))
    return 0


def _unpack(arguments: argparse.Namespace) -> int:
    from tierci.escape import clip, show_invisible
    from tierci.wheelhouse.archive import DEFAULT_MAX_UNPACKED_BYTES, unpack
    from tierci.wheelhouse.trust import Trust

    chosen = _selection(arguments)
    expected = None if arguments.any_key else chosen.key()
    unpacked = unpack(
        arguments.archive,
        chosen.folder,
        Trust.of(chosen.locks),
        expected_key=expected,
        max_bytes=chosen.house.max_unpacked_bytes if chosen.house else DEFAULT_MAX_UNPACKED_BYTES,
    )
    out = _output()
    # The key is the archive's word: shown, never trusted or interpreted.
    key = show_invisible(clip(unpacked.key, 120))
    out.print(
        f"wheelhouse {chosen.folder}: {unpacked.wheels} wheels verified against the locks "
        f"and unpacked (archive key {key})"
    )
    if unpacked.left_out:
        out.print(
            f"left out {len(unpacked.left_out)} wheel(s) no current lock pins: "
            + ", ".join(show_invisible(clip(name, 120)) for name in unpacked.left_out)
        )
    return 0


def _install(arguments: argparse.Namespace) -> int:
    from tierci.wheelhouse.install import install

    chosen = _selection(arguments)
    install(
        chosen.folder,
        chosen.locks,
        arguments.python,
        allow_fallback=arguments.allow_fallback or bool(chosen.house and chosen.house.fallback),
        log=_output().print,
    )
    return 0


def _env_manager(arguments: argparse.Namespace) -> EnvManager:
    from tierci.envs import EnvManager

    return EnvManager(project_config(arguments), log=_output().print)


def _env_ensure(arguments: argparse.Namespace) -> int:
    from tierci.console import print_line

    result = _env_manager(arguments).ensure(arguments.name)
    how = f"built in {result.seconds:.1f} s" if result.built else "reused"
    _output().print(f"env {result.name}: ready ({how})")
    print_line(str(result.path))  # the path, alone on the last line, for scripts
    return 0


def _env_status(arguments: argparse.Namespace) -> int:
    import json

    from rich.table import Table

    from tierci.console import print_line

    manager = _env_manager(arguments)
    names = getattr(arguments, "names", None) or sorted(manager.config.envs)
    statuses = [manager.status(name) for name in names]
    if arguments.json:
        listing = [
            {
                "name": s.name,
                "state": s.state.value,
                "key": s.key,
                "path": str(s.path) if s.path else None,
                "size_bytes": s.size_bytes,
                "note": s.note,
            }
            for s in statuses
        ]
        print_line(json.dumps(listing, indent=2))
        return 0
    table = Table(title=f"environments in {manager.env_dir}", title_justify="left")
    for column in ("env", "state", "size", "key", "note"):
        table.add_column(column)
    for status in statuses:
        size = f"{status.size_bytes / 1e6:.1f} MB" if status.size_bytes else ""
        table.add_row(status.name, status.state.value, size, status.key, status.note)
    _output().print(table)
    return 0


def _env_delete(arguments: argparse.Namespace) -> int:
    freed = _env_manager(arguments).delete(arguments.name)
    _output().print(f"env {arguments.name}: deleted, {freed / 1e6:.1f} MB freed")
    return 0


_HANDLERS = {
    "build": _build,
    "validate": _validate,
    "key": _key,
    "pack": _pack,
    "unpack": _unpack,
    "install": _install,
}
