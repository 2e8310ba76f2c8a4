"""docs/adopting.md, followed literally on two fresh projects built here: a pure one
(hatchling, src layout, mypy) and one with a C extension (setuptools' setup.py, flat
layout, a heavy test). The guide's steps run as written, in bash, from `tierci init` to
`inv ci` green; nothing else is written by hand (the count is asserted: zero lines).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO, write_files

pytestmark = pytest.mark.e2e

GUIDE = REPO / "docs" / "adopting.md"
STEPS_MARK = "<!-- adopting-steps -->"

PURE = {
    "pyproject.toml": """\
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "greet-words"
        version = "0.1.0"
        description = "Says hello."
        readme = "README.md"
        requires-python = ">=3.11"
        license = "MIT"

        [tool.mypy]
        strict = true
        files = ["src", "tests"]
        """,
    "README.md": "# greet-words\n\nSays hello.\n",
    "src/greet_words/__init__.py": '''\
        """Greetings."""


        def hello(name: str) -> str:
            """Greet someone."""
            return f"hello {name}"
        ''',
    "src/greet_words/py.typed": "",
    "tests/test_greet.py": """\
        from greet_words import hello


        def test_hello() -> None:
            assert hello("x") == "hello x"
        """,
}

NATIVE = {
    "pyproject.toml": """\
        [build-system]
        requires = ["setuptools>=69"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "fastsum"
        version = "0.2.0"
        description = "Sums, in C."
        readme = "README.md"
        requires-python = ">=3.11"
        license = "MIT"

        [tool.setuptools]
        packages = ["fastsum"]
        """,
    "setup.py": """\
        from setuptools import Extension, setup

        setup(ext_modules=[Extension("fastsum._speedups", ["fastsum/_speedups.c"])])
        """,
    "README.md": "# fastsum\n\nSums, in C.\n",
    "fastsum/__init__.py": '''\
        """Sums, with the compiled module doing the work."""

        from fastsum._speedups import total

        __all__ = ["total"]
        ''',
    "fastsum/_speedups.c": """\
        #define PY_SSIZE_T_CLEAN
        #include <Python.h>

        static PyObject *total(PyObject *self, PyObject *args) {
            long a, b;
            if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
            return PyLong_FromLong(a + b);
        }

        static PyMethodDef methods[] = {{"total", total, METH_VARARGS, "a + b"}, {NULL}};
        static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};

        PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
        """,
    "tests/test_total.py": """\
        import pytest

        from fastsum import total


        def test_total() -> None:
            assert total(2, 3) == 5


        @pytest.mark.heavy
        def test_a_big_total() -> None:
            assert total(10**9, 10**9) == 2 * 10**9
        """,
}


def guide_steps() -> list[str]:
    """The commands of the guide's marked block, as written."""
    text = GUIDE.read_text(encoding="utf-8")
    after = text.split(STEPS_MARK, 1)[1]
    block = re.search(r"```bash\n(.*?)```", after, re.DOTALL)
    assert block, f"{GUIDE}: no ```bash block after {STEPS_MARK}"
    lines = [line.split("  #", 1)[0].rstrip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def make_project(root: Path, files: dict[str, str], tierci_wheel: Path) -> Path:
    write_files(root, files)
    # The guide's one preparation: tierci's wheel in the project's wheels/ folder.
    (root / "wheels").mkdir()
    shutil.copy2(tierci_wheel, root / "wheels")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the project before tierci")
    return root


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True, env=_env()
    ).stdout


