import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tierci.cli import main


def test_config_prints_the_resolved_tiers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.tierci.tiers.unit]\nallow_empty = true\n")
    assert main(["--project", str(tmp_path), "config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["tiers"]["unit"]["allow_empty"] is True
    assert printed["tiers"]["heavy"]["markers"] == "heavy"


def test_a_config_error_exits_2_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.tierci]\njunit = 'x'\n")
    assert main(["--project", str(tmp_path), "config"]) == 2
    error = capsys.readouterr().err
    assert "unknown key 'junit'" in error
    assert "fix:" in error


def test_lock_reports_stale_locks_with_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "unit.in").write_text("pytest\n")
    assert main(["--project", str(tmp_path), "lock", "--check"]) == 3
    assert "unit.txt does not exist" in capsys.readouterr().out


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "tierci"
    completed = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    # The version comes from the installed distribution's metadata, not a second copy.
    assert completed.stdout.strip() == f"tierci {version('tierci')}"
