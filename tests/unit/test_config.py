import re
from pathlib import Path

import pytest

from tierci.config import DEFAULT_TIERS, find_pyproject, load_config
from tierci.errors import ConfigError


def write_pyproject(folder: Path, text: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_table_gives_the_builtin_tiers(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[project]\nname = "x"\n')
    config = load_config(tmp_path)
    assert tuple(config.tiers) == DEFAULT_TIERS
    unit = config.tier("unit")
    assert unit.markers == "not heavy and not device and not e2e"
    assert unit.lock == tmp_path / "requirements" / "unit.txt"
    assert unit.allow_empty is False
    assert unit.install_project is True
    assert config.tier("lint").runs_tests is False
    assert config.junit_dir == tmp_path / "build" / "junit"


def test_project_values_override_field_by_field_and_add_tiers(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        """
[tool.tierci]
junit_dir = "out/xml"

[tool.tierci.tiers.heavy]
allow_empty = true
pytest_args = ["-x"]

[tool.tierci.tiers.gpu-nightly]
markers = "device and slow"
lock = "locks/gpu.txt"
""",
    )
    config = load_config(tmp_path / "sub" / "dir")  # found by walking up
    heavy = config.tier("heavy")
    assert heavy.allow_empty is True
    assert heavy.markers == "heavy"
    assert heavy.pytest_args == ("-x",)
    custom = config.tier("gpu-nightly")
    assert custom.markers == "device and slow"
    assert custom.lock == tmp_path / "locks" / "gpu.txt"
    assert custom.lock_input == tmp_path / "locks" / "gpu.in"
    assert config.junit_path("unit", "2/4") == tmp_path / "out" / "xml" / "unit-2of4.xml"


def test_a_custom_tier_selects_its_own_marker_by_default(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.tierci.tiers.e2e]\n")
    assert load_config(tmp_path).tier("e2e").markers == "e2e"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[tool.tierci]\njunit_dri = 'x'\n", "unknown key 'junit_dri' (did you mean 'junit_dir'?)"),
        (
            "[tool.tierci.tiers.unit]\nmarker = 'x'\n",
            "[tool.tierci].tiers.unit: unknown key 'marker' (did you mean 'markers'?)",
        ),
        ("[tool.tierci.tiers.unit]\nzzz = 1\n", "unknown key 'zzz'\n  fix: valid keys here are:"),
    ],
)
def test_unknown_keys_name_the_file_and_suggest(tmp_path: Path, text: str, expected: str) -> None:
    pyproject = write_pyproject(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(pyproject) in str(caught.value)
    assert expected in str(caught.value)
    assert caught.value.return_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[tool.tierci.tiers.unit]\nallow_empty = 'yes'\n", "allow_empty must be a boolean"),
        ("[tool.tierci.tiers.unit]\nmarkers = 3\n", "markers must be a string, got int 3"),
        ("[tool.tierci.tiers.unit]\npytest_args = [1]\n", "pytest_args must be a list of strings"),
        ("[tool.tierci]\ntiers = 'unit'\n", "tiers must be a table"),
        ("[tool.tierci.tiers]\nunit = 'x'\n", "tiers.unit must be a table, got str"),
    ],
)
def test_wrong_types_are_clear_errors(tmp_path: Path, text: str, expected: str) -> None:
    write_pyproject(tmp_path, text)
    with pytest.raises(ConfigError, match="fix:") as caught:
        load_config(tmp_path)
    assert expected in str(caught.value)


def test_unknown_tier_lists_the_known_ones(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path).tier("unti")
    assert "no tier named 'unti' (did you mean 'unit'?)" in str(caught.value)
    assert "device, heavy, lint, packaging, unit" in str(caught.value)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    pyproject = write_pyproject(tmp_path, "[tool.tierci\n")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_config(tmp_path)
    assert str(pyproject) in str(caught.value)


