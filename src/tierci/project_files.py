"""Writing into a project folder, never through a link out of it.

`tierci init` and `tierci ci render` run in clones of repositories nobody reviewed: a
committed symlink at ``noxfile.py``, ``requirements/`` or ``.ci/agent-check`` must not
turn a write (or a chmod) into one at a path outside the project.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierci.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["read_utf8", "target_inside", "write_inside"]


def read_utf8(path: Path) -> str:
    """A project file's text; one that is not UTF-8 is an error naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})",
            fix="save it as UTF-8, then run the command again",
        ) from None


def target_inside(root: Path, relative: str) -> Path:
    """``root / relative``, after checking that no part of it is a symlink (existing
    or dangling) and that it stays under ``root``."""
    target = root / relative
    current = root
    for part in target.relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            raise ConfigError(
                f"{current} is a symbolic link: tierci writes no file through a link "
                "(it could point out of the project)",
                fix=f"replace the link with a real {'folder' if current != target else 'file'}, "
                "or remove it and run the command again",
            )
    if not target.resolve().is_relative_to(root.resolve()):
        raise ConfigError(f"{target} is outside {root}", fix="name a path inside the project")
    return target


def write_inside(root: Path, relative: str, text: str, *, executable: bool = False) -> Path:
    """Write ``text`` (UTF-8, exactly) to ``relative`` under ``root``, never through a
    link; a folder in the way is an error naming it."""
    target = target_inside(root, relative)
    if target.is_dir():
        raise ConfigError(
            f"{target} is a folder, where tierci writes a file",
            fix="move the folder away, or remove it, and run the command again",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode("utf-8"))
    if executable:
        target.chmod(target.stat().st_mode | 0o111)
    return target
