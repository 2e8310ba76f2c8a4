"""native-ml's pipeline: each tier is one tierci call (`nox -s unit`, `inv unit`)."""

import nox
from tierci import noxlib

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"  # safe: every session syncs to its lock exactly
nox.options.sessions = ["lint", "unit", "packaging"]


@nox.session
def lint(session: nox.Session) -> None:
    noxlib.lint(session)


@nox.session
def unit(session: nox.Session) -> None:
    noxlib.run_tests(session, "unit")


@nox.session
def packaging(session: nox.Session) -> None:
    noxlib.packaging(session, package="native_ml")


@nox.session
def wheels(session: nox.Session) -> None:
    noxlib.wheels_session(session, package="native_ml")


@nox.session
def heavy(session: nox.Session) -> None:
    noxlib.run_tests(session, "heavy")


@nox.session
def wheelhouse(session: nox.Session) -> None:
    noxlib.wheelhouse_session(session)


@nox.session
def device(session: nox.Session) -> None:
    noxlib.run_tests(session, "device")


@nox.session
def lock(session: nox.Session) -> None:
    noxlib.lock(session)


@nox.session(venv_backend="none")
def report(session: nox.Session) -> None:
    noxlib.report(session)
