"""Strings from reports and archives are data: escaping them for each place they go.

A test name, a failure message, a tier property or a wheelhouse key comes from a file
tierci did not write. Shown to people, such a string must not become markup (rich's
``[bold]``, HTML, Markdown links and images), a GitHub workflow command (``::error``
split in two by a newline), or text that reads other than it is (a right-to-left
override turning ``safe\u202egnp.exe`` into "safeexe.png"). Each output has its own
function here; HTML escaping itself is Jinja's autoescape.
"""

from __future__ import annotations

import re

__all__ = [
    "clip",
    "markdown_code",
    "markdown_text",
    "show_invisible",
    "workflow_command_data",
    "workflow_command_property",
]

# Bidirectional overrides and isolates, and the marks that steer them: they reorder
# what a reader sees. Shown as their \u escapes instead.
_BIDI = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
# C0 controls but tab and newline, DEL and C1 controls: a terminal acts on some (ESC).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_BACKTICKS = re.compile("`+")


def show_invisible(text: str) -> str:
    """Bidi controls and control characters as visible ``\\u202e`` escapes."""
    text = _BIDI.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis and the count of the rest after."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (+{len(text) - limit} characters)"


def markdown_code(text: str, *, in_table: bool = False) -> str:
    """An inline code span holding ``text`` literally: no HTML, link, image, heading or
    emphasis can come out of it, and its fence is longer than any backtick run inside.

    Line breaks become spaces (a code span is one line). In a table cell, ``|`` is
    escaped as GitHub's tables require even inside code.
    """
    text = show_invisible(text.replace("\r\n", " ").replace("\r", " ").replace("\n", " "))
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    if in_table:
        text = text.replace("|", "\\|")
    if not text.strip(" "):
        return "` `" if not text else f"{fence}{text}{fence}"
    padding = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def markdown_text(text: str) -> str:
    """Plain Markdown text: every character that could start markup is escaped, HTML's
    ``<``, ``>`` and ``&`` become entities, and the text stays on one line."""
    text = show_invisible(text.replace("\r\n", " ").replace("\r", " ").replace("\n", " "))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def workflow_command_data(text: str) -> str:
    """The message of a GitHub workflow command (``::error::MESSAGE``), escaped as the
    runner reads it: ``%``, ``\\r`` and ``\\n`` as ``%25``, ``%0D``, ``%0A``."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_command_property(text: str) -> str:
    """A property of a workflow command (``title=…``): also ``:`` and ``,`` escaped."""
    return workflow_command_data(text).replace(":", "%3A").replace(",", "%2C")
