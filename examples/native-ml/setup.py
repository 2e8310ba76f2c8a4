"""The compiled core. Everything else about the package is in pyproject.toml."""

import os

from setuptools import Extension, setup

# NATIVE_ML_BROKEN_WHEEL=1 builds a wheel *without* its compiled core, on purpose: the
# test suite uses it to prove that such a wheel is refused (tierci's packaging tier)
# and that the package refuses to start from it.
BROKEN = os.environ.get("NATIVE_ML_BROKEN_WHEEL") == "1"

setup(ext_modules=[] if BROKEN else [Extension("native_ml._core", ["src/native_ml/_core.c"])])
