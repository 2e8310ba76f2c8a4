"""The one error hierarchy of tierci.

Every error says what happened and how to fix it, and carries the exit code the CLI,
the nox sessions and the invoke tasks end with.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "CommandFailedError",
    "ConfigError",
    "EmptyTierError",
    "EnvError",
    "LockError",
    "NoDeviceError",
    "ReleaseError",
    "StaleLockError",
    "TierciError",
    "WheelhouseError",
]


class TierciError(Exception):
    """Base class: a failure with a message, an optional fix and an exit code."""

    return_code: ClassVar[int] = 1

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message


class ConfigError(TierciError):
    """``[tool.tierci]`` is missing, malformed or names something unknown."""

    return_code = 2


class LockError(TierciError):
    """A lock file could not be read or compiled."""

    return_code = 3


class StaleLockError(LockError):
    """A lock file no longer matches the inputs it was compiled from."""

    return_code = 3


class CommandFailedError(TierciError):
    """An external tool (pytest, build, twine, uv, ...) failed."""

    return_code = 4


class EmptyTierError(TierciError):
    """A tier ran no tests: never green unless the tier allows it."""

    return_code = 5


class WheelhouseError(TierciError):
    """A wheelhouse is incomplete, does not match its locks, or an archive is corrupt."""

    return_code = 6


class EnvError(TierciError):
    """An on-demand environment could not be created, found or deleted."""

    return_code = 7


class NoDeviceError(TierciError):
    """A tier that needs an accelerator ran where there is none (and that was not allowed)."""

    return_code = 8


class ReleaseError(TierciError):
    """A release was refused or failed: dirty tree, version/tag mismatch, upload, install."""

    return_code = 9
