"""Building a project's sdist and wheel, and checking them, in one place.

The packaging tier and the release build the same way: ``python -m build`` into an
emptied folder (so exactly this build is checked), exactly one sdist and one wheel of
one version, and ``twine check --strict`` on both.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import parse_sdist_filename, parse_wheel_filename

from tierci.errors import CommandFailedError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from tierci.errors import TierciError

__all__ = ["Built", "build_and_check"]


@dataclass(frozen=True, kw_only=True)
class Built:
    name: NormalizedName
    version: Version
    sdist: Path
    wheel: Path

    @property
    def files(self) -> tuple[Path, Path]:
        return (self.sdist, self.wheel)


def build_and_check(
    root: Path,
    out: Path,
    *,
    python: str,
    run: Callable[[Sequence[str]], object],
    error: type[TierciError] = CommandFailedError,
) -> Built:
    """sdist + wheel of ``root`` into an emptied ``out``, both ``twine check --strict``.

    ``python`` has build and twine; ``run`` runs a command and raises if it fails (a nox
    session's ``run``, or :func:`tierci._proc.run`); a wrong set of files raises ``error``.
    """
    shutil.rmtree(out, ignore_errors=True)
    run([python, "-m", "build", "--installer=uv", "--outdir", str(out), str(root)])
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise error(
            f"expected one wheel and one sdist in {out}, found {len(wheels)} and {len(sdists)}",
            fix="check the build backend's configuration in pyproject.toml",
        )
    run([python, "-m", "twine", "check", "--strict", str(wheels[0]), str(sdists[0])])
    name, version, _build, _tags = parse_wheel_filename(wheels[0].name)
    if parse_sdist_filename(sdists[0].name)[1] != version:
        raise error(
            f"{sdists[0].name} and {wheels[0].name} have different versions",
            fix="build both from the same commit",
        )
    return Built(name=name, version=version, sdist=sdists[0], wheel=wheels[0])
