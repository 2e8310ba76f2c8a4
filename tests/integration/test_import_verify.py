"""Import verification against real wheels built by a real backend."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support import run
from tierci.artifacts.verify import source_modules, verify_wheel_imports
from tierci.errors import CommandFailedError


def build_wheel(
    root: Path, *, extra_pyproject: str = "", modules: dict[str, str]
) -> tuple[Path, set[str]]:
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling>=1.27"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "demo"\nversion = "1.0"\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/demo"]\n' + extra_pyproject,
        encoding="utf-8",
    )
    package = root / "src" / "demo"
    package.mkdir(parents=True)
    for name, text in modules.items():
        (package / name).write_text(text, encoding="utf-8")
    built = run([sys.executable, "-m", "uv", "build", "--wheel", "--out-dir", "dist", "."], root)
    assert built.returncode == 0, built
    (wheel,) = (root / "dist").glob("*.whl")
    return wheel, source_modules(package)


def test_a_complete_wheel_passes(tmp_path: Path) -> None:
    wheel, expected = build_wheel(
        tmp_path, modules={"__init__.py": "", "core.py": "from demo import util\n", "util.py": ""}
    )
    check = verify_wheel_imports(wheel, package="demo", expected_modules=expected)
    assert sorted(check.imported) == ["demo", "demo.core", "demo.util"]
    assert str(tmp_path) not in check.location  # imported from the fresh env, not the tree


def test_a_wheel_missing_a_module_fails_naming_it(tmp_path: Path) -> None:
    wheel, expected = build_wheel(
        tmp_path,
        modules={"__init__.py": "", "core.py": "", "plugin.py": ""},
        extra_pyproject='exclude = ["src/demo/plugin.py"]\n',
    )
    with pytest.raises(
        CommandFailedError, match=r"lacks modules the source tree has: demo\.plugin"
    ):
        verify_wheel_imports(wheel, package="demo", expected_modules=expected)


def test_a_module_that_fails_to_import_after_install_fails(tmp_path: Path) -> None:
    wheel, expected = build_wheel(
        tmp_path,
        modules={"__init__.py": "", "fast.py": "import demo_native_core_that_was_not_built\n"},
    )
    with pytest.raises(CommandFailedError, match=r"1 module\(s\) failed to import") as caught:
        verify_wheel_imports(wheel, package="demo", expected_modules=expected)
    assert "demo.fast" in str(caught.value)
    assert "demo_native_core_that_was_not_built" in str(caught.value)
