"""`tierci init` without compiling: what it detects, what it writes, what it keeps.
The whole command with its lock compile, on fresh projects: tests/e2e/test_adopting.py."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.support import write_files
from tierci.config import load_config
from tierci.errors import ConfigError
from tierci.init import init_project
from tierci.init.detect import detect

PYPROJECT = """\
[build-system]
requires = ["{requires}"]
build-backend = "{backend}"

[project]
name = "{name}"
version = "1.0"
"""


def make(root: Path, files: dict[str, str], *, backend: str = "hatchling.build") -> Path:
    requires = backend.split(".", maxsplit=1)[0]
    pyproject = PYPROJECT.format(requires=requires, backend=backend, name="my-pkg")
    files = {"pyproject.toml": pyproject, **files}
    write_files(root, files)
    return root


def test_a_pure_src_layout_project(tmp_path: Path) -> None:
    root = make(
        tmp_path,
        {
            "src/my_pkg/__init__.py": "",
            "tests/test_a.py": "import pytest\n\n@pytest.mark.e2e\ndef test_a(): pass\n",
        },
    )
    with (root / "pyproject.toml").open("a") as pyproject:
        pyproject.write('[tool.mypy]\nstrict = true\n[dependency-groups]\ntest = ["hypothesis"]\n')
    facts = detect(root)
    assert (facts.package, facts.layout, facts.backend) == ("my_pkg", "src", "hatchling")
    assert facts.native_modules == ()
    assert facts.markers == {"e2e"}
    assert facts.test_requirements == ("hypothesis",)
    assert facts.mypy
    assert not facts.github
    assert not facts.jenkins


@pytest.mark.parametrize(
    ("files", "backend", "expected"),
    [
        (
            {
                "setup.py": "from setuptools import Extension, setup\nsetup(ext_modules=["
                'Extension("my_pkg._fast", ["my_pkg/_fast.c"])])\n',
                "my_pkg/__init__.py": "",
            },
            "setuptools.build_meta",
            ("my_pkg._fast",),
        ),
        (
            {
                "src/my_pkg/__init__.py": "",
                "src/my_pkg/core/_accel.c": "PyMODINIT_FUNC PyInit__accel(void) { return 0; }\n",
            },
            "mesonpy",
            ("my_pkg.core._accel",),
        ),
        (
            {"src/my_pkg/__init__.py": "", "src/my_pkg/_speed.pyx": "def f(): pass\n"},
            "scikit_build_core.build",
            ("my_pkg._speed",),
        ),
        (
            {
                "src/my_pkg/__init__.py": "",
                "rust/lib.rs": "#[pymodule]\nfn _rs(m: &Bound<'_, PyModule>) {}\n",
                "Cargo.toml": "[lib]\ncrate-type = ['cdylib']\n",
            },
            "maturin",
            ("my_pkg._rs",),
        ),
    ],
    ids=["setuptools-setup-py", "meson-c-in-subpackage", "scikit-build-cython", "maturin-rust"],
)
def test_compiled_modules_are_found_for_each_backend(
    tmp_path: Path, files: dict[str, str], backend: str, expected: tuple[str, ...]
) -> None:
    facts = detect(make(tmp_path, files, backend=backend))
    assert facts.native_modules == expected


def test_maturin_module_name_wins(tmp_path: Path) -> None:
    root = make(tmp_path, {"python/my_pkg/__init__.py": ""}, backend="maturin")
    (root / "my_pkg").mkdir()
    with (root / "pyproject.toml").open("a") as pyproject:
        pyproject.write('[tool.maturin]\nmodule-name = "my_pkg._native"\n')
    assert detect(root).native_modules == ("my_pkg._native",)


def test_no_pyproject_or_no_name_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"has no pyproject\.toml"):
        detect(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nversion = '1'\n")
    with pytest.raises(ConfigError, match=r"no \[project\] name"):
        detect(tmp_path)


def test_init_writes_what_is_missing_keeps_what_exists_and_twice_changes_nothing(
    tmp_path: Path,
) -> None:
    root = make(
        tmp_path,
        {
            "my_pkg/__init__.py": "",
            "my_pkg/_core.c": "PyMODINIT_FUNC PyInit__core(void) { return 0; }\n",
            "tests/test_x.py": "import pytest\n\n@pytest.mark.device\ndef test_x(): pass\n",
            "noxfile.py": "# the project's own noxfile\n",
            ".gitignore": "*.pyc",
        },
        backend="setuptools.build_meta",
    )
    first = init_project(root, find_links=("wheels",))
    assert "noxfile.py" in first.kept  # exists: kept, with what --force would write
    assert "tierci.nox.register(globals())" in first.kept["noxfile.py"]
    assert (root / "noxfile.py").read_text() == "# the project's own noxfile\n"
    assert {"requirements/device.in", "requirements/wheels.in", "tasks.py"} <= set(first.written)
    assert "requirements/heavy.in" not in first.written  # no heavy or e2e tests
    config = load_config(root)
    assert config.native_modules == ("my_pkg._core",)
    assert config.sources is not None
    assert config.sources.find_links == ("wheels",)
    assert {"lint", "unit", "packaging", "device", "wheels"} == set(config.enabled_tiers)
    assert (root / ".github" / "workflows" / "ci.yml").is_file()
    assert (root / "Jenkinsfile").is_file()
    assert (root / ".gitignore").read_text().startswith("*.pyc\n# tierci")
    assert "*.so" in (root / ".gitignore").read_text()

    snapshot = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    second = init_project(root, find_links=("wheels",))
    assert second.written == []
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == snapshot

    forced = init_project(root, force=True)
    assert forced.written == ["noxfile.py"]
    assert "tierci.nox.register(globals())" in (root / "noxfile.py").read_text()


def test_a_kept_noxfile_without_the_tiers_is_named_as_a_step_left(tmp_path: Path) -> None:
    root = make(
        tmp_path,
        {
            "src/my_pkg/__init__.py": "",
            "noxfile.py": "import nox\n\n@nox.session\ndef lint(session): ...\n",
            ".github/workflows/ci.yml": "name: CI\non: push\njobs: {}\n",
        },
    )
    result = init_project(root)
    assert "noxfile.py" in result.kept
    advice = "\n".join(result.advice)
    assert "tierci.nox.register(globals())" in advice
    assert ".github/workflows/ci.yml is the project's own" in advice
    assert (
        root / ".github" / "workflows" / "ci.yml"
    ).read_text() == "name: CI\non: push\njobs: {}\n"
    assert not (root / "Jenkinsfile").exists()  # the project has GitHub only


def test_a_native_project_gets_cibuildwheel_s_test_step(tmp_path: Path) -> None:
    root = make(
        tmp_path,
        {
            "my_pkg/__init__.py": "",
            "my_pkg/_core.c": "PyMODINIT_FUNC PyInit__core(void) { return 0; }\n",
            "test/test_x.py": "",
        },
        backend="setuptools.build_meta",
    )
    with (root / "pyproject.toml").open("a") as pyproject:
        pyproject.write('[project.optional-dependencies]\ntest = ["pytest>=8", "hypothesis"]\n')
    init_project(root)
    table = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["cibuildwheel"]
    assert table["test-requires"] == ["pytest"]
    assert table["test-command"].startswith("pytest {project}/test -p no:cacheprovider -m ")
    unit_in = (root / "requirements" / "unit.in").read_text().splitlines()
    assert unit_in[1:] == ["pytest", "tierci", "hypothesis"]  # one pytest, not two


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


@pytest.mark.parametrize("link", ["noxfile.py", "requirements", ".github", ".ci/agent-check"])
def test_no_file_is_written_through_a_link_out_of_the_project(tmp_path: Path, link: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret"
    secret.write_text("keep me\n")
    secret.chmod(0o600)
    root = make(tmp_path / "project", {"src/my_pkg/__init__.py": ""})
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    (root / link).symlink_to(secret if link == ".ci/agent-check" else outside / "target")
    with pytest.raises(ConfigError, match="is a symbolic link"):
        init_project(root, force=True)
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert secret.read_text() == "keep me\n"
    assert secret.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("ext_name", "find_links"),
    [
        ('demo._x"]\nfind_links = ["/etc"]\n#', ()),
        ("demo._x\u0001", ()),
        ("demo._core", ("/opt/wheels",)),
        ("demo._core", ("wheels\n--index-url https://evil.example/simple",)),
    ],
    ids=["toml-injection", "control-character", "absolute-find-links", "option-injection"],
)
def test_a_refused_table_leaves_the_project_as_it_was(
    tmp_path: Path, ext_name: str, find_links: tuple[str, ...]
) -> None:
    root = make(tmp_path, {"demo/__init__.py": ""}, backend="setuptools.build_meta")
    with (root / "pyproject.toml").open("a") as pyproject:
        pyproject.write(f"[[tool.setuptools.ext-modules]]\nname = {json.dumps(ext_name)}\n")
    before = _snapshot(root)
    with pytest.raises(ConfigError, match="nothing was written"):
        init_project(root, find_links=find_links)
    assert _snapshot(root) == before


def test_the_detected_package_is_written_when_the_name_does_not_give_it(tmp_path: Path) -> None:
    root = make(tmp_path, {"src/demo/__init__.py": ""})  # [project] name is my-pkg
    init_project(root)
    assert load_config(root).package == "demo"


def test_sources_outside_the_package_are_not_its_modules(tmp_path: Path) -> None:
    root = make(
        tmp_path,
        {
            "src/my_pkg/__init__.py": "",
            "third_party/zlib/notes.c": "/* see PyInit_spam */\n",
            "tests/data/fixture.pyx": "",
            "src/my_pkg/tests/helper.c": "PyMODINIT_FUNC PyInit_helper(void) { return 0; }\n",
        },
    )
    assert detect(root).native_modules == ()


def test_files_that_are_not_utf8_are_named_not_a_traceback(tmp_path: Path) -> None:
    root = make(tmp_path, {"src/my_pkg/__init__.py": ""})
    (root / ".gitignore").write_bytes(b"\xff\xfe*.pyc\n")
    with pytest.raises(ConfigError, match=r"\.gitignore is not UTF-8"):
        init_project(root)
    (root / "pyproject.toml").write_bytes(b"\xff[project]\n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml is not UTF-8"):
        detect(root)


def test_find_links_for_an_existing_table_is_a_step_left_not_a_silent_no(tmp_path: Path) -> None:
    root = make(tmp_path, {"src/my_pkg/__init__.py": ""})
    with (root / "pyproject.toml").open("a") as pyproject:
        pyproject.write("[tool.tierci.tiers.unit]\n")
    result = init_project(root, find_links=("wheels",))
    assert any('add find_links = ["wheels"]' in advice for advice in result.advice)
