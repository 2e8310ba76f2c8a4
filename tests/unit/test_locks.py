"""Lock layering and staleness: pure file logic (compiling is exercised by `nox -s lock`)."""

from pathlib import Path

import pytest

from tierci.config import load_config
from tierci.errors import LockError
from tierci.locks import compile as locks


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "1"\ndependencies = ["rich>=13"]\n'
        "[tool.tierci.tiers.packaging]\ninstall_project = false\n",
        encoding="utf-8",
    )
    req = tmp_path / "requirements"
    req.mkdir()
    (req / "unit.in").write_text("pytest  # the runner\n", encoding="utf-8")
    (req / "heavy.in").write_text("-c unit.txt\nnumpy\n", encoding="utf-8")
    (req / "packaging.in").write_text("-c heavy.txt\nbuild\n", encoding="utf-8")
    (req / "lock.in").write_text("pip-tools\n", encoding="utf-8")
    return tmp_path


def specs_of(root: Path) -> dict[str, locks.LockSpec]:
    return {spec.name: spec for spec in locks.lock_specs(load_config(root))}


def fake_compile(
    spec: locks.LockSpec, root: Path, body: str = "pytest==9.0 \\\n    --hash=sha256:00\n"
) -> None:
    """Write a lock as pip-compile would, stamped with its digest."""
    spec.lock.write_text("#\n# header\n#\n" + body, encoding="utf-8")
    locks._stamp(spec.lock, locks.input_digest(spec, root / "pyproject.toml"))


def test_layering_order_puts_constraint_targets_first(project: Path) -> None:
    order = [spec.name for spec in locks.lock_specs(load_config(project))]
    assert order.index("unit") < order.index("heavy") < order.index("packaging")


def test_project_dependencies_go_where_the_project_is_installed(project: Path) -> None:
    specs = specs_of(project)
    assert specs["unit"].includes_project
    assert specs["heavy"].includes_project
    assert not specs["packaging"].includes_project  # install_project = false
    assert not specs["lock"].includes_project  # no tier uses it


def test_fresh_locks_are_not_stale_and_the_stamp_follows_the_header(project: Path) -> None:
    specs = specs_of(project)
    for spec in specs.values():
        fake_compile(spec, project)
    assert locks.find_stale(specs.values(), project / "pyproject.toml") == []
    lines = specs["unit"].lock.read_text(encoding="utf-8").splitlines()
    assert lines[3].startswith(locks.DIGEST_PREFIX)
    assert lines[4].startswith("pytest==")


def stale_names(root: Path) -> dict[str, str]:
    specs = specs_of(root)
    return {
        s.spec.name: s.reason for s in locks.find_stale(specs.values(), root / "pyproject.toml")
    }


def test_comment_and_whitespace_edits_do_not_make_a_lock_stale(project: Path) -> None:
    for spec in specs_of(project).values():
        fake_compile(spec, project)
    unit_in = project / "requirements" / "unit.in"
    unit_in.write_text("# a new comment\n\n   pytest    # still the runner\n", encoding="utf-8")
    assert stale_names(project) == {}


def test_changed_input_makes_only_that_lock_stale(project: Path) -> None:
    for spec in specs_of(project).values():
        fake_compile(spec, project)
    (project / "requirements" / "heavy.in").write_text(
        "-c unit.txt\nnumpy\nscipy\n", encoding="utf-8"
    )
    assert stale_names(project) == {"heavy": "heavy.in changed since"}


def test_recompiled_constraint_target_makes_its_dependents_stale(project: Path) -> None:
    specs = specs_of(project)
    for spec in specs.values():
        fake_compile(spec, project)
    fake_compile(specs["unit"], project, body="pytest==9.1 \\\n    --hash=sha256:11\n")
    assert set(stale_names(project)) == {"heavy"}


def test_project_dependency_change_makes_project_locks_stale(project: Path) -> None:
    for spec in specs_of(project).values():
        fake_compile(spec, project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("rich>=13", "rich>=14"), encoding="utf-8")
    assert set(stale_names(project)) == {"unit", "heavy"}


def test_missing_and_unstamped_locks(project: Path) -> None:
    specs = specs_of(project)
    fake_compile(specs["unit"], project)
    specs["heavy"].lock.write_text("numpy==2.0\n", encoding="utf-8")
    reasons = stale_names(project)
    assert reasons["heavy"] == "no tierci input digest in its header"
    assert reasons["packaging"] == "packaging.txt does not exist"


def test_constraint_cycle_is_a_clear_error(project: Path) -> None:
    (project / "requirements" / "unit.in").write_text(
        "-c packaging.txt\npytest\n", encoding="utf-8"
    )
    with pytest.raises(LockError, match="cycle"):
        locks.lock_specs(load_config(project))


def test_the_repository_locks_are_fresh() -> None:
    """The same check `nox -s lock -- --check` runs, on this repository's own locks."""
    root = Path(__file__).parents[2]
    config = load_config(root)
    assert locks.find_stale(locks.lock_specs(config), config.pyproject) == []
