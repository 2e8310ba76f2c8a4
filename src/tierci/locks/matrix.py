"""One lock for every Python a tier runs on.

pip-compile resolves for the interpreter it runs in and drops what a marker excludes
there (``legacy-cgi; python_version >= "3.13"`` vanishes from a lock compiled on 3.11),
and pip-tools has no universal mode. So a tier with ``pythons = [...]`` has its lock
compiled on each of them, and the results merged into one file: a pin every Python got
stays as pip-compile wrote it; a pin only some got (another version, or a package only
they need) carries a marker naming exactly those Pythons. pip and uv install the lock
unchanged on each (``--require-hashes`` accepts markers), and the lock's digest covers
the markers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["merge_for_pythons", "python_marker"]

# A pin's first line, as pip-compile writes it: name==version [; marker] [\]
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)(?P<rest>.*)$")


@dataclass(frozen=True)
class _Pin:
    name: str
    version: str
    marker: str  # pip-compile's own, rarely any
    lines: tuple[str, ...]  # the first line, then its hash and via lines

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.version)


def _parse(text: str) -> list[str | _Pin]:
    """Lines outside pins as they are, and each pin with its continuation lines."""
    items: list[str | _Pin] = []
    for line in text.splitlines():
        match = _PIN.match(line)
        if match:
            rest = match.group("rest").rstrip().removesuffix("\\").strip()
            marker = rest.removeprefix(";").strip() if rest.startswith(";") else ""
            items.append(
                _Pin(
                    canonicalize_name(match.group("name")), match.group("version"), marker, (line,)
                )
            )
        elif line.startswith((" ", "\t")) and items and isinstance(items[-1], _Pin):
            last = items[-1]
            items[-1] = _Pin(last.name, last.version, last.marker, (*last.lines, line))
        else:
            items.append(line)
    return items


def python_marker(pythons: Sequence[str]) -> str:
    """``python_version == "3.12" or python_version == "3.13"`` (never ``in``: a string
    match, where "3.1" would be "in" "3.12")."""
    return " or ".join(f'python_version == "{python}"' for python in pythons)


def _with_marker(pin: _Pin, pythons: Sequence[str]) -> list[str]:
    marker = python_marker(pythons)
    if pin.marker:
        marker = f"({pin.marker}) and ({marker})"
    first = pin.lines[0]
    match = _PIN.match(first)
    assert match is not None  # noqa: S101 - parsed by the same pattern
    continued = " \\" if first.rstrip().endswith("\\") else ""
    return [f"{match.group('name')}=={pin.version} ; {marker}{continued}", *pin.lines[1:]]


def merge_for_pythons(compiled: Mapping[str, str]) -> str:
    """One lock from pip-compile's output on each Python (the first one given is the
    primary: its header, order and comments are kept)."""
    pythons = list(compiled)
    parsed = {python: _parse(text) for python, text in compiled.items()}
    pins_by_python = {
        python: {item.key: item for item in items if isinstance(item, _Pin)}
        for python, items in parsed.items()
    }
    primary = pythons[0]
    out: list[str] = []
    for item in parsed[primary]:
        if isinstance(item, str):
            out.append(item)
            continue
        having = [python for python in pythons if item.key in pins_by_python[python]]
        out.extend(item.lines if len(having) == len(pythons) else _with_marker(item, having))
    extra: dict[tuple[str, str], tuple[_Pin, list[str]]] = {}
    for python in pythons[1:]:
        for key, pin in pins_by_python[python].items():
            if key in pins_by_python[primary]:
                continue
            having = extra.setdefault(key, (pin, []))[1]
            having.append(python)
    if extra:
        while out and not out[-1].strip():
            out.pop()
        out += ["", f"# Pinned on some of Python {', '.join(pythons)} only (compiled on each):"]
        for key in sorted(extra):
            pin, having = extra[key]
            out.extend(_with_marker(pin, having))
    return "\n".join(out) + "\n"
