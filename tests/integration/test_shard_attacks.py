"""Absurd --shard and --scope values stay usage errors (exit 4) in real pytest and nox
processes: no MemoryError, no traceback, no report, nothing synced."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.integration.test_lock_attacks import SIX, flat, make_project
from tests.support import run

TESTS = "def test_one(): pass\ndef test_two(): pass\n"


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("--shard=1/100000000000", "--shard '1/100000000000': at most 10000 shards"),
        ("--shard=1/" + "9" * 5000, "at most 10000 shards"),
        ("--shard=100000000000/4", "the index must be between 1 and the count"),
        ("--scope=nan", "--scope 'nan' is not a percentage in (0, 100]"),
        ("--scope=inf", "--scope 'inf' is not a percentage in (0, 100]"),
        ("--scope=-inf", "--scope '-inf' is not a percentage in (0, 100]"),
    ],
)
def test_pytest_refuses_absurd_values_with_exit_4(
    pytester: pytest.Pytester, option: str, expected: str
) -> None:
    pytester.makepyfile(test_things=TESTS)
    result = pytester.runpytest_subprocess(option, "--junitxml=report.xml")
    assert result.ret == 4
    errors = result.stderr.str()
    assert expected in errors
    assert "fix:" in errors
    assert "MemoryError" not in errors
    assert "Traceback" not in errors
    assert not (pytester.path / "report.xml").exists()


def test_the_largest_allowed_shard_count_still_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_things=TESTS)
    first = pytester.runpytest_subprocess("--shard=1/10000", "-v")
    assert first.ret == 0
    first.assert_outcomes(passed=1)


def test_nox_refuses_an_absurd_shard_before_syncing(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", SIX)
    result = run(
        [sys.executable, "-m", "nox", "-s", "unit", "--", "--shard", "1/100000000000"], project
    )
    assert result.returncode == 4, result
    assert "--shard '1/100000000000': at most 10000 shards" in flat(result)
    assert "MemoryError" not in result.output
    assert not (project / ".nox" / "unit" / ".tierci-sync.json").exists()
    assert not (project / "build" / "junit").exists()
