"""Installing from a wheelhouse, offline, with the index only as a logged fallback.

``uv pip sync --offline --no-index --find-links <wheelhouse> --require-hashes``: no
index traffic, nothing the lock does not pin. A package missing from the wheelhouse
comes from the index only where the user allows it, and every such fallback is logged
by name; a wheel the repository does not vouch for (its hash is neither the lock's nor,
built from an sdist, the one committed beside the locks) is never installed.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tierci._proc import find_uv, run
from tierci.errors import WheelhouseError
from tierci.wheelhouse.model import ProblemKind, Target, locked_pins, validate
from tierci.wheelhouse.trust import BUILT_FILE

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tierci.locks.lockfile import Lock

__all__ = ["InstallReport", "install"]


@dataclass(frozen=True, kw_only=True)
class InstallReport:
    from_wheelhouse: int
    from_index: tuple[str, ...]  # pins that fell back to the index (allowed, logged)


def install(
    folder: Path,
    locks: Sequence[Lock],
    python: str,
    *,
    allow_fallback: bool = False,
    index_args: Sequence[str] = (),
    exact: bool = True,
    log: Callable[[str], object] = print,
) -> InstallReport:
    """Install ``locks`` into ``python``'s environment from the wheelhouse, offline.

    ``exact`` syncs (removes whatever the locks do not pin). A pin missing from the
    wheelhouse is an error, unless ``allow_fallback``: then it is installed from the
    index, hash-checked against the lock, and named in the log. A wheel whose hash does
    not match is never installed, fallback or not.
    """
    if not folder.is_dir() and not allow_fallback:
        raise WheelhouseError(
            f"no wheelhouse at {folder}",
            fix="build it (`nox -s wheelhouse`) or restore the CI cache's archive "
            "(`tierci wheelhouse unpack wheelhouse-<key>.tar.gz`)",
        )
    target = _target_of(python)
    check = validate(folder, locks, target)
    tampered = [p for p in check.problems if p.kind is ProblemKind.HASH]
    if tampered:
        raise WheelhouseError(
            f"{len(tampered)} wheel(s) in {folder} do not match the lock; refusing to install:\n"
            + "\n".join(f"  {p}" for p in tampered),
            fix="rebuild the wheelhouse (`nox -s wheelhouse`); never edit wheels in place. "
            "A wheel built from an sdist is trusted only by its hash committed in "
            f"{BUILT_FILE} beside the locks: run `tierci wheelhouse build` and commit it",
        )
    pins = locked_pins(locks, target)
    missing = [pin for pin in pins if pin not in check.wheels]
    if missing and not allow_fallback:
        raise WheelhouseError(
            f"{len(missing)} locked package(s) are not in the wheelhouse {folder}: "
            + ", ".join(missing),
            fix="rebuild it (`nox -s wheelhouse`), restore it from the CI cache, or allow "
            "the index as a fallback (fallback = true in [tool.tierci.wheelhouse])",
        )
    with tempfile.TemporaryDirectory(prefix="tierci-install-") as scratch:
        offline = Path(scratch) / "wheelhouse.txt"
        offline.write_text(
            "".join(
                pins[pin].requirement_line(
                    [check.built_hashes[pin]] if pin in check.built_hashes else []
                )
                + "\n"
                for pin in sorted(check.wheels)
            ),
            encoding="utf-8",
        )
        verb = "sync" if exact else "install"
        if check.wheels:
            offline_only = ["--offline", "--no-index", "--find-links", str(folder)]
            _uv_pip(verb, python, offline, offline_only, what="offline install")
            verb = "install"  # the fallback adds to what the sync made exact
        if missing:
            log(
                f"wheelhouse: FALLBACK to the index for {len(missing)} package(s) missing from "
                f"{folder}: {', '.join(missing)}"
            )
            from_index = Path(scratch) / "index.txt"
            from_index.write_text(
                "".join(pins[pin].requirement_line() + "\n" for pin in missing), encoding="utf-8"
            )
            # --no-deps: install exactly these pins, nothing resolved beyond them.
            no_deps = ["--no-deps"] if verb == "install" else []
            _uv_pip(verb, python, from_index, [*index_args, *no_deps], what="index fallback")
    log(f"wheelhouse: installed {len(check.wheels)} package(s) offline from {folder}")
    return InstallReport(from_wheelhouse=len(check.wheels), from_index=tuple(missing))


def _uv_pip(
    verb: str, python: str, requirements: Path, options: Sequence[str], *, what: str
) -> None:
    """``uv pip sync|install`` of a hashed requirements file into ``python``'s env."""
    files = ["-r", str(requirements)] if verb == "install" else [str(requirements)]
    command = [find_uv(), "pip", verb, "--python", python, "--require-hashes", *options, *files]
    run(command, what=f"{what}: uv pip {verb} {requirements.name}", fix="read uv's message above")


def _target_of(python: str) -> Target:
    """The target that ``python`` (an interpreter path) installs for."""
    if Path(python).resolve() == Path(sys.executable).resolve():
        return Target.host()
    completed = run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        what=f"running the interpreter {python}",
        fix="check the path",
        error=WheelhouseError,
        capture=True,
    )
    return Target.for_python(completed.stdout.strip())
