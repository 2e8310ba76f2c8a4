"""A wheel built without its compiled core is refused, and refuses to start.

Builds two real wheels of this project (one deliberately broken with
NATIVE_ML_BROKEN_WHEEL=1), then checks them the way tierci's packaging tier does:
installed in a fresh environment outside the source tree.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tierci.artifacts.verify import verify_wheel_imports
from tierci.errors import CommandFailedError
from uv import find_uv_bin

PROJECT = Path(__file__).parents[1]


def build_wheel(out: Path, *, broken: bool) -> Path:
    environment = {**os.environ, "NATIVE_ML_BROKEN_WHEEL": "1" if broken else "0"}
    subprocess.run(
        [find_uv_bin(), "build", "--wheel", "--quiet", "--out-dir", str(out), str(PROJECT)],
        env=environment,
        check=True,
    )
    (wheel,) = out.glob("native_ml-*.whl")
    return wheel


@pytest.fixture(scope="module")
def broken_wheel(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp("broken"), broken=True)


def test_wheel_build_good_wheel_passes_native_verification(tmp_path):
    wheel = build_wheel(tmp_path, broken=False)
    check = verify_wheel_imports(wheel, package="native_ml", native_modules=["native_ml._core"])
    assert "native_ml._core" in check.imported


def test_wheel_build_broken_wheel_is_refused_naming_the_module(broken_wheel):
    with pytest.raises(CommandFailedError, match=r"lacks its compiled module\(s\) native_ml._core"):
        verify_wheel_imports(broken_wheel, package="native_ml", native_modules=["native_ml._core"])


def test_wheel_build_broken_wheel_refuses_to_start_unless_opted_out(broken_wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([find_uv_bin(), "venv", "--quiet", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [find_uv_bin(), "pip", "install", "--quiet", "--python", python, str(broken_wheel)],
        check=True,
    )
    code = "import native_ml; print(native_ml.native_status())"
    environment = {k: v for k, v in os.environ.items() if k != "NATIVE_ML_DISABLE_NATIVE"}
    refused = subprocess.run(
        [python, "-I", "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert refused.returncode != 0
    assert "native core missing" in refused.stderr
    opted_out = subprocess.run(
        [python, "-I", "-c", code],
        env={**environment, "NATIVE_ML_DISABLE_NATIVE": "1"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert opted_out.stdout.strip() == "disabled"
    assert sys.executable != python
