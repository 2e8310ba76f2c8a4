"""A tier that runs on several Pythons gets one lock that installs on each: pip-compile
runs on every one of them (real interpreters, real PyPI) and the outputs are merged."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO
from tierci._proc import find_uv, venv_python_of
from tierci.config import load_config
from tierci.errors import ConfigError
from tierci.locks.compile import (
    compile_environment,
    compile_lock,
    find_python,
    find_stale,
    lock_specs,
)

PYTHONS = ("3.11", "3.13")


@pytest.fixture
def interpreters() -> dict[str, str]:
    try:
        return {version: find_python(version) for version in PYTHONS}
    except ConfigError as exc:
        pytest.skip(exc.message)


def test_one_lock_installs_on_every_python_of_the_tier(
    tmp_path: Path, interpreters: dict[str, str]
) -> None:
    project = tmp_path / "project"
    (project / "requirements").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "1"\n\n'
        "[tool.tierci.tiers.unit]\n"
        'lock = "requirements/unit.txt"\ninstall_project = false\n'
        f"pythons = {list(PYTHONS)!r}\n".replace("'", '"'),
        encoding="utf-8",
    )
    # pypiserver needs legacy-cgi on 3.13 only, importlib-resources before 3.12 only.
    (project / "requirements" / "unit.in").write_text("pypiserver==2.4.2\n", encoding="utf-8")
    for name in ("lock.in", "lock.txt"):
        shutil.copy(REPO / "requirements" / name, project / "requirements" / name)
    config = load_config(project)
    (spec,) = [spec for spec in lock_specs(config) if spec.name == "unit"]
    assert spec.pythons == PYTHONS
    tools = compile_environment(
        "3.11", project / "requirements" / "lock.txt", project / ".nox" / "lock"
    )

    compile_lock(spec, config.pyproject, python=tools)

    text = spec.lock.read_text(encoding="utf-8")
    assert re.search(r'^legacy-cgi==\S+ ; python_version == "3\.13" \\$', text, re.MULTILINE)
    assert re.search(r'^importlib-resources==\S+ ; python_version == "3\.11" \\$', text, re.M)
    assert [stale.reason for stale in find_stale([spec], config.pyproject)] == []
    for version, interpreter in interpreters.items():
        venv = tmp_path / f"venv-{version}"
        subprocess.run([find_uv(), "venv", "-q", "--python", interpreter, str(venv)], check=True)
        subprocess.run(
            [
                find_uv(),
                "pip",
                "sync",
                "-q",
                "--require-hashes",
                "--python",
                str(venv_python_of(venv)),
                str(spec.lock),
            ],
            check=True,
        )
        imported = subprocess.run(
            [
                str(venv_python_of(venv)),
                "-c",
                "import pypiserver.bottle_wrapper, pypiserver.backend",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert imported.returncode == 0, (version, imported.stderr)
