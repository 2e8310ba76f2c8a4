"""End to end: the reference adopter examples/native-ml, copied out and run for real.

Its lint, unit, packaging and wheels tiers run as a user runs them (`nox -s ...`),
with this checkout's tierci pinned into its locks; a deliberately broken wheel fails
its packaging tier; its device tier on this host (no GPU) exits 8.
"""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path
from typing import cast

import pytest
from lxml import etree

from tests.support import REPO, Ran, commit_all, pin_tierci, run

EXAMPLE = REPO / "examples" / "native-ml"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def adopter(tmp_path_factory: pytest.TempPathFactory, tierci_wheel: Path) -> Path:
    project = tmp_path_factory.mktemp("adopter") / "native-ml"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns(".nox", "build", "dist", ".wheelhouse")
    )
    pin_tierci(project / "requirements", tierci_wheel)
    commit_all(project)
    return project


def nox(project: Path, *args: str, **env: str) -> Ran:
    return run([sys.executable, "-m", "nox", *args], project, **env)


def junit_cases(report: Path) -> dict[str, str]:
    tree = etree.parse(str(report))
    outcomes: dict[str, str] = {}
    for case in tree.iterfind(".//testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        # pytest writes a name on every testcase.
        outcomes[cast("str", case.get("name"))] = kinds[0] if kinds else "passed"
    return outcomes


def test_lint(adopter: Path) -> None:
    ran = nox(adopter, "-s", "lint")
    assert ran.returncode == 0, ran


def test_unit_runs_against_the_compiled_core(adopter: Path) -> None:
    ran = nox(adopter, "-s", "unit")
    assert ran.returncode == 0, ran
    cases = junit_cases(adopter / "build" / "junit" / "unit.xml")
    assert cases["test_the_compiled_core_is_what_runs"] == "passed"
    assert cases["test_wheel_build_broken_wheel_is_refused_naming_the_module"] == "passed"
    assert cases["test_wheel_build_broken_wheel_refuses_to_start_unless_opted_out"] == "passed"
    assert not any("torch" in name or "cuda" in name for name in cases)
    assert set(cases.values()) == {"passed"}


def test_a_reused_environment_rebuilds_an_edited_c_source(adopter: Path) -> None:
    """`nox -R -s unit` after editing _core.c tests the edited code, not the build the
    environment already had (pyproject.toml did not change, and uv's cache keys on it)."""
    source = adopter / "src" / "native_ml" / "_core.c"
    original = source.read_text(encoding="utf-8")
    assert nox(adopter, "-s", "unit").returncode == 0
    source.write_text(
        original.replace(
            "return PyFloat_FromDouble(total);", "return PyFloat_FromDouble(total + 1);"
        ),
        encoding="utf-8",
    )
    try:
        edited = nox(adopter, "-R", "-s", "unit")
        assert edited.returncode == 1, edited
        assert "--reinstall-package native-ml" in edited.output
        cases = junit_cases(adopter / "build" / "junit" / "unit.xml")
        assert cases["test_core_and_fallback_agree"] == "failure"
    finally:
        source.write_text(original, encoding="utf-8")
    restored = nox(adopter, "-R", "-s", "unit")
    assert restored.returncode == 0, restored


def test_packaging_verifies_the_native_module(adopter: Path) -> None:
    ran = nox(adopter, "-s", "packaging")
    assert ran.returncode == 0, ran
    assert "import-verified" in ran.output
    (wheel,) = (adopter / "dist").glob("native_ml-*.whl")
    assert "-cp311-cp311-linux_x86_64" in wheel.name or "-cp3" in wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("native_ml/_core.") and n.endswith(".so") for n in names)


def test_a_wheel_without_its_core_fails_the_packaging_tier(adopter: Path) -> None:
    ran = nox(adopter, "-s", "packaging", NATIVE_ML_BROKEN_WHEEL="1")
    assert ran.returncode != 0, ran
    assert "lacks its compiled module(s) native_ml._core" in ran.output


def test_wheels_fall_back_without_a_container_engine(adopter: Path) -> None:
    # A leftover of an earlier in-tree build, newer than the sources: setuptools would
    # ship it from a wheel built in the tree. Built from the sdist, it cannot.
    stale = adopter / "build" / "lib.linux-x86_64-cpython-311" / "native_ml"
    stale.mkdir(parents=True, exist_ok=True)
    leftover = stale / "_core.cpython-311-x86_64-linux-gnu.so"
    leftover.write_bytes(b"stale object code from an earlier build")
    ran = nox(adopter, "-s", "wheels")
    assert ran.returncode == 0, ran
    assert "Building wheel from sdist" in ran.output
    assert "no container engine answers" in ran.output
    assert "test-command against" in ran.output
    (wheel,) = (adopter / "dist" / "wheels").glob("*.whl")
    assert "manylinux" in wheel.name
    cores = [
        n
        for n in zipfile.ZipFile(wheel).namelist()
        if n.startswith("native_ml/_core.") and n.endswith(".so")
    ]
    assert len(cores) == 1
    assert zipfile.ZipFile(wheel).read(cores[0]) != leftover.read_bytes()


def test_the_device_tier_without_a_gpu_exits_8(adopter: Path) -> None:
    ran = nox(adopter, "-s", "device", TIERCI_DEVICE="none")
    assert ran.returncode == 8, ran
    assert "needs a device and this host has none" in ran.output


def test_its_committed_locks_match_their_inputs(tmp_path: Path) -> None:
    # A pristine copy: pinning this tierci build into unit.txt rightly makes the locks
    # layered on it (-c unit.txt) stale.
    project = tmp_path / "native-ml"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".nox", "build", "dist"))
    ran = nox(project, "-s", "lock", "--", "--check")
    assert ran.returncode == 0, ran
    assert "all 8 lock files match their inputs" in ran.output


def test_heavy_runs_torch_from_its_wheelhouse_offline(adopter: Path) -> None:
    built = nox(adopter, "-s", "wheelhouse")
    assert built.returncode == 0, built
    ran = nox(adopter, "-s", "heavy")
    assert ran.returncode == 0, ran
    assert "offline from" in ran.output
    cases = junit_cases(adopter / "build" / "junit" / "heavy.xml")
    assert cases == {
        "test_batched_dot_matches_the_compiled_core": "passed",
        "test_batched_dot_refuses_mismatched_shapes": "passed",
    }
