"""Sessions from configuration: a project's whole ``noxfile.py`` can be

    import tierci.nox
    tierci.nox.register(globals())

``register`` defines one nox session per tier the project has
(``TierciConfig.enabled_tiers``) plus the pipeline's steps (lock, report, release,
wheelhouse), each calling its ``tierci.noxlib`` function. It is still a real noxfile:
a session defined before ``register`` under a tier's name is kept instead of the
generated one, one defined after replaces it, and new sessions sit beside them.

nox's own features carry the rest: ``default=`` marks the sessions a bare ``nox`` runs
(the pipeline tiers: lint, unit, custom tiers, packaging), ``tags=`` groups them
(``nox -t tests``: every pytest tier; ``nox -t ci``: the pipeline), ``python=`` gives a
tier with ``pythons`` one session per Python (``unit-3.12``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nox

from tierci import interpreters, noxlib, provenance, records
from tierci.config import DEFAULT_ENV, TierciConfig

if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping

__all__ = ["register"]


def register(namespace: MutableMapping[str, Any], *, root: Path | None = None) -> list[str]:
    """Define the project's sessions in ``namespace`` (a noxfile's ``globals()``) and
    return their names. ``root``: the project folder (default: the noxfile's)."""
    root = root or Path(namespace["__file__"]).resolve().parent
    config = noxlib.noxfile_config(root)
    records.pipeline_started()  # this invocation's start, unless CI or `inv ci` gave one
    provenance.pin_commit(root)  # and the tree it tests, as it is now
    _find_pythons(config)
    # Reuse is safe: every session syncs its environment to the exact lock first.
    # (Defaults only, as any noxfile sets them: set nox.options after register to
    # change them; the command line wins over both.)
    nox.options.default_venv_backend = "uv|virtualenv"
    nox.options.reuse_venv = "yes"
    taken = set(nox.registry.get())
    made: list[str] = []
    for name, function, options in _sessions(config):
        if name in taken:
            # Kept on purpose (the project's own), but never silently: the tier's checks
            # do not run under this name, and its CI jobs run the project's session.
            logging.getLogger("nox").warning(
                "noxfile.py defines its own %r session: it replaces tierci's %s (rename "
                "yours, or remove it to run the tier)",
                name,
                f"{name} tier" if name in config.tiers else f"{name} session",
            )
            continue
        function.__name__ = function.__qualname__ = name
        function.__module__ = str(namespace.get("__name__", function.__module__))
        session = nox.session(function, name=name, **options)
        # A global of the noxfile by that name (an import, a helper) stays what it is.
        namespace.setdefault(name, session)
        made.append(name)
    return made


def _find_pythons(config: TierciConfig) -> None:
    """The tiers' Pythons, found as the lock session finds them (PATH, then pyenv) and
    never downloaded; each one missing is one line here. nox then skips its sessions,
    or fails them in CI (``--error-on-missing-interpreters``, nox's default there)."""
    wanted = [python for name in config.enabled_tiers for python in config.tiers[name].pythons]
    for version in interpreters.make_findable(wanted):
        sessions = ", ".join(
            f"{name}-{version}"
            for name in config.enabled_tiers
            if version in config.tiers[name].pythons
        )
        logging.getLogger("nox").warning(
            "Python %s not found (on PATH or in pyenv): %s cannot run here; %s",
            version,
            sessions,
            interpreters.how_to_get(version),
        )


def _sessions(config: TierciConfig) -> list[tuple[str, Any, dict[str, Any]]]:
    pipeline = set(config.pipeline_tiers)
    sessions: list[tuple[str, Any, dict[str, Any]]] = []
    # The pipeline's order first: a bare `nox` runs the default sessions in this order.
    ordered = [*config.pipeline_tiers, *(t for t in config.enabled_tiers if t not in pipeline)]
    for name in ordered:
        tier = config.tiers[name]
        tags = ["tier", *(["ci"] if name in pipeline else [])]
        options: dict[str, Any] = {"default": name in pipeline, "tags": tags}
        if tier.runs_tests:
            options["tags"] = [*tags, "tests"]
            options["python"] = list(tier.pythons) or None
            sessions.append((name, _test_session(config, name), options))
        elif name == "lint":
            sessions.append((name, _lint, options))
        elif name == "packaging":
            sessions.append((name, _packaging, options))
        elif name == "wheels":
            sessions.append((name, _wheels, options))
    if config.wheelhouse is not None:
        sessions.append(("wheelhouse", _wheelhouse, {"default": False}))
    sessions += [
        ("release", _release, {"default": False}),
        ("lock", _lock, {"default": False}),
        ("report", _report, {"default": False, "venv_backend": "none"}),
    ]
    return sessions


def _test_session(config: TierciConfig, tier: str) -> Callable[..., None]:
    envs = sorted(config.envs) if tier == "heavy" else []
    if envs:

        @nox.parametrize("env", [DEFAULT_ENV, *envs])
        def run_env(session: nox.Session, env: str) -> None:
            noxlib.run_tests(session, tier, env=env)

        run_env.__doc__ = f"{_describe(config, tier)}; one run per environment"
        return run_env  # type: ignore[no-any-return]  # nox.parametrize is untyped

    def run(session: nox.Session) -> None:
        noxlib.run_tests(session, tier)

    run.__doc__ = _describe(config, tier)
    return run


def _describe(config: TierciConfig, tier: str) -> str:
    settings = config.tiers[tier]
    offline = ", offline from the wheelhouse" if config.uses_wheelhouse(settings.lock) else ""
    device = "; needs an accelerator" if settings.requires_device else ""
    return f"Tests of tier {tier} (pytest -m {settings.markers!r}{offline}){device}"


def _lint(session: nox.Session) -> None:
    """Lint tools from the lint lock, none of them editing (docs/tiers.md says which)."""
    noxlib.lint(session)


def _packaging(session: nox.Session) -> None:
    """Build sdist + wheel, twine check --strict, check-wheel-contents, import-verify."""
    noxlib.packaging(session)


def _wheels(session: nox.Session) -> None:
    """Native wheels into dist/wheels/ (cibuildwheel, or its fallback where it cannot run)."""
    noxlib.wheels_session(session)


def _wheelhouse(session: nox.Session) -> None:
    """Build .wheelhouse/ from the heavy locks, validate it, pack it into build/wheelhouse/."""
    noxlib.wheelhouse_session(session)


def _release(session: nox.Session) -> None:
    """Build, check, upload (-- --repository-url URL), install back from the index, import."""
    noxlib.release_session(session)


def _lock(session: nox.Session) -> None:
    """Compile requirements/*.in to hashed locks; `-- --check` fails on stale ones."""
    noxlib.lock(session)


def _report(session: nox.Session) -> None:
    """Ingest build/junit/*.xml of this commit into the history, render the HUD to build/hud/."""
    noxlib.report(session)
