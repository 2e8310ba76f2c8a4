"""What a tier's run came to, as a small JSON file beside the JUnit reports.

Test tiers write JUnit; lint, packaging, wheels, the wheelhouse, the lock check and
the release write none, yet the HUD's grid must show them, and time to signal is the
wall clock from the pipeline's start to the last tier's end (environment sync and
builds included), which no JUnit file records. So every tier session writes
``<junit_dir>/<slot>[-<i>of<n>].tier.json``: its status, exit code, note, when it
started and ended, the commit and where it ran.

A record is read as untrusted input: a wrong type or an unknown status is a
:class:`RecordError` naming the file, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tierci.config import slot_file_stem
from tierci.errors import TierciError
from tierci.pipeline import PIPELINE_STARTED_VARIABLE, Status

__all__ = [
    "PIPELINE_STARTED_VARIABLE",
    "RECORD_SUFFIX",
    "RecordError",
    "TierRecord",
    "file_sha256",
    "now",
    "pipeline_started",
    "read_record",
    "record_path",
    "write_record",
]

RECORD_SUFFIX = ".tier.json"
_FORMAT = 1
_MAX_BYTES = 64 * 1024  # a record is a few hundred bytes; anything far larger is not one
_MAX_NOTE = 2000


class RecordError(TierciError):
    """A tier record that cannot be read."""


@dataclass(frozen=True, kw_only=True)
class TierRecord:
    tier: str  # the slot: unit, heavy-legacy, lint
    shard: str
    status: Status
    exit_code: int
    started: str  # ISO 8601, UTC
    ended: str
    commit: str
    branch: str = ""
    python: str = ""
    platform: str = ""
    note: str = ""
    #: The JUnit report this run wrote (its file name), if it is a test tier.
    junit: str = ""
    pipeline_started: str = ""
    #: The sha256 of that report as the session left it: the one report that decides
    #: this slot's cell; any other report there is unclaimed (a copy a test dropped).
    junit_sha256: str = ""

    @property
    def duration_s(self) -> float:
        return max(
            0.0,
            (
                datetime.fromisoformat(self.ended) - datetime.fromisoformat(self.started)
            ).total_seconds(),
        )

    def to_json(self) -> str:
        data: dict[str, Any] = {"format": _FORMAT, **asdict(self), "status": self.status.value}
        return json.dumps(data, indent=2) + "\n"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def pipeline_started() -> str:
    """The pipeline's start as CI or `inv ci` gave it, normalised; empty if unknown.

    ISO 8601, or seconds or milliseconds since the epoch (Jenkins'
    ``currentBuild.startTimeInMillis``). Outside CI and `inv ci` (`nox -s unit` by hand)
    the invocation is a pipeline of its own: it starts the first time this is asked (as
    nox loads the noxfile), and the sessions and processes it starts share that moment.
    """
    raw = os.environ.get(PIPELINE_STARTED_VARIABLE, "").strip()
    if not raw and not _in_ci():
        raw = os.environ[PIPELINE_STARTED_VARIABLE] = now()
    if raw.isdigit() and len(raw) < _EPOCH_DIGITS:
        seconds = int(raw) / 1000 if len(raw) > _SECONDS_DIGITS else int(raw)
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")
    return _moment(raw) if raw else ""


#: Set by the CI systems tierci renders for (and most others): their jobs of one run are
#: one pipeline, whatever process each job is.
_CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "JENKINS_URL", "BUILD_TAG")


def _in_ci() -> bool:
    return any(os.environ.get(name, "").strip() for name in _CI_VARIABLES)


# Epoch seconds have 10 digits until 2286, milliseconds 13; anything longer is no time.
_SECONDS_DIGITS = 10
_EPOCH_DIGITS = 16


def record_path(junit_dir: Path, tier: str, shard: str = "", python: str = "") -> Path:
    return junit_dir / f"{slot_file_stem(tier, shard, python)}{RECORD_SUFFIX}"


def file_sha256(path: Path) -> str:
    """The sha256 of a regular file's bytes ('' for anything else: a FIFO is never
    opened, a missing file has none)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return ""
        with path.open("rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()
    except OSError:
        return ""


def write_record(path: Path, record: TierRecord) -> None:
    """Write atomically: a reader never sees half a record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as handle:
        handle.write(record.to_json())
    Path(handle.name).replace(path)


def read_record(path: Path) -> TierRecord:
    """The record at ``path``, checked field by field."""
    try:
        if not path.is_file():
            raise _invalid(path, "not a regular file")
        if path.stat().st_size > _MAX_BYTES:
            raise _invalid(path, f"larger than {_MAX_BYTES // 1024} KB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _invalid(path, str(exc)) from exc
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise _invalid(path, f"not a tier record of format {_FORMAT}")
    text = {name: _string(data, name, path) for name in _STRING_FIELDS}
    status = data.get("status")
    if status not in {member.value for member in Status}:
        raise _invalid(path, f"status {status!r} is not one of {[s.value for s in Status]}")
    exit_code = data.get("exit_code")
    if isinstance(exit_code, bool) or not isinstance(exit_code, int):
        raise _invalid(path, "exit_code is not a whole number")
    for name in ("started", "ended"):
        text[name] = _moment(text[name]) or ""
        if not text[name]:
            raise _invalid(path, f"{name} is not an ISO 8601 time")
    text["pipeline_started"] = _moment(text["pipeline_started"])
    if text["junit_sha256"] and not _SHA256.fullmatch(text["junit_sha256"]):
        raise _invalid(path, "junit_sha256 is not a sha256 (64 lowercase hex digits)")
    text["note"] = text["note"][:_MAX_NOTE]
    return TierRecord(status=Status(status), exit_code=exit_code, **text)


_STRING_FIELDS = (
    "tier",
    "shard",
    "started",
    "ended",
    "commit",
    "branch",
    "python",
    "platform",
    "note",
    "junit",
    "pipeline_started",
    "junit_sha256",
)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _string(data: dict[str, Any], name: str, path: Path) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise _invalid(path, f"{name} is not a string")
    if name == "tier" and not value:
        raise _invalid(path, "tier is empty")
    return value


def _moment(raw: str) -> str:
    """ISO 8601 in UTC, or empty when ``raw`` is not a time (a zone-less time is UTC)."""
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _invalid(path: Path, why: str) -> RecordError:
    return RecordError(
        f"{path}: not a readable tier record ({why})",
        fix="re-run that tier's session, which writes its record; or delete the file",
    )
