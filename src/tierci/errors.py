"""The one error hierarchy of tierci.

Every error says what happened and how to fix it, and carries the exit code that the
``tierci`` command, the nox sessions (and so the invoke tasks) and pytest end with:

====  ==========================================================================
code  meaning
====  ==========================================================================
0     success
1     tests failed (pytest's own code), or a tier of the pipeline failed
2     configuration: ``[tool.tierci]`` missing, malformed or naming something unknown
3     a lock file is stale, unreadable or could not be compiled
4     an external command failed, or a command line was wrong (usage)
5     a tier ran no tests (and ``allow_empty`` is not set)
6     the wheelhouse is incomplete, tampered with, or its archive was refused
7     an on-demand environment could not be built, found or deleted
8     a tier needs an accelerator and this host has none
9     a release was refused or failed
====  ==========================================================================
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
    "UsageError",
    "WheelhouseError",
    "error_for_code",
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


class UsageError(TierciError):
    """A command line tierci cannot act on (an unknown option, ``--shard 5/4``)."""

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


_BY_CODE: dict[int, type[TierciError]] = {
    kind.return_code: kind
    for kind in (
        ConfigError,
        LockError,
        CommandFailedError,
        EmptyTierError,
        WheelhouseError,
        EnvError,
        NoDeviceError,
        ReleaseError,
    )
}


def error_for_code(code: int, message: str, *, fix: str | None = None) -> TierciError:
    """The error of the kind that ``code`` stands for (as another process reported it)."""
    return _BY_CODE.get(code, TierciError)(message, fix=fix)
