"""The pytest side of tierci, loaded through the ``pytest11`` entry point.

- registers the markers ``heavy``, ``device``, ``e2e`` and ``env(name)``;
- ``--tier NAME`` selects the tier's marker expression from ``[tool.tierci]``;
- ``--shard i/n`` keeps one deterministic share of the selected tests, balanced on
  recorded durations (``--shard-durations``: a JUnit report, a folder of them, or the
  run history; by default ``build/tierci/history.sqlite`` when it exists);
- ``--tier-env NAME`` runs the tests marked ``env(NAME)`` (and only those);
- ``--scope PCT`` keeps a stable PCT% subset of the selected tests (staged rollout:
  stage 1 runs 5%, stage 2 25%, …; a test in the 5% stays in the 25%);
- every JUnit report gets the properties ``tier``, ``shard``, ``env``, ``commit``,
  ``python`` and ``platform``;
- a tier that selects no tests fails (exit 5), unless the tier sets ``allow_empty = true``;
- a tierci error ends the run with the error's exit code (2 for configuration, 4 for
  a wrong ``--shard``, ...), its message and its fix; ``$TIERCI_EXIT_REASON_FILE``,
  where set (``noxlib`` sets it), receives the code and message as JSON. The variable
  is taken out of the environment at start, so the pytest runs that tests start
  themselves (pytester, subprocesses) cannot write there;
- an attempt that a rerun plugin (pytest-rerunfailures) runs again gets the testcase
  properties ``tierci.attempt`` (``failed``, or ``error`` outside the test's call) and
  ``tierci.attempt.message`` in the JUnit report: the plugin writes such an attempt as a
  bare testcase, and tierci's reports say what became of it themselves;
- a tier run honours ``quarantine.toml``: quarantined tests run, and their failures alone
  do not fail the tier; an entry that is expired, never ends, ends beyond
  ``quarantine_max_days`` or names no test ends the run at start (exit 2), and one that
  matches more than ``quarantine_max_percent`` of the tests the tier selected (before
  ``--shard`` and ``--scope`` split them), or all of them, ends it at collection;
- a tier with ``requires_device`` (the device tier) detects the accelerator, records
  it in the report (``device``, ``device_driver``, ``device_cuda``), and where there is
  none exits 8 with a one-line reason, unless ``--allow-no-device``: then its tests
  are reported skipped, with the reason, and the tier shows as skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest
from _pytest.junitxml import xml_key  # the stash key pytest's own record_testsuite_property uses

from tierci import quarantine
from tierci.config import load_config, tier_slot
from tierci.device import DeviceInfo, detect_device, no_device_error
from tierci.errors import EmptyTierError, TierciError, UsageError
from tierci.junit.model import ATTEMPT_MESSAGE_PROPERTY, ATTEMPT_PROPERTY, QUARANTINE_PROPERTY
from tierci.provenance import commit_sha, platform_tag, python_version
from tierci.quarantine import load_quarantine, matching
from tierci.quarantine_bounds import refusal_error, refused_by_date_or_glob, refused_by_share
from tierci.report import DEFAULT_HISTORY
from tierci.report.durations import junit_test_id, load_durations, project_durations
from tierci.sharding import Shard, in_scope, parse_scope, parse_shard, select_balanced

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tierci.config import TierConfig
    from tierci.quarantine import Entry
    from tierci.quarantine_bounds import QuarantineBounds

__all__ = ["MARKERS"]

MARKERS = {
    "heavy": "needs heavy dependencies (torch, CUDA wheels); runs in the heavy tier",
    "device": "needs an accelerator; runs in the device tier on GPU hosts",
    "e2e": "end-to-end: builds and runs whole projects; slow",
    "env(name)": "runs only in the named environment (tierci env / heavy(env=...))",
}

#: Set by a nox session (noxlib) to learn why the run ended; see the module docstring.
EXIT_REASON_VARIABLE = "TIERCI_EXIT_REASON_FILE"
_exit_reason_file: Path | None = None

_tier_key = pytest.StashKey["TierConfig"]()
_scope_key = pytest.StashKey[float]()
_shard_key = pytest.StashKey[Shard]()
_device_key = pytest.StashKey[DeviceInfo]()
_shard_note_key = pytest.StashKey[str]()
_MAX_ATTEMPT_MESSAGE = 500  # what the JUnit reader keeps of a message


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tierci", "tierci tiers")
    group.addoption(
        "--tier",
        metavar="NAME",
        default=None,
        help="run the tests of this tier ([tool.tierci.tiers.NAME] in pyproject.toml)",
    )
    group.addoption(
        "--shard",
        metavar="I/N",
        default=None,
        help="run only shard I of N of the selected tests (deterministic split)",
    )
    group.addoption(
        "--shard-durations",
        metavar="PATH",
        default=None,
        help="recorded durations for --shard: a JUnit report, a folder, or a history .sqlite "
        f"(default: $TIERCI_HISTORY, else {DEFAULT_HISTORY}, if it exists)",
    )
    group.addoption(
        "--scope",
        metavar="PCT",
        default=None,
        help="run a stable PCT%% subset of the selected tests (staged rollout), e.g. 25",
    )
    group.addoption(
        "--tier-env",
        metavar="NAME",
        default=None,
        help="run only the tests marked env(NAME); without it, env-marked tests are deselected",
    )
    group.addoption(
        "--allow-no-device",
        action="store_true",
        default=False,
        help="a device tier on a host without a device: report its tests skipped, not exit 8",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _exit_reason_file  # noqa: PLW0603 - one per process: the outermost run's
    reason_file = os.environ.pop(EXIT_REASON_VARIABLE, None)
    if reason_file:
        _exit_reason_file = Path(reason_file)
    for marker, description in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {description}")
    config.pluginmanager.register(_AttemptRecorder(), "tierci-attempts")
    tier_name: str | None = config.getoption("tier")
    shard_text: str | None = config.getoption("shard")
    try:
        if shard_text:
            config.stash[_shard_key] = parse_shard(shard_text)
        scope_text: str | None = config.getoption("scope")
        if scope_text:
            config.stash[_scope_key] = parse_scope(scope_text)
        if tier_name:
            project = load_config(config.rootpath)
            tier = project.tier(tier_name)
            config.stash[_tier_key] = tier
            _apply_tier_markers(config, tier)
            if tier.requires_device:
                _check_device(config, tier.name)
            path = project.quarantine_file
            entries = load_quarantine(path) if path else ()
            bounds = project.quarantine_bounds
            refusals = refused_by_date_or_glob(entries, on=quarantine.today(), bounds=bounds)
            if refusals:
                raise refusal_error(path, refusals)
            if entries:
                slot = tier_slot(tier.name, config.getoption("tier_env"))
                plugin = _Quarantine(entries, bounds=bounds, path=path, tier=slot)
                config.pluginmanager.register(plugin, _QUARANTINE_PLUGIN)
    except TierciError as exc:
        _end_run(exc)


_QUARANTINE_PLUGIN = "tierci-quarantine"


class _Quarantine:
    """Quarantined tests run; their JUnit testcase says so; their failures alone do not
    fail the tier (any other failure still does)."""

    def __init__(
        self, entries: Sequence[Entry], *, bounds: QuarantineBounds, path: Path | None, tier: str
    ) -> None:
        self.entries = entries
        self.bounds = bounds
        self.path = path
        self.tier = tier
        self.quarantined: set[str] = set()
        self.failed_quarantined: set[str] = set()
        self.failed_others: set[str] = set()

    def judge(self, items: Sequence[pytest.Item]) -> None:
        """End the run where an entry is too broad for the tests the tier selected."""
        refusals = refused_by_share(
            self.entries,
            (junit_test_id(item.nodeid) for item in items),
            bounds=self.bounds,
            tier=f"tier {self.tier!r} in this run",
        )
        if refusals:
            _end_run(refusal_error(self.path, refusals))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            entry = matching(self.entries, junit_test_id(item.nodeid))
            if entry is not None:
                item.user_properties.append((QUARANTINE_PROPERTY, entry.reason))
                self.quarantined.add(item.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            failed = self.failed_quarantined if report.nodeid in self.quarantined else None
            (failed if failed is not None else self.failed_others).add(report.nodeid)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if (
            session.exitstatus == pytest.ExitCode.TESTS_FAILED
            and self.failed_quarantined
            and not self.failed_others
        ):
            session.exitstatus = pytest.ExitCode.OK
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(
                    f"tierci: {len(self.failed_quarantined)} quarantined test(s) failed, "
                    "as they may: the tier is not failed by them",
                    yellow=True,
                    bold=True,
                )


class _AttemptRecorder:
    """Marks each attempt that a rerun plugin ran again, on the testcase JUnit writes
    for it (at the attempt's teardown report, which carries its properties)."""

    def __init__(self) -> None:
        self._reruns: dict[str, tuple[str, str]] = {}

    @pytest.hookimpl(tryfirst=True)  # before junitxml writes the attempt's testcase
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome: str = report.outcome  # "rerun" is pytest-rerunfailures' own
        if outcome == "rerun":
            self._reruns.setdefault(
                report.nodeid, ("failed" if report.when == "call" else "error", _crash(report))
            )
        if report.when != "teardown":
            return
        rerun = self._reruns.pop(report.nodeid, None)
        # Under pytest-xdist the worker marks it, and the controller sees it marked.
        if rerun is None or any(name == ATTEMPT_PROPERTY for name, _ in report.user_properties):
            return
        report.user_properties.append((ATTEMPT_PROPERTY, rerun[0]))
        if rerun[1]:
            report.user_properties.append((ATTEMPT_MESSAGE_PROPERTY, rerun[1]))


def _crash(report: pytest.TestReport) -> str:
    """The one-line message JUnit would have given the attempt's failure."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "") or report.longreprtext)
    return message.strip()[:_MAX_ATTEMPT_MESSAGE]


def _end_run(error: TierciError) -> NoReturn:
    """Stop pytest with the error's message, fix and exit code (and leave the reason
    where the nox session reads it)."""
    _leave_reason(error)
    pytest.exit(str(error), returncode=error.return_code)


def _leave_reason(error: TierciError) -> None:
    if _exit_reason_file is not None:
        reason = {"code": error.return_code, "message": error.message, "fix": error.fix}
        _exit_reason_file.write_text(json.dumps(reason), encoding="utf-8")


def _check_device(config: pytest.Config, tier: str) -> None:
    info = detect_device()
    config.stash[_device_key] = info
    if not info.present and not config.getoption("allow_no_device"):
        _end_run(no_device_error(info, tier))


def _apply_tier_markers(config: pytest.Config, tier: TierConfig) -> None:
    if tier.markers is None:
        raise UsageError(
            f"tier {tier.name!r} runs no pytest (it has no markers expression)",
            fix=f"set markers in [tool.tierci.tiers.{tier.name}] to give it tests",
        )
    user_expression: str = config.option.markexpr
    config.option.markexpr = (
        f"({tier.markers}) and ({user_expression})" if user_expression else tier.markers
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Stamp the JUnit report with where the run belongs (after junitxml registered)."""
    config = session.config
    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    tier = config.stash.get(_tier_key, None)
    shard = config.stash.get(_shard_key, None)
    properties = {
        "tier": tier.name if tier else "",
        "shard": str(shard) if shard else "",
        "scope": f"{config.stash.get(_scope_key, 100.0):g}%",
        "env": config.getoption("tier_env") or "",
        "commit": commit_sha(Path(config.rootpath)),
        "python": python_version(),
        "platform": platform_tag(),
    }
    device = config.stash.get(_device_key, None)
    if device is not None:
        properties.update(device.properties())
    for name, value in properties.items():
        xml.add_global_property(name, value)


