"""``[tool.tierci]`` in pyproject.toml, resolved once into frozen dataclasses.

Every tier has a built-in default, so a project with no table at all still gets the
standard tiers; a project's table overrides field by field and may add tiers. Unknown
keys and wrong types are errors that name the file, the table and the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import keyword
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierci.errors import ConfigError
from tierci.junit.producer import PRODUCERS, Producer
from tierci.locks.sources import PackageSources, parse_sources
from tierci.quarantine_bounds import MAX_DAYS_CEILING, QuarantineBounds

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CI_SYSTEMS",
    "DEFAULT_TIERS",
    "CiConfig",
    "EnvConfig",
    "GateConfig",
    "TierConfig",
    "TierciConfig",
    "WheelhouseConfig",
    "find_pyproject",
    "import_name",
    "load_config",
    "load_config_if_present",
    "parse_config",
    "tier_slot",
]

#: Marker expressions of the built-in test tiers; ``None`` means the tier runs no pytest.
_BUILTIN_MARKERS: dict[str, str | None] = {
    "lint": None,
    "unit": "not heavy and not device and not e2e",
    "packaging": None,
    "heavy": "heavy",
    "device": "device",
    "wheels": None,
}
DEFAULT_TIERS: tuple[str, ...] = tuple(_BUILTIN_MARKERS)

_TOP_KEYS: dict[str, type] = {
    "junit_dir": str,
    "tiers": dict,
    "project_dependency_locks": list,
    "wheelhouse": dict,
    "envs": dict,
    "env_dir": str,
    "native_modules": list,
    "gates": dict,
    "lock_options": list,
    "base_branch": str,
    "quarantine_file": str,
    "quarantine_max_days": int,
    "quarantine_max_percent": float,
    "project_extras": list,
    "package": str,
    "find_links": list,
    "extra_index_urls": list,
    "ci": dict,
}
_GATE_KEYS = ("max_flaky_percent", "min_pass_percent", "max_time_to_signal_minutes", "fail_on")
#: ``fail_on``: "any" failure fails the report's gate, or only "new" ones (and holes).
FAIL_ON = ("any", "new")
_TIER_KEYS: dict[str, type] = {
    "lock": str,
    "markers": str,
    "allow_empty": bool,
    "install_project": bool,
    "pytest_args": list,
    "requires_device": bool,
    "reruns": int,
    "reruns_delay": float,
    "pythons": list,
    "tools": list,
    "shards": int,
    "schedule": str,
    "runner": list,
    "timeout_minutes": int,
    "agent_needs": list,
    "junit_producer": str,
}
#: ``[tool.tierci.ci]``: how ``tierci ci render`` writes the CI files.
_CI_KEYS: dict[str, type] = {
    "systems": list,
    "python": str,
    "release": bool,
    "keep_commits": int,
    "jenkins_agent": str,
    "jenkins_device_agent": str,
    "wheel_runners": list,
}
CI_SYSTEMS = ("github", "jenkins")
#: When a scheduled tier runs in GitHub Actions unless its ``schedule`` says otherwise:
#: heavy nightly, device weekly (Jenkins runs heavy nightly on the same hour).
_DEFAULT_SCHEDULES = {"heavy": "17 3 * * *", "device": "41 4 * * 1"}
#: What ``.ci/agent-check`` can check on a Jenkins agent (``agent_needs``).
AGENT_NEEDS = ("python3", "git", "node", "java", "chromium")
_WHEELHOUSE_KEYS: dict[str, type] = {
    "dir": str,
    "locks": list,
    "required": list,
    "variant": str,
    "fallback": bool,
    "pip_args": list,
    "max_unpacked_mib": int,
}
_ENV_KEYS: dict[str, type] = {"lock": str, "python": str, "post_install": list}
#: The heavy tier's own environment; an env may not take its name.
DEFAULT_ENV = "default"
_TYPE_WORDS = {
    str: "a string",
    bool: "a boolean (true/false)",
    int: "a whole number",
    float: "a number",
    list: "a list",
    dict: "a table",
}
#: The most a wheelhouse archive may unpack to: a CUDA torch wheelhouse (torch, the
#: nvidia-* wheels, triton) is 3-5 GB, so twice that.
DEFAULT_MAX_UNPACKED_MIB = 8192


@dataclass(frozen=True, kw_only=True)
class TierConfig:
    """One tier: which lock its environment is synced to and which tests it selects."""

    name: str
    lock: Path
    markers: str | None
    allow_empty: bool
    install_project: bool
    pytest_args: tuple[str, ...]
    #: Fails (exit 8) where no accelerator is found, unless --allow-no-device.
    requires_device: bool = False
    #: Runs a failed test again up to this many times (pytest-rerunfailures, which the
    #: tier's lock must hold); a test that passes on a rerun is flaky, never passed.
    reruns: int = 0
    #: Seconds between the attempts.
    reruns_delay: float = 0.0
    #: The Pythons the tier runs on (``"3.12"``): its nox session is parametrized over
    #: them and its lock compiled on each and merged (markers for what differs). Empty:
    #: the interpreter that runs nox.
    pythons: tuple[str, ...] = ()
    #: The lint tier's tools (tierci.lint); empty: detected from the project.
    tools: tuple[str, ...] = ()
    #: CI runs the tier in this many shards (``-- --shard i/n``), each a job of its own.
    shards: int = 1
    #: Cron (GitHub's syntax, UTC) of a tier that runs on a schedule in a workflow of its
    #: own instead of on every push: heavy and device by default; empty: every push.
    schedule: str = ""
    #: GitHub ``runs-on`` labels of the tier's jobs.
    runner: tuple[str, ...] = ("ubuntu-latest",)
    #: ``timeout-minutes`` of the tier's CI jobs.
    timeout_minutes: int = 30
    #: What ``.ci/agent-check`` must also find on a Jenkins agent for this tier
    #: (``chromium``, ``node``, ``java``).
    agent_needs: tuple[str, ...] = ()
    #: The tool that writes the tier's JUnit reports (``jest``, ``gotestsum``: one of
    #: tierci.junit.producer's), which says what a repeated test name in them means;
    #: empty: detected from each report.
    junit_producer: str = ""

    @property
    def lock_input(self) -> Path:
        """The ``.in`` file the lock is compiled from."""
        return self.lock.with_suffix(".in")

    @property
    def runs_tests(self) -> bool:
        return self.markers is not None


@dataclass(frozen=True, kw_only=True)
class WheelhouseConfig:
    """``[tool.tierci.wheelhouse]``: where heavy wheels are kept and what they must cover."""

    dir: Path
    #: The locks the wheelhouse serves; environments synced to one install from it offline.
    locks: tuple[Path, ...]
    #: Packages that must be in the wheelhouse as wheels (e.g. numpy, torch).
    required: tuple[str, ...]
    #: cpu, cu126, ... (part of the cache key); empty: read from the locks' local versions.
    variant: str
    #: May a package missing from the wheelhouse come from the index (always logged)?
    fallback: bool
    #: Extra pip arguments for ``wheelhouse build`` (``--extra-index-url ...``).
    pip_args: tuple[str, ...]
    #: The most an archive may unpack to; refused before anything is written if more.
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_MIB << 20


@dataclass(frozen=True, kw_only=True)
class GateConfig:
    """``[tool.tierci.gates]``: the HUD's quality bar."""

    max_flaky_percent: float = 5.0
    min_pass_percent: float = 95.0
    max_time_to_signal_minutes: float = 30.0
    #: "new": only failures that passed on the base branch (and holes) fail the gates.
    fail_on: str = "any"


