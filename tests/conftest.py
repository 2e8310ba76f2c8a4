from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest

from tests.support import REPO, SAMPLE, commit_all, run

# tests/fixtures holds whole projects that the integration tests copy and run; their
# tests belong to them, not to this suite.
collect_ignore = ["fixtures"]
pytest_plugins = ["pytester"]

FIXTURES = Path(__file__).parent / "fixtures"
#: Real JUnit XML of many tools, with where each file came from (SOURCES.md).
JUNIT_CORPUS = FIXTURES / "junit-corpus"


@pytest.fixture(scope="session")
def tierci_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout built into a wheel, as a project would install a released tierci."""
    out = tmp_path_factory.mktemp("tierci-wheel")
    build = run(
        [sys.executable, "-m", "uv", "build", "--wheel", "--out-dir", str(out), str(REPO)], REPO
    )
    assert build.returncode == 0, build
    (wheel,) = out.glob("tierci-*.whl")
    return wheel


@pytest.fixture
def sample_project(tmp_path: Path, tierci_wheel: Path) -> Path:
    """The sample adopter in a temp git repository, its lock = tierci's + the tierci wheel."""
    project = tmp_path / "sample"
    shutil.copytree(SAMPLE, project)
    digest = hashlib.sha256(tierci_wheel.read_bytes()).hexdigest()
    lock = (REPO / "requirements" / "unit.txt").read_text(encoding="utf-8")
    lock += f"tierci @ {tierci_wheel.as_uri()} \\\n    --hash=sha256:{digest}\n"
    (project / "requirements" / "unit.txt").write_text(lock, encoding="utf-8")
    commit_all(project)
    return project
