"""`tierci init`: adopt tierci in an existing project in one command.

Detects the project (init/detect.py), writes what it lacks (init/files.py and the
rendered CI files), compiles every lock (the lock session's own first, with the
pip-tools tierci pins) and names the next two commands. A file that exists is never
changed without ``force``; what would be written is shown instead. Running it twice
changes nothing.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tierci.errors import CommandFailedError, ConfigError
from tierci.init.detect import ProjectFacts, detect
from tierci.init.files import NOXFILE, TASKS, requirement_inputs, tierci_table
from tierci.project_files import read_utf8, target_inside, write_inside

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = ["NEXT_COMMANDS", "InitResult", "ProjectFacts", "compile_locks", "init_project"]

_LOCK_NOXFILE = """\
# Written by `tierci init` to compile the project's locks with tierci's lock session.
from pathlib import Path

import tierci.nox

tierci.nox.register(globals(), root=Path(__file__).resolve().parents[2])
"""

#: What the tiers write, which .gitignore must name.
IGNORED = (".nox/", ".venv/", ".venv-ci/", ".wheelhouse/", "build/", "dist/", "*.egg-info/")
#: What building compiled modules in place leaves (an editable install of a flat layout).
NATIVE_IGNORED = ("*.so", "*.pyd")

#: The README's two commands: the main job, and the tests.
NEXT_COMMANDS = (
    "python3 -m pip install -r requirements/bootstrap.txt && python3 -m invoke ci",
    "python3 -m pip install -r requirements/bootstrap.txt && python3 -m nox -s unit",
)


@dataclass
class InitResult:
    facts: ProjectFacts
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Files that exist and differ, kept: path → what --force would write.
    kept: dict[str, str] = field(default_factory=dict)
    #: What the user still has to do by hand (a kept noxfile without the tiers, …).
    advice: list[str] = field(default_factory=list)


def init_project(
    root: Path,
    *,
    force: bool = False,
    find_links: tuple[str, ...] = (),
) -> InitResult:
    """Write what the project lacks (nothing is compiled: :func:`compile_locks`)."""
    facts = detect(root)
    result = InitResult(facts=facts)
    github = facts.github or not facts.jenkins  # what render's default systems will be
    files = {"noxfile.py": NOXFILE, "tasks.py": TASKS}
    files |= {
        f"requirements/{name}.in": text
        for name, text in requirement_inputs(facts, github=github).items()
    }
    # Every target is checked (no links, no folder in the way) and the new table is
    # read back as tierci reads it, before anything is written: a refusal leaves the
    # project as it was.
    for path in ["pyproject.toml", ".gitignore", *files]:
        target_inside(root, path)
    pyproject = root / "pyproject.toml"
    if not facts.has_tierci_table:
        text = read_utf8(pyproject)
        new_text = text.rstrip("\n") + "\n" + tierci_table(facts, find_links=find_links)
        _validate(pyproject, new_text)
        write_inside(root, "pyproject.toml", new_text)
        result.written.append("pyproject.toml [tool.tierci]")
    else:
        result.unchanged.append("pyproject.toml [tool.tierci] (exists: kept as it is)")
        _advise_sources(root, find_links, result)
    for path, text in files.items():
        _place(root, path, text, force=force, result=result)
    # The CI files are rendered from the configuration just written.
    from tierci.cirender.render import own_paths, render  # noqa: PLC0415 - jinja2 only here
    from tierci.config import load_config  # noqa: PLC0415

    ci_files = render(load_config(root))
    for ci_file in ci_files:
        _place(
            root,
            ci_file.path,
            ci_file.text,
            force=force,
            result=result,
            executable=ci_file.executable,
        )
    _ignore(root, result)
    _advise(root, result, own_ci_files=own_paths(root, ci_files))
    return result


def _validate(pyproject: Path, text: str) -> None:
    """The new pyproject.toml as tierci will read it: what init detected (a module
    name, a find-links folder) cannot make a table tierci then refuses."""
    from tierci.config import parse_config  # noqa: PLC0415

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # a detected value TOML cannot hold
        raise ConfigError(
            f"{pyproject}: the [tool.tierci] table init would write is not valid TOML ({exc})",
            fix="check the names init detected (printed above); nothing was written",
        ) from None
    try:
        parse_config(
            data["tool"]["tierci"],
            pyproject=pyproject,
            project_name=str(data.get("project", {}).get("name", "")),
        )
    except ConfigError as exc:
        raise ConfigError(
            f"{exc.message}\n(in the [tool.tierci] table tierci init would write; "
            "nothing was written)",
            fix=exc.fix,
        ) from None


def _advise_sources(root: Path, find_links: tuple[str, ...], result: InitResult) -> None:
    """--find-links with a table already there: init does not edit the table, so the
    user must (else the next lock compile misses the wheels again)."""
    from tierci.config import load_config  # noqa: PLC0415

    sources = load_config(root).sources
    missing = [entry for entry in find_links if not sources or entry not in sources.find_links]
    if missing:
        listed = ", ".join(f'"{entry}"' for entry in missing)
        result.advice.append(
            f"[tool.tierci] exists, so --find-links was not written into it: add "
            f"find_links = [{listed}] to it yourself"
        )


def _advise(root: Path, result: InitResult, *, own_ci_files: list[str]) -> None:
    noxfile = root / "noxfile.py"
    own_noxfile = noxfile.read_text(encoding="utf-8", errors="replace")
    if "noxfile.py" in result.kept and "tierci.nox" not in own_noxfile:
        result.advice.append(
            "noxfile.py is the project's own: add `import tierci.nox` and "
            "`tierci.nox.register(globals())` to it (after your sessions; a session named "
            "like a tier, e.g. lint, replaces that tier: rename it), or run init --force"
        )
    for path in own_ci_files:
        result.advice.append(
            f"{path} is the project's own, so the tiers' jobs are not in it: merge them in "
            "from `tierci ci render --force` (review the diff), or delete it and run "
            "`tierci ci render`"
        )


def _ignore(root: Path, result: InitResult) -> None:
    """What the tiers write (environments, reports, builds) stays out of git: the lines
    .gitignore lacks are added, none changed."""
    gitignore = root / ".gitignore"
    text = read_utf8(gitignore) if gitignore.is_file() else ""
    present = {line.strip().rstrip("/") for line in text.splitlines()}
    wanted = IGNORED + (NATIVE_IGNORED if result.facts.native_modules else ())
    missing = [entry for entry in wanted if entry.rstrip("/") not in present]
    if not missing:
        result.unchanged.append(".gitignore")
        return
    block = "# tierci: environments, reports, HUD, builds\n" + "".join(f"{m}\n" for m in missing)
    separator = "" if not text or text.endswith("\n") else "\n"
    write_inside(root, ".gitignore", text + separator + block)
    result.written.append(f".gitignore ({', '.join(missing)})")


def _place(
    root: Path,
    path: str,
    text: str,
    *,
    force: bool,
    result: InitResult,
    executable: bool = False,
) -> None:
    target = target_inside(root, path)
    if target.is_file():
        if target.read_bytes() == text.encode("utf-8"):
            result.unchanged.append(path)
            return
        if not force:
            result.kept[path] = text
            return
    write_inside(root, path, text, executable=executable)
    result.written.append(path)


def compile_locks(root: Path, log: Callable[[str], None]) -> bool:
    """`nox -s lock` where a lock is missing or stale (the lock session compiles its
    own lock first); nothing where every lock is fresh."""
    from tierci.config import load_config  # noqa: PLC0415
    from tierci.locks.compile import find_stale, lock_specs  # noqa: PLC0415

    config = load_config(root)
    stale = find_stale(lock_specs(config), config.pyproject)
    if not stale:
        return False
    log(f"compiling {len(stale)} lock(s): nox -s lock")
    # tierci's own lock session, whatever the project's noxfile holds (init may have
    # kept one without it): a noxfile of one line in .nox/, environments in .nox/.
    noxfile = root / ".nox" / "tierci-init" / "noxfile.py"
    noxfile.parent.mkdir(parents=True, exist_ok=True)
    noxfile.write_text(_LOCK_NOXFILE, encoding="utf-8")
    command = [sys.executable, "-m", "nox", "--noxfile", str(noxfile), "--envdir", ".nox"]
    completed = subprocess.run([*command, "-s", "lock"], cwd=root, check=False)
    if completed.returncode != 0:
        raise CommandFailedError(
            f"compiling the locks failed in {root} (nox's exit status {completed.returncode})",
            fix="read its output above (often a requirement no index has: name the folder "
            "of such wheels with --find-links), then run `tierci init` again",
        )
    return True