@dataclass(frozen=True, kw_only=True)
class CiConfig:
    """``[tool.tierci.ci]``: the CI files ``tierci ci render`` writes."""

    #: github and/or jenkins; default: those the repository has (``.github/``,
    #: ``Jenkinsfile``), both where it has neither.
    systems: tuple[str, ...] = CI_SYSTEMS
    #: The Python of the jobs that are not a tier's matrix (lint, packaging, report).
    python: str = "3.11"
    #: A release workflow (trusted publishing) and a Jenkins Release stage.
    release: bool = True
    #: The report keeps the newest this many commits of the run history.
    keep_commits: int = 500
    #: The Jenkins label of every stage's agent, and of the device tier's.
    jenkins_agent: str = "linux"
    jenkins_device_agent: str = "gpu"
    #: GitHub runners the native wheels are built on, one job each (no emulation).
    wheel_runners: tuple[str, ...] = ("ubuntu-latest", "ubuntu-24.04-arm")


@dataclass(frozen=True, kw_only=True)
class EnvConfig:
    """``[tool.tierci.envs.NAME]``: an environment built on demand from its own lock."""

    name: str
    lock: Path
    python: str | None
    #: Commands run inside the new environment before it is marked ready.
    post_install: tuple[tuple[str, ...], ...]


def slot_file_stem(slot: str, shard: str | None = "", python: str = "") -> str:
    """``unit``, ``unit-2of4``, ``unit-py3.12-2of4``: the name of a slot's report and
    record (the Python only where a tier runs on several)."""
    return "".join(
        (slot, f"-py{python}" if python else "", f"-{shard.replace('/', 'of')}" if shard else "")
    )


