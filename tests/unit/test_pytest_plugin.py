"""The pytest plugin in real pytest sessions (pytester runs them in a temp project)."""

from pathlib import Path

import pytest
from lxml import etree

from tierci import pytest_plugin
from tierci.errors import ConfigError, UsageError
from tierci.junit import Counts, Outcome, ReportReader, summarize

TESTS = """
import pytest

def test_plain(): pass

@pytest.mark.heavy
def test_heavy(): pass

@pytest.mark.device
def test_device(): pass

@pytest.mark.e2e
def test_e2e(): pass

@pytest.mark.env("legacy")
def test_legacy_env(): pass
"""


FAKE_NVIDIA_SMI = """#!/bin/sh
# Stands in for nvidia-smi here; the real one is exercised by tests/device on GPU hosts.
case "$*" in
  *--query-gpu*) echo "NVIDIA H100 80GB HBM3, 570.86.15" ;;
  *) echo "| NVIDIA-SMI 570.86.15    Driver Version: 570.86.15    CUDA Version: 12.8 |" ;;
esac
"""


@pytest.fixture
def fake_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    smi = folder / "nvidia-smi"
    smi.write_text(FAKE_NVIDIA_SMI)
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{__import__('os').environ['PATH']}")
    monkeypatch.delenv("TIERCI_DEVICE", raising=False)


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERCI_DEVICE", "none")


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml(
        """
[tool.tierci.tiers.heavy]
allow_empty = true

[tool.tierci.tiers.quick]
markers = "not heavy and not device"
"""
    )
    pytester.makepyfile(test_things=TESTS)
    return pytester


def selected(result: pytest.RunResult) -> list[str]:
    return sorted(
        line.split("::")[1].split()[0]
        for line in result.outlines
        if "::" in line and ("PASSED" in line or "FAILED" in line)
    )


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        ("unit", ["test_plain"]),
        ("heavy", ["test_heavy"]),
        ("device", ["test_device"]),
        ("quick", ["test_e2e", "test_plain"]),
    ],
)
def test_tier_selects_its_marker_expression(
    project: pytest.Pytester, fake_gpu: None, tier: str, expected: list[str]
) -> None:
    result = project.runpytest("-v", f"--tier={tier}")
    result.assert_outcomes(passed=len(expected))
    assert selected(result) == expected


def test_user_marker_expression_narrows_the_tier(project: pytest.Pytester) -> None:
    result = project.runpytest("-v", "--tier=quick", "-m", "e2e")
    assert selected(result) == ["test_e2e"]


def test_env_marked_tests_run_only_in_their_env(project: pytest.Pytester) -> None:
    result = project.runpytest("-v", "--tier-env=legacy")
    assert selected(result) == ["test_legacy_env"]
    result = project.runpytest("-v")
    assert "test_legacy_env" not in selected(result)


def test_empty_tier_fails_with_a_message(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.tierci]\n")
    pytester.makepyfile(test_only_plain="def test_plain(): pass\n")
    result = pytester.runpytest("--tier=device", "--allow-no-device")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*tier 'device' selected no tests*allow_empty = true*"])


def test_empty_tier_allowed_is_green_and_says_so(
    project: pytest.Pytester, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_things="def test_plain(): pass\n")
    result = project.runpytest("--tier=heavy")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*tier 'heavy' selected no tests; allowed*"])


def test_without_a_tier_pytest_keeps_its_own_exit_5(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.tierci]\n")
    pytester.makepyfile(test_nothing="x = 1\n")
    assert pytester.runpytest().ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_junit_properties(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERCI_COMMIT", "abc123")
    report = project.path / "report.xml"
    result = project.runpytest("--tier=unit", "--shard=1/1", f"--junitxml={report}")
    assert result.ret == 0
    tree = etree.parse(str(report))
    properties = {p.get("name"): p.get("value") for p in tree.iterfind(".//properties/property")}
    assert properties["tier"] == "unit"
    assert properties["shard"] == "1/1"
    assert properties["commit"] == "abc123"
    assert isinstance(properties["python"], str)
    assert properties["python"].count(".") == 2
    assert properties["platform"]
    assert properties["env"] == ""


def test_shards_split_the_tier(project: pytest.Pytester) -> None:
    names = []
    for index in (1, 2):
        project.makepyfile(
            test_many="\n".join(f"def test_{n}(): pass" for n in range(9)),
        )
        result = project.runpytest("-v", "--tier=unit", f"--shard={index}/2")
        names.append(selected(result))
    assert len(names[0]) + len(names[1]) == 10  # 9 + test_plain
    assert not set(names[0]) & set(names[1])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--tier=nope"], ConfigError.return_code, "no tier named 'nope'"),
        (["--tier=lint"], UsageError.return_code, "tier 'lint' runs no pytest"),
        (["--shard=3/2"], UsageError.return_code, "--shard '3/2'"),
    ],
)
def test_bad_options_end_pytest_with_the_errors_code_and_fix(
    project: pytest.Pytester, args: list[str], code: int, message: str
) -> None:
    # 2 (a configuration error) is also pytest's "interrupted": pytester would re-raise.
    result = project.runpytest(*args, no_reraise_ctrlc=True)
    assert result.ret == code
    assert message in result.stderr.str()
    assert "fix:" in result.stderr.str()


