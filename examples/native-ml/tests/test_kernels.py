import os
import subprocess
import sys

import pytest

import native_ml
from native_ml import _fallback


def test_the_compiled_core_is_what_runs():
    assert native_ml.native_status() == "loaded"
    assert native_ml.dot.__module__ == "native_ml._core"


@pytest.mark.parametrize("implementation", [native_ml.dot, _fallback.dot])
def test_dot(implementation):
    assert implementation([1, 2, 3], [4, 5, 6]) == 32.0
    assert implementation([], []) == 0.0
    assert implementation((0.5,), [4]) == 2.0


@pytest.mark.parametrize("implementation", [native_ml.dot, _fallback.dot])
def test_dot_refuses_bad_input(implementation):
    with pytest.raises(ValueError, match="lengths differ"):
        implementation([1, 2], [1])
    with pytest.raises(TypeError):
        implementation([1, "x"], [1, 2])


def test_core_and_fallback_agree():
    a = [i / 7 for i in range(1000)]
    b = [(-1) ** i * i / 3 for i in range(1000)]
    assert native_ml.dot(a, b) == pytest.approx(_fallback.dot(a, b), rel=1e-12)


def test_opting_out_selects_the_fallback_and_says_so():
    code = "import native_ml; print(native_ml.native_status(), native_ml.dot.__module__)"
    environment = {**os.environ, native_ml.OPT_OUT_VARIABLE: "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["disabled", "native_ml._fallback"]