def _env() -> dict[str, str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH") and not k.startswith(("GITHUB_", "TIERCI_"))
    }
    identity = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com"}
    identity |= {"GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}
    return environment | identity


def follow_the_guide(project: Path, steps: int | None = None) -> str:
    """The guide's steps (the first ``steps`` of them, or all) in one bash, as written."""
    script = "set -euxo pipefail\n" + "\n".join(guide_steps()[:steps]) + "\n"
    return _checked(["bash", "-c", script], project, timeout=1500)


def _checked(command: list[str], project: Path, *, timeout: float = 900) -> str:
    completed = subprocess.run(
        command,
        cwd=project,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stdout[-15000:]
    return completed.stdout


def hand_written_lines(project: Path, before: set[str], output: str) -> int:
    """Lines in the adoption commit that neither the project had nor a tool wrote:
    tierci init (the files it names), the lock session (requirements/*.txt)."""
    written = set(re.findall(r"^wrote\s+(\S+)", output, re.MULTILINE))
    added = git(project, "diff", "--name-only", "HEAD~1", "HEAD").split()
    by_hand = [
        name
        for name in added
        if name not in written
        and not re.fullmatch(r"requirements/[\w-]+\.txt", name)
        and not (name == "pyproject.toml" and "pyproject.toml" in written)
        and not (name == ".gitignore" and ".gitignore" in written)
    ]
    lines = 0
    for name in by_hand:
        diff = git(project, "diff", "HEAD~1", "HEAD", "--", name)
        lines += sum(1 for line in diff.splitlines() if re.match(r"\+(?!\+\+)", line))
    assert not (set(by_hand) - before), f"written by hand: {by_hand}"
    return lines


@pytest.mark.parametrize("sample", ["pure", "native"])
def test_the_adopting_guide_works_as_written(
    sample: str, tmp_path: Path, tierci_wheel: Path
) -> None:
    files = PURE if sample == "pure" else NATIVE
    project = make_project(tmp_path / sample, files, tierci_wheel)
    before = set(files)
    output = follow_the_guide(project)

    assert hand_written_lines(project, before, output) == 0
    # What init found and chose.
    if sample == "native":
        assert "native modules fastsum._speedups" in output
        assert 'native_modules = ["fastsum._speedups"]' in (project / "pyproject.toml").read_text()
        assert (project / "requirements" / "heavy.txt").is_file()
        assert (project / ".github" / "workflows" / "heavy.yml").is_file()
        # The wheels tier with the cibuildwheel test step init wrote (no container
        # engine here: build from the sdist, auditwheel, import, the test-command).
        python = str(project / ".venv" / "bin" / "python")
        wheels = _checked([python, "-m", "nox", "-s", "wheels"], project)
        assert "1 passed, 1 deselected" in wheels
    else:
        assert "mypy" in (project / "requirements" / "lint.in").read_text()
    # Lint ran every tool on the rendered CI files: zizmor with 0 findings, groovy-lint
    # with 0 warnings (--failon warning), and it edited nothing.
    tools = re.search(r"lint: ruff, ruff-format, (mypy, )?zizmor, groovy-lint", output)
    assert tools, output[-5000:]
    assert "CI files: up to date" in output
    # inv ci: the pipeline green, the HUD rendered.
    assert (project / "build" / "hud" / "index.html").is_file()
    # The locks pin tierci portably: from wheels/, named relative to the lock.
    unit_lock = (project / "requirements" / "unit.txt").read_text()
    assert "--find-links ../wheels\n" in unit_lock
    assert re.search(r"^tierci==[\w.]+ \\$", unit_lock, re.MULTILINE)
    assert str(tmp_path) not in "".join(
        p.read_text() for p in (project / "requirements").glob("*.txt")
    )
    # The repository is clean after the guide, and init again changes nothing.
    assert git(project, "status", "--porcelain") == ""
    again = subprocess.run(
        [str(project / ".venv" / "bin" / "tierci"), "init", "--find-links", "wheels"],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "wrote" not in again.stdout
    assert "locks: every lock is up to date" in again.stdout
    assert git(project, "status", "--porcelain") == ""


def test_init_in_a_project_with_its_own_noxfile_and_workflow(
    tmp_path: Path, tierci_wheel: Path
) -> None:
    """Both are kept and named as steps left; the locks still compile (init uses its
    own lock session, not the project's noxfile, which has none)."""
    files = {
        **PURE,
        "noxfile.py": """\
            import nox


            @nox.session
            def tests(session: nox.Session) -> None:
                session.install("pytest")
                session.run("pytest")
            """,
        ".github/workflows/ci.yml": "name: CI\non: push\njobs: {}\n",
    }
    project = make_project(tmp_path / "own", files, tierci_wheel)
    output = follow_the_guide(project, steps=3)  # venv, install, init
    assert "kept       noxfile.py" in output
    assert "to do:     noxfile.py is the project's own" in output
    assert "to do:     .github/workflows/ci.yml is the project's own" in output
    assert (project / "requirements" / "unit.txt").is_file()
    assert (project / ".github" / "workflows" / "ci.yml").read_text() == files[
        ".github/workflows/ci.yml"
    ]
    assert "tierci" not in (project / "noxfile.py").read_text()