def test_no_pyproject_anywhere(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no pyproject\.toml at or above"):
        find_pyproject(Path("/"))


def test_config_is_frozen(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "")
    config = load_config(tmp_path)
    with pytest.raises(AttributeError):
        config.junit_dir = tmp_path  # type: ignore[misc]


def test_wheelhouse_defaults_to_the_heavy_lock_and_every_env_lock(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        "[tool.tierci.wheelhouse]\nrequired = ['torch']\n"
        "[tool.tierci.envs.legacy]\nlock = 'requirements/env-legacy.txt'\n",
    )
    config = load_config(tmp_path)
    assert config.wheelhouse is not None
    assert config.wheelhouse.dir == tmp_path / ".wheelhouse"
    assert config.wheelhouse.locks == (
        tmp_path / "requirements/heavy.txt",
        tmp_path / "requirements/env-legacy.txt",
    )
    assert config.wheelhouse.required == ("torch",)
    assert config.uses_wheelhouse(tmp_path / "requirements" / "heavy.txt")
    assert not config.uses_wheelhouse(tmp_path / "requirements" / "unit.txt")
    assert config.env("legacy").lock == tmp_path / "requirements/env-legacy.txt"


def test_no_wheelhouse_table_means_no_wheelhouse(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.tierci]\n")
    config = load_config(tmp_path)
    assert config.wheelhouse is None
    assert not config.uses_wheelhouse(tmp_path / "requirements" / "heavy.txt")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[tool.tierci.envs.x]\npython = '3.12'\n", "an environment needs a lock"),
        ("[tool.tierci.envs.default]\nlock = 'a.txt'\n", "'default' cannot name an environment"),
        ("[tool.tierci.envs.x]\nlock = 'a.txt'\npost_install = ['echo hi']\n", "post_install"),
        ("[tool.tierci.envs.x]\nlok = 'a.txt'\n", "did you mean 'lock'?"),
        ("[tool.tierci.wheelhouse]\nrequire = ['torch']\n", "did you mean 'required'?"),
        ("[tool.tierci.wheelhouse]\nfallback = 'yes'\n", "fallback must be a boolean"),
    ],
)
def test_env_and_wheelhouse_mistakes_are_clear_errors(
    tmp_path: Path, text: str, expected: str
) -> None:
    write_pyproject(tmp_path, text)
    with pytest.raises(ConfigError, match=expected.replace("?", r"\?").replace("(", r"\(")):
        load_config(tmp_path)


def test_an_unknown_env_suggests_the_closest(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.tierci.envs.legacy]\nlock = 'a.txt'\n")
    with pytest.raises(ConfigError, match="did you mean 'legacy'"):
        load_config(tmp_path).env("legacyy")


def test_junit_paths_carry_the_env(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "")
    config = load_config(tmp_path)
    assert config.junit_path("heavy", None, "legacy").name == "heavy-legacy.xml"
    assert config.junit_path("heavy", None, "default").name == "heavy.xml"
    assert config.junit_path("heavy", "2/3", "legacy").name == "heavy-legacy-2of3.xml"


def test_lock_options_are_kept_normalised(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        "[tool.tierci]\nlock_options = [\n"
        "  '--extra-index-url=https://download.pytorch.org/whl/cpu',\n"
        "  '  --extra-index-url   https://download.pytorch.org/whl/cpu ',\n"
        "  '--only-binary :all:',\n]\n",
    )
    assert load_config(tmp_path).lock_options == (
        "--extra-index-url https://download.pytorch.org/whl/cpu",
        "--only-binary :all:",
    )
    write_pyproject(tmp_path, "")
    assert load_config(tmp_path).lock_options == ()


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ("['-r ../outside.txt']", "'-r ../outside.txt' cannot be allowed"),
        ("['--constraint c.txt']", "'--constraint c.txt' cannot be allowed"),
        ("['--requir c.txt']", "'--requir c.txt' cannot be allowed"),
        ("['-e .']", "'-e .' cannot be allowed"),
        ("['https://evil.example/simple']", "is not an option line"),
        ("['']", "is not an option line"),
        ("[1]", "lock_options must be a list of strings"),
        ("'--pre'", "lock_options must be a list"),
    ],
)
def test_lock_options_that_cannot_be_allowed_are_config_errors(
    tmp_path: Path, entries: str, expected: str
) -> None:
    write_pyproject(tmp_path, f"[tool.tierci]\nlock_options = {entries}\n")
    with pytest.raises(ConfigError, match=re.escape(expected)) as caught:
        load_config(tmp_path)
    assert "pyproject.toml: [tool.tierci]" in caught.value.message
    assert caught.value.fix


