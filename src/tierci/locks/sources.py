"""Where a project's locks get packages that PyPI does not have: ``[tool.tierci]
find_links`` (folders in the repository, or URLs) and ``extra_index_urls`` (an internal
index). The portable way to pin an unreleased or internal tierci, or any private wheel.

pip-compile searches them while compiling, and every lock carries them as option lines
(``--find-links ../wheels``), a folder written relative to the lock's own folder: pip
and uv both read such a path relative to the requirements file, so ``pip install -r
requirements/bootstrap.txt`` and every session's sync find the wheels on any machine,
from any working directory, with no absolute path in a committed file.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from tierci.errors import ConfigError

__all__ = ["PackageSources", "parse_sources"]

_URL_SCHEMES = ("https", "http")


@dataclass(frozen=True, kw_only=True)
class PackageSources:
    """``find_links`` and ``extra_index_urls`` of ``[tool.tierci]``, validated."""

    root: Path
    #: Folders relative to the project root (POSIX spelling), or http(s) URLs.
    find_links: tuple[str, ...] = ()
    extra_index_urls: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.find_links or self.extra_index_urls)

    def option_lines(self, folder: Path) -> tuple[str, ...]:
        """The option lines a lock in ``folder`` carries: folders relative to it."""
        lines = [f"--find-links {self._relative(entry, folder)}" for entry in self.find_links]
        lines += [f"--extra-index-url {url}" for url in self.extra_index_urls]
        return tuple(lines)

    def compile_arguments(self) -> list[str]:
        """pip-compile's arguments, run in the project root."""
        arguments: list[str] = []
        for entry in self.find_links:
            arguments += ["--find-links", entry]
        for url in self.extra_index_urls:
            arguments += ["--extra-index-url", url]
        return arguments

    def _relative(self, entry: str, folder: Path) -> str:
        if _is_url(entry):
            return entry
        relative = os.path.relpath(self.root / entry, folder)
        return PurePosixPath(*Path(relative).parts).as_posix()


def parse_sources(
    find_links: list[str], urls: list[str], *, root: Path, where: str
) -> PackageSources:
    """``find_links`` and ``extra_index_urls`` (already lists of strings), checked."""
    for entry in find_links:
        _check_plain(entry, "find_links", where)
        if _is_url(entry):
            _check_url(entry, "find_links", where)
            continue
        normal = posixpath.normpath(entry)
        if (
            _SCHEME.match(entry)
            or "\\" in entry
            or normal.startswith(("/", ".."))
            or (set(entry) & set("$#~"))
        ):
            raise ConfigError(
                f"{where}: find_links has {entry[:80]!r}, which is not a folder of this "
                "repository: every lock would carry it, and no other machine has it",
                fix="put the wheels in a folder of the repository and name it relative to "
                'the project (find_links = ["wheels"]), or give an https:// URL',
            )
    for url in urls:
        _check_plain(url, "extra_index_urls", where)
        if not _is_url(url):
            raise ConfigError(
                f"{where}: extra_index_urls has {url[:80]!r}, not an http(s) URL",
                fix='write the index\'s simple URL, e.g. "https://pypi.example.com/simple"',
            )
        _check_url(url, "extra_index_urls", where)
    return PackageSources(root=root, find_links=tuple(find_links), extra_index_urls=tuple(urls))


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _check_plain(entry: str, key: str, where: str) -> None:
    # Each entry becomes one option line of every lock: a space or a line break would
    # let it add options of its own (--index-url, --trusted-host) that pip obeys.
    if not entry or entry.startswith("-") or any(c.isspace() or not c.isprintable() for c in entry):
        raise ConfigError(
            f"{where}: {key} has {entry[:80]!r}: an entry is one folder or URL, without "
            "spaces, line breaks or a leading '-'",
            fix=f"list each source as its own string in {key}",
        )


def _check_url(url: str, key: str, where: str) -> None:
    parts = urlsplit(url)
    if not parts.hostname:
        raise ConfigError(
            f"{where}: {key} has {url[:80]!r}, a URL without a host",
            fix='write the whole URL, e.g. "https://pypi.example.com/simple"',
        )
    if "@" in parts.netloc:
        # Not only a password: a token as the user name is a credential too.
        raise ConfigError(
            f"{where}: a {key} entry carries credentials, which every lock and log would then show",
            fix="remove them from the URL; give them to pip and uv through ~/.netrc or a keyring",
        )


def _is_url(entry: str) -> bool:
    return urlsplit(entry).scheme in _URL_SCHEMES
