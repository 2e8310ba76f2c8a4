"""The local pipeline: tiers run one after another as ``nox -s <tier>``, then summarised.

Each tier runs in its own nox process exactly as CI runs it; the summary reads each
test tier's JUnit report for its counts. A tier whose report is missing or unreadable
is a failure, never a silent pass.
"""

from __future__ import annotations

import enum
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tierci.junit import Counts, JUnitError, count_outcomes
from tierci.provenance import COMMIT_VARIABLE, commit_sha

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from tierci.config import TierciConfig

__all__ = [
    "PIPELINE_STARTED_VARIABLE",
    "Status",
    "TierResult",
    "failed_tiers",
    "results_path",
    "run_pipeline",
]

#: When the whole pipeline started (ISO 8601): set by CI (the workflow run's start, the
#: Jenkins build's) or by this runner for the sessions it starts; tier records keep it.
PIPELINE_STARTED_VARIABLE = "TIERCI_PIPELINE_STARTED"


class Status(enum.StrEnum):
    """What a tier came to: in the pipeline summary and in the HUD's cells alike."""

    PASSED = "passed"
    FLAKY = "flaky"  # everything passed, some tests only on retry
    FAILED = "failed"
    MISSING = "missing"  # an expected report never arrived
    SKIPPED = "skipped"
    NOT_RUN = "not run"


@dataclass(frozen=True, kw_only=True)
class TierResult:
    tier: str
    status: Status
    duration_s: float
    reason: str = ""
    counts: Counts | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "status": self.status.value,
            "duration_s": round(self.duration_s, 3),
            "reason": self.reason,
            "counts": self.counts.to_dict() if self.counts else None,
        }


def results_path(config: TierciConfig) -> Path:
    """Where the last pipeline's results are kept, for the report and for people."""
    return config.root / "build" / "tierci" / "pipeline.json"


def failed_tiers(results: Sequence[TierResult]) -> list[str]:
    return [result.tier for result in results if result.status is Status.FAILED]


def run_pipeline(
    config: TierciConfig, tiers: Sequence[str], *, stop_on_failure: bool = True
) -> list[TierResult]:
    """Run each tier's nox session in order (after a failure the rest are not run),
    and save the results as JSON at ``results_path(config)``."""
    results = _run_tiers(config, tiers, stop_on_failure=stop_on_failure)
    _write_results(results, results_path(config))
    return results


def _run_tiers(
    config: TierciConfig, tiers: Sequence[str], *, stop_on_failure: bool
) -> list[TierResult]:
    results: list[TierResult] = []
    # Every tier's record carries the same pipeline start (time to signal counts from
    # it) and the same commit: the tree as it was when the pipeline began.
    environment = {
        **os.environ,
        PIPELINE_STARTED_VARIABLE: os.environ.get(PIPELINE_STARTED_VARIABLE)
        or datetime.now(UTC).isoformat(timespec="milliseconds"),
        COMMIT_VARIABLE: commit_sha(config.root),
    }
    for name in tiers:
        if stop_on_failure and any(r.status is Status.FAILED for r in results):
            results.append(
                TierResult(
                    tier=name,
                    status=Status.NOT_RUN,
                    duration_s=0.0,
                    reason="an earlier tier failed",
                )
            )
            _record_not_run(config, name, environment)
            continue
        results.append(_run_tier(config, name, environment))
    return results


def _record_not_run(config: TierciConfig, tier: str, environment: dict[str, str]) -> None:
    """A tier the pipeline did not run still gets its record: the HUD shows it "not
    run", as this summary does, instead of leaving the column out."""
    from tierci import records  # noqa: PLC0415 - records imports this module's Status
    from tierci.provenance import current_branch  # noqa: PLC0415 - as above

    moment = records.now()
    records.write_record(
        records.record_path(config.junit_dir, tier),
        records.TierRecord(
            tier=tier,
            shard="",
            status=Status.NOT_RUN,
            exit_code=0,
            started=moment,
            ended=moment,
            commit=environment[COMMIT_VARIABLE],
            branch=current_branch(config.root),
            note="an earlier tier failed",
            pipeline_started=environment[PIPELINE_STARTED_VARIABLE],
        ),
    )


def _run_tier(config: TierciConfig, name: str, environment: dict[str, str]) -> TierResult:
    tier = config.tier(name)
    # One report per Python for a tier with pythons: unit-py3.11.xml, unit-py3.12.xml…
    reports = (
        [config.junit_path(name, python=python) for python in tier.pythons or [""]]
        if tier.runs_tests
        else []
    )
    junit = reports[0] if reports else None
    started_at = time.time()
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "nox", "--session", name],
        cwd=config.root,
        env=environment,
        check=False,
    )
    duration = time.monotonic() - started
    counts, reason = _count_reports(reports, since=started_at)
    if completed.returncode != 0:
        reason = reason or f"nox -s {name} exited {completed.returncode}"
        return TierResult(
            tier=name, status=Status.FAILED, duration_s=duration, reason=reason, counts=counts
        )
    if junit is not None and counts is None:
        return TierResult(tier=name, status=Status.FAILED, duration_s=duration, reason=reason)
    if counts is not None and counts.tests == 0:
        return TierResult(
            tier=name,
            status=Status.SKIPPED,
            duration_s=duration,
            reason="no tests (allowed)",
            counts=counts,
        )
    return TierResult(
        tier=name, status=Status.PASSED, duration_s=duration, counts=counts, reason=reason
    )


def _count_reports(reports: Sequence[Path], *, since: float) -> tuple[Counts | None, str]:
    """The reports' outcomes added up, and what was wrong: a report this run did not
    write (nox skips a Python it cannot find, locally) is named, never counted."""
    counts: Counts | None = None
    problems = []
    for report in reports:
        try:
            if report.stat().st_mtime < since - 1:
                problems.append(f"{report.name} is from an earlier run (its Python was skipped?)")
                continue
            found = count_outcomes(report)
        except FileNotFoundError:
            # One report per Python: a Python nox found no interpreter for was skipped.
            per_python = len(reports) > 1
            problems.append(
                f"no {report.name}"
                + (" (no such Python here: nox skipped it)" if per_python else "")
            )
            continue
        except (OSError, JUnitError) as exc:
            problems.append(f"no readable JUnit report: {exc}")
            continue
        counts = found if counts is None else counts + found
    return counts, "; ".join(problems)


def _write_results(results: Sequence[TierResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.to_dict() for r in results], indent=2) + "\n", encoding="utf-8")
