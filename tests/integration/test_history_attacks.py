"""The run history under attack, in real processes: one report ingested by eight
processes at once, eight processes migrating an old store at once, SIGKILL in the middle
of an ingest, read-only histories, and ``--db`` paths that cannot be a history.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import JUNIT_CORPUS
from tests.history_fixture import build_v1_store
from tests.support import Ran, run_within, sqlite_connect, tierci_command
from tierci.errors import UsageError
from tierci.report.history import SCHEMA_VERSION, read_history
from tierci.report.hud import build_hud

# Imports first, then "ready", then the command as soon as the go file exists: the
# processes start their work at the same moment, not one Python start-up apart.
TOGETHER = """
import sys, time
from pathlib import Path
from tierci.cli import main
from tierci.report.history import open_history
ready, go, args = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
ready.touch()
while not go.exists():
    time.sleep(0.002)
if args[0] == "open":
    open_history(Path(args[1])).close()
    sys.exit(0)
sys.exit(main(args))
"""
HANG_LIMIT_S = 300


def together(folder: Path, commands: list[list[str]]) -> list[Ran]:
    """Run each command in its own process, all released at once."""
    gate = folder / "gate"
    gate.mkdir()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", TOGETHER, str(gate / f"ready-{n}"), str(gate / "go"), *args],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n, args in enumerate(commands)
    ]
    while len(list(gate.glob("ready-*"))) < len(commands):
        assert all(worker.poll() is None for worker in workers), "a worker died before the start"
        time.sleep(0.01)
    (gate / "go").touch()
    results = []
    for worker in workers:
        output, _ = worker.communicate(timeout=HANG_LIMIT_S)
        results.append(Ran(worker.returncode, output))
    shutil.rmtree(gate)
    return results


def cli(folder: Path, *args: str, **env: str) -> Ran:
    completed = subprocess.run(
        tierci_command(folder, *args),
        cwd=folder,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=HANG_LIMIT_S,
    )
    return Ran(completed.returncode, completed.stdout)


def flat(text: str) -> str:
    return " ".join(text.split())


def write_report(path: Path, cases: int, *, tag: str = "") -> Path:
    """A pytest-like report of ``cases`` testcases (every 100th failed), written in chunks."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write(f'<?xml version="1.0"?>\n<testsuites><testsuite name="pytest{tag}">\n')
        for start in range(0, cases, 10_000):
            handle.write(
                "".join(
                    f'<testcase classname="pkg.m{i % 50}" name="test_{i}" time="0.01">'
                    '<failure message="no">trace</failure></testcase>\n'
                    if i % 100 == 0
                    else f'<testcase classname="pkg.m{i % 50}" name="test_{i}" time="0.01"/>\n'
                    for i in range(start, min(start + 10_000, cases))
                )
            )
        handle.write("</testsuite></testsuites>\n")
    return path


def counts(db: Path) -> tuple[int, int]:
    connection = sqlite_connect(db)
    try:
        runs = connection.execute("SELECT count(*) FROM runs").fetchone()[0]
        outcomes = connection.execute("SELECT count(*) FROM outcomes").fetchone()[0]
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()
    return int(runs), int(outcomes)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- one report, many processes ------------------------------------------------------


def test_one_report_ingested_by_eight_processes_at_once_is_stored_once(tmp_path: Path) -> None:
    report = write_report(tmp_path / "unit.xml", 20_000)
    db = tmp_path / "h.sqlite"
    ingest = ["report", "ingest", str(report), "--db", str(db), "--commit", "c1"]
    results = together(tmp_path, [ingest] * 8)
    assert [ran.returncode for ran in results] == [0] * 8, results
    assert not any("locked" in ran.output for ran in results)
    repeated = [ran for ran in results if "already in the history" in ran.output]
    assert len(repeated) == 7  # one process stored it; seven found it stored
    assert counts(db) == (1, 20_000)


def test_eight_processes_ingesting_eight_reports_at_once_store_eight_runs(tmp_path: Path) -> None:
    reports = [write_report(tmp_path / f"unit-{n}of8.xml", 20_000, tag=str(n)) for n in range(1, 9)]
    db = tmp_path / "h.sqlite"
    results = together(
        tmp_path,
        [["report", "ingest", str(r), "--db", str(db), "--commit", "c1"] for r in reports],
    )
    # Each shard says eight ran: a process that ingests before the others have stored
    # theirs names those as holes (exit 1), and nothing else goes wrong.
    for ran in results:
        assert ran.returncode in (0, 1), ran
        if ran.returncode:
            assert "no report for unit shard" in ran.output, ran
    assert not any("locked" in ran.output for ran in results)
    connection = sqlite_connect(db)
    stored = connection.execute(
        "SELECT shard FROM runs WHERE status = 'ok' ORDER BY shard"
    ).fetchall()
    assert stored == [(f"{n}/8",) for n in range(1, 9)]
    assert connection.execute("SELECT count(*) FROM outcomes").fetchone() == (8 * 20_000,)
    with read_history(db) as history:
        (row,) = build_hud(history.database).commits
    cell = row.cells["unit"]
    assert cell.status.value != "missing"  # no early hole shadows a report
    assert not any("no report for" in problem for problem in cell.problems)


