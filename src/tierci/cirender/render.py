"""Render the CI files from the plan, write them, or check the committed ones.

``render`` is pure: the same configuration gives the same bytes. ``check`` compares
what is on disk with it and names each file that differs with its first differing
line; a workflow or Jenkinsfile that says it was rendered (its first line) but that the
configuration no longer renders is reported too. Files without that line and not
rendered (a hand-written workflow) are the project's own, never touched or checked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2  # the host extra, tierci[ci]: `tierci ci` imports this module when it runs

from tierci.cirender.plan import ACTIONS, plan_ci
from tierci.errors import ConfigError
from tierci.project_files import target_inside, write_inside

if TYPE_CHECKING:
    from tierci.config import TierciConfig

__all__ = [
    "RENDERED_MARKER",
    "CiFile",
    "Difference",
    "StaleCiFilesError",
    "check",
    "own_files",
    "own_paths",
    "render",
    "write",
]

#: The first line of every rendered workflow (``#``) and Jenkinsfile (``//``).
RENDERED_MARKER = (
    "Rendered from [tool.tierci] in pyproject.toml by `tierci ci render`: change the "
    "tiers there, not here."
)
_TEMPLATES = Path(__file__).parent / "templates"
_WORKFLOWS = ".github/workflows"
#: actionlint's configuration: the tiers' self-hosted runner labels.
_ACTIONLINT = ".github/actionlint.yaml"


@dataclass(frozen=True)
class CiFile:
    """One rendered file: its path in the project (``/``-separated) and its text."""

    path: str
    text: str
    executable: bool = False


@dataclass(frozen=True)
class Difference:
    """How a file on disk differs from its rendering (``line`` 0: the whole file)."""

    path: str
    line: int
    expected: str
    found: str

    def describe(self) -> str:
        if self.line == 0:
            return f"{self.path}: {self.found}"
        return (
            f"{self.path}:{self.line}: differs from what [tool.tierci] renders\n"
            f"  expected: {self.expected}\n"
            f"  found:    {self.found}"
        )


class StaleCiFilesError(ConfigError):
    """Committed CI files that are not what ``[tool.tierci]`` renders (exit 2)."""


def render(config: TierciConfig) -> list[CiFile]:
    """Every CI file ``config``'s project gets, in a fixed order."""
    plan = plan_ci(config)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        undefined=jinja2.StrictUndefined,
        # Plain text, not HTML: the values are validated labels, versions and names.
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # GitHub's own ${{ }} stays literal: tierci's templates use << >> and <% %>.
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<<",
        variable_end_string=">>",
        comment_start_string="<#",
        comment_end_string="#>",
    )

    environment.filters["sh"] = groovy_sh

    def template(name: str, marker: str, **values: object) -> str:
        return environment.get_template(name).render(
            plan=plan, actions=ACTIONS, rendered_marker=f"{marker} {RENDERED_MARKER}", **values
        )

    files: list[CiFile] = []
    if plan.github:
        files.append(CiFile(f"{_WORKFLOWS}/ci.yml", template("ci.yml.j2", "#")))
        files.append(CiFile(_ACTIONLINT, template("actionlint.yaml.j2", "#")))
        for tier in plan.scheduled_tiers:
            text = template(
                "scheduled.yml.j2",
                "#",
                tier=tier,
                wheelhouse=plan.wheelhouse and tier.name == "heavy",
            )
            files.append(CiFile(f"{_WORKFLOWS}/{tier.name}.yml", text))
        for tier in plan.device_tiers:
            text = template("device.yml.j2", "#", tier=tier)
            files.append(CiFile(f"{_WORKFLOWS}/{tier.name}.yml", text))
        if plan.release:
            files.append(CiFile(f"{_WORKFLOWS}/release.yml", template("release.yml.j2", "#")))
        if plan.wheels:
            files.append(CiFile(f"{_WORKFLOWS}/wheels.yml", template("wheels.yml.j2", "#")))
    if plan.jenkins:
        files.append(CiFile("Jenkinsfile", template("Jenkinsfile.j2", "//")))
        static = _TEMPLATES / "static"
        for name, target, executable in (
            ("bootstrap", ".ci/bootstrap", False),
            ("agent-check", ".ci/agent-check", True),
            ("groovylintrc.json", ".groovylintrc.json", False),
        ):
            files.append(CiFile(target, (static / name).read_text(encoding="utf-8"), executable))
    _no_clashes(files)
    return files


#: npm-groovy-lint's longest line (LineLength, a warning: the lint tier fails on it).
_GROOVY_LINE = 120


def groovy_sh(command: str, indent: int) -> str:
    """``sh 'COMMAND'`` at ``indent``, split into concatenated literals where the line
    would be too long for npm-groovy-lint (a long ``--expect`` list)."""
    if indent + len(f"sh '{command}'") <= _GROOVY_LINE:
        return f"sh '{command}'"
    pieces = [""]
    width = _GROOVY_LINE - indent - len("sh '' +")
    for word in command.split(" "):
        if pieces[-1] and len(pieces[-1]) + 1 + len(word) > width:
            pieces[-1] += " "
            pieces.append(word)
            width = _GROOVY_LINE - indent - 8 - len("'' +")
        else:
            pieces[-1] = f"{pieces[-1]} {word}" if pieces[-1] else word
    return f"' +\n{' ' * (indent + 8)}'".join(["sh '" + pieces[0], *pieces[1:]]) + "'"


