import pytest

from tierci.console import print_error, print_summary
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


def test_a_long_message_is_one_line_in_a_log_whatever_columns_says(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CI log or a pipe is no terminal: where a message would break must not depend on
    # the length of a path in it, nor on COLUMNS.
    monkeypatch.setenv("COLUMNS", "40")
    message = "/" + "x" * 300 + "/pyproject.toml: [tool.tierci.tiers.lint] tools must be a list"
    print_error(message)
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"error: {message}"


def test_a_table_cell_is_never_wrapped_in_a_log(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    reason = "no unit-py3.12.xml (no such Python here: nox skipped it) " * 4
    print_summary([TierResult(tier="unit", status=Status.FAILED, duration_s=1.0, reason=reason)])
    assert reason.strip() in capsys.readouterr().out
