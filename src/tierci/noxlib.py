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

import functools
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from tierci import dist, locks, wheelhouse, wheelhouse_install, wheels
from tierci.config import DEFAULT_ENV, load_config
from tierci.device import detect_device, no_device_error
from tierci.errors import CommandFailedError, StaleLockError, TierciError
from tierci.history import RunContext, open_history
from tierci.hud import build_hud, gate_targets, write_hud
from tierci.merge import collect_inputs, parse_expectation
from tierci.uvbin import find_uv

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import nox

    from tierci.config import TierciConfig

__all__ = [
    "HISTORY",
    "HUD_DIR",
    "heavy_envs",
    "lint",
    "lock",
    "packaging",
    "release_session",
    "report",
    "run_pytest",
    "run_tests",
    "sync",
    "sync_lock",
    "wheelhouse_session",
    "wheels_session",
]

HISTORY = Path("build/tierci/history.sqlite")
HUD_DIR = Path("build/hud")

_P = ParamSpec("_P")
_R = TypeVar("_R")
_SYNC_MARKER = ".tierci-sync.json"


def _reported(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn a TierciError into nox's session failure, with the message and the fix."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except TierciError as exc:
            session: nox.Session = args[0]  # type: ignore[assignment]
            session.error(str(exc))

    return wrapper


def _config(session: nox.Session) -> TierciConfig:
    return load_config(Path(session.invoked_from))


def _venv_python(session: nox.Session) -> str:
    return str(Path(session.bin) / ("python.exe" if sys.platform == "win32" else "python"))


@_reported
def sync(session: nox.Session, tier: str) -> None:
    """Make the session's environment exactly the tier's lock (plus the project)."""
    config = _config(session)
    tier_config = config.tier(tier)
    sync_lock(
        session, tier_config.lock, project=config.root if tier_config.install_project else None
    )


@_reported
def sync_lock(session: nox.Session, lock: Path, *, project: Path | None = None) -> None:
    """Sync to ``lock``; install ``project`` (a folder) editable without dependencies."""
    if not lock.is_file():
        raise TierciError(
            f"lock file {lock} does not exist",
            fix=f"create {lock.with_suffix('.in').name} next to it and run `nox -s lock`",
        )
    venv = Path(session.virtualenv.location)
    marker = venv / _SYNC_MARKER
    fingerprint = _fingerprint(lock, project)
    if _env_matches(marker, fingerprint, venv):
        session.log(f"environment matches {lock.name} ({fingerprint[:12]}); nothing to sync")
        return
    uv, python = find_uv(), _venv_python(session)
    config = _config(session)
    if config.wheelhouse is not None and config.uses_wheelhouse(lock):
        house = config.wheelhouse
        allowed = house.fallback or os.environ.get("TIERCI_WHEELHOUSE_FALLBACK") == "1"
        wheelhouse_install.install(
            house.dir, [lock], python, allow_fallback=allowed, log=session.log
        )
    else:
        session.run(
            uv, "pip", "sync", "--python", python, "--require-hashes", str(lock), external=True
        )
    if project is not None:
        session.run(
            uv, "pip", "install", "--python", python, "--no-deps", "-e", str(project), external=True
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
    tier_config = config.tier(tier)
    junit = config.junit_path(tier, _shard_argument(session.posargs), env)
    if env != DEFAULT_ENV:
        extra = (f"--tier-env={env}", *extra)
    junit.parent.mkdir(parents=True, exist_ok=True)
    # A report left by an earlier run must never stand in for this one.
    junit.unlink(missing_ok=True)
    session.run(
        "pytest",
        f"--tier={tier}",
        f"--junitxml={junit}",
        *tier_config.pytest_args,
        *extra,
        *session.posargs,
    )
    if not junit.is_file():
        raise CommandFailedError(
            f"pytest finished but wrote no JUnit report at {junit}",
            fix="do not pass --junitxml or -p no:junitxml in the session's arguments",
        )
    session.log(f"JUnit report: {junit}")
    return junit


def _shard_argument(posargs: Sequence[str]) -> str | None:
    for position, argument in enumerate(posargs):
        if argument.startswith("--shard="):
            return argument.split("=", 1)[1]
        if argument == "--shard" and position + 1 < len(posargs):
            return posargs[position + 1]
    return None


def run_tests(session: nox.Session, tier: str, *extra: str, env: str = DEFAULT_ENV) -> Path:
    """Sync the tier's environment (or the named env's lock), then run its tests.

    A tier that requires a device checks first: with none here (and no
    ``-- --allow-no-device``) nox stops at once with exit code 8 and a one-line reason.
    """
    if _config(session).tier(tier).requires_device:
        _require_device(session, tier)
    if env == DEFAULT_ENV:
        sync(session, tier)
    else:
        config = _config(session)
        project = config.root if config.tier(tier).install_project else None
        sync_lock(session, config.env(env).lock, project=project)
    return run_pytest(session, tier, *extra, env=env)


def _require_device(session: nox.Session, tier: str) -> None:
    info = detect_device()
    if info.present:
        session.log(f"device: {info.name} (driver {info.driver}, CUDA {info.cuda or '?'})")
    elif "--allow-no-device" in session.posargs:
        session.log(f"device: none ({info.reason}); allowed: {tier}'s tests report as skipped")
    else:
        error = no_device_error(info, tier)
        print(f"{error.message}\n  fix: {error.fix}", file=sys.stderr)  # noqa: T201
        # SystemExit, not session.error(): nox itself then exits with the distinct code.
        raise SystemExit(error.return_code)


def heavy_envs(root: Path) -> list[str]:
    """``default`` plus every declared env: the parameters of ``heavy(env=...)``."""
    return [DEFAULT_ENV, *sorted(load_config(root).envs)]


@_reported
def wheelhouse_session(session: nox.Session, *, lock_name: str = "wheelhouse") -> Path:
    """Build the wheelhouse from its locks, validate it, pack it into ``build/wheelhouse/``.

    The session's environment is ``requirements/<lock_name>.txt`` (pip + tierci).
    """
    config = _config(session)
    if config.wheelhouse is None:
        raise TierciError(
            f"{config.pyproject}: no [tool.tierci.wheelhouse] table",
            fix='add [tool.tierci.wheelhouse] with required = ["torch", ...]',
        )
    _sync_tool_lock(session, config, lock_name)
    # build ends by validating (coverage, hashes, required packages) and fails if invalid.
    session.run("tierci", "wheelhouse", "build", *session.posargs)
    archive_out = config.root / "build" / "wheelhouse"
    session.run("tierci", "wheelhouse", "pack", "--out", str(archive_out))
    key = wheelhouse.cache_key(
        list(config.wheelhouse.locks), wheelhouse.Target.host(), config.wheelhouse.variant
    )
    session.log(f"wheelhouse key: {key}")
    return archive_out


@_reported
def lint(session: nox.Session, *, mypy_args: Sequence[str] = ()) -> None:
    """ruff check, ruff format --check, mypy (as ``[tool.mypy]`` configures it)."""
    sync(session, "lint")
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", *mypy_args)
    _lint_ci_files(session, _config(session).root)


#: Pinned: npm-groovy-lint 16+ needs Node >= 22.15; 15 runs on Node 20 with Java 17.
NPM_GROOVY_LINT = "npm-groovy-lint@15.2.2"


def _lint_ci_files(session: nox.Session, root: Path) -> None:
    """The CI files are code too: workflows (zizmor, actionlint) and the Jenkinsfile."""
    workflows = root / ".github" / "workflows"
    if workflows.is_dir():
        # --strict-collection: a workflow that is not valid YAML fails, is not skipped.
        session.run("zizmor", "--offline", "--strict-collection", str(workflows))
        if shutil.which("actionlint"):
            session.run("actionlint", external=True)
        else:
            session.warn(
                "actionlint is not on PATH: the workflows were checked by zizmor only "
                "(install the actionlint binary to add its checks)"
            )
    jenkinsfile = root / "Jenkinsfile"
    if jenkinsfile.is_file():
        if shutil.which("npx") is None:
            raise TierciError(
                "the Jenkinsfile cannot be linted: npx (Node.js) is not on PATH",
                fix="install Node.js 20+ and Java 17 (npm-groovy-lint needs both)",
            )
        session.run(
            "npx", "--yes", NPM_GROOVY_LINT, "--noserver", "--failon", "warning",
            "--output", "txt", str(jenkinsfile), external=True,
        )  # fmt: skip


@_reported
def packaging(session: nox.Session, *, package: str, dependencies_tier: str = "unit") -> None:
    """Build sdist + wheel, check them strictly, import-verify the installed wheel.

    The wheel is installed in a fresh environment outside the source tree, with its
    dependencies from ``dependencies_tier``'s lock, and every module is imported there.
    """
    config = _config(session)
    sync(session, "packaging")
    out = config.root / "dist"
    shutil.rmtree(out, ignore_errors=True)  # check exactly what this build made
    session.run("python", "-m", "build", "--installer=uv", "--outdir", str(out), str(config.root))
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise CommandFailedError(
            f"expected one wheel and one sdist in {out}, found {len(wheels)} and {len(sdists)}",
            fix="check the build backend's configuration in pyproject.toml",
        )
    session.run("twine", "check", "--strict", str(wheels[0]), str(sdists[0]))
    session.run("check-wheel-contents", str(wheels[0]))
    package_dir = config.root / "src" / package
    check = dist.verify_wheel_imports(
        wheels[0],
        package=package,
        python=_venv_python(session),
        dependency_locks=[config.tier(dependencies_tier).lock],
        expected_modules=dist.source_modules(package_dir) if package_dir.is_dir() else None,
        native_modules=config.native_modules,
    )
    session.log(
        f"import-verified {len(check.imported)} modules of {wheels[0].name} "
        f"installed outside the source tree ({check.location})"
    )
    if check.needs_extras:
        session.log(f"not imported, they need an optional extra: {', '.join(check.needs_extras)}")


@_reported
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
    own_lock = next((s.lock for s in specs if s.name == "lock"), None)
    if own_lock is None or not own_lock.is_file():
        raise TierciError(
            "requirements/lock.txt (the lock session's own pinned pip-tools) is missing",
            fix="create requirements/lock.in with `pip-tools` and `pip`, then "
            "pip-compile --generate-hashes it once by hand",
        )
    sync_lock(session, own_lock)
    upgrades = [
        session.posargs[i + 1]
        for i, arg in enumerate(session.posargs[:-1])
        if arg in ("--upgrade-package", "-P")
    ]
    locks.compile_locks(specs, config.pyproject, python=_venv_python(session), upgrade=upgrades)
    session.log(f"compiled {len(specs)} lock files")


@_reported
def report(session: nox.Session) -> Path:
    """Ingest this commit's JUnit reports into the history and render the HUD.

    Runs in nox's own interpreter (declare the session with ``venv_backend="none"``).
    ``-- --expect unit:4 --expect lint`` names reports that must be there; a missing or
    unreadable one fails the session after the HUD, which shows it, is written.
    """
    config = _config(session)
    expect = [
        parse_expectation(session.posargs[i + 1])
        for i, arg in enumerate(session.posargs[:-1])
        if arg == "--expect"
    ]
    inputs = collect_inputs([config.junit_dir]) if config.junit_dir.is_dir() else []
    if not inputs and not expect:
        raise TierciError(
            f"no JUnit reports in {config.junit_dir}",
            fix="run a test tier first (nox -s unit), or name expected ones with -- --expect",
        )
    with open_history(config.root / HISTORY) as history:
        entries = history.ingest(
            inputs, RunContext.detect(config.root), expect=expect, junit_dir=config.junit_dir
        )
        model = build_hud(history.connection, targets=gate_targets(config.gates))
    written = write_hud(model, config.root / HUD_DIR, ["html", "markdown", "json"])
    for entry in entries:
        summary = entry.summary
        counts = f"{summary.tests} tests" if summary else entry.status.value
        session.log(f"{entry.label}: {counts}{' - ' + entry.problem if entry.problem else ''}")
    index = written[0]
    session.log(f"HUD: {index}")
    problems = [entry.problem for entry in entries if entry.problem]
    if problems:
        raise TierciError(
            f"{len(problems)} report(s) missing or unreadable (the HUD at {index} shows them)",
            fix="re-run the tiers or shards named above",
        )
    return index


@_reported
def wheels_session(session: nox.Session, *, package: str, test_tier: str = "unit") -> Path:
    """Native wheels into ``dist/wheels/``: cibuildwheel, or the fallback where it cannot run.

    Without a container engine: ``build --wheel``, ``auditwheel repair``, import
    verification of ``[tool.tierci] native_modules``, and ``[tool.cibuildwheel]
    test-command`` against the repaired wheel (``test_tier``'s lock for its tools).
    """
    config = _config(session)
    sync(session, "wheels")
    out = config.root / "dist" / "wheels"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    engine = wheels.container_engine()
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
    session.run("python", "-m", "build", "--wheel", "--installer=uv", "--outdir", str(raw),
                str(config.root))  # fmt: skip
    built = sorted(raw.glob("*.whl"))
    if len(built) != 1:
        raise CommandFailedError(f"expected one wheel in {raw}, found {len(built)}",
                                 fix="check the build backend's configuration")  # fmt: skip
    session.run("auditwheel", "repair", "--wheel-dir", str(out), str(built[0]))
    repaired = sorted(out.glob("*manylinux*.whl"))
    if len(repaired) != 1:
        raise CommandFailedError(
            f"auditwheel left {len(repaired)} manylinux wheels in {out}",
            fix="read auditwheel's output above: a library the wheel links may be too new",
        )
    python = _venv_python(session)
    check = dist.verify_wheel_imports(
        repaired[0], package=package, python=python, native_modules=config.native_modules
    )
    session.log(f"import-verified {len(check.imported)} modules of {repaired[0].name}")
    wheels.run_test_command(
        repaired[0], project=config.root, python=python,
        dependency_locks=[config.tier(test_tier).lock], log=session.log,
    )  # fmt: skip
    session.log(f"wheel: {repaired[0]}")
    return out


@_reported
def release_session(session: nox.Session, *, lock_name: str = "release") -> None:
    """``tierci release`` with the session's arguments, in ``requirements/<lock_name>.txt``.

    Credentials reach twine through the environment (TWINE_USERNAME/TWINE_PASSWORD) or
    its keyring; nothing here takes or prints them.
    """
    _sync_tool_lock(session, _config(session), lock_name)
    session.run("tierci", "release", *session.posargs)


def _sync_tool_lock(session: nox.Session, config: TierciConfig, lock_name: str) -> None:
    """Sync a session that runs the ``tierci`` command to ``requirements/<lock_name>.txt``.

    The project goes in only where the lock carries its dependencies (tierci itself);
    an adopter's tool lock pins tierci like any other tool.
    """
    project = config.root if lock_name in config.project_dependency_locks else None
    sync_lock(session, config.root / "requirements" / f"{lock_name}.txt", project=project)