def test_markers_are_registered_for_strict_markers(project: pytest.Pytester) -> None:
    result = project.runpytest("--strict-markers", "--tier=unit")
    assert result.ret == 0


def test_scope_keeps_a_stable_subset_and_is_recorded(project: pytest.Pytester) -> None:
    project.makepyfile(test_many="\n".join(f"def test_{n}(): pass" for n in range(60)))
    first = selected(project.runpytest("-v", "--tier=unit", "--scope=25"))
    second = selected(project.runpytest("-v", "--tier=unit", "--scope=25"))
    assert first == second
    assert 5 < len(first) < 30
    report = project.path / "scope.xml"
    project.runpytest("--tier=unit", "--scope=25", f"--junitxml={report}")
    properties = {
        p.get("name"): p.get("value") for p in etree.parse(str(report)).iterfind(".//property")
    }
    assert properties["scope"] == "25%"


def test_a_device_tier_without_a_device_exits_8_with_one_reason(
    project: pytest.Pytester, no_gpu: None
) -> None:
    result = project.runpytest("--tier=device", "--junitxml=report.xml")
    assert result.ret == 8
    output = "\n".join(result.outlines + result.errlines)
    assert "tier 'device' needs a device and this host has none: TIERCI_DEVICE=none" in output
    assert not (project.path / "report.xml").exists()  # nothing ran, nothing to mistake for green


def test_allowed_without_a_device_its_tests_are_skipped_visibly(
    project: pytest.Pytester, no_gpu: None
) -> None:
    result = project.runpytest("-rs", "--tier=device", "--allow-no-device", "--junitxml=r.xml")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no device (allowed by --allow-no-device)*"])
    tree = etree.parse(str(project.path / "r.xml"))
    properties = {p.get("name"): p.get("value") for p in tree.iterfind(".//properties/property")}
    assert properties["device"] == "none"
    assert isinstance(properties["device_reason"], str)
    assert "TIERCI_DEVICE=none" in properties["device_reason"]
    assert tree.find(".//testcase/skipped") is not None


def test_a_found_device_is_recorded_in_the_report(project: pytest.Pytester, fake_gpu: None) -> None:
    result = project.runpytest("--tier=device", "--junitxml=r.xml")
    result.assert_outcomes(passed=1)
    tree = etree.parse(str(project.path / "r.xml"))
    properties = {p.get("name"): p.get("value") for p in tree.iterfind(".//properties/property")}
    assert properties["device"] == "NVIDIA H100 80GB HBM3"
    assert properties["device_driver"] == "570.86.15"
    assert properties["device_cuda"] == "12.8"
    assert properties["device_count"] == "1"


def test_other_tiers_never_look_for_a_device(project: pytest.Pytester, no_gpu: None) -> None:
    result = project.runpytest("--tier=unit")
    result.assert_outcomes(passed=1)


SLOW_AND_FAST = """
import pytest

@pytest.mark.parametrize("n", range(6))
def test_fast(n): pass

def test_slow(): pass
"""


def test_shards_balance_on_recorded_durations(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.tierci]\n")
    pytester.makepyfile(test_mix=SLOW_AND_FAST)
    cases = "".join(
        f'<testcase classname="test_mix" name="test_fast[{n}]" time="1"/>' for n in range(6)
    )
    pytester.path.joinpath("durations.xml").write_text(
        f'<testsuite>{cases}<testcase classname="test_mix" name="test_slow" time="6"/></testsuite>'
    )
    one = pytester.runpytest("-v", "--shard=1/2", "--shard-durations=durations.xml")
    two = pytester.runpytest("-v", "--shard=2/2", "--shard-durations=durations.xml")
    one.stdout.fnmatch_lines(["tierci: shard 1/2: balanced on 7 recorded durations from *"])
    assert selected(one) == ["test_slow"]  # 6 s alone: the six 1 s tests go together
    assert selected(two) == [f"test_fast[{n}]" for n in range(6)]


