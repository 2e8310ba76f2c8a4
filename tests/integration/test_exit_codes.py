"""The exit-code table (errors.py, README) holds on every path, in real processes:
the ``tierci`` command, nox sessions (and so invoke tasks) and pytest with the plugin."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.support import REPO, nox, run, tierci
from tierci.errors import (
    ConfigError,
    EmptyTierError,
    NoDeviceError,
    StaleLockError,
    UsageError,
    WheelhouseError,
)

CORPUS_REPORT = REPO / "tests" / "fixtures" / "junit-corpus" / "pytest" / "xunit2-report.xml"

EXTRA_SESSIONS = """

@nox.session(venv_backend="none")
def lock(session):
    noxlib.lock(session)


@nox.session(venv_backend="none")
def typo(session):
    noxlib.run_tests(session, "unti")


@nox.session(venv_backend="none")
def after(session):
    session.log("the session after ran")
"""


@pytest.fixture
def project(sample_project: Path) -> Path:
    """The sample adopter with a lock session, a session naming a tier that does not
    exist, and a plain session to run after a failing one."""
    noxfile = sample_project / "noxfile.py"
    noxfile.write_text(noxfile.read_text(encoding="utf-8") + EXTRA_SESSIONS, encoding="utf-8")
    return sample_project


def _no_traceback(output: str) -> None:
    assert "Traceback" not in output, output


def test_nox_lock_check_exits_3_like_the_cli(project: Path) -> None:
    (project / "requirements" / "extra.in").write_text("six\n", encoding="utf-8")
    session = nox("-s", "lock", "--", "--check", cwd=project)
    assert session.returncode == StaleLockError.return_code, session
    assert "extra.txt does not exist" in session.output
    _no_traceback(session.output)
    command = tierci(project, "lock", "--check")
    assert command.returncode == StaleLockError.return_code, command


def test_a_tier_name_typo_in_a_session_exits_2_with_the_fix_and_no_traceback(
    project: Path,
) -> None:
    ran = nox("-s", "typo", cwd=project)
    assert ran.returncode == ConfigError.return_code, ran
    assert "no tier named 'unti' (did you mean 'unit'?)" in ran.output
    assert "fix:" in ran.output
    _no_traceback(ran.output)


def test_no_device_exits_8_yet_later_sessions_run_and_nox_prints_its_summary(
    project: Path,
) -> None:
    ran = run([sys.executable, "-m", "nox", "-s", "device", "after"], project, TIERCI_DEVICE="none")
    assert ran.returncode == NoDeviceError.return_code, ran
    assert "needs a device and this host has none" in ran.output
    assert "the session after ran" in ran.output
    assert "* device: aborted" in ran.output  # nox's own summary
    assert "* after: success" in ran.output
    assert not (project / "build" / "junit" / "device.xml").exists()


def test_the_first_errors_code_wins_when_several_sessions_fail(project: Path) -> None:
    (project / "requirements" / "extra.in").write_text("six\n", encoding="utf-8")
    ran = nox("-s", "typo", "lock", "--", "--check", cwd=project)
    assert ran.returncode == ConfigError.return_code, ran
    assert "* lock: aborted" in ran.output


def test_a_tier_that_selects_nothing_exits_5_through_nox_and_pytest(project: Path) -> None:
    session = nox("-s", "device", "--", "--allow-no-device", cwd=project)
    assert session.returncode == EmptyTierError.return_code, session
    assert "tier 'device' selected no tests" in session.output
    _no_traceback(session.output)
    python = next((project / ".nox" / "device" / "bin").glob("python"))
    direct = run([str(python), "-m", "pytest", "--tier=device", "--allow-no-device"], project)
    assert direct.returncode == EmptyTierError.return_code, direct


def test_invoke_keeps_the_sessions_code(project: Path) -> None:
    ran = run([sys.executable, "-m", "invoke", "typo"], project)
    assert ran.returncode == ConfigError.return_code, ran


def test_cli_usage_errors_exit_4_configuration_errors_2(tmp_path: Path) -> None:
    usage = tierci(tmp_path, "junit", "merge")
    assert usage.returncode == UsageError.return_code, usage
    (tmp_path / "pyproject.toml").write_text("[tool.tierci]\njunit = 'x'\n", encoding="utf-8")
    config = tierci(tmp_path, "config")
    assert config.returncode == ConfigError.return_code, config
    assert "unknown key 'junit'" in config.output
    _no_traceback(config.output)


def test_cli_wheelhouse_problems_exit_6(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.tierci.wheelhouse]\nlocks = ["heavy.txt"]\n', encoding="utf-8"
    )
    shutil.copy(REPO / "tests" / "fixtures" / "small-locks" / "small.txt", tmp_path / "heavy.txt")
    ran = tierci(tmp_path, "wheelhouse", "validate")
    assert ran.returncode == WheelhouseError.return_code, ran
    assert "no wheelhouse folder" in ran.output


def test_junit_and_report_commands_need_no_project(tmp_path: Path) -> None:
    """A Go or Jest repository has no pyproject.toml: merge, ingest and hud still work,
    run from / with every path absolute."""
    merged, db, hud = tmp_path / "all.xml", tmp_path / "h.sqlite", tmp_path / "hud"
    command = [sys.executable, "-m", "tierci.cli"]
    merge = run([*command, "junit", "merge", str(merged), str(CORPUS_REPORT)], Path("/"))
    assert merge.returncode == 0, merge
    assert merged.is_file()
    ingest = run(
        [*command, "report", "ingest", str(CORPUS_REPORT), "--db", str(db), "--commit", "c0ffee"],
        Path("/"),
    )
    assert ingest.returncode == 0, ingest
    rendered = run([*command, "report", "hud", "--db", str(db), "--out", str(hud)], Path("/"))
    assert rendered.returncode == 0, rendered
    assert (hud / "index.html").is_file()
    for ran in (merge, ingest, rendered):
        assert "pyproject.toml" not in ran.output