def tier_slot(tier: str, env: str | None = None) -> str:
    """The name a tier's run has in reports and the HUD: ``heavy``, ``heavy-legacy``."""
    return f"{tier}-{env}" if env and env != DEFAULT_ENV else tier


@dataclass(frozen=True, kw_only=True)
class TierciConfig:
    """The resolved configuration of one project."""

    root: Path
    pyproject: Path
    junit_dir: Path
    tiers: Mapping[str, TierConfig]
    #: Locks that no tier installs the project from but that still need its
    #: dependencies (``bootstrap``, when the project runs its own tools from source).
    project_dependency_locks: tuple[str, ...] = ()
    #: None when the project has no ``[tool.tierci.wheelhouse]`` table.
    wheelhouse: WheelhouseConfig | None = None
    envs: Mapping[str, EnvConfig] = field(default_factory=dict)
    #: Where on-demand environments live (None: the user cache folder).
    env_dir: Path | None = None
    #: Compiled modules the built wheel must contain and import (``pkg._core``).
    native_modules: tuple[str, ...] = ()
    gates: GateConfig = field(default_factory=GateConfig)
    #: Option lines a lock may carry (``--extra-index-url URL``), each exactly, normalised;
    #: any other option line in a lock is an error (``read_lock(allowed_options=...)``).
    lock_options: tuple[str, ...] = ()
    #: The branch failures are labelled against (new / pre-existing); empty: from CI
    #: (``GITHUB_BASE_REF``, ``CHANGE_TARGET``) or the repository's default branch.
    base_branch: str = ""
    #: The reviewed list of quarantined tests (quarantine.py); it need not exist.
    quarantine_file: Path | None = None
    #: ``quarantine_max_days`` and ``quarantine_max_percent``: how far an entry may reach.
    quarantine_bounds: QuarantineBounds = field(default_factory=QuarantineBounds)
    #: Extras of the project whose dependencies the project's locks hold too.
    project_extras: tuple[str, ...] = ()
    #: The import name of the project's package (``[tool.tierci] package``, else
    #: ``[project] name`` with ``-`` and ``.`` as ``_``): what packaging verifies.
    package: str = ""
    #: Where packages PyPI lacks come from (locks/sources.py): every lock carries them.
    sources: PackageSources | None = None
    #: Tiers named in ``[tool.tierci.tiers]`` (the rest are built-in defaults).
    declared_tiers: tuple[str, ...] = ()
    #: ``[tool.tierci.ci]``: what ``tierci ci render`` writes.
    ci: CiConfig = field(default_factory=CiConfig)

    @property
    def enabled_tiers(self) -> tuple[str, ...]:
        """The tiers this project has: lint, unit and packaging always; any other when
        declared in ``[tool.tierci.tiers]`` or when its lock's ``.in`` file exists (and
        ``wheels`` when the project has native modules). Sessions and CI files exist
        for these, in this order."""
        always = {"lint", "unit", "packaging"}
        return tuple(
            name
            for name, tier in self.tiers.items()
            if name in always
            or name in self.declared_tiers
            or tier.lock_input.is_file()
            or (name == "wheels" and bool(self.native_modules))
        )

    @property
    def pipeline_tiers(self) -> tuple[str, ...]:
        """The tiers every push runs (``inv ci``, nox's default sessions, the CI
        workflow's jobs): the enabled ones, less those with a ``schedule`` (heavy's
        default), wheels and those needing a device, which run on a schedule, at a
        release or on their own hosts. Packaging comes last."""
        tiers = [
            name
            for name in self.enabled_tiers
            if name != "wheels"
            and not self.tiers[name].schedule
            and not self.tiers[name].requires_device
        ]
        return tuple(sorted(tiers, key=lambda name: name == "packaging"))

    @property
    def junit_producers(self) -> dict[str, Producer]:
        """The tiers that name their reports' producer (``junit_producer``), with it:
        what ingest and merge read those tiers' reports as."""
        return {
            name: PRODUCERS[tier.junit_producer]
            for name, tier in self.tiers.items()
            if tier.junit_producer
        }

    def env(self, name: str) -> EnvConfig:
        try:
            return self.envs[name]
        except KeyError:
            known = ", ".join(sorted(self.envs)) or "none are declared"
            raise ConfigError(
                f"{self.pyproject}: no environment named {name!r}{_did_you_mean(name, self.envs)}",
                fix=f"use one of: {known}; or add [tool.tierci.envs.{name}] with a lock",
            ) from None

    def uses_wheelhouse(self, lock: Path) -> bool:
        """Whether environments synced to ``lock`` install from the wheelhouse."""
        return self.wheelhouse is not None and lock.resolve() in {
            p.resolve() for p in self.wheelhouse.locks
        }

    def tier(self, name: str) -> TierConfig:
        try:
            return self.tiers[name]
        except KeyError:
            raise ConfigError(
                f"{self.pyproject}: no tier named {name!r}{_did_you_mean(name, self.tiers)}",
                fix=f"use one of: {', '.join(sorted(self.tiers))}, "
                f"or add [tool.tierci.tiers.{name}] to {self.pyproject.name}",
            ) from None

    def junit_path(
        self, tier: str, shard: str | None = None, env: str | None = None, python: str = ""
    ) -> Path:
        """``<junit_dir>/<tier>[-<env>][-py<python>][-<i>of<n>].xml``: one file per tier,
        env, Python (for a tier with ``pythons``) and shard."""
        return self.junit_dir / f"{slot_file_stem(tier_slot(tier, env), shard, python)}.xml"


