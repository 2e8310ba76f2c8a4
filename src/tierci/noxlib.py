"""The library half of tierci's nox sessions; a project's noxfile stays a few lines.

Environments are synced to the tier's hashed lock with ``uv pip sync`` (extraneous
packages removed), then the project is installed without dependencies. A fingerprint
of the lock and of the installed distributions makes a reused, unchanged environment
cost a directory listing, while any change (the lock edited, a package installed or
removed by hand) triggers a full sync. That is why sessions may always reuse their
environment: ``nox -R`` is as exact as a fresh one.

This module runs inside nox's own interpreter; it imports nothing beyond tierci's
dependencies.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from nox.command import CommandFailed

from tierci import records
from tierci._proc import find_uv
from tierci.artifacts import native, verify
from tierci.artifacts.build import build_and_check
from tierci.build_inputs import build_inputs_digest, project_name
from tierci.config import DEFAULT_ENV, load_config, tier_slot
from tierci.device import detect_device, no_device_error
from tierci.errors import (
    CommandFailedError,
    ConfigError,
    EmptyTierError,
    LockError,
    StaleLockError,
    TierciError,
    UsageError,
    error_for_code,
)
from tierci.junit.merge import parse_expectation, per_python
from tierci.lint import lint_tools
from tierci.locks import compile as locks
from tierci.locks.lockfile import read_lock, read_locks
from tierci.pipeline import Status
from tierci.provenance import (
    base_branch,
    commit_sha,
    current_branch,
    platform_tag,
    python_version,
)
from tierci.pytest_plugin import EXIT_REASON_VARIABLE
from tierci.quarantine import load_quarantine
from tierci.report import DEFAULT_HISTORY, DEFAULT_HUD_DIR
from tierci.report.history import Retention, RunContext, history_location
from tierci.report.hud import gate_targets
from tierci.report.ingest import ingest_and_render
from tierci.sharding import parse_shard
from tierci.wheelhouse.install import install as install_from_wheelhouse
from tierci.wheelhouse.model import Target, cache_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import nox

    from tierci.config import TierciConfig, TierConfig
    from tierci.junit import Counts

__all__ = [
    "HISTORY",
    "HUD_DIR",
    "heavy_envs",
    "lint",
    "lock",
    "noxfile_config",
    "packaging",
    "recorded",
    "release_session",
    "report",
    "run_pytest",
    "run_tests",
    "sync",
    "sync_lock",
    "wheelhouse_session",
    "wheels_session",
]

HISTORY = Path(DEFAULT_HISTORY)
#: pip-tools, pinned and hashed (a copy of tierci's own requirements/lock.txt): what
#: compiles a project's requirements/lock.txt the first time.
BUNDLED_TOOLS_LOCK = Path(locks.__file__).parent / "pip-tools.txt"
HUD_DIR = Path(DEFAULT_HUD_DIR)

_P = ParamSpec("_P")
_R = TypeVar("_R")
_SYNC_MARKER = ".tierci-sync.json"


class _ExitCode:
    """The exit code of the first tierci error in this nox process.

    nox ends every failed session the same way (exit 1) and a ``SystemExit`` from a
    session would skip the sessions after it and nox's summary. So a failed session is
    reported to nox as usual, and once nox has finished (its summary printed, its exit
    status chosen) the process ends with the error's own code instead.
    """

    code: int | None = None

    @classmethod
    def keep(cls, code: int) -> None:
        if cls.code is None:
            cls.code = code
            atexit.register(cls._exit)

    @classmethod
    def _exit(cls) -> None:
        if cls.code is None:  # pragma: no cover - registered only with a code
            return
        logging.shutdown()  # nox logs through logging: flush it all before leaving
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(cls.code)


def _reported(
    function: Callable[Concatenate[nox.Session, _P], _R],
) -> Callable[Concatenate[nox.Session, _P], _R]:
    """A TierciError fails the session with its message and fix (no traceback), and
    nox then exits with the error's code (``_ExitCode``)."""

    @functools.wraps(function)
    def wrapper(session: nox.Session, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(session, *args, **kwargs)
        except TierciError as exc:
            _ExitCode.keep(exc.return_code)
            session.error(str(exc))

    return wrapper


@contextlib.contextmanager
def recorded(session: nox.Session, tier: str, *, shard: str = "") -> Iterator[None]:
    """Record a tier that a session runs by itself (no noxlib entry point), so the HUD
    shows it and counts its time::

        @nox.session
        def docs(session):
            with noxlib.recorded(session, "docs"):
                session.run("sphinx-build", "-W", "docs", "build/docs")
    """
    with _tier_record(_config(session), tier, shard=shard):
        yield


def _recorded_as(
    tier: str,
) -> Callable[
    [Callable[Concatenate[nox.Session, _P], _R]], Callable[Concatenate[nox.Session, _P], _R]
]:
    """A session of a tier that writes no JUnit (lint, packaging, ...) still records its
    run: see ``_tier_record``."""

    def decorate(
        function: Callable[Concatenate[nox.Session, _P], _R],
    ) -> Callable[Concatenate[nox.Session, _P], _R]:
        @functools.wraps(function)
        def wrapper(session: nox.Session, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            with _tier_record(_config(session), tier):
                return function(session, *args, **kwargs)

        return wrapper

    return decorate


def _package(config: TierciConfig, package: str) -> str:
    """The package to verify: the session's argument, else the configured one."""
    if package or config.package:
        return package or config.package
    raise ConfigError(
        f"{config.pyproject}: no package name to verify ([project] name is missing, or "
        "no import name)",
        fix='add [project] name, or [tool.tierci] package = "import_name"',
    )


def _config(session: nox.Session) -> TierciConfig:
    return load_config(Path(session.invoked_from))


def _venv_python(session: nox.Session) -> str:
    return str(Path(session.bin) / ("python.exe" if sys.platform == "win32" else "python"))


@contextlib.contextmanager
def _tier_record(
    config: TierciConfig,
    tier: str,
    *,
    shard: str = "",
    junit: Path | None = None,
    session: nox.Session | None = None,
    python: str = "",
) -> Iterator[None]:
    """Record the tier's run (status, exit code, start and end) beside the JUnit reports,
    whether it passes or fails: the HUD's grid and its time to signal come from these.
    The Python recorded is the session's environment's (``python``: the tier's Python
    in the file name, for a tier that runs on several)."""
    started = records.now()
    pipeline_started = records.pipeline_started()
    status, exit_code, note = Status.PASSED, 0, ""
    try:
        yield
    except TierciError as exc:
        status, exit_code, note = Status.FAILED, exc.return_code, exc.message
        raise
    except CommandFailed as exc:
        status, exit_code, note = Status.FAILED, exc.return_code or 1, exc.reason or ""
        raise
    except BaseException as exc:
        status, exit_code, note = Status.FAILED, 1, f"{type(exc).__name__}: {exc}"
        raise
    finally:
        record = records.TierRecord(
            tier=tier,
            shard=shard,
            status=status,
            exit_code=exit_code,
            started=started,
            ended=records.now(),
            commit=commit_sha(config.root),
            branch=current_branch(config.root),
            python=_interpreter_version(session),
            platform=platform_tag(),
            note=note,
            junit=junit.name if junit is not None else "",
            pipeline_started=pipeline_started,
            junit_sha256=records.file_sha256(junit) if junit is not None else "",
        )
        records.write_record(records.record_path(config.junit_dir, tier, shard, python), record)


def _interpreter_version(session: nox.Session | None) -> str:
    """The Python the session's tests ran on (its virtualenv's; nox's own without one),
    as the pytest plugin stamps it on the JUnit report: the HUD's slots must agree."""
    if session is not None and isinstance(session.python, str):
        probe = subprocess.run(
            [
                _venv_python(session),
                "-c",
                "import sys; print('.'.join(map(str, sys.version_info[:3])))",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            return probe.stdout.strip()
    return python_version()


def tier_pythons(root: Path, tier: str) -> list[str] | None:
    """The tier's ``pythons`` for ``@nox.session(python=...)`` (None: nox's own
    interpreter), read while nox loads the noxfile: sessions ``unit-3.11``,
    ``unit-3.12``…, all run by ``nox -s unit``. Where an interpreter is missing nox
    skips its session locally and fails it in CI."""
    return list(noxfile_config(root).tier(tier).pythons) or None


def noxfile_config(root: Path) -> TierciConfig:
    """The project's configuration, read while nox loads the noxfile, before any
    session: a configuration error ends nox there with the error's message, fix and
    exit code, not a traceback."""
    try:
        return load_config(root)
    except TierciError as exc:
        from tierci.console import print_error  # noqa: PLC0415 - only on this path

        print_error(str(exc))
        raise SystemExit(exc.return_code) from None


def _tier_python(session: nox.Session, tier: TierConfig) -> str:
    """The Python in a report's name: the session's, for a tier with ``pythons``."""
    return session.python if tier.pythons and isinstance(session.python, str) else ""


@_reported
def sync(session: nox.Session, tier: str) -> None:
    """Make the session's environment exactly the tier's lock (plus the project)."""
    config = _config(session)
    _sync_tier(session, config, config.tier(tier))


def _sync_tier(session: nox.Session, config: TierciConfig, tier: TierConfig) -> None:
    _sync_lock(session, config, tier.lock, project=config.root if tier.install_project else None)


@_reported
def sync_lock(session: nox.Session, lock: Path, *, project: Path | None = None) -> None:
    """Sync to ``lock``; install ``project`` (a folder) editable without dependencies."""
    _sync_lock(session, _config(session), lock, project=project)


def _sync_lock(
    session: nox.Session, config: TierciConfig, lock: Path, *, project: Path | None
) -> None:
    if not lock.is_file():
        raise TierciError(
            f"lock file {lock} does not exist",
            fix=f"create {lock.with_suffix('.in').name} next to it and run `nox -s lock`",
        )
    # The strict reading comes first: an option line nobody allowed (an index redirect)
    # fails the session before uv reads the file and obeys it.
    checked = read_lock(lock, allowed_options=config.lock_options)
    venv = Path(session.virtualenv.location)
    marker = venv / _SYNC_MARKER
    native = project is not None and bool(config.native_modules)
    fingerprint = _fingerprint(lock, project)
    if native and project is not None:
        # Compiled modules: an edited C file or header must rebuild them, and pyproject
        # alone does not say when. Their inputs are part of the environment's identity.
        fingerprint = hashlib.sha256(
            f"{fingerprint}{build_inputs_digest(project)}".encode()
        ).hexdigest()
    if _env_matches(marker, fingerprint, venv):
        session.log(f"environment matches {lock.name} ({fingerprint[:12]}); nothing to sync")
        return
    uv, python = find_uv(), _venv_python(session)
    if config.wheelhouse is not None and config.uses_wheelhouse(lock):
        house = config.wheelhouse
        allowed = house.fallback or os.environ.get("TIERCI_WHEELHOUSE_FALLBACK") == "1"
        install_from_wheelhouse(
            house.dir, [checked], python, allow_fallback=allowed, log=session.log
        )
    else:
        session.run(
            uv, "pip", "sync", "--python", python, "--require-hashes", str(lock), external=True
        )
    if project is not None:
        # A project with compiled modules is rebuilt, never taken from uv's cache (which
        # keys a local project on its metadata files, not on its C sources).
        rebuild = ["--reinstall-package", project_name(project)] if native else []
        session.run(
            uv,
            "pip",
            "install",
            "--python",
            python,
            "--no-deps",
            *rebuild,
            "-e",
            str(project),
            external=True,
        )
    marker.write_text(
        json.dumps({"fingerprint": fingerprint, "distributions": _distributions(venv)}),
        encoding="utf-8",
    )


def _fingerprint(lock: Path, project: Path | None) -> str:
    digest = hashlib.sha256(lock.read_bytes())
    if project is not None:
        # The project's metadata (entry points, dependencies) lives in pyproject.toml.
        digest.update(str(project.resolve()).encode())
        digest.update((project / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def _env_matches(marker: Path, fingerprint: str, venv: Path) -> bool:
    try:
        recorded: dict[str, Any] = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(
        recorded.get("fingerprint") == fingerprint
        and recorded.get("distributions") == _distributions(venv)
    )


def _distributions(venv: Path) -> list[str]:
    """``name-version`` of everything installed in the venv, from the dist-info folders."""
    patterns = ("lib/*/site-packages/*.dist-info", "Lib/site-packages/*.dist-info")
    return sorted(path.name.removesuffix(".dist-info") for p in patterns for path in venv.glob(p))


@_reported
def run_pytest(session: nox.Session, tier: str, *extra: str, env: str = DEFAULT_ENV) -> Path:
    """Run the tier's tests; the JUnit report is ``<junit_dir>/<tier>[-<env>][-<shard>].xml``.

    ``env`` other than ``default`` runs only the tests marked ``env(NAME)``.
    """
    config = _config(session)
    shard = _shard_argument(session.posargs)
    python = _tier_python(session, config.tier(tier))
    junit = config.junit_path(tier, shard, env, python)
    with _tier_record(
        config, tier_slot(tier, env), shard=shard or "", junit=junit, session=session, python=python
    ):
        return _run_pytest(session, config, config.tier(tier), extra, env=env, junit=junit)


def _run_pytest(
    session: nox.Session,
    config: TierciConfig,
    tier: TierConfig,
    extra: Sequence[str],
    *,
    env: str,
    junit: Path,
) -> Path:
    if env != DEFAULT_ENV:
        extra = (f"--tier-env={env}", *extra)
    junit.parent.mkdir(parents=True, exist_ok=True)
    # A report left by an earlier run must never stand in for this one.
    junit.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="tierci-exit-") as scratch:
        reason_file = Path(scratch) / "reason.json"
        try:
            session.run(
                "pytest",
                f"--tier={tier.name}",
                f"--junitxml={junit}",
                *_rerun_arguments(config, tier, env),
                *tier.pytest_args,
                *extra,
                *session.posargs,
                env={EXIT_REASON_VARIABLE: str(reason_file)},
            )
        except CommandFailed as exc:
            raise _pytest_error(reason_file, exc) from None
    if not junit.is_file():
        raise CommandFailedError(
            f"pytest finished but wrote no JUnit report at {junit}",
            fix="do not pass --junitxml or -p no:junitxml in the session's arguments",
        )
    session.log(f"JUnit report: {junit}")
    return junit


#: pytest-rerunfailures, by its distribution name (in a lock) and its plugin name.
_RERUN_PLUGIN = ("pytest-rerunfailures", "rerunfailures")


def _rerun_arguments(config: TierciConfig, tier: TierConfig, env: str) -> list[str]:
    """pytest-rerunfailures and its flags, for a tier with ``reruns``; the environment's
    lock must hold the plugin (a LockError that says so, before pytest runs)."""
    if not tier.reruns:
        return []
    lock = tier.lock if env == DEFAULT_ENV else config.env(env).lock
    distribution, plugin = _RERUN_PLUGIN
    if lock.is_file() and all(
        requirement.name != distribution
        for requirement in read_lock(lock, allowed_options=config.lock_options)
    ):
        raise LockError(
            f"tier {tier.name!r} sets reruns = {tier.reruns}, but its lock {lock} does not "
            f"hold {distribution}",
            fix=f"add {distribution} to {lock.with_suffix('.in')} and run `nox -s lock`",
        )
    arguments = ["-p", plugin, f"--reruns={tier.reruns}"]
    if tier.reruns_delay:
        arguments.append(f"--reruns-delay={tier.reruns_delay:g}")
    return arguments


def _pytest_error(reason_file: Path, failed: CommandFailed) -> BaseException:
    """The tierci error that ended pytest (as the plugin recorded it), else nox's own
    failure: failing tests end the session as nox always ends it."""
    try:
        reason: dict[str, Any] = json.loads(reason_file.read_text(encoding="utf-8"))
        code = int(reason["code"])
        if code == failed.return_code:  # the reason for this very exit
            return error_for_code(code, str(reason["message"]), fix=reason.get("fix"))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if failed.return_code == EmptyTierError.return_code:  # pytest: no tests collected
        return EmptyTierError(
            "pytest collected no tests", fix="check the session's arguments and test paths"
        )
    return failed


def _shard_argument(posargs: Sequence[str]) -> str | None:
    """The ``--shard I/N`` among the session's arguments, checked (a UsageError if wrong)."""
    for position, argument in enumerate(posargs):
        if argument.startswith("--shard="):
            return str(parse_shard(argument.split("=", 1)[1]))
        if argument == "--shard" and position + 1 < len(posargs):
            return str(parse_shard(posargs[position + 1]))
    return None


@_reported
def run_tests(session: nox.Session, tier: str, *extra: str, env: str = DEFAULT_ENV) -> Path:
    """Sync the tier's environment (or the named env's lock), then run its tests.

    A tier that requires a device checks first: with none here (and no
    ``-- --allow-no-device``) the session fails at once with the reason, and nox exits 8.
    """
    config = _config(session)
    shard = _shard_argument(session.posargs)  # a wrong --shard fails before any sync
    tier_config = config.tier(tier)
    python = _tier_python(session, tier_config)
    junit = config.junit_path(tier, shard, env, python)
    with _tier_record(
        config, tier_slot(tier, env), shard=shard or "", junit=junit, session=session, python=python
    ):
        if tier_config.requires_device:
            _require_device(session, tier_config)
        if env == DEFAULT_ENV:
            _sync_tier(session, config, tier_config)
        else:
            project = config.root if tier_config.install_project else None
            _sync_lock(session, config, config.env(env).lock, project=project)
        return _run_pytest(session, config, tier_config, extra, env=env, junit=junit)


def _require_device(session: nox.Session, tier: TierConfig) -> None:
    info = detect_device()
    if info.present:
        session.log(f"device: {info.name} (driver {info.driver}, CUDA {info.cuda or '?'})")
    elif "--allow-no-device" in session.posargs:
        session.log(f"device: none ({info.reason}); allowed: {tier.name}'s tests report as skipped")
    else:
        raise no_device_error(info, tier.name)


def heavy_envs(root: Path) -> list[str]:
    """``default`` plus every declared env: the parameters of ``heavy(env=...)``
    (read as :func:`noxfile_config` reads the configuration)."""
    return [DEFAULT_ENV, *sorted(noxfile_config(root).envs)]


@_reported
@_recorded_as("wheelhouse")
def wheelhouse_session(session: nox.Session, *, lock_name: str = "wheelhouse") -> Path:
    """Build the wheelhouse from its locks, validate it, pack it into ``build/wheelhouse/``.

    The session's environment is ``requirements/<lock_name>.txt`` (pip + tierci).
    """
    config = _config(session)
    if config.wheelhouse is None:
        raise ConfigError(
            f"{config.pyproject}: no [tool.tierci.wheelhouse] table",
            fix='add [tool.tierci.wheelhouse] with required = ["torch", ...]',
        )
    _sync_tool_lock(session, config, lock_name)
    # build ends by validating (coverage, hashes, required packages) and fails if invalid.
    _run_tierci(session, "wheelhouse", "build", *session.posargs)
    archive_out = config.root / "build" / "wheelhouse"
    _run_tierci(session, "wheelhouse", "pack", "--out", str(archive_out))
    house = config.wheelhouse
    locks_read = read_locks(house.locks, allowed_options=config.lock_options)
    key = cache_key(locks_read, Target.host(), house.variant)
    session.log(f"wheelhouse key: {key}")
    return archive_out


def _run_tierci(session: nox.Session, *arguments: str) -> None:
    """The ``tierci`` command in the session's environment; its exit code is kept."""
    try:
        session.run("tierci", *arguments)
    except CommandFailed as exc:
        if exc.return_code:
            _ExitCode.keep(exc.return_code)
        raise


@_reported
@_recorded_as("lint")
def lint(session: nox.Session, *, mypy_args: Sequence[str] = ()) -> None:
    """The lint tier's tools (``[tool.tierci.tiers.lint] tools``, else detected: see
    tierci.lint), none of which edits a file; posargs go to ``ruff check``."""
    config = _config(session)
    tier = config.tier("lint")
    tools = lint_tools(config.root, tier.tools)  # an unknown name fails before any sync
    from tierci.cirender.render import renders_ci_files, require_up_to_date  # noqa: PLC0415 - jinja2

    if renders_ci_files(config.root):
        require_up_to_date(config)  # the CI files say what the tiers say
        session.log("CI files: up to date with [tool.tierci] (tierci ci render --check)")
    _sync_tier(session, config, tier)
    running = []
    for tool in tools:
        program = tool.command[0]
        if tool.from_lock and shutil.which(program, path=session.bin) is None:
            raise ConfigError(
                f"the lint tier runs {tool.name}, which {tier.lock.name} does not install",
                fix=f"{tool.fix}, then `nox -s lock` (its version is the lock's)",
            )
        if not tool.from_lock and shutil.which(program) is None:
            if tier.tools or tool.name == "groovy-lint":
                raise CommandFailedError(
                    f"the lint tier runs {tool.name}, and {program} is not on PATH",
                    fix=tool.fix,
                )
            session.warn(f"{program} is not on PATH, so {tool.name} did not run ({tool.fix})")
            continue
        running.append(tool)
    session.log(f"lint: {', '.join(tool.name for tool in running)}")
    for tool in running:
        command = [
            part.replace("{workflows}", str(config.root / ".github" / "workflows")).replace(
                "{jenkinsfile}", str(config.root / "Jenkinsfile")
            )
            for part in tool.command
        ]
        if tool.name == "ruff":
            command += session.posargs
        elif tool.name == "mypy":
            command += mypy_args
        session.run(*command, external=not tool.from_lock)


@_reported
@_recorded_as("packaging")
def packaging(session: nox.Session, *, package: str = "", dependencies_tier: str = "unit") -> None:
    """Build sdist + wheel, check them strictly, import-verify the installed wheel.

    The wheel is installed in a fresh environment outside the source tree, with its
    dependencies from ``dependencies_tier``'s lock, and every module is imported there.
    """
    config = _config(session)
    package = _package(config, package)
    dependencies = config.tier(dependencies_tier)
    _sync_tier(session, config, config.tier("packaging"))
    python = _venv_python(session)
    built = build_and_check(
        config.root, config.root / "dist", python=python, run=lambda c: session.run(*c)
    )
    session.run("check-wheel-contents", str(built.wheel))
    package_dir = config.root / "src" / package
    check = verify.verify_wheel_imports(
        built.wheel,
        package=package,
        python=python,
        dependency_locks=[dependencies.lock],
        expected_modules=verify.source_modules(package_dir) if package_dir.is_dir() else None,
        native_modules=config.native_modules,
        allowed_options=config.lock_options,
    )
    session.log(
        f"import-verified {len(check.imported)} modules of {built.wheel.name} "
        f"installed outside the source tree ({check.location})"
    )
    if check.needs_extras:
        session.log(f"not imported, they need an optional extra: {', '.join(check.needs_extras)}")


@_reported
@_recorded_as("lock")
def lock(session: nox.Session) -> None:
    """Compile every ``requirements/*.in``; ``-- --check`` only reports stale locks.

    ``-- --upgrade-package NAME`` (repeatable) upgrades one package while compiling.
    """
    config = _config(session)
    specs = locks.lock_specs(config)
    if "--check" in session.posargs:
        stale = locks.find_stale(specs, config.pyproject)
        if stale:
            listing = "\n".join(
                f"  {s.spec.lock.relative_to(config.root)}: {s.reason}" for s in stale
            )
            raise StaleLockError(
                f"{len(stale)} of {len(specs)} lock file(s) are stale:\n{listing}",
                fix="run `nox -s lock` and commit the updated requirements/*.txt",
            )
        session.log(f"all {len(specs)} lock files match their inputs")
        return
    own = next((s for s in specs if s.name == "lock"), None)
    if own is None:
        raise ConfigError(
            "requirements/lock.in (the lock session's own tools) is missing",
            fix="create it with two lines, `pip` and `pip-tools` (`tierci init` writes it)",
        )
    if not own.lock.is_file():
        # Its first compile: with the pip-tools tierci itself was tested with, pinned
        # and hashed in tierci's package. Every later one uses the project's own lock.
        _sync_lock(session, config, BUNDLED_TOOLS_LOCK, project=None)
        locks.compile_lock(own, config.pyproject, python=_venv_python(session))
        session.log(f"compiled {own.lock.name} with the pip-tools pinned in tierci")
    _sync_lock(session, config, own.lock, project=None)
    upgrades = [
        session.posargs[i + 1]
        for i, arg in enumerate(session.posargs[:-1])
        if arg in ("--upgrade-package", "-P")
    ]
    locks.compile_locks(specs, config.pyproject, python=_venv_python(session), upgrade=upgrades)
    session.log(f"compiled {len(specs)} lock files")


@_reported
def report(session: nox.Session) -> Path:
    """Ingest this commit's JUnit reports and tier records into the history and render
    the HUD.

    Runs in nox's own interpreter (declare the session with ``venv_backend="none"``).
    Only this commit's results are filed: a report or record another commit left in
    the folder is skipped, named in the log. ``-- --expect unit:4 --expect lint`` names
    reports that must be there; a missing or unreadable one fails the session after
    the HUD, which shows it, is written. ``-- --check-gates`` fails it (exit 1) when a
    quality gate is not met.

    The history is ``$TIERCI_HISTORY_URL`` (PostgreSQL), else ``$TIERCI_HISTORY``, else
    ``build/tierci/history.sqlite``. A file may
    have been carried from an earlier CI run: none there is a notice (a first run), and
    a file that is not a readable history is set aside (renamed, named in the log) and a
    fresh one started, never a failed session for that alone. ``-- --keep-commits N``
    and/or ``-- --older-than DAYS`` prune it after the ingest (``tierci report prune``).
    """
    config = _config(session)
    retention = _retention(session.posargs)
    expect = per_python(
        [
            parse_expectation(session.posargs[i + 1])
            for i, arg in enumerate(session.posargs[:-1])
            if arg == "--expect"
        ],
        {name: tier.pythons for name, tier in config.tiers.items()},
    )
    inputs = [config.junit_dir] if config.junit_dir.is_dir() else []
    found = [*config.junit_dir.glob("*.xml"), *config.junit_dir.glob(f"*{records.RECORD_SUFFIX}")]
    if not found and not expect:
        raise CommandFailedError(
            f"no JUnit reports or tier records in {config.junit_dir}",
            fix="run a tier first (nox -s unit), or name expected ones with -- --expect",
        )
    context = RunContext.detect(config.root)
    ingested, rendered = ingest_and_render(
        history_location(config.root),
        inputs,
        context,
        config.root / HUD_DIR,
        expect=expect,
        junit_dir=config.junit_dir,
        targets=gate_targets(config.gates),
        only_commit=context.commit,
        base_branch=base_branch(config.root, config.base_branch),
        quarantine=load_quarantine(config.quarantine_file) if config.quarantine_file else (),
        quarantine_bounds=config.quarantine_bounds,
        set_aside_corrupt=True,
        retention=retention,
        producers=config.junit_producers,
    )
    if ingested.history is not None and ingested.history.set_aside is not None:
        session.warn(ingested.history.notice)
    elif ingested.history is not None and ingested.history.notice:
        session.log(ingested.history.notice)
    for entry in ingested.entries:
        counts = _counted(entry.summary.tests, entry.summary.counts) if entry.summary else ""
        said = counts or entry.status.value
        session.log(f"{entry.label}: {said}{' - ' + entry.problem if entry.problem else ''}")
    for path, reason in ingested.skipped:
        session.warn(f"skipped {path.name}: {reason}")
    if ingested.pruned is not None:
        session.log(f"history: {ingested.pruned.describe()}")
    index = rendered.files[0]
    session.log(f"HUD: {index}")
    if ingested.problems:
        raise CommandFailedError(
            f"{len(ingested.problems)} report(s) missing or unreadable (the HUD at {index} "
            "shows them)",
            fix="re-run the tiers or shards named above",
        )
    if "--check-gates" in session.posargs and rendered.unmet_gates:
        unmet = "; ".join(f"{gate.name}: {gate.value}" for gate in rendered.unmet_gates)
        session.error(f"{len(rendered.unmet_gates)} quality gate(s) not met: {unmet}")
    return index


def _counted(tests: int, counts: Counts) -> str:
    """``925 tests, 1 failed, 2 flaky``: what a report held, its failures named."""
    parts = [f"{tests} tests"]
    for number, word in (
        (counts.failed, "failed"),
        (counts.errors, "errors" if counts.errors > 1 else "error"),
        (counts.flaky, "flaky"),
        (counts.skipped, "skipped"),
    ):
        if number:
            parts.append(f"{number} {word}")
    return ", ".join(parts)


def _retention(posargs: Sequence[str]) -> Retention | None:
    """``--keep-commits N`` and ``--older-than DAYS`` among the report session's posargs."""
    values: dict[str, float] = {}
    for option, kind in (("--keep-commits", int), ("--older-than", float)):
        if option not in posargs:
            continue
        index = list(posargs).index(option)
        try:
            values[option] = kind(posargs[index + 1])
        except (IndexError, ValueError) as exc:
            raise UsageError(
                f"nox -s report -- {option} needs a number",
                fix=f"write e.g. -- {option} {'500' if kind is int else '90'}",
            ) from exc
    if not values:
        return None
    keep = values.get("--keep-commits")
    return Retention(
        keep_commits=int(keep) if keep is not None else None,
        older_than_days=values.get("--older-than"),
    )


@_reported
@_recorded_as("wheels")
def wheels_session(session: nox.Session, *, package: str = "", test_tier: str = "unit") -> Path:
    """Native wheels into ``dist/wheels/``: cibuildwheel, or the fallback where it cannot run.

    Without a container engine: ``build --wheel``, ``auditwheel repair``, import
    verification of ``[tool.tierci] native_modules``, and ``[tool.cibuildwheel]
    test-command`` against the repaired wheel (``test_tier``'s lock for its tools).
    """
    config = _config(session)
    package = _package(config, package)
    test_locks = [config.tier(test_tier).lock]
    _sync_tier(session, config, config.tier("wheels"))
    out = config.root / "dist" / "wheels"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    engine = native.container_engine()
    if engine is not None:
        session.log(f"container engine {engine} answers: cibuildwheel builds every target")
        session.run(
            "cibuildwheel", "--platform", "linux", "--output-dir", str(out), str(config.root)
        )
        return out
    session.warn(
        "no container engine answers (docker/podman `info` failed), so cibuildwheel cannot "
        "run here. Fallback: build + auditwheel repair + import verification + the "
        "test-command, for this interpreter only"
    )
    raw = config.root / "build" / "wheels-raw"
    shutil.rmtree(raw, ignore_errors=True)
    # The sdist first, then the wheel from it, unpacked in a temporary folder: a wheel
    # built in the tree would take setuptools' leftover build/lib.* objects (stale native
    # code) whenever they look newer than the sources.
    # (`python -m build` with neither --sdist nor --wheel does exactly that.)
    build = ["python", "-m", "build", "--installer=uv", "--outdir", str(raw)]
    session.run(*build, str(config.root))
    built = sorted(raw.glob("*.whl"))
    if len(built) != 1:
        raise CommandFailedError(
            f"expected one wheel in {raw}, found {len(built)}",
            fix="check the build backend's configuration",
        )
    session.run("auditwheel", "repair", "--wheel-dir", str(out), str(built[0]))
    repaired = sorted(out.glob("*manylinux*.whl"))
    if len(repaired) != 1:
        raise CommandFailedError(
            f"auditwheel left {len(repaired)} manylinux wheels in {out}",
            fix="read auditwheel's output above: a library the wheel links may be too new",
        )
    python = _venv_python(session)
    check = verify.verify_wheel_imports(
        repaired[0], package=package, python=python, native_modules=config.native_modules
    )
    session.log(f"import-verified {len(check.imported)} modules of {repaired[0].name}")
    native.run_test_command(
        repaired[0],
        project=config.root,
        python=python,
        dependency_locks=test_locks,
        allowed_options=config.lock_options,
        log=session.log,
    )
    session.log(f"wheel: {repaired[0]}")
    return out


@_reported
@_recorded_as("release")
def release_session(session: nox.Session, *, lock_name: str = "release") -> None:
    """``tierci release`` with the session's arguments, in ``requirements/<lock_name>.txt``.

    Credentials reach twine through the environment (TWINE_USERNAME/TWINE_PASSWORD) or
    its keyring; nothing here takes or prints them.
    """
    _sync_tool_lock(session, _config(session), lock_name)
    _run_tierci(session, "release", *session.posargs)


def _sync_tool_lock(session: nox.Session, config: TierciConfig, lock_name: str) -> None:
    """Sync a session that runs the ``tierci`` command to ``requirements/<lock_name>.txt``.

    The project goes in only where the lock carries its dependencies (tierci itself);
    an adopter's tool lock pins tierci like any other tool.
    """
    project = config.root if lock_name in config.project_dependency_locks else None
    _sync_lock(session, config, config.root / "requirements" / f"{lock_name}.txt", project=project)