# --- migration -----------------------------------------------------------------------


def test_eight_processes_migrating_a_version_1_store_at_once_migrate_it_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.sqlite"
    build_v1_store(db)
    results = together(tmp_path, [["open", str(db)]] * 8)
    assert [ran.returncode for ran in results] == [0] * 8, results
    assert not any("duplicate column" in ran.output for ran in results)
    connection = sqlite_connect(db)
    assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    columns = [row[1] for row in connection.execute("PRAGMA table_info(runs)")]
    assert columns.count("warnings") == 1
    # The duplicate run of commit a is gone with its outcomes; the rest is kept.
    assert connection.execute("SELECT id, commit_sha FROM runs ORDER BY id").fetchall() == [
        (1, "a"),
        (3, "b"),
    ]
    assert connection.execute("SELECT DISTINCT run_id FROM outcomes ORDER BY 1").fetchall() == [
        (1,),
        (3,),
    ]
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        connection.execute(
            "INSERT INTO runs (commit_sha, ref_time, tier, status, report_digest, ingested_at) "
            "VALUES ('a', '', 'unit', 'ok', 'd1', '')"
        )


# --- SIGKILL in the middle of an ingest ----------------------------------------------


def staging_file(pid: int, folder: Path) -> bool:
    """Whether the process has its staging file open in ``folder``, already unlinked."""
    for link in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(link.readlink())
        except OSError:
            continue
        if target.startswith(str(folder)) and target.endswith(" (deleted)"):
            return True
    return False


