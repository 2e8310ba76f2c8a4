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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tierci.errors import CommandFailedError
from tierci.init.detect import ProjectFacts, detect
from tierci.init.files import NOXFILE, TASKS, requirement_inputs, tierci_table

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
    if not facts.has_tierci_table:
        pyproject = root / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8")
        table = tierci_table(facts, find_links=find_links)
        pyproject.write_text(text.rstrip("\n") + "\n" + table, encoding="utf-8")
        result.written.append("pyproject.toml [tool.tierci]")
    else:
        result.unchanged.append("pyproject.toml [tool.tierci] (exists: kept as it is)")
    files = {"noxfile.py": NOXFILE, "tasks.py": TASKS}
    files |= {
        f"requirements/{name}.in": text
        for name, text in requirement_inputs(facts, github=github).items()
    }
    for path, text in files.items():
        _place(root, path, text, force=force, result=result)
    # The CI files are rendered from the configuration just written.
    from tierci.cirender.render import render  # noqa: PLC0415 - jinja2 only here
    from tierci.config import load_config  # noqa: PLC0415

    for ci_file in render(load_config(root)):
        _place(root, ci_file.path, ci_file.text, force=force, result=result)
        if ci_file.executable and ci_file.path in result.written:
            (root / ci_file.path).chmod(0o755)
    _ignore(root, result)
    _advise(root, result)
    return result


def _advise(root: Path, result: InitResult) -> None:
    noxfile = root / "noxfile.py"
    if "noxfile.py" in result.kept and "tierci.nox" not in noxfile.read_text(encoding="utf-8"):
        result.advice.append(
            "noxfile.py is the project's own: add `import tierci.nox` and "
            "`tierci.nox.register(globals())` to it (after your sessions; a session named "
            "like a tier, e.g. lint, replaces that tier: rename it), or run init --force"
        )
    from tierci.cirender.render import own_files  # noqa: PLC0415 - jinja2 only here
    from tierci.config import load_config  # noqa: PLC0415

    for path in own_files(load_config(root)):
        result.advice.append(
            f"{path} is the project's own, so the tiers' jobs are not in it: merge them in "
            "from `tierci ci render --force` (review the diff), or delete it and run "
            "`tierci ci render`"
        )


def _ignore(root: Path, result: InitResult) -> None:
    """What the tiers write (environments, reports, builds) stays out of git: the lines
    .gitignore lacks are added, none changed."""
    gitignore = root / ".gitignore"
    text = gitignore.read_text(encoding="utf-8") if gitignore.is_file() else ""
    present = {line.strip().rstrip("/") for line in text.splitlines()}
    wanted = IGNORED + (NATIVE_IGNORED if result.facts.native_modules else ())
    missing = [entry for entry in wanted if entry.rstrip("/") not in present]
    if not missing:
        result.unchanged.append(".gitignore")
        return
    block = "# tierci: environments, reports, HUD, builds\n" + "".join(f"{m}\n" for m in missing)
    separator = "" if not text or text.endswith("\n") else "\n"
    gitignore.write_text(text + separator + block, encoding="utf-8")
    result.written.append(f".gitignore ({', '.join(missing)})")


def _place(root: Path, path: str, text: str, *, force: bool, result: InitResult) -> None:
    target = root / path
    if target.is_file():
        if target.read_text(encoding="utf-8") == text:
            result.unchanged.append(path)
            return
        if not force:
            result.kept[path] = text
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
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
