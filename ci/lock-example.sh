#!/usr/bin/env bash
# Recompile the reference adopter's locks (examples/native-ml/requirements/*.txt).
#
# tierci is not on an index yet, so the locks pin a tierci wheel built from this
# checkout (the e2e tests swap in their own fresh build). The device lock must pin
# PyPI's CUDA torch: it is compiled without this machine's pip config, whose
# find-links folder offers the CPU build (+cpu) that the heavy lock wants.
#
#   ci/lock-example.sh            (from the repository root, bootstrap installed)
set -euo pipefail
cd "$(dirname "$0")/.."
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
python3 -m uv build --quiet --wheel --out-dir "$wheels" .
cd examples/native-ml
# From scratch: pip-compile reuses the hashes of an existing lock, and the tierci
# wheel's hash changes with every commit. (lock.txt is the lock session's own.)
find requirements -name '*.txt' ! -name lock.txt -delete
export PYTHONPATH="$OLDPWD/src${PYTHONPATH:+:$PYTHONPATH}"
PIP_FIND_LINKS="${PIP_FIND_LINKS:-} $wheels" python3 -m nox -s lock
rm requirements/device.txt  # compiled again below, without the +cpu find-links
PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS="$wheels" python3 - <<'PY'
from pathlib import Path
from tierci import locks
from tierci.config import load_config
config = load_config(Path("."))
spec = next(s for s in locks.lock_specs(config) if s.name == "device")
locks.compile_lock(spec, config.pyproject, python=".nox/lock/bin/python")
PY
python3 -m nox -s lock -- --check
