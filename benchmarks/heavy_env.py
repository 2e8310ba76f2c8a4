"""Heavy-environment benchmark: creating the heavy env (torch + numpy + the test tools).

Side by side, each into a new virtual environment, the same lock
(requirements/heavy.txt: torch 2.13.0+cpu, numpy, the test tools):

- ``tierci wheelhouse``: ``uv venv`` + ``wheelhouse.install`` from ``.wheelhouse/``,
  offline, first with cold caches (a fresh CI machine that restored the wheelhouse
  archive: uv's cache and tierci's wheel-hash cache empty), then with warm ones (a
  laptop, a reused runner). Every wheel is still checked against the lock: read and
  hashed when cold, by its stat signature when warm;
- ``pip from the index``: ``python -m venv`` + ``pip install --require-hashes`` with
  pip's cache off, downloading from the index (torch from the machine's find-links
  folder, as pip's config there says);
- ``uv, warm cache`` (the named baseline, the practical limit): ``uv pip install
  --require-hashes`` of the same lock from a warm uv cache, as one would type it (uv
  still asks the index whether anything changed), and the same ``--offline``: the floor.

No contender compiles bytecode (pip: ``--no-compile``; uv does not by default), so
like is compared with like. Targets: tierci's warm offline install within 1.5x of the
``uv --offline`` floor (issue 11), and at least 3x faster than pip from the index
(issue 4).

    python benchmarks/heavy_env.py [--repeat 3] [--skip-pip]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tierci._proc import find_uv
from tierci.locks.lockfile import read_lock
from tierci.wheelhouse.model import Target, validate

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "heavy.txt"
HOUSE = ROOT / ".wheelhouse"
FIND_LINKS = os.environ.get("PIP_FIND_LINKS", "/opt/wheels")
# In its own process, as `tierci wheelhouse install` runs: interpreter start included.
INSTALL = """
import sys
from pathlib import Path
from tierci.locks.lockfile import read_lock
from tierci.wheelhouse.install import install
install(Path(sys.argv[1]), [read_lock(Path(sys.argv[2]))], sys.argv[3], log=lambda _: None)
"""


def _run(command: list[str], **env: str) -> None:
    completed = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, cwd=ROOT, check=False
    )
    if completed.returncode != 0:
        sys.exit(f"{' '.join(command[:4])} ... failed:\n{completed.stdout}{completed.stderr}")


def _timed(setup: list[list[str]], command: list[str], **env: str) -> float:
    for step in setup:
        _run(step, **env)
    started = time.perf_counter()
    _run(command, **env)
    return time.perf_counter() - started


def tierci_offline(scratch: Path, cache: Path) -> float:
    """``cache`` holds uv's cache and (as XDG_CACHE_HOME) tierci's wheel hashes."""
    venv = scratch / f"tierci-{time.monotonic_ns()}"
    _run([find_uv(), "venv", "--quiet", str(venv)], UV_CACHE_DIR=str(cache / "uv"))
    started = time.perf_counter()
    _run(
        [
            sys.executable,
            "-c",
            INSTALL,
            str(HOUSE),
            str(LOCK),
            str(venv / "bin" / "python"),
        ],
        UV_CACHE_DIR=str(cache / "uv"),
        XDG_CACHE_HOME=str(cache / "user"),
    )
    elapsed = time.perf_counter() - started
    shutil.rmtree(venv)
    return elapsed


def pip_from_index(scratch: Path) -> float:
    venv = scratch / "pip"
    elapsed = _timed(
        [
            [sys.executable, "-m", "venv", "--without-pip", str(venv)],
            [
                find_uv(),
                "pip",
                "install",
                "--quiet",
                "--python",
                str(venv / "bin" / "python"),
                "pip",
            ],
        ],
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-cache-dir",
            "--no-compile",
            "--require-hashes",
            "-r",
            str(LOCK),
        ],
    )
    shutil.rmtree(venv)
    return elapsed


def uv_warm(scratch: Path, cache: Path, *, offline: bool = False) -> float:
    venv = scratch / f"uv-{time.monotonic_ns()}"
    elapsed = _timed(
        [[find_uv(), "venv", "--quiet", str(venv)]],
        [
            find_uv(),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "--require-hashes",
            "--find-links",
            FIND_LINKS,
            "-r",
            str(LOCK),
            *(["--offline"] if offline else []),
        ],
        UV_CACHE_DIR=str(cache),
    )
    shutil.rmtree(venv)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender (median)")
    parser.add_argument("--skip-pip", action="store_true", help="skip pip from the index")
    arguments = parser.parse_args()
    check = validate(HOUSE, [read_lock(LOCK)], Target.host())
    if not check.ok:
        print(f"building the wheelhouse first ({len(check.problems)} pins missing)...")
        subprocess.run(
            [sys.executable, "-m", "tierci.cli", "wheelhouse", "build"], check=True, cwd=ROOT
        )
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="tierci-bench-heavy-") as folder:
        scratch = Path(folder)
        warm_cache = scratch / "uv-cache-warm"
        tierci_warm_cache = scratch / "tierci-warm"
        uv_warm(scratch, warm_cache)  # warm it
        tierci_offline(scratch, tierci_warm_cache)
        for _ in range(arguments.repeat):
            results.setdefault("tierci wheelhouse, cold caches", []).append(
                tierci_offline(scratch, scratch / f"cold-{time.monotonic_ns()}")
            )
            results.setdefault("tierci wheelhouse, warm caches", []).append(
                tierci_offline(scratch, tierci_warm_cache)
            )
            results.setdefault("uv, warm cache (baseline)", []).append(uv_warm(scratch, warm_cache))
            results.setdefault("uv, warm cache, --offline", []).append(
                uv_warm(scratch, warm_cache, offline=True)
            )
        if not arguments.skip_pip:
            results["pip from the index"] = [pip_from_index(scratch)]
    baseline = statistics.median(results["uv, warm cache (baseline)"])
    floor = statistics.median(results["uv, warm cache, --offline"])
    pip = (
        statistics.median(results["pip from the index"])
        if "pip from the index" in results
        else None
    )
    print(f"\nheavy env from {LOCK.name} ({check.checked} pins), median of {arguments.repeat}")
    print(f"{'contender':36} {'wall':>8} {'x uv warm':>10} {'x floor':>8} {'pip / it':>9}")
    for name, times in results.items():
        wall = statistics.median(times)
        versus_pip = f"{pip / wall:8.1f}x" if pip else "        -"
        print(f"{name:36} {wall:7.2f}s {wall / baseline:9.2f}x {wall / floor:7.2f}x {versus_pip}")


if __name__ == "__main__":
    main()