@pytest.hookimpl(trylast=True)  # after -m/-k deselection, so shards split what the tier selected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    active_env: str | None = config.getoption("tier_env")
    kept = [item for item in items if _env_of(item) == active_env]
    quarantined = config.pluginmanager.get_plugin(_QUARANTINE_PLUGIN)
    if isinstance(quarantined, _Quarantine):  # judged on the tier's tests, before a split
        quarantined.judge(kept)
    scope = config.stash.get(_scope_key, None)
    if scope is not None:
        kept = [item for item in kept if in_scope(item.nodeid, scope)]
    shard = config.stash.get(_shard_key, None)
    if shard is not None:
        durations = _recorded_durations(config)
        kept = select_balanced(kept, shard, durations, lambda item: junit_test_id(item.nodeid))
    device = config.stash.get(_device_key, None)
    if device is not None and not device.present:
        skip = pytest.mark.skip(reason=f"no device (allowed by --allow-no-device): {device.reason}")
        for item in kept:
            item.add_marker(skip)
    if len(kept) != len(items):
        kept_ids = {id(item) for item in kept}
        config.hook.pytest_deselected(items=[i for i in items if id(i) not in kept_ids])
        items[:] = kept


def _recorded_durations(config: pytest.Config) -> dict[str, float]:
    given: str | None = config.getoption("shard_durations")
    tier = config.stash.get(_tier_key, None)
    slot = tier_slot(tier.name, config.getoption("tier_env")) if tier else None
    if not given:
        # The project's history ($TIERCI_HISTORY, else the default): missing or broken on
        # its way from a CI cache, the shards are dealt round-robin, never failed.
        durations, config.stash[_shard_note_key] = project_durations(
            Path(config.rootpath), tier=slot
        )
        return durations
    path = Path(given)
    try:
        durations = load_durations(path, tier=slot if path.suffix in (".sqlite", ".db") else None)
    except TierciError as exc:
        _end_run(exc)
    config.stash[_shard_note_key] = f"balanced on {len(durations)} recorded durations from {path}"
    return durations


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    note = config.stash.get(_shard_note_key, None)
    shard = config.stash.get(_shard_key, None)
    return f"tierci: shard {shard}: {note}" if note and shard else None


def _env_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("env")
    if marker is None:
        return None
    name = marker.args[0] if marker.args else marker.kwargs.get("name")
    if not isinstance(name, str):
        _end_run(
            UsageError(
                f"{item.nodeid}: the env marker names no environment",
                fix="write it as @pytest.mark.env('NAME')",
            )
        )
    return name


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """'Nothing ran' is a failure of the tier unless the tier allows it."""
    tier = session.config.stash.get(_tier_key, None)
    if tier is None or exitstatus != pytest.ExitCode.NO_TESTS_COLLECTED:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if tier.allow_empty:
        session.exitstatus = pytest.ExitCode.OK
        message = f"tierci: tier {tier.name!r} selected no tests; allowed (allow_empty = true)"
    else:
        error = EmptyTierError(
            f"tierci: tier {tier.name!r} selected no tests ({tier.markers!r}); a tier that "
            "runs nothing is a failure",
            fix=f"mark tests for it, or set allow_empty = true in [tool.tierci.tiers.{tier.name}]",
        )
        session.exitstatus = error.return_code
        _leave_reason(error)
        message = f"{error.message}. Fix: {error.fix}"
    if reporter is not None:
        reporter.write_line(message, yellow=tier.allow_empty, red=not tier.allow_empty, bold=True)
