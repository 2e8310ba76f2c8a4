"""Run history and the HUD: every report stored per commit (``history``), durations
for shards (``durations``), the HUD's model and pages (``hud``), and the one
ingest-then-render used by ``nox -s report`` and ``tierci report`` (``ingest``)."""

__all__ = ["DEFAULT_HISTORY", "DEFAULT_HUD_DIR"]

#: Where ``nox -s report`` keeps the run history, relative to the project root.
DEFAULT_HISTORY = "build/tierci/history.sqlite"
#: Where the HUD is written, relative to the project root.
DEFAULT_HUD_DIR = "build/hud"