def holds_write_lock(db: Path) -> bool:
    probe = sqlite_connect(db, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    finally:
        if probe.in_transaction:
            probe.execute("ROLLBACK")
        probe.close()
    return False


def start_ingest(folder: Path, report: Path, db: Path, staging: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        tierci_command(folder, "report", "ingest", str(report), "--db", str(db), "--commit", "c"),
        cwd=folder,
        env={**os.environ, "SQLITE_TMPDIR": str(staging), "TMPDIR": str(staging)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def wait_for(condition: object, worker: subprocess.Popen[str]) -> None:
    while not condition():  # type: ignore[operator]
        assert worker.poll() is None, "the ingest ended before the moment to kill it"
        time.sleep(0.002)


@pytest.mark.parametrize("moment", ["while parsing", "while copying under the write lock"])
def test_sigkill_in_the_middle_of_an_ingest_leaves_no_run_and_no_staging_file(
    tmp_path: Path, moment: str
) -> None:
    report = write_report(tmp_path / "unit.xml", 600_000)
    db, staging = tmp_path / "h.sqlite", tmp_path / "staging"
    staging.mkdir()
    worker = start_ingest(tmp_path, report, db, staging)
    wait_for(lambda: staging_file(worker.pid, staging), worker)  # parsing into staging
    if moment != "while parsing":
        wait_for(lambda: holds_write_lock(db), worker)  # the copy has begun
    worker.send_signal(signal.SIGKILL)
    assert worker.wait(timeout=HANG_LIMIT_S) == -signal.SIGKILL
    assert counts(db) == (0, 0)  # no run, and no outcome of one
    assert list(staging.iterdir()) == []  # the staging file went with the process
    again = cli(tmp_path, "report", "ingest", str(report), "--db", str(db), "--commit", "c")
    assert again.returncode == 0, again
    assert counts(db) == (1, 600_000)


# --- read-only histories and impossible --db paths -----------------------------------


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A real history of two reports, closed (no WAL files beside it)."""
    folder = tmp_path / "store"
    folder.mkdir()
    db = folder / "h.sqlite"
    reports = [
        JUNIT_CORPUS / "pytest/xunit2-report.xml",
        JUNIT_CORPUS / "jest-junit/jest-junit.xml",
    ]
    ran = cli(tmp_path, "report", "ingest", *map(str, reports), "--db", str(db), "--commit", "c1")
    assert ran.returncode == 0, ran
    assert sorted(p.name for p in folder.iterdir()) == ["h.sqlite"]
    return db


def _can(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, check=False).returncode == 0
    except OSError:
        return False


def read_only_mount(folder: Path, command: list[str]) -> list[str]:
    """``command`` run where ``folder`` is a read-only bind mount: a user namespace,
    so that even root cannot write there (EROFS), and no privilege is needed."""
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
    return [
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        script,
        str(folder),
        *command,
    ]


@pytest.fixture
def can_mount_read_only() -> None:
    if not _can(["unshare", "--user", "--map-root-user", "--mount", "true"]):
        pytest.skip("no user namespaces here: a read-only mount needs them (unshare -rm)")


def run(command: list[str], cwd: Path) -> Ran:
    return run_within(command, cwd, HANG_LIMIT_S)


@pytest.mark.usefixtures("can_mount_read_only")
def test_a_history_on_a_read_only_mount_renders_but_refuses_ingest(
    tmp_path: Path, history: Path
) -> None:
    before, listing = digest(history), sorted(history.parent.iterdir())
    out = tmp_path / "hud"
    hud = run(
        read_only_mount(
            history.parent,
            tierci_command(
                tmp_path,
                "report",
                "hud",
                "--db",
                str(history),
                "--out",
                str(out),
                "--format",
                "html",
                "--format",
                "json",
            ),
        ),
        tmp_path,
    )
    assert hud.returncode == 0, hud
    assert (out / "index.html").is_file()
    assert "xunit2-report" in (out / "hud.json").read_text(encoding="utf-8")

    report = JUNIT_CORPUS / "pytest/shard1-junit.spark.integration.1.xml"
    ingest = run(
        read_only_mount(
            history.parent,
            tierci_command(
                tmp_path, "report", "ingest", str(report), "--db", str(history), "--commit", "c2"
            ),
        ),
        tmp_path,
    )
    assert ingest.returncode == UsageError.return_code, ingest
    text = flat(ingest.output)
    assert f"{history}: the history cannot be written by this process" in text
    assert "read-only" in text
    assert "fix: ingest into a history this process may write (--db PATH)" in text
    assert "Traceback" not in ingest.output
    assert (digest(history), sorted(history.parent.iterdir())) == (before, listing)


@pytest.fixture
def immutable(history: Path) -> object:
    if not _can(["chattr", "+i", str(history)]):
        pytest.skip("chattr +i is not supported here (needs CAP_LINUX_IMMUTABLE and ext4/xfs)")
    yield history
    subprocess.run(["chattr", "-i", str(history)], check=True)


def test_an_immutable_history_file_renders_but_refuses_ingest_even_for_root(
    tmp_path: Path, immutable: Path
) -> None:
    history = immutable
    before = digest(history)
    out = tmp_path / "hud"
    hud = cli(tmp_path, "report", "hud", "--db", str(history), "--out", str(out))
    assert hud.returncode == 0, hud
    assert (out / "index.html").is_file()
    report = JUNIT_CORPUS / "pytest/shard1-junit.spark.integration.1.xml"
    ingest = cli(tmp_path, "report", "ingest", str(report), "--db", str(history), "--commit", "c2")
    assert ingest.returncode == UsageError.return_code, ingest
    assert f"{history}: the history cannot be written by this process" in flat(ingest.output)
    assert "Traceback" not in ingest.output
    assert digest(history) == before


HOLD_THE_WRITE_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
"""


def test_the_hud_renders_while_another_process_holds_the_write_lock(
    tmp_path: Path, history: Path
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLD_THE_WRITE_LOCK,
            str(history),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        hud = cli(tmp_path, "report", "hud", "--db", str(history), "--out", str(tmp_path / "hud"))
        assert hud.returncode == 0, hud
    finally:
        holder.communicate("")
    assert (tmp_path / "hud" / "index.html").is_file()


def test_a_db_under_a_regular_file_is_refused_by_name(tmp_path: Path) -> None:
    blocker = tmp_path / "build"
    blocker.write_text("not a folder\n", encoding="utf-8")
    db = blocker / "tierci" / "history.sqlite"
    for args in (
        ["report", "ingest", str(JUNIT_CORPUS / "pytest/xunit2-report.xml"), "--db", str(db)],
        ["report", "hud", "--db", str(db)],
    ):
        ran = cli(tmp_path, *args, "--commit", "c") if args[1] == "ingest" else cli(tmp_path, *args)
        assert ran.returncode == UsageError.return_code, ran
        assert f"{db}: {blocker} is a file, not a folder" in flat(ran.output)
        assert "Traceback" not in ran.output
    assert blocker.read_text(encoding="utf-8") == "not a folder\n"


@pytest.mark.parametrize("command", ["ingest", "hud"])
def test_a_folder_or_a_fifo_in_place_of_the_db_file_is_refused_by_name(
    tmp_path: Path, command: str
) -> None:
    folder = tmp_path / "history.sqlite"
    folder.mkdir()
    fifo = tmp_path / "pipe.sqlite"
    os.mkfifo(fifo)
    report = str(JUNIT_CORPUS / "pytest/xunit2-report.xml")
    for db, kind in ((folder, "is a folder"), (fifo, "is not a regular file (a FIFO")):
        args = ["report", command, *([report, "--commit", "c"] if command == "ingest" else [])]
        ran = cli(tmp_path, *args, "--db", str(db))
        assert ran.returncode == UsageError.return_code, ran
        assert f"{db}: {kind}" in flat(ran.output)
        assert "Traceback" not in ran.output
    assert list(folder.iterdir()) == []


def test_a_db_in_a_folder_that_does_not_exist_is_created(tmp_path: Path) -> None:
    db = tmp_path / "new" / "nested" / "history.sqlite"
    report = str(JUNIT_CORPUS / "pytest/xunit2-report.xml")
    ran = cli(tmp_path, "report", "ingest", report, "--db", str(db), "--commit", "c")
    assert ran.returncode == 0, ran
    assert counts(db) == (1, 3)
