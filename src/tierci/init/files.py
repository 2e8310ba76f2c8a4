"""The files `tierci init` writes for a detected project: requirements inputs, a
noxfile and tasks file of a few lines each, and the ``[tool.tierci]`` table holding
only what differs from tierci's defaults."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from tierci.config import import_name

if TYPE_CHECKING:
    from tierci.init.detect import ProjectFacts

__all__ = ["NOXFILE", "TASKS", "requirement_inputs", "tierci_table"]

NOXFILE = '''\
"""The project's CI tiers, one nox session each, from [tool.tierci] in pyproject.toml.

`nox -s unit` runs one tier, a bare `nox` every tier a push runs. Sessions defined in
this file beside the tiers (or in place of one, under its name) are kept.
"""

import tierci.nox

tierci.nox.register(globals())
'''

TASKS = '''\
"""Invoke tasks: `inv unit` runs exactly `nox -s unit` (Jenkins stages call these), and
`inv ci` the local pipeline with its summary and HUD."""

from pathlib import Path

from tierci.invoke_tasks import nox_collection

ns = nox_collection(Path(__file__).parent)
'''


def requirement_inputs(facts: ProjectFacts, *, github: bool) -> dict[str, str]:
    """``requirements/<name>.in`` → text, for the tiers the project gets.

    Every lock but the host's and the lock session's is layered on ``unit.txt`` (``-c``),
    so a package has one version in every tier."""
    # pytest and tierci are there already: a test extra's own pytest pin would repeat it.
    tests = "".join(
        f"{requirement}\n"
        for requirement in facts.test_requirements
        if _requirement_name(requirement) not in ("pytest", "tierci")
    )
    lint_tools = ["ruff"] + (["mypy"] if facts.mypy else []) + (["zizmor"] if github else [])
    inputs = {
        "bootstrap": "# The host: `pip install -r requirements/bootstrap.txt`, then nox and inv.\n"
        "tierci[ci]\nnox\ninvoke\nuv\n",
        "lock": "# The lock session's own tools (pip-tools needs pip in the pip-less uv venv).\n"
        "pip\npip-tools\n",
        "unit": "# The unit tier: pytest, tierci's plugin, the project's test requirements.\n"
        f"pytest\ntierci\n{tests}",
        "lint": "# The lint tier's tools, at the versions this lock pins (docs/tiers.md).\n"
        "-c unit.txt\n" + "".join(f"{tool}\n" for tool in lint_tools),
        "packaging": "# The packaging tier: build, check and inspect the sdist and wheel.\n"
        "-c unit.txt\nbuild\ntwine\ncheck-wheel-contents\nuv\n",
        "release": "# `nox -s release`: tierci's release command, build, twine.\n"
        "-c unit.txt\ntierci[ci]\nbuild\ntwine\nuv\n",
    }
    if facts.markers & {"heavy", "e2e"}:
        inputs["heavy"] = (
            "# The heavy tier: the unit tier's requirements plus the heavy ones (torch, …).\n"
            "-r unit.in\n-c unit.txt\n"
        )
    if "device" in facts.markers:
        inputs["device"] = (
            "# The device tier, on accelerator hosts: the unit tier's requirements plus the\n"
            "# accelerator's (torch's CUDA build, …).\n-r unit.in\n-c unit.txt\n"
        )
    if facts.native_modules:
        inputs["wheels"] = (
            "# The wheels tier: cibuildwheel, and the no-container fallback (build + auditwheel).\n"
            "-c unit.txt\ncibuildwheel\nbuild\nauditwheel\npatchelf\nuv\n"
        )
    return inputs


def tierci_table(facts: ProjectFacts, *, find_links: tuple[str, ...]) -> str:
    """The ``[tool.tierci]`` table: only what differs from the defaults."""
    lines = [
        "",
        "[tool.tierci]",
        "# Tiers and their defaults: docs/tiers.md of tierci. `tierci init` wrote only",
        "# what differs from them; the CI files are rendered from this table.",
    ]
    if facts.package != import_name(facts.name):
        lines.append(f"package = {_quoted(facts.package)}")
    if find_links:
        lines.append(f"find_links = [{', '.join(_quoted(entry) for entry in find_links)}]")
    if facts.native_modules:
        modules = ", ".join(_quoted(module) for module in facts.native_modules)
        lines.append(f"native_modules = [{modules}]")
    if "e2e" in facts.markers:
        lines += ["", "[tool.tierci.tiers.heavy]", 'markers = "heavy or e2e"']
    if facts.native_modules and not facts.has_cibuildwheel_table:
        lines += _cibuildwheel_table(facts)
    return "\n".join(lines) + "\n"


def _cibuildwheel_table(facts: ProjectFacts) -> list[str]:
    """cibuildwheel's test step, which the wheels tier requires: the unit tier's tests
    against each built wheel. Its environment has only test-requires, so the plugin's
    tier selection is spelled out as the marker expression."""
    tests = facts.tests_dir or "tests"
    markers = "not heavy and not device and not e2e"
    return [
        "",
        "[tool.cibuildwheel]",
        "# The unit tier's tests against each wheel built (`nox -s wheels`, wheels.yml).",
        'test-requires = ["pytest"]',
        f"test-command = \"pytest {{project}}/{tests} -p no:cacheprovider -m '{markers}'\"",
    ]


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return canonicalize_name(match.group(1)) if match else ""


def _quoted(text: str) -> str:
    # A JSON string is a TOML basic string: quotes, backslashes and control
    # characters escaped, nothing a detected name could break out of.
    return json.dumps(text, ensure_ascii=False)