def _no_clashes(files: list[CiFile]) -> None:
    paths = [file.path for file in files]
    for path in paths:
        if paths.count(path) > 1:
            raise ConfigError(
                f"two CI files would be {path}: a tier's workflow is named after the tier",
                fix="rename the custom tier (ci, release and wheels are the other workflows)",
            )


def write(config: TierciConfig, *, force: bool = False) -> list[Path]:
    """Write every rendered file that differs from what is there; return those written.
    A workflow or Jenkinsfile of the project's own (:func:`own_files`) is replaced only
    with ``force``."""
    written = []
    files = render(config)
    own = set() if force else set(own_paths(config.root, files))
    for file in files:
        if file.path in own:
            continue
        target = target_inside(config.root, file.path)  # never through a link
        fresh = target.is_file() and target.read_bytes() == file.text.encode("utf-8")
        if not fresh or (file.executable and not os.access(target, os.X_OK)):
            write_inside(config.root, file.path, file.text, executable=file.executable)
            written.append(target)
    return written


def check(config: TierciConfig) -> list[Difference]:
    """Each rendered file that is missing or differs, and each file that says it was
    rendered but no longer is; nothing is written."""
    files = render(config)
    own = set(own_paths(config.root, files))
    differences = [
        d
        for file in files
        if file.path not in own and (d := _compare(config.root, file)) is not None
    ]
    rendered = {file.path for file in files}
    for candidate in _rendered_before(config.root):
        if candidate not in rendered:
            differences.append(
                Difference(
                    candidate,
                    0,
                    "",
                    "says it was rendered by `tierci ci render`, but [tool.tierci] no longer "
                    "renders it (delete it, or declare what it was rendered for)",
                )
            )
    return differences


def require_up_to_date(config: TierciConfig) -> None:
    """Raise :class:`StaleCiFilesError` naming each file that is not what the tiers
    render (``tierci ci render --check``, and the lint tier of a project that renders)."""
    differences = check(config)
    if differences:
        raise StaleCiFilesError(
            "CI files are not what [tool.tierci] renders:\n"
            + "\n".join(difference.describe() for difference in differences),
            fix="run `tierci ci render` and commit the result (the tiers are declared "
            "in [tool.tierci]; edit them there, not in the rendered files)",
        )


def own_files(config: TierciConfig) -> list[str]:
    """The workflows and Jenkinsfile the tiers would render but that the project wrote
    itself (no rendered-by first line): render keeps them and --check skips them."""
    return own_paths(config.root, render(config))


def own_paths(root: Path, files: list[CiFile]) -> list[str]:
    """:func:`own_files` among ``files`` already rendered."""
    own = []
    for file in files:
        target = root / file.path
        owned_kind = file.path in ("Jenkinsfile", _ACTIONLINT) or file.path.startswith(
            f"{_WORKFLOWS}/"
        )
        if owned_kind and target.is_file() and not _first_line_marked(target):
            own.append(file.path)
    return own


def _first_line_marked(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as handle:
        return RENDERED_MARKER in handle.readline()


def renders_ci_files(root: Path) -> bool:
    """Whether the project has CI files ``tierci ci render`` wrote (their header says so)."""
    return bool(_rendered_before(root))


def _compare(root: Path, file: CiFile) -> Difference | None:
    target = root / file.path
    if not target.is_file():
        return Difference(file.path, 0, "", "missing (run `tierci ci render`)")
    try:
        found = target.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return Difference(file.path, 0, "", "not UTF-8 text")
    if found != file.text:
        expected_lines, found_lines = file.text.split("\n"), found.split("\n")
        for number, (want, have) in enumerate(zip(expected_lines, found_lines, strict=False), 1):
            if want != have:
                return Difference(file.path, number, _shown(want), _shown(have))
        # One is the other with more lines: the first line only one of them has.
        number = min(len(expected_lines), len(found_lines)) + 1
        return Difference(
            file.path, number, _line(expected_lines, number), _line(found_lines, number)
        )
    if file.executable and not os.access(target, os.X_OK):
        return Difference(file.path, 0, "", "not executable (chmod +x, or `tierci ci render`)")
    return None


def _line(lines: list[str], number: int) -> str:
    return _shown(lines[number - 1]) if number <= len(lines) else "<end of file>"


def _shown(line: str, limit: int = 160) -> str:
    """A line as the message shows it: quoted, and cut short (a committed file may
    hold a line of megabytes)."""
    return repr(line[:limit]) + (f" … ({len(line)} characters)" if len(line) > limit else "")


def _rendered_before(root: Path) -> list[str]:
    candidates = [
        *sorted((root / _WORKFLOWS).glob("*.y*ml")),
        root / _ACTIONLINT,
        root / "Jenkinsfile",
    ]
    found = []
    for path in candidates:
        if path.is_file() and _first_line_marked(path):
            found.append(path.relative_to(root).as_posix())
    return found
