"""``tierci ci render``: the GitHub workflows and the Jenkinsfile, rendered from the
tiers of ``[tool.tierci]`` (``plan``: the model; ``render``: the templates, writing and
checking)."""

from __future__ import annotations

from tierci.cirender.plan import CiPlan, TierJob, plan_ci
from tierci.cirender.render import (
    RENDERED_MARKER,
    CiFile,
    Difference,
    StaleCiFilesError,
    check,
    render,
    write,
)

__all__ = [
    "RENDERED_MARKER",
    "CiFile",
    "CiPlan",
    "Difference",
    "StaleCiFilesError",
    "TierJob",
    "check",
    "plan_ci",
    "render",
    "write",
]
