from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from tests.postgres_server import REQUIRE_VARIABLE, PostgresServer, find_binaries, running_postgres
from tests.support import (
    LOCALE,
    REPO,
    SAMPLE,
    close_sqlite_connections,
    commit_all,
    is_ambient,
    run,
)
from tierci.report.database import HistoryLocation, HistoryUrl

if TYPE_CHECKING:
    from collections.abc import Iterator

# tests/fixtures holds whole projects that the integration tests copy and run; their
# tests belong to them, not to this suite.
collect_ignore = ["fixtures"]
pytest_plugins = ["pytester"]

FIXTURES = Path(__file__).parent / "fixtures"
#: Real JUnit XML of many tools, with where each file came from (SOURCES.md).
JUNIT_CORPUS = FIXTURES / "junit-corpus"


@pytest.fixture(scope="session", autouse=True)
def _no_ambient_ci() -> Iterator[None]:
    """No test sees the machine's CI, terminal or locale: not GitHub's or Jenkins'
    variables (which commit, ref, run, tag), not COLUMNS, not the user's language.
    Session-wide and first, so session fixtures (a built wheel, a server) see the same;
    a test that needs such a variable sets it itself (monkeypatch, or a subprocess's
    env). The pytest run's own report was stamped before this (at session start)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if is_ambient(name)]:
            patch.delenv(name)
        for name, value in LOCALE.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """What a test's code puts in os.environ (an invocation pins its pipeline start and
    commit there, as nox's process should) ends with the test: no test sees another's."""
    before = dict(os.environ)
    yield
    if os.environ != before:
        os.environ.clear()
        os.environ.update(before)


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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (tests/postgres_server.py). Each test
    that uses it gets its password in PGPASSWORD (``postgres_url``), as a CI job would
    give it, never in a URL."""
    if find_binaries() is None:
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"PostgreSQL is not installed and {REQUIRE_VARIABLE}=1")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_url(
    postgres_server: PostgresServer,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """A fresh, empty database on the session's server: one per test, with the password
    in this test's PGPASSWORD (a test's environment ends with it: _environment_restored)."""
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    name = "t_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    with psycopg.connect(postgres_server.admin_url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return postgres_server.url(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def history_at(request: pytest.FixtureRequest, tmp_path: Path) -> HistoryLocation:
    """A new history's location: a SQLite file, then a PostgreSQL database (the same
    tests run on both engines)."""
    if request.param == "sqlite":
        return tmp_path / "history.sqlite"
    return HistoryUrl(request.getfixturevalue("postgres_url"))


@pytest.fixture(autouse=True)
def _close_sqlite_connections() -> Iterator[None]:
    yield
    close_sqlite_connections()