def find_pyproject(start: Path) -> Path:
    """The nearest pyproject.toml at or above ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no pyproject.toml at or above {start}",
        fix="run from the project's directory, or create pyproject.toml with a [tool.tierci] table",
    )


def load_config(start: Path | None = None) -> TierciConfig:
    """Read and validate ``[tool.tierci]`` of the project containing ``start``."""
    pyproject = find_pyproject(start or Path.cwd())
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{pyproject}: not valid TOML: {exc}", fix="correct the syntax at the named line"
        ) from exc
    table = data.get("tool", {}).get("tierci", {})
    project_name = data.get("project", {}).get("name", "")
    return parse_config(table, pyproject=pyproject, project_name=str(project_name))


def load_config_if_present(start: Path | None = None) -> TierciConfig | None:
    """Like :func:`load_config`, but None where no pyproject.toml is at or above
    ``start`` (a Go, Jest or ctest repository whose reports tierci reads)."""
    try:
        find_pyproject(start or Path.cwd())
    except ConfigError:
        return None
    return load_config(start)


def parse_config(
    table: Mapping[str, Any], *, pyproject: Path, project_name: str = ""
) -> TierciConfig:
    """Validate a ``[tool.tierci]`` table already read from ``pyproject`` (whose
    ``[project] name`` gives the package's default import name)."""
    where = f"{pyproject}: [tool.tierci]"
    _check_keys(table, _TOP_KEYS, where=where)
    root = pyproject.parent
    tiers_table: Mapping[str, Any] = table.get("tiers", {})
    names = list(DEFAULT_TIERS) + [n for n in tiers_table if n not in DEFAULT_TIERS]
    tiers: dict[str, TierConfig] = {}
    for name in names:
        entry = tiers_table.get(name, {})
        _check_tier_name(name, where=f"{where}.tiers")
        if not isinstance(entry, dict):
            raise ConfigError(
                f"{where}.tiers.{name} must be a table, got {type(entry).__name__}",
                fix=f"write it as [tool.tierci.tiers.{name}] with keys {', '.join(_TIER_KEYS)}",
            )
        tiers[name] = _parse_tier(name, entry, root=root, where=f"{where}.tiers.{name}")
    if "markers" not in tiers_table.get("unit", {}):
        tiers["unit"] = _unit_without_custom_tiers(tiers)
    envs = _parse_envs(table.get("envs", {}), root=root, where=f"{where}.envs")
    sources = parse_sources(
        _strings(table, "find_links", where=where),
        _strings(table, "extra_index_urls", where=where),
        root=root,
        where=where,
    )
    wheelhouse = (
        _parse_wheelhouse(
            table["wheelhouse"],
            root=root,
            where=f"{where}.wheelhouse",
            default_locks=[tiers["heavy"].lock, *(env.lock for env in envs.values())],
        )
        if "wheelhouse" in table
        else None
    )
    return TierciConfig(
        root=root,
        pyproject=pyproject,
        junit_dir=root / _relative_folder(table, "junit_dir", "build/junit", where=where),
        tiers=tiers,
        project_dependency_locks=tuple(_strings(table, "project_dependency_locks", where=where)),
        wheelhouse=wheelhouse,
        envs=envs,
        env_dir=root / table["env_dir"] if "env_dir" in table else None,
        native_modules=_module_names(table, "native_modules", where=where),
        gates=_parse_gates(table.get("gates", {}), where=f"{where}.gates"),
        lock_options=_parse_lock_options(table, where=where)
        + _source_options(sources, [t.lock for t in tiers.values()], envs),
        base_branch=_branch_name(table.get("base_branch", ""), where=where),
        quarantine_file=root / table.get("quarantine_file", "quarantine.toml"),
        quarantine_bounds=_parse_quarantine_bounds(table, where=where),
        project_extras=tuple(_strings(table, "project_extras", where=where)),
        sources=sources,
        package=_package_name(table, project_name, where=where),
        declared_tiers=tuple(tiers_table),
        ci=_parse_ci(table.get("ci", {}), root=root, where=f"{where}.ci"),
    )


def _parse_ci(entry: Mapping[str, Any], *, root: Path, where: str) -> CiConfig:
    _check_keys(entry, _CI_KEYS, where=where)
    markers = (root / ".github", root / "Jenkinsfile")
    detected = tuple(
        system for system, marker in zip(CI_SYSTEMS, markers, strict=True) if marker.exists()
    )
    systems = tuple(_strings(entry, "systems", where=where)) or detected or CI_SYSTEMS
    unknown = [system for system in systems if system not in CI_SYSTEMS]
    if unknown or len(set(systems)) != len(systems):
        raise ConfigError(
            f"{where}: systems must name each of {', '.join(CI_SYSTEMS)} at most once, "
            f"got {list(systems)!r}",
            fix='write e.g. systems = ["github"]',
        )
    python = entry.get("python", CiConfig.python)
    _parse_pythons({"pythons": [python]}, where=where)
    return CiConfig(
        systems=systems,
        python=python,
        release=entry.get("release", True),
        keep_commits=_positive(entry, "keep_commits", CiConfig.keep_commits, where),
        jenkins_agent=_label(entry, "jenkins_agent", CiConfig.jenkins_agent, where),
        jenkins_device_agent=_label(
            entry, "jenkins_device_agent", CiConfig.jenkins_device_agent, where
        ),
        wheel_runners=tuple(_labels(entry, "wheel_runners", where)) or CiConfig.wheel_runners,
    )


_LABEL = re.compile(r"[\w.-]+")


def _label(entry: Mapping[str, Any], key: str, default: str, where: str) -> str:
    value: str = entry.get(key, default)
    if not _LABEL.fullmatch(value):
        raise ConfigError(
            f"{where}: {key} {value!r} is not a runner or agent label",
            fix=f'use letters, digits, ".", "-" and "_", e.g. {key} = "{default}"',
        )
    return value


def _labels(entry: Mapping[str, Any], key: str, where: str) -> list[str]:
    labels = _strings(entry, key, where=where)
    for label in labels:
        _label({key: label}, key, "ubuntu-latest", where)
    return labels


#: Names of the pipeline's own sessions and tasks: a tier by one of these names would
#: replace the session (or invoke's `ci`) in every CI system.
RESERVED_NAMES = ("lock", "release", "report", "wheelhouse", "ci")
_TIER_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_FOLDER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(?:/[A-Za-z0-9_][A-Za-z0-9._-]*)*")
_BRANCH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]*")


