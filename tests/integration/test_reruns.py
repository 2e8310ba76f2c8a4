"""A tier's ``reruns``: a real nox session runs pytest-rerunfailures in the sample project,
and a test that passes on its rerun is reported flaky."""

from __future__ import annotations

import shutil
from pathlib import Path

from lxml import etree

from tests.support import REPO, nox
from tierci.errors import LockError
from tierci.junit import Counts, Outcome, ReportReader, summarize

FLAKY_TEST = """
from pathlib import Path


def test_fails_once_then_passes():
    count = Path(__file__).with_suffix(".count")
    attempt = int(count.read_text()) + 1 if count.exists() else 1
    count.write_text(str(attempt))
    assert attempt > 1, "the first attempt fails"
"""

LOCKLESS_SESSION = """

@nox.session(venv_backend="none")
def quick(session):
    noxlib.run_pytest(session, "quick")
"""


def with_tier_settings(project: Path, table: str, settings: str) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert table in text
    pyproject.write_text(text.replace(table, f"{table}\n{settings}"), encoding="utf-8")


def test_a_tier_with_reruns_runs_a_failed_test_again_and_reports_it_flaky(
    sample_project: Path,
) -> None:
    with_tier_settings(sample_project, "[tool.tierci.tiers.unit]", "reruns = 2\nreruns_delay = 0.1")
    (sample_project / "tests" / "test_flaky.py").write_text(FLAKY_TEST, encoding="utf-8")
    ran = nox("-s", "unit", cwd=sample_project)
    assert ran.returncode == 0, ran  # passed on its rerun: the session is green
    assert "-p rerunfailures --reruns=2 --reruns-delay=0.1" in ran.output
    report = sample_project / "build" / "junit" / "unit.xml"
    assert summarize(report).counts == Counts(passed=2, flaky=1)  # never plain passed
    (flaky,) = [case for case in ReportReader(report) if case.outcome is Outcome.FLAKY]
    assert (flaky.name, flaky.attempts) == ("test_fails_once_then_passes", 2)
    assert flaky.message.startswith("AssertionError: the first attempt fails")
    marked = etree.parse(str(report)).find(
        ".//testcase/properties/property[@name='tierci.attempt']"
    )
    assert marked is not None
    assert marked.get("value") == "failed"


def test_a_tier_with_reruns_whose_lock_lacks_the_plugin_fails_before_pytest_runs(
    sample_project: Path,
) -> None:
    shutil.copy(REPO / "tests/fixtures/small-locks/small.txt", sample_project / "requirements")
    pyproject = sample_project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8")
        + '\n[tool.tierci.tiers.quick]\nlock = "requirements/small.txt"\nmarkers = "not heavy"\n'
        "reruns = 1\n",
        encoding="utf-8",
    )
    noxfile = sample_project / "noxfile.py"
    noxfile.write_text(noxfile.read_text(encoding="utf-8") + LOCKLESS_SESSION, encoding="utf-8")
    ran = nox("-s", "quick", cwd=sample_project)
    assert ran.returncode == LockError.return_code, ran
    assert "tier 'quick' sets reruns = 1, but its lock" in ran.output
    assert "does not hold pytest-rerunfailures" in ran.output
    assert "fix: add pytest-rerunfailures to" in ran.output
    assert "test session starts" not in ran.output  # pytest never ran
