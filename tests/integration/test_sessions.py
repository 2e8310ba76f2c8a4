"""The tiers as a user runs them: real `nox -s` and `inv` in a copy of a sample project."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import cast

from lxml import etree

from tests.support import REPO, commit_all, head_commit, inv, nox, run
from tierci.invoke_tasks import nox_sessions


def junit_cases(path: Path) -> tuple[dict[str, str], list[str]]:
    tree = etree.parse(str(path))
    # pytest writes a name and a value on every property and a name on every testcase.
    properties = {
        cast("str", p.get("name")): cast("str", p.get("value"))
        for p in tree.iterfind(".//properties/property")
    }
    return properties, sorted(
        cast("str", case.get("name")) for case in tree.iterfind(".//testcase")
    )


def test_unit_session_writes_a_stamped_junit_report(sample_project: Path) -> None:
    ran = nox("-s", "unit", cwd=sample_project)
    assert ran.returncode == 0, ran
    properties, cases = junit_cases(sample_project / "build" / "junit" / "unit.xml")
    assert cases == ["test_add", "test_add_negative"]  # heavy and e2e are other tiers'
    assert properties["tier"] == "unit"
    assert properties["commit"] == head_commit(sample_project)
    assert properties["python"]
    assert properties["platform"]
    assert properties["shard"] == ""


def test_a_failing_test_fails_the_session_and_is_in_the_report(sample_project: Path) -> None:
    (sample_project / "tests" / "test_broken.py").write_text(
        "def test_broken():\n    assert 1 + 1 == 3\n", encoding="utf-8"
    )
    ran = nox("-s", "unit", cwd=sample_project)
    assert ran.returncode != 0, ran
    assert "Session unit failed" in ran.output
    tree = etree.parse(str(sample_project / "build" / "junit" / "unit.xml"))
    assert [c.get("name") for c in tree.iterfind(".//testcase[failure]")] == ["test_broken"]


def test_a_tier_with_no_tests_fails_loudly(sample_project: Path) -> None:
    ran = nox("-s", "device", "--", "--allow-no-device", cwd=sample_project)
    assert ran.returncode != 0, ran
    assert "tier 'device' selected no tests" in ran.output


def test_the_device_tier_without_a_device_exits_8_in_one_line(sample_project: Path) -> None:
    # TIERCI_DEVICE=none: the same answer on a GPU agent as here.
    ran = run([sys.executable, "-m", "nox", "-s", "device"], sample_project, TIERCI_DEVICE="none")
    assert ran.returncode == 8, ran
    reason = [line for line in ran.output.splitlines() if "needs a device" in line]
    expected = (
        "tierci: tier 'device' needs a device and this host has none: "
        "TIERCI_DEVICE=none (detection turned off)"
    )
    assert reason == [f"nox > Session device aborted: {expected}"], ran
    assert not (sample_project / "build" / "junit" / "device.xml").exists()


def test_shard_posargs_name_the_report(sample_project: Path) -> None:
    ran = nox("-s", "unit", "--", "--shard", "2/2", cwd=sample_project)
    assert ran.returncode == 0, ran
    properties, cases = junit_cases(sample_project / "build" / "junit" / "unit-2of2.xml")
    assert properties["shard"] == "2/2"
    assert cases == ["test_add_negative"]


def test_reused_env_is_synced_back_to_the_lock(sample_project: Path) -> None:
    assert nox("-s", "unit", cwd=sample_project).returncode == 0
    again = nox("-R", "-s", "unit", cwd=sample_project)
    assert again.returncode == 0, again
    assert "nothing to sync" in again.output
    site = next((sample_project / ".nox" / "unit" / "lib").glob("python*/site-packages"))
    assert list(site.glob("humanize-*.dist-info"))
    # Drop a package from the lock: the reused environment must lose it too.
    lock = sample_project / "requirements" / "unit.txt"
    text = lock.read_text(encoding="utf-8")
    start = text.index("humanize==")
    end = text.index("\n", text.index("# via", start))
    end = text.index("\n", end + 1) if text[end + 1 :].startswith("    #") else end
    lock.write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    synced = nox("-R", "-s", "unit", cwd=sample_project)
    assert synced.returncode == 0, synced
    assert "- humanize" in synced.output
    assert not list(site.glob("humanize-*.dist-info"))


def test_a_package_installed_by_hand_is_removed_on_the_next_run(sample_project: Path) -> None:
    assert nox("-s", "unit", cwd=sample_project).returncode == 0
    site = next((sample_project / ".nox" / "unit" / "lib").glob("python*/site-packages"))
    stray = site / "stray-1.0.dist-info"
    stray.mkdir()
    (stray / "METADATA").write_text("Metadata-Version: 2.1\nName: stray\nVersion: 1.0\n")
    (stray / "RECORD").write_text("stray-1.0.dist-info/METADATA,,\nstray-1.0.dist-info/RECORD,,\n")
    ran = nox("-R", "-s", "unit", cwd=sample_project)
    assert ran.returncode == 0, ran
    assert not stray.exists()


def test_invoke_lists_every_nox_session(sample_project: Path) -> None:
    listed = inv("--list", cwd=sample_project)
    assert listed.returncode == 0, listed
    for name in ["unit", "heavy", "device", "report", "ci"]:
        assert f"  {name} " in listed.output, listed
    assert "Unit tests of the sample. (nox -s unit)" in listed.output


def test_invoke_task_runs_the_nox_session_with_posargs(sample_project: Path) -> None:
    ran = inv("unit", "--", "-k", "negative", cwd=sample_project)
    assert ran.returncode == 0, ran
    _, cases = junit_cases(sample_project / "build" / "junit" / "unit.xml")
    assert cases == ["test_add_negative"]


def test_invoke_task_fails_when_the_session_fails(sample_project: Path) -> None:
    ran = inv("device", cwd=sample_project)
    assert ran.returncode != 0, ran


def test_inv_ci_runs_the_pipeline_and_summarises(sample_project: Path) -> None:
    ran = inv("ci", cwd=sample_project)
    assert ran.returncode == 0, ran
    assert "tierci pipeline" in ran.output
    results = json.loads((sample_project / "build" / "tierci" / "pipeline.json").read_text())
    assert [(r["tier"], r["status"]) for r in results] == [("unit", "passed"), ("heavy", "passed")]
    assert results[0]["counts"]["passed"] == 2
    assert results[1]["counts"]["tests"] == 1
    # The main job ends with the HUD.
    assert "HUD: " in ran.output
    hud = json.loads((sample_project / "build" / "hud" / "hud.json").read_text())
    row = hud["commits"][0]
    assert row["sha"] == head_commit(sample_project)
    assert {tier: cell["status"] for tier, cell in row["cells"].items()} == {
        "unit": "passed",
        "heavy": "passed",
    }


def test_inv_ci_stops_at_the_first_failure(sample_project: Path) -> None:
    (sample_project / "tests" / "test_broken.py").write_text(
        "def test_broken():\n    assert False\n", encoding="utf-8"
    )
    ran = inv("ci", cwd=sample_project)
    assert ran.returncode == 1, ran
    results = json.loads((sample_project / "build" / "tierci" / "pipeline.json").read_text())
    assert [(r["tier"], r["status"]) for r in results] == [("unit", "failed"), ("heavy", "not run")]
    assert results[0]["counts"]["failures"] == 1
    assert "failed tier(s): unit" in ran.output


def test_this_repository_has_an_invoke_task_for_every_nox_session() -> None:
    defined = set(nox_sessions(REPO))
    assert {"lint", "unit", "packaging", "heavy", "device", "lock", "bench"} <= defined
    listed = inv("--list", cwd=REPO)
    assert listed.returncode == 0, listed
    for name in defined:
        assert f"  {name} " in listed.output, listed


def test_report_session_fails_on_an_expected_hole_but_still_renders_it(
    sample_project: Path,
) -> None:
    assert nox("-s", "unit", cwd=sample_project).returncode == 0
    ran = nox("-s", "report", "--", "--expect", "unit", "--expect", "heavy", cwd=sample_project)
    assert ran.returncode != 0, ran
    assert "no report for heavy" in ran.output
    hud = json.loads((sample_project / "build" / "hud" / "hud.json").read_text())
    assert hud["commits"][0]["cells"]["heavy"]["status"] == "missing"
    assert (sample_project / "build" / "hud" / "index.html").is_file()
    again = nox("-s", "report", cwd=sample_project)  # same reports: nothing stored twice
    assert again.returncode == 0, again
    hud = json.loads((sample_project / "build" / "hud" / "hud.json").read_text())
    assert hud["commits"][0]["cells"]["unit"]["runs"] == 1


_DROPS_A_PASSING_COPY = '''
import platform
import subprocess
from pathlib import Path


def test_that_leaves_a_passing_report_behind():
    """A test that writes a JUnit file where the tier's reports go: a fixture's output,
    say, stamped exactly as the tier's own report would be."""
    root = Path(__file__).resolve().parents[1]
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
    (root / "build" / "junit" / "unit-from-a-test.xml").write_text(
        '<testsuites><testsuite name="pytest"><properties>'
        '<property name="tier" value="unit"/><property name="shard" value=""/>'
        f'<property name="commit" value="{commit}"/>'
        f'<property name="python" value="{platform.python_version()}"/>'
        '</properties><testcase classname="tests.test_math" name="test_add"/>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )


def test_broken():
    assert 1 + 1 == 3
'''


def test_a_passing_report_a_test_drops_never_decides_the_cell(sample_project: Path) -> None:
    """The unit tier fails; one of its tests drops a passing report of the same slot into
    build/junit. The tier's record names the report its session wrote: the copy is
    unclaimed, named, and the cell and the gates stay red."""
    (sample_project / "tests" / "test_drops_a_copy.py").write_text(
        _DROPS_A_PASSING_COPY, encoding="utf-8"
    )
    commit_all(sample_project)
    ran = nox("-s", "unit", cwd=sample_project)
    assert ran.returncode != 0, ran
    assert (sample_project / "build" / "junit" / "unit-from-a-test.xml").is_file()
    reported = nox("-s", "report", "--", "--check-gates", cwd=sample_project)
    assert reported.returncode != 0, reported
    assert "unit-from-a-test.xml: an unclaimed report" in " ".join(reported.output.split())
    hud = json.loads((sample_project / "build" / "hud" / "hud.json").read_text())
    assert hud["commits"][0]["cells"]["unit"]["status"] == "failed"
