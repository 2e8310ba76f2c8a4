import pytest

from tierci.console import print_summary
from tierci.junit import Counts
from tierci.pipeline import Status, TierResult


def test_summary_columns_line_up(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    print_summary(
        [
            TierResult(
                tier="unit",
                status=Status.PASSED,
                duration_s=2.0,
                counts=Counts(passed=7, failed=0, errors=0, skipped=1, flaky=2),
            ),
            TierResult(tier="lint", status=Status.FAILED, duration_s=1.0, reason="ruff found 3"),
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    unit = next(line for line in lines if "unit" in line)
    assert [cell.strip() for cell in unit.split("│")[1:-1]] == [
        "unit",
        "passed",
        "2.0s",
        "10",
        "7",
        "0",
        "0",
        "1",
        "2",
        "",
    ]
    lint = next(line for line in lines if "lint" in line)
    assert lint.split("│")[-2].strip() == "ruff found 3"