def _check_tier_name(name: str, *, where: str) -> None:
    # Tier names become nox sessions, invoke tasks, CI job and stage names, file names.
    if not _TIER_NAME.fullmatch(name):
        raise ConfigError(
            f"{where}: the tier name {name[:60]!r} cannot name a nox session, a CI job and "
            "a Jenkins stage",
            fix="name the tier with lowercase letters, digits, - and _, starting with a letter",
        )
    if name in RESERVED_NAMES:
        raise ConfigError(
            f"{where}: a tier may not be named {name!r}: that is the pipeline's own "
            f"`{name}` session",
            fix=f"choose another name (reserved: {', '.join(RESERVED_NAMES)})",
        )


def _module_names(table: Mapping[str, Any], key: str, *, where: str) -> tuple[str, ...]:
    names = _strings(table, key, where=where)
    for name in names:
        if not all(part.isidentifier() and not keyword.iskeyword(part) for part in name.split(".")):
            raise ConfigError(
                f"{where}: {key} has {name[:80]!r}, not a dotted module name",
                fix='write import names, e.g. native_modules = ["my_pkg._core"]',
            )
    return tuple(names)


def _package_name(table: Mapping[str, Any], project_name: str, *, where: str) -> str:
    """``package``, else ``[project] name`` spelled as an import name (empty where that
    spelling is no import name: packaging then asks for ``package``)."""
    if "package" in table:
        return _module_names({"package": [table["package"]]}, "package", where=where)[0]
    default = import_name(project_name)
    return default if default.isidentifier() and not keyword.iskeyword(default) else ""


def import_name(project_name: str) -> str:
    """The import name a ``[project] name`` spells by convention: ``my-pkg`` → ``my_pkg``."""
    return re.sub(r"[-.]+", "_", project_name).lower()


def _relative_folder(table: Mapping[str, Any], key: str, default: str, *, where: str) -> str:
    """A folder inside the project, in a spelling CI files can carry as it is."""
    value: str = table.get(key, default)
    if not _FOLDER.fullmatch(value) or ".." in value.split("/"):
        raise ConfigError(
            f"{where}: {key} {value[:80]!r} is not a plain folder inside the project",
            fix=f'write a relative path of letters, digits, ".", "_", "-" and "/", '
            f'e.g. {key} = "{default}"',
        )
    return value


