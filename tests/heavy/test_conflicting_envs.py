"""Two environments that pin conflicting versions of one package (six 1.16 vs 1.17).

``nox -s heavy`` runs each in its own session, heavy(env='legacy') and
heavy(env='modern'); the default heavy environment deselects both. Each env is
synced from its own lock through the wheelhouse, so neither sees torch.
"""

from __future__ import annotations

import importlib.util

import pytest

pytestmark = pytest.mark.heavy


@pytest.mark.env("legacy")
def test_legacy_env_has_six_1_16() -> None:
    # No types-six in the lint lock, so mypy sees six untyped (it reports that once a file).
    import six  # noqa: PLC0415 - only the env sessions have it

    assert six.__version__ == "1.16.0"
    assert importlib.util.find_spec("torch") is None


@pytest.mark.env("modern")
def test_modern_env_has_six_1_17() -> None:
    import six  # noqa: PLC0415

    assert six.__version__ == "1.17.0"
    assert importlib.util.find_spec("torch") is None
