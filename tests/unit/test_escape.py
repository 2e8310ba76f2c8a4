"""Strings from reports are data in every output: rich, Markdown, workflow commands."""

from __future__ import annotations

import re

import pytest

from tierci.escape import (
    clip,
    markdown_code,
    show_invisible,
    workflow_command_data,
    workflow_command_property,
)

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "![pixel](https://evil.example/p.png)",
    "[click](https://evil.example)",
    "# Heading",
    "`` code ``` `",
    "a | b | c",
    "line one\r\nline two\nthree",
    "&amp; &lt;",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_markdown_code_span_holds_any_text_literally(text: str) -> None:
    span = markdown_code(text)
    fence = re.match("`+", span)
    assert fence is not None
    # The fence is longer than any backtick run inside, so nothing inside can close it.
    inner_runs = re.findall("`+", span[len(fence.group()) : -len(fence.group())])
    assert all(len(run) < len(fence.group()) for run in inner_runs)
    assert span.endswith(fence.group())
    assert "\n" not in span
    assert "\r" not in span


def test_pipes_are_escaped_in_table_cells_only() -> None:
    assert markdown_code("a|b", in_table=True) == "`a\\|b`"
    assert markdown_code("a|b") == "`a|b`"


def test_bidi_overrides_and_escape_characters_are_shown_not_obeyed() -> None:
    assert show_invisible("safe\u202egnp.exe") == "safe\\u202egnp.exe"
    assert show_invisible("\u2066x\u2069") == "\\u2066x\\u2069"
    assert show_invisible("\x1b[31mred") == "\\x1b[31mred"
    assert show_invisible("tab\tand\nnewline") == "tab\tand\nnewline"


def test_workflow_command_escaping_follows_the_runner() -> None:
    assert workflow_command_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert workflow_command_property("tier a:b, c") == "tier a%3Ab%2C c"


def test_clip_says_how_much_it_left_out() -> None:
    assert clip("x" * 10, 10) == "x" * 10
    assert clip("x" * 12, 10) == "x" * 10 + "… (+2 characters)"