def _branch_name(value: str, *, where: str) -> str:
    """A branch name CI files can carry as it is (git's rules, in a narrower alphabet)."""
    if value and (
        not _BRANCH.fullmatch(value)
        or ".." in value
        or "//" in value
        or value.endswith(("/", ".lock", "."))
    ):
        raise ConfigError(
            f"{where}: base_branch {value[:80]!r} is not a branch name",
            fix='write the branch as git shows it, e.g. base_branch = "main"',
        )
    return value


def _unit_without_custom_tiers(tiers: Mapping[str, TierConfig]) -> TierConfig:
    """The unit tier's default selection leaves out the tests of every custom tier that
    selects one marker (``integration``), as it leaves out heavy's and device's: such a
    test runs in one tier. A custom tier with an expression of its own (``"not slow"``)
    may overlap unit on purpose, and is left alone."""
    unit = tiers["unit"]
    custom = [
        tier.markers
        for name, tier in tiers.items()
        if name not in DEFAULT_TIERS and tier.markers and re.fullmatch(r"\w+", tier.markers)
    ]
    if not custom or unit.markers is None:
        return unit
    markers = " and ".join([unit.markers, *(f"not {m}" for m in custom)])
    return dataclasses.replace(unit, markers=markers)


def _source_options(
    sources: PackageSources, locks: list[Path], envs: Mapping[str, EnvConfig]
) -> tuple[str, ...]:
    """The option lines the package sources put in locks: allowed in each lock folder."""
    from tierci.locks.lockfile import normalise_option  # noqa: PLC0415 - as below

    folders = {lock.parent for lock in [*locks, *(env.lock for env in envs.values())]}
    folders.add(sources.root / "requirements")
    return tuple(
        dict.fromkeys(
            normalise_option(line)
            for folder in sorted(folders)
            for line in sources.option_lines(folder)
        )
    )


def _parse_lock_options(table: Mapping[str, Any], *, where: str) -> tuple[str, ...]:
    # Imported here: packaging's parsers cost more than the rest of the configuration.
    from tierci.locks.lockfile import can_be_allowed, normalise_option  # noqa: PLC0415

    options = []
    for entry in _strings(table, "lock_options", where=where):
        option = normalise_option(entry)
        if not option.startswith("-"):
            raise ConfigError(
                f"{where}: lock_options entry {entry!r} is not an option line",
                fix="list whole option lines as they stand in the lock, e.g. "
                '"--extra-index-url https://download.pytorch.org/whl/cpu"',
            )
        if not can_be_allowed(option):
            raise ConfigError(
                f"{where}: lock_options entry {entry!r} cannot be allowed: a lock may not "
                "include other files (-r, -c), editable installs (-e) or lone --hash lines",
                fix="remove the entry, and put the pins in the lock itself (`nox -s lock`)",
            )
        options.append(option)
    return tuple(dict.fromkeys(options))


def _parse_quarantine_bounds(table: Mapping[str, Any], *, where: str) -> QuarantineBounds:
    days = _positive(table, "quarantine_max_days", QuarantineBounds.max_days, where)
    if days > MAX_DAYS_CEILING:
        raise ConfigError(
            f"{where}: quarantine_max_days must be at most {MAX_DAYS_CEILING}, got {days}",
            fix=f"write e.g. quarantine_max_days = {QuarantineBounds.max_days}: a quarantine "
            "is a loan, not a home",
        )
    percent = table.get("quarantine_max_percent", QuarantineBounds.max_percent)
    if not 0 < percent <= 100:  # noqa: PLR2004 - a percentage; false for NaN too
        raise ConfigError(
            f"{where}: quarantine_max_percent must be above 0 and at most 100, got {percent!r}",
            fix=f"write e.g. quarantine_max_percent = {QuarantineBounds.max_percent:g}",
        )
    return QuarantineBounds(max_days=days, max_percent=float(percent))


def _parse_gates(table: Mapping[str, Any], *, where: str) -> GateConfig:
    values: dict[str, float] = {}
    fail_on = table.get("fail_on", "any")
    if fail_on not in FAIL_ON:
        raise ConfigError(
            f"{where}: fail_on must be one of {', '.join(map(repr, FAIL_ON))}, got {fail_on!r}",
            fix='write fail_on = "new" to fail only on failures the base branch does not have',
        )
    for key, value in table.items():
        if key not in _GATE_KEYS:
            choices = dict.fromkeys(_GATE_KEYS)
            raise ConfigError(
                f"{where}: unknown key {key!r}{_did_you_mean(key, choices)}",
                fix=f"valid keys here are: {', '.join(_GATE_KEYS)}",
            )
        if key == "fail_on":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(
                f"{where}: {key} must be a non-negative number, got {value!r}",
                fix=f"write e.g. {key} = 5",
            )
        values[key] = float(value)
    return GateConfig(**values, fail_on=fail_on)


