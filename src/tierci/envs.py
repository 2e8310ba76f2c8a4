"""On-demand environments: built from a template's lock when first needed, then reused.

Each ``[tool.tierci.envs.NAME]`` names a lock. Its environment lives under the env
folder (``$TIERCI_ENV_DIR``, ``[tool.tierci] env_dir``, or the user cache folder) at
``NAME/<key>``, where the key changes with the lock's content, the Python and the
platform: a lock edit makes the old environment *stale* and the next ``ensure``
builds a new one.

The env folder must be a folder tierci can write (or create): a path that is a file,
or lies below one, or cannot be written, is an ``EnvError`` (exit 7) naming it, for
every verb, never an empty listing or "deleted, 0.0 MB".

``ensure`` is safe under concurrency and interruption: it takes a file lock, checks
again (another process may have just built it), builds into ``NAME/.build-<key>``
and renames that into place only when complete, so a killed build never leaves
anything that looks ready. Environments are created relocatable (``uv venv
--relocatable``) because they are built under one name and used under another.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout
from platformdirs import user_cache_path

from tierci._proc import find_uv, run, venv_environment, venv_python_of
from tierci.errors import EnvError
from tierci.locks.lockfile import Lock, read_lock
from tierci.wheelhouse.install import install
from tierci.wheelhouse.model import Target

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tierci.config import EnvConfig, TierciConfig

__all__ = ["EnsureResult", "EnvManager", "EnvState", "EnvStatus", "default_env_dir"]

_MARKER = "tierci-env.json"
_BUILD_PREFIX = ".build-"


class EnvState(StrEnum):
    NOT_INSTALLED = "not_installed"
    INSTALLING = "installing"
    READY = "ready"
    STALE = "stale"


@dataclass(frozen=True, kw_only=True)
class EnvStatus:
    name: str
    state: EnvState
    key: str
    path: Path | None  # the ready or stale environment
    size_bytes: int
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class EnsureResult:
    name: str
    path: Path
    built: bool
    seconds: float
    from_index: tuple[str, ...] = ()

    @property
    def python(self) -> Path:
        return venv_python_of(self.path)


_ENV_DIR_VARIABLE = "TIERCI_ENV_DIR"


def default_env_dir(config: TierciConfig) -> Path:
    override = os.environ.get(_ENV_DIR_VARIABLE)
    if override:
        return Path(override)
    return config.env_dir or user_cache_path("tierci") / "envs"


def _env_dir_fix(config: TierciConfig) -> str:
    """How to point tierci at another env folder, for where this one came from."""
    if os.environ.get(_ENV_DIR_VARIABLE):
        return f"set {_ENV_DIR_VARIABLE} to a folder tierci can write, or unset it"
    if config.env_dir is not None:
        return f"set [tool.tierci] env_dir in {config.pyproject} to a folder tierci can write"
    return f"make it a writable folder, or set {_ENV_DIR_VARIABLE} to one"


class EnvManager:
    """Status, ensure, list and delete for the environments a project declares."""

    def __init__(
        self,
        config: TierciConfig,
        *,
        env_dir: Path | None = None,
        lock_timeout_s: float = 3600.0,
        log: Callable[[str], object] = print,
    ) -> None:
        self.config = config
        self.env_dir = env_dir or default_env_dir(config)
        self.lock_timeout_s = lock_timeout_s
        self.log = log

    def key(self, env: EnvConfig, lock: Lock | None = None) -> str:
        """``py311-linux_x86_64-<lock digest>``: a new key is a new environment."""
        python = env.python or f"{sys.version_info.major}.{sys.version_info.minor}"
        tag = "py" + python.replace(".", "").replace(os.sep, "_")
        digest = (lock or read_lock(env.lock, allowed_options=self.config.lock_options)).digest
        return f"{tag}-{Target.host().platform}-{digest[:16]}"

    def _home(self, name: str) -> Path:
        return self.env_dir / name

    def _usable_home(self, name: str, *, create: bool = False) -> Path:
        """``NAME``'s folder, after checking that environments can be kept there: the env
        folder is made if missing (every verb, so one that cannot be made is an error
        even for ``status``), and ``NAME``'s own folder too when ``create``."""
        home = self._home(name)
        with self._os_errors(name):
            existing = home
            while not existing.exists() and existing != existing.parent:
                existing = existing.parent
            if not existing.is_dir():
                below = "" if existing == home else f" (so {home} cannot be made)"
                raise EnvError(
                    f"env folder {self.env_dir}: {existing} is a file, not a folder{below}",
                    fix=f"{_env_dir_fix(self.config)}; or move the file {existing} away",
                )
            try:
                self.env_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise EnvError(
                    f"env folder {self.env_dir} cannot be made: {exc.strerror or exc}",
                    fix=_env_dir_fix(self.config),
                ) from exc
            if not os.access(self.env_dir, os.W_OK | os.X_OK):
                raise EnvError(
                    f"env folder {self.env_dir} is not writable", fix=_env_dir_fix(self.config)
                )
            if create:
                home.mkdir(exist_ok=True)
        return home

    @contextlib.contextmanager
    def _os_errors(self, name: str) -> Iterator[None]:
        """A filesystem failure under the env folder as an EnvError naming the path."""
        try:
            yield
        except Timeout as exc:  # an OSError too, with its own meaning
            raise EnvError(
                f"env {name}: waited {self.lock_timeout_s:.0f} s for another process building it",
                fix=f"check `tierci env status {name}`; if nothing is building, delete "
                f"{exc.lock_file}",
            ) from None
        except OSError as exc:
            raise EnvError(
                f"env {name}: {exc.strerror or exc}: {exc.filename or self._home(name)}",
                fix=f"check the env folder {self.env_dir}; {_env_dir_fix(self.config)}",
            ) from exc

    def _file_lock(self, name: str, timeout: float) -> FileLock:
        home = self._home(name)
        home.mkdir(parents=True, exist_ok=True)
        return FileLock(home / ".lock", timeout=timeout)

    def status(self, name: str) -> EnvStatus:
        env = self.config.env(name)
        home = self._usable_home(name)
        key = self.key(env)
        with self._os_errors(name):
            return self._status(env, home, key)

    def _status(self, env: EnvConfig, home: Path, key: str) -> EnvStatus:
        name = env.name
        final = home / key
        if _is_ready(final):
            return EnvStatus(
                name=name, state=EnvState.READY, key=key, path=final, size_bytes=_size(final)
            )
        if home.is_dir() and self._being_built(name):
            return EnvStatus(
                name=name,
                state=EnvState.INSTALLING,
                key=key,
                path=None,
                size_bytes=0,
                note="another process is building it",
            )
        old = sorted(p for p in home.iterdir() if _is_ready(p)) if home.is_dir() else []
        if old:
            return EnvStatus(
                name=name,
                state=EnvState.STALE,
                key=key,
                path=old[-1],
                size_bytes=sum(_size(p) for p in old),
                note=f"{env.lock.name} changed since it was built",
            )
        leftovers = list(home.glob(f"{_BUILD_PREFIX}*")) if home.is_dir() else []
        note = "an interrupted build is left over; ensure removes it" if leftovers else ""
        return EnvStatus(
            name=name, state=EnvState.NOT_INSTALLED, key=key, path=None, size_bytes=0, note=note
        )

    def _being_built(self, name: str) -> bool:
        lock = self._file_lock(name, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return True
        lock.release()
        return False

    def statuses(self) -> list[EnvStatus]:
        return [self.status(name) for name in sorted(self.config.envs)]

    def ensure(self, name: str) -> EnsureResult:
        """The environment, ready: reused when its key is built, else built now (once)."""
        env = self.config.env(name)
        lock = read_lock(env.lock, allowed_options=self.config.lock_options)
        home = self._usable_home(name, create=True)
        key = self.key(env, lock)
        final = home / key
        started = time.perf_counter()
        if _is_ready(final):
            return EnsureResult(name=name, path=final, built=False, seconds=0.0)
        with self._os_errors(name), self._file_lock(name, timeout=self.lock_timeout_s):
            if _is_ready(final):  # built by another process while this one waited
                self.log(f"env {name}: built by another process meanwhile; reusing it")
                return EnsureResult(
                    name=name, path=final, built=False, seconds=time.perf_counter() - started
                )
            from_index = self._build(env, lock, key, final)
        return EnsureResult(
            name=name,
            path=final,
            built=True,
            seconds=time.perf_counter() - started,
            from_index=from_index,
        )

    def _build(self, env: EnvConfig, lock: Lock, key: str, final: Path) -> tuple[str, ...]:
        home = final.parent
        for leftover in home.glob(f"{_BUILD_PREFIX}*"):
            self.log(f"env {env.name}: removing {leftover.name}, left by an interrupted build")
            shutil.rmtree(leftover)
        build = home / f"{_BUILD_PREFIX}{key}"
        uv = find_uv()
        python_request = env.python or sys.executable
        self.log(f"env {env.name}: building {key} from {env.lock.name}")
        run(
            [uv, "venv", "--quiet", "--relocatable", "--python", python_request, str(build)],
            what=f"creating env {env.name}",
        )
        python = str(venv_python_of(build))
        from_index = self._install(env, lock, python)
        for command in env.post_install:
            run(
                command,
                what=f"env {env.name} post_install {command[0]}",
                env=venv_environment(build),
                cwd=build,
            )
        (build / _MARKER).write_text(
            json.dumps(
                {
                    "name": env.name,
                    "key": key,
                    "lock": str(env.lock),
                    "lock_digest": lock.digest,
                    "from_index": list(from_index),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        build.rename(final)  # the one step that makes it ready: atomic
        for stale in home.iterdir():
            if stale != final and not stale.name.startswith("."):
                self.log(f"env {env.name}: removing the stale {stale.name}")
                shutil.rmtree(stale, ignore_errors=True)
        return from_index

    def _install(self, env: EnvConfig, lock: Lock, python: str) -> tuple[str, ...]:
        house = self.config.wheelhouse
        if house is not None and self.config.uses_wheelhouse(env.lock) and house.dir.is_dir():
            report = install(house.dir, [lock], python, allow_fallback=house.fallback, log=self.log)
            return report.from_index
        self.log(
            f"env {env.name}: no wheelhouse serves {env.lock.name}; installing from the "
            "index (hash-checked)"
        )
        run(
            [
                find_uv(),
                "pip",
                "install",
                "--quiet",
                "--python",
                python,
                "--require-hashes",
                "-r",
                str(env.lock),
            ],
            what=f"installing env {env.name}",
        )
        return ()

    def delete(self, name: str) -> int:
        """Remove every build of ``name``; returns the bytes freed."""
        self.config.env(name)
        home = self._usable_home(name)
        if not home.is_dir():
            return 0
        freed = 0
        with self._os_errors(name), self._file_lock(name, timeout=self.lock_timeout_s):
            for child in home.iterdir():
                if child.name != ".lock":
                    freed += _size(child)
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
        return freed


def _is_ready(path: Path) -> bool:
    return (path / _MARKER).is_file() and venv_python_of(path).exists()


def _size(path: Path) -> int:
    """Bytes on disk under ``path``, each hard-linked file once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            stat = (Path(folder) / name).lstat()
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_size
    return total
