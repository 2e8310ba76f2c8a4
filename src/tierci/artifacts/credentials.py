"""Index credentials: taken apart from URLs, handed to tools out of sight, never printed.

A release may be given ``https://__token__:pypi-…@upload.pypi.org/legacy/``, or the
credentials through ``TWINE_USERNAME``/``TWINE_PASSWORD``. Either way, every URL tierci
shows or passes on a command line is the bare one; twine gets the credentials through
its environment variables and uv through ``UV_EXTRA_INDEX_URL``; and every line of
their output goes through a :class:`Redactor` first, which also finds a long secret
that a tool folded over several lines, and a short one standing as a word.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit, urlunsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["IndexUrl", "Redactor"]

#: A secret this long is redacted wherever it appears, even folded over lines; a
#: shorter one only where it stands as a word (else every "a" of the output would go).
_FOLDABLE = 8
_MASK = "****"


@dataclass(frozen=True, kw_only=True)
class IndexUrl:
    """A package index's URL without credentials, and its credentials apart."""

    url: str
    username: str = ""
    password: str = ""

    @classmethod
    def parse(cls, text: str, *, username: str = "", password: str = "") -> IndexUrl:
        """``text`` with any ``user:password@`` taken out; credentials in the URL win
        over the ones given (from the environment)."""
        parts = urlsplit(text)
        if parts.username is None and parts.password is None:
            return cls(url=text, username=username, password=password)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        return cls(
            url=bare,
            username=unquote(parts.username or "") or username,
            password=unquote(parts.password or "") or password,
        )

    def sharing_credentials(self, url: str) -> IndexUrl:
        """Another URL of the same index (its simple API), with these credentials."""
        return IndexUrl(url=url, username=self.username, password=self.password)

    def with_credentials(self) -> str:
        """The URL with its credentials in it: only for a tool's environment."""
        if not self.password and not self.username:
            return self.url
        parts = urlsplit(self.url)
        userinfo = quote(self.username, safe="")
        if self.password:
            userinfo += ":" + quote(self.password, safe="")
        return urlunsplit(
            (parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment)
        )

    def authorization(self) -> dict[str, str]:
        """An HTTP Basic ``Authorization`` header, or none without credentials."""
        if not self.password and not self.username:
            return {}
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


class Redactor:
    """Replaces each secret (and its URL-encoded form) in a text with ``****``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        patterns = []
        for secret in {s for raw in secrets if raw for s in (raw, quote(raw, safe=""))}:
            if len(secret) >= _FOLDABLE:
                # A tool that wraps long lines may split the secret anywhere.
                patterns.append(r"\s*".join(re.escape(character) for character in secret))
            else:
                patterns.append(rf"(?<![\w-]){re.escape(secret)}(?![\w-])")
        # Longest first: a secret that contains another is masked whole.
        patterns.sort(key=len, reverse=True)
        self._pattern = re.compile("|".join(patterns)) if patterns else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(_MASK, text) if self._pattern is not None else text