def _parse_wheelhouse(
    entry: Mapping[str, Any], *, root: Path, where: str, default_locks: list[Path]
) -> WheelhouseConfig:
    _check_keys(entry, _WHEELHOUSE_KEYS, where=where)
    locks = [root / lock for lock in _strings(entry, "locks", where=where)] or default_locks
    return WheelhouseConfig(
        dir=root / entry.get("dir", ".wheelhouse"),
        locks=tuple(dict.fromkeys(locks)),
        required=tuple(_strings(entry, "required", where=where)),
        variant=entry.get("variant", ""),
        fallback=entry.get("fallback", False),
        pip_args=tuple(_strings(entry, "pip_args", where=where)),
        max_unpacked_bytes=_positive(entry, "max_unpacked_mib", DEFAULT_MAX_UNPACKED_MIB, where)
        << 20,
    )


def _positive(entry: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or value < 1:
        raise ConfigError(
            f"{where}: {key} must be a whole number above 0, got {value!r}",
            fix=f"write e.g. {key} = {default}",
        )
    return int(value)


def _parse_envs(table: Mapping[str, Any], *, root: Path, where: str) -> dict[str, EnvConfig]:
    envs = {}
    for name, entry in table.items():
        here = f"{where}.{name}"
        if not isinstance(entry, dict):
            raise ConfigError(
                f"{here} must be a table", fix=f'write [tool.tierci.envs.{name}] lock = "..."'
            )
        _check_keys(entry, _ENV_KEYS, where=here)
        if name == DEFAULT_ENV or not name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(
                f"{here}: {name!r} cannot name an environment",
                fix=f"use letters, digits, - and _ (and not {DEFAULT_ENV!r}, the heavy tier's own)",
            )
        if "lock" not in entry:
            raise ConfigError(
                f"{here}: an environment needs a lock",
                fix=f'add lock = "requirements/env-{name}.txt" (compiled by `nox -s lock`)',
            )
        commands = entry.get("post_install", [])
        if not all(
            isinstance(command, list) and command and all(isinstance(w, str) for w in command)
            for command in commands
        ):
            raise ConfigError(
                f"{here}: post_install must be a list of commands, each a list of strings",
                fix='write e.g. post_install = [["python", "-m", "playwright", "install"]]',
            )
        envs[name] = EnvConfig(
            name=name,
            lock=root / entry["lock"],
            python=entry.get("python"),
            post_install=tuple(tuple(command) for command in commands),
        )
    return envs


def _parse_tier(name: str, entry: Mapping[str, Any], *, root: Path, where: str) -> TierConfig:
    _check_keys(entry, _TIER_KEYS, where=where)
    default_markers = _BUILTIN_MARKERS.get(name, name)
    pytest_args = _strings(entry, "pytest_args", where=where)
    reruns, reruns_delay = _parse_reruns(entry, where=where)
    markers = entry.get("markers", default_markers)
    return TierConfig(
        name=name,
        lock=root / entry.get("lock", f"requirements/{name}.txt"),
        markers=markers,
        allow_empty=entry.get("allow_empty", False),
        install_project=entry.get("install_project", True),
        pytest_args=tuple(pytest_args),
        requires_device=entry.get("requires_device", name == "device"),
        reruns=reruns,
        reruns_delay=reruns_delay,
        pythons=_parse_pythons(entry, where=where),
        tools=tuple(_strings(entry, "tools", where=where)),
        junit_producer=_parse_junit_producer(entry, where=where),
        **_parse_tier_ci(name, entry, tests=markers is not None, where=where),
    )


def _parse_junit_producer(entry: Mapping[str, Any], *, where: str) -> str:
    producer: str = entry.get("junit_producer", "")
    if producer and producer not in PRODUCERS:
        raise ConfigError(
            f"{where}: junit_producer {producer!r} is not a tool tierci knows"
            f"{_did_you_mean(producer, PRODUCERS)}",
            fix=f"use one of: {', '.join(PRODUCERS)} (generic: a repeated test is retried), "
            "or remove junit_producer to detect it from each report",
        )
    return producer


_CRON_FIELD = re.compile(r"[\w*,/-]+")
_CRON_FIELDS = 5  # minute hour day month weekday


def _parse_tier_ci(
    name: str, entry: Mapping[str, Any], *, tests: bool, where: str
) -> dict[str, Any]:
    """The keys of a tier that say how CI runs it (``tierci ci render``)."""
    schedule: str = entry.get("schedule", _DEFAULT_SCHEDULES.get(name, ""))
    fields = schedule.split()
    if schedule and (len(fields) != _CRON_FIELDS or not all(map(_CRON_FIELD.fullmatch, fields))):
        raise ConfigError(
            f"{where}: schedule {schedule!r} is not a cron line (five fields)",
            fix='write e.g. schedule = "17 3 * * *" (03:17 UTC every day)',
        )
    if schedule and (not tests or name == "unit"):
        raise ConfigError(
            f"{where}: schedule is for test tiers other than unit (which runs on every push)",
            fix=f"remove schedule from [tool.tierci.tiers.{name}]",
        )
    shards = _positive(entry, "shards", 1, where)
    if shards > 1 and (not tests or schedule or name == "device"):
        raise ConfigError(
            f"{where}: shards is for test tiers that run on every push (unit, and custom "
            "tiers without a schedule)",
            fix=f"remove shards from [tool.tierci.tiers.{name}]",
        )
    device = entry.get("requires_device", name == "device")
    runner = tuple(_labels(entry, "runner", where)) or (
        ("self-hosted", "gpu") if device else ("ubuntu-latest",)
    )
    needs = tuple(_strings(entry, "agent_needs", where=where))
    unknown = [need for need in needs if need not in AGENT_NEEDS]
    if unknown:
        raise ConfigError(
            f"{where}: agent_needs has {unknown[0]!r}, which .ci/agent-check cannot check",
            fix=f"use any of: {', '.join(AGENT_NEEDS)}",
        )
    timeout = 60 if name in {"heavy", "device", "wheels"} else 30 if tests else 20
    return {
        "shards": shards,
        "schedule": schedule,
        "runner": runner,
        "timeout_minutes": _positive(entry, "timeout_minutes", timeout, where),
        "agent_needs": needs,
    }


def _parse_pythons(entry: Mapping[str, Any], *, where: str) -> tuple[str, ...]:
    pythons = _strings(entry, "pythons", where=where)
    for python in pythons:
        if not re.fullmatch(r"3\.\d{1,2}", python):
            raise ConfigError(
                f"{where}: pythons has {python!r}, not a Python version",
                fix='write versions as "3.12" (major.minor), e.g. pythons = ["3.11", "3.12"]',
            )
    if len(set(pythons)) != len(pythons):
        raise ConfigError(f"{where}: pythons names a version twice", fix="list each once")
    return tuple(pythons)


def _parse_reruns(entry: Mapping[str, Any], *, where: str) -> tuple[int, float]:
    reruns: int = entry.get("reruns", 0)
    delay = float(entry.get("reruns_delay", 0.0))
    if isinstance(reruns, bool) or reruns < 0:
        raise ConfigError(
            f"{where}: reruns must be 0 or more, got {reruns!r}",
            fix="write e.g. reruns = 2 (a failed test runs at most twice more)",
        )
    if not 0.0 <= delay < float("inf"):  # false for NaN too
        raise ConfigError(
            f"{where}: reruns_delay must be 0 or more seconds, got {delay!r}",
            fix="write e.g. reruns_delay = 1.5",
        )
    if "reruns_delay" in entry and not reruns:
        raise ConfigError(
            f"{where}: reruns_delay is set, but reruns is not",
            fix="add reruns = N (how often a failed test runs again), or remove reruns_delay",
        )
    return reruns, delay


def _strings(table: Mapping[str, Any], key: str, *, where: str) -> list[str]:
    values = table.get(key, [])
    if not all(isinstance(value, str) for value in values):
        raise ConfigError(f"{where}: {key} must be a list of strings", fix='write e.g. ["a", "b"]')
    return list(values)


def _check_keys(table: Mapping[str, Any], schema: Mapping[str, type], *, where: str) -> None:
    for key, value in table.items():
        expected = schema.get(key)
        if expected is None:
            raise ConfigError(
                f"{where}: unknown key {key!r}{_did_you_mean(key, schema)}",
                fix=f"valid keys here are: {', '.join(schema)}",
            )
        # TOML writes 1.0 as 1 too: where a number is expected, a whole one will do.
        number = expected is float and isinstance(value, int) and not isinstance(value, bool)
        if not (isinstance(value, expected) or number):
            raise ConfigError(
                f"{where}: {key} must be {_TYPE_WORDS[expected]}, "
                f"got {type(value).__name__} {value!r}",
                fix=f"change {key} to {_TYPE_WORDS[expected]}",
            )


def _did_you_mean(word: str, choices: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
