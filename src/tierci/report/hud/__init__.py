"""The HUD: a static, offline page (and Markdown and JSON) of commits x tiers."""

from __future__ import annotations

from tierci.report.hud.model import GateScope, GateTargets, Hud, build_hud, gate_targets
from tierci.report.hud.render import render_html, render_json, render_markdown, write_hud

__all__ = [
    "GateScope",
    "GateTargets",
    "Hud",
    "build_hud",
    "gate_targets",
    "render_html",
    "render_json",
    "render_markdown",
    "write_hud",
]
