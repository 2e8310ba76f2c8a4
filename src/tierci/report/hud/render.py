"""Turning the HUD model into a static HTML page, a Markdown summary and JSON.

The page is one self-contained file: inline CSS and SVG, no script, no CDN, so it works
from a CI artifact, a Jenkins HTML publisher or a laptop without a network.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tierci.errors import ConfigError
from tierci.escape import clip, markdown_code, show_invisible
from tierci.provenance import short_commit

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from tierci.report.hud.model import DurationPoint, Hud

__all__ = ["render_html", "render_json", "render_markdown", "svg_polyline", "write_hud"]

_SVG_WIDTH, _SVG_HEIGHT, _SVG_PAD = 320, 60, 4


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("tierci.report.hud", "templates"),
        # HTML is escaped; Markdown has its own `md` filter (HTML escaping would show up).
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["code"] = _markdown_code
    environment.filters["cell"] = _markdown_cell
    environment.filters["visible"] = _visible
    environment.filters["seconds"] = _seconds
    environment.filters["short_commit"] = short_commit
    environment.globals["svg_polyline"] = svg_polyline
    return environment


#: How much of one string from a report a page shows before "… (+N characters)"; the
#: HTML page keeps the whole text in the element's title (shown on hover).
_SHOWN_CHARACTERS = 300


def _markdown_code(value: object) -> str:
    return markdown_code(clip(str(value), _SHOWN_CHARACTERS))


def _markdown_cell(value: object) -> str:
    return markdown_code(clip(str(value), _SHOWN_CHARACTERS), in_table=True)


def _visible(value: object, limit: int = _SHOWN_CHARACTERS) -> str:
    """For HTML (which Jinja then escapes): invisible controls shown, clipped."""
    return clip(show_invisible(str(value)), limit)


def _seconds(value: float) -> str:
    if value >= 3600:  # noqa: PLR2004 - an hour
        return f"{value / 3600:.1f} h"
    if value >= 60:  # noqa: PLR2004 - a minute
        return f"{value / 60:.1f} min"
    return f"{value:.1f} s"


def svg_polyline(points: Sequence[DurationPoint]) -> str:
    """``points=`` of an SVG polyline scaled into the trend chart's box."""
    if not points:
        return ""
    top = max(p.seconds for p in points) or 1.0
    step = (_SVG_WIDTH - 2 * _SVG_PAD) / max(len(points) - 1, 1)
    return " ".join(
        f"{_SVG_PAD + i * step:.1f},"
        f"{_SVG_HEIGHT - _SVG_PAD - (p.seconds / top) * (_SVG_HEIGHT - 2 * _SVG_PAD):.1f}"
        for i, p in enumerate(points)
    )


def render_html(hud: Hud) -> str:
    return str(_environment().get_template("hud.html.j2").render(hud=hud))


def render_markdown(hud: Hud) -> str:
    return str(_environment().get_template("summary.md.j2").render(hud=hud))


def render_json(hud: Hud) -> str:
    return json.dumps(dataclasses.asdict(hud), indent=2) + "\n"


def write_hud(hud: Hud, out: Path, formats: Sequence[str] = ("html",)) -> list[Path]:
    """Write the requested formats into ``out``; Markdown also goes to the GitHub step
    summary when ``$GITHUB_STEP_SUMMARY`` is set."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        if fmt == "html":
            target, text = out / "index.html", render_html(hud)
        elif fmt == "markdown":
            target, text = out / "summary.md", render_markdown(hud)
            step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
            if step_summary:
                with open(step_summary, "a", encoding="utf-8") as handle:  # noqa: PTH123
                    handle.write(text)
        elif fmt == "json":
            target, text = out / "hud.json", render_json(hud)
        else:
            raise ConfigError(f"unknown HUD format {fmt!r}", fix="use html, markdown or json")
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