def test_without_recorded_durations_shards_are_round_robin_and_say_so(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml("[tool.tierci]\n")
    pytester.makepyfile(test_mix=SLOW_AND_FAST)
    result = pytester.runpytest("-v", "--shard=1/2")
    result.stdout.fnmatch_lines(["tierci: shard 1/2: no recorded durations: round-robin"])
    assert len(selected(result)) == 4


def test_an_unreadable_durations_file_is_a_usage_error_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.tierci]\n")
    pytester.makepyfile(test_mix=SLOW_AND_FAST)
    pytester.path.joinpath("broken.xml").write_text("<testsuite><testcase")
    result = pytester.runpytest("--shard=1/2", "--shard-durations=broken.xml")
    assert result.ret == UsageError.return_code
    assert "cannot read durations from" in "\n".join(result.outlines + result.errlines)


FLAKY_TESTS = """
from pathlib import Path

import pytest


def attempt(name):
    path = Path(__file__).parent / f"{name}.count"
    count = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(count))
    return count


def test_fails_once_then_passes():
    assert attempt("call") > 1, "the first attempt fails"


@pytest.fixture
def broken_once():
    if attempt("setup") == 1:
        raise RuntimeError("the fixture broke once")


def test_setup_fails_once(broken_once):
    pass


def test_always_fails():
    assert False, "broken for good"


def test_steady():
    pass
"""


def attempt_properties(report: Path) -> dict[str, list[list[tuple[str, str]]]]:
    """Each testcase element's tierci.* properties, by test name, in document order."""
    found: dict[str, list[list[tuple[str, str]]]] = {}
    for case in etree.parse(str(report)).iterfind(".//testcase"):
        marks = [
            (str(p.get("name")), str(p.get("value")))
            for p in case.iterfind("properties/property")
            if str(p.get("name")).startswith("tierci.")
        ]
        found.setdefault(str(case.get("name")), []).append(marks)
    return found


def test_each_attempt_a_rerun_plugin_ran_again_is_marked_with_what_became_of_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_flaky=FLAKY_TESTS)
    result = pytester.runpytest("-p", "rerunfailures", "--reruns=2", "--junitxml=r.xml")
    assert result.parseoutcomes() == {"passed": 3, "failed": 1, "rerun": 4}
    report = pytester.path / "r.xml"
    marks = attempt_properties(report)
    first, second = marks["test_fails_once_then_passes"]
    assert (first[0], second) == (("tierci.attempt", "failed"), [])
    assert first[1][0] == "tierci.attempt.message"
    assert first[1][1].startswith("AssertionError: the first attempt fails")
    assert marks["test_setup_fails_once"] == [
        [
            ("tierci.attempt", "error"),  # outside the test's call, as JUnit's <error>
            ("tierci.attempt.message", "RuntimeError: the fixture broke once"),
        ],
        [],
    ]
    assert [len(m) for m in marks["test_always_fails"]] == [2, 2, 0]  # the last has <failure>
    assert marks["test_steady"] == [[]]
    found = {case.name: case for case in ReportReader(report)}
    assert {name: (c.outcome, c.attempts) for name, c in found.items()} == {
        "test_fails_once_then_passes": (Outcome.FLAKY, 2),
        "test_setup_fails_once": (Outcome.FLAKY, 2),
        "test_always_fails": (Outcome.FAILED, 3),
        "test_steady": (Outcome.PASSED, 1),
    }
    assert found["test_setup_fails_once"].message == "RuntimeError: the fixture broke once"
    assert summarize(report).counts == Counts(passed=1, failed=1, flaky=2)


def test_without_reruns_no_testcase_gets_a_property(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_flaky=FLAKY_TESTS)
    pytester.runpytest("--junitxml=r.xml")
    assert all(marks == [[]] for marks in attempt_properties(pytester.path / "r.xml").values())


def test_an_attempt_marked_on_a_pytest_xdist_worker_is_not_marked_again() -> None:
    recorder = pytest_plugin._AttemptRecorder()
    call = pytest.TestReport("t.py::t", ("t.py", 0, "t"), {}, "failed", None, "call")
    call.outcome = "rerun"  # type: ignore[assignment]  # pytest-rerunfailures' outcome
    teardown = pytest.TestReport("t.py::t", ("t.py", 0, "t"), {}, "passed", None, "teardown")
    for _ in ("worker", "controller"):  # the controller gets the worker's report, marked
        recorder.pytest_runtest_logreport(call)
        recorder.pytest_runtest_logreport(teardown)
    assert teardown.user_properties == [("tierci.attempt", "failed")]