def test_reruns_are_off_unless_a_tier_sets_them(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        "[tool.tierci.tiers.integration]\nreruns = 2\nreruns_delay = 1\n"
        "[tool.tierci.tiers.unit]\nreruns = 1\nreruns_delay = 0.25\n",
    )
    config = load_config(tmp_path)
    assert (config.tier("heavy").reruns, config.tier("heavy").reruns_delay) == (0, 0.0)
    integration = config.tier("integration")
    assert (integration.reruns, integration.reruns_delay) == (2, 1.0)
    assert isinstance(integration.reruns_delay, float)
    assert (config.tier("unit").reruns, config.tier("unit").reruns_delay) == (1, 0.25)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reruns = -1", "reruns must be 0 or more, got -1"),
        ("reruns = true", "reruns must be 0 or more, got True"),
        ("reruns = 1.5", "reruns must be a whole number, got float 1.5"),
        ("reruns = '2'", "reruns must be a whole number, got str '2'"),
        ("reruns = 2\nreruns_delay = -1", "reruns_delay must be 0 or more seconds, got -1.0"),
        ("reruns = 2\nreruns_delay = inf", "reruns_delay must be 0 or more seconds, got inf"),
        ("reruns = 2\nreruns_delay = nan", "reruns_delay must be 0 or more seconds, got nan"),
        ("reruns = 2\nreruns_delay = false", "reruns_delay must be a number, got bool False"),
        ("reruns_delay = 1", "reruns_delay is set, but reruns is not"),
        ("rerun = 2", "unknown key 'rerun' (did you mean 'reruns'?)"),
    ],
)
def test_reruns_mistakes_are_config_errors_naming_the_tier(
    tmp_path: Path, text: str, expected: str
) -> None:
    write_pyproject(tmp_path, f"[tool.tierci.tiers.unit]\n{text}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert expected in caught.value.message
    assert "[tool.tierci].tiers.unit" in caught.value.message
    assert caught.value.fix


def test_quarantine_bounds_default_to_90_days_and_5_percent(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.tierci]\n")
    bounds = load_config(tmp_path).quarantine_bounds
    assert (bounds.max_days, bounds.max_percent) == (90, 5.0)
    write_pyproject(
        tmp_path, "[tool.tierci]\nquarantine_max_days = 14\nquarantine_max_percent = 2\n"
    )
    bounds = load_config(tmp_path).quarantine_bounds
    assert (bounds.max_days, bounds.max_percent) == (14, 2.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quarantine_max_days = 0", "quarantine_max_days must be a whole number above 0, got 0"),
        ("quarantine_max_days = 366", "quarantine_max_days must be at most 365, got 366"),
        ("quarantine_max_days = 1.5", "quarantine_max_days must be a whole number, got float"),
        (
            "quarantine_max_days = true",
            "quarantine_max_days must be a whole number above 0, got True",
        ),
        ("quarantine_max_percent = 0", "quarantine_max_percent must be above 0 and at most 100"),
        ("quarantine_max_percent = 100.5", "at most 100, got 100.5"),
        ("quarantine_max_percent = nan", "at most 100, got nan"),
        ("quarantine_max_percent = '5'", "quarantine_max_percent must be a number, got str"),
        ("quarantine_max_share = 0.05", "unknown key 'quarantine_max_share'"),
    ],
)
def test_quarantine_bound_mistakes_are_config_errors(
    tmp_path: Path, text: str, expected: str
) -> None:
    pyproject = write_pyproject(tmp_path, f"[tool.tierci]\n{text}\n")
    with pytest.raises(ConfigError, match="fix:") as caught:
        load_config(tmp_path)
    assert str(pyproject) in str(caught.value)
    assert expected in str(caught.value)


def test_a_tier_may_name_its_reports_producer(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.tierci.tiers.js]\nmarkers = "js"\njunit_producer = "jest"\n')
    config = load_config(tmp_path)
    assert config.tier("js").junit_producer == "jest"
    assert config.tier("unit").junit_producer == ""  # detected from each report
    assert {tier: producer.name for tier, producer in config.junit_producers.items()} == {
        "js": "jest"
    }


@pytest.mark.parametrize(
    ("text", "expected", "fix"),
    [
        (
            'junit_producer = "jets"',
            "junit_producer 'jets' is not a tool tierci knows (did you mean 'jest'?)",
            "use one of: generic, pytest, gotestsum, jest,",
        ),
        ("junit_producer = 1", "junit_producer must be a string, got int 1", "to a string"),
    ],
)
def test_an_unknown_junit_producer_is_a_config_error(
    tmp_path: Path, text: str, expected: str, fix: str
) -> None:
    write_pyproject(tmp_path, f"[tool.tierci.tiers.unit]\n{text}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert expected in caught.value.message
    assert "[tool.tierci].tiers.unit" in caught.value.message
    assert fix in (caught.value.fix or "")
