"""Recorded test durations, for balanced shards: from JUnit reports or the run history.

Test ids are the history's (``classname::name``), which is what pytest's own JUnit
report gives a test (``junit_test_id`` maps a node id to it). From the history, each
test's duration is the median of its latest recorded runs in the tier, so one slow
outlier does not move it to another shard. Reports are read with the same trust rules
as everywhere (regular files only, no compressed files); the history is opened read-only.
Without ``--shard-durations``, :func:`project_durations` reads the project's own history
(``$TIERCI_HISTORY_URL``, ``$TIERCI_HISTORY`` or ``build/tierci/history.sqlite``),
where CI restores the history it carries between runs or shares in PostgreSQL; a
missing or broken one deals the shards round-robin.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from _pytest.junitxml import mangle_test_address

from tierci.errors import TierciError, UsageError
from tierci.junit import JUnitError, summarize
from tierci.junit.merge import collect_inputs
from tierci.report.database import HistoryUrl, location_exists
from tierci.report.history import history_location, read_history

if TYPE_CHECKING:
    from pathlib import Path

    from tierci.junit import CaseResult
    from tierci.report.database import HistoryLocation

__all__ = ["junit_test_id", "load_durations", "project_durations"]

_LATEST_RUNS = 5


def junit_test_id(nodeid: str) -> str:
    """``tests/x/test_a.py::TestB::test_c[1]`` → ``tests.x.test_a.TestB::test_c[1]``."""
    names = mangle_test_address(nodeid)
    return f"{'.'.join(names[:-1])}::{names[-1]}"


def load_durations(path: Path, *, tier: str | None = None) -> dict[str, float]:
    """Seconds per test id from a history database, a JUnit file, or a folder of them."""
    if path.suffix in (".sqlite", ".db"):
        return _from_history(path, tier)
    durations: dict[str, list[float]] = {}

    def keep(case: CaseResult) -> None:
        durations.setdefault(case.test_id, []).append(case.time_s)

    for report in collect_inputs([path]):
        try:
            summarize(report, on_case=keep)
        except JUnitError as exc:
            raise UsageError(
                f"cannot read durations from {report}: {exc}",
                fix="point --shard-durations at a readable JUnit report or history",
            ) from exc
    return {test: statistics.median(times) for test, times in durations.items()}


def project_durations(root: Path, *, tier: str | None = None) -> tuple[dict[str, float], str]:
    """Durations from the history of the project at ``root`` (``$TIERCI_HISTORY_URL``,
    ``$TIERCI_HISTORY``, else ``build/tierci/history.sqlite``), and a note on where they
    came from. None there, or one that cannot be read (a carried history broken on the
    way, a server that is down), gives no durations and a note saying why: the shards
    are dealt round-robin, never failed."""
    location = history_location(root)
    if not location_exists(location):
        return {}, "no recorded durations: round-robin"
    try:
        durations = _from_history(location, tier)
    except TierciError as exc:
        return {}, f"no recorded durations ({location} cannot be read: {exc.message}): round-robin"
    return durations, f"balanced on {len(durations)} recorded durations from {location}"


def _from_history(location: HistoryLocation, tier: str | None) -> dict[str, float]:
    """Read-only, as the HUD reads it (a history on a read-only mount will do)."""
    if not isinstance(location, HistoryUrl) and not location.exists() and not location.is_symlink():
        raise UsageError(f"no history at {location}", fix="run `nox -s report` to record one")
    with read_history(location) as history:
        in_tier = "r.tier = ? AND " if tier is not None else ""
        rows = history.database.rows(
            "SELECT o.test_id, o.time_s FROM outcomes o JOIN runs r ON r.id = o.run_id "  # noqa: S608 - no data
            f"WHERE {in_tier}o.outcome != 'skipped' ORDER BY r.id DESC",
            (tier,) if tier is not None else (),
        )
    latest: dict[str, list[float]] = {}
    for test, seconds in rows:
        times = latest.setdefault(test, [])
        if len(times) < _LATEST_RUNS:
            times.append(float(seconds))
    return {test: statistics.median(times) for test, times in latest.items()}
