"""Tier records: written atomically, read back exactly, hostile ones refused by name."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tierci.pipeline import Status
from tierci.records import (
    RecordError,
    TierRecord,
    pipeline_started,
    read_record,
    record_path,
    write_record,
)


def record(**changes: object) -> TierRecord:
    fields: dict[str, object] = {
        "tier": "lint",
        "shard": "",
        "status": Status.FAILED,
        "exit_code": 1,
        "started": "2026-11-24T10:00:00.000+00:00",
        "ended": "2026-11-24T10:01:30.500+00:00",
        "commit": "a" * 40,
        "note": "ruff found 3 errors",
    }
    fields.update(changes)
    return TierRecord(**fields)  # type: ignore[arg-type]  # the test's own field values


def test_a_record_round_trips(tmp_path: Path) -> None:
    path = record_path(tmp_path, "unit", "2/4")
    assert path.name == "unit-2of4.tier.json"
    write_record(path, record(tier="unit", shard="2/4", junit="unit-2of4.xml"))
    again = read_record(path)
    assert again == record(tier="unit", shard="2/4", junit="unit-2of4.xml")
    assert again.duration_s == 90.5
    assert [p.name for p in tmp_path.iterdir()] == ["unit-2of4.tier.json"]  # no temp left


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"status": "green"}, "status 'green'"),
        ({"exit_code": "1"}, "exit_code"),
        ({"tier": ["x"]}, "tier is not a string"),
        ({"started": "yesterday"}, "started is not an ISO 8601 time"),
        ({"format": 99}, "not a tier record"),
    ],
)
def test_a_hostile_record_is_refused_naming_the_file(
    tmp_path: Path, change: dict[str, object], why: str
) -> None:
    path = tmp_path / "lint.tier.json"
    data = json.loads(record().to_json())
    data.update(change)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RecordError, match=why) as caught:
        read_record(path)
    assert str(path) in str(caught.value)


def test_a_record_that_is_not_a_file_or_too_large_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.tier.json").mkdir()
    with pytest.raises(RecordError, match="not a regular file"):
        read_record(tmp_path / "dir.tier.json")
    big = tmp_path / "big.tier.json"
    big.write_text(" " * 100_000, encoding="utf-8")
    with pytest.raises(RecordError, match="larger than"):
        read_record(big)


def test_times_are_normalised_to_utc(tmp_path: Path) -> None:
    path = tmp_path / "lint.tier.json"
    write_record(path, record(started="2026-11-24T11:00:00+01:00", pipeline_started="garbage"))
    again = read_record(path)
    assert again.started == "2026-11-24T10:00:00.000+00:00"
    assert again.pipeline_started == ""


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-24T10:00:00Z", "2026-11-24T10:00:00.000+00:00"),
        ("1795514400000", "2026-11-24T10:00:00.000+00:00"),  # Jenkins: milliseconds
        ("1795514400", "2026-11-24T10:00:00.000+00:00"),
        ("soon", ""),
        ("9" * 40, ""),
    ],
)
def test_the_pipeline_start_is_read_from_ci(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.setenv("TIERCI_PIPELINE_STARTED", given)
    assert pipeline_started() == expected


def test_an_invocation_outside_ci_is_a_pipeline_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `nox -s unit` by hand: its start is taken once and shared with what it starts.
    monkeypatch.delenv("TIERCI_PIPELINE_STARTED", raising=False)
    started = pipeline_started()
    assert started
    assert pipeline_started() == started
    assert os.environ["TIERCI_PIPELINE_STARTED"] == started


@pytest.mark.parametrize("variable", ["CI", "GITHUB_ACTIONS", "JENKINS_URL"])
def test_a_ci_job_without_a_given_start_leaves_it_to_the_run(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # Each job of a CI run is a process of its own: none may claim to start the run.
    monkeypatch.delenv("TIERCI_PIPELINE_STARTED", raising=False)
    monkeypatch.setenv(variable, "true")
    assert pipeline_started() == ""
    assert "TIERCI_PIPELINE_STARTED" not in os.environ
