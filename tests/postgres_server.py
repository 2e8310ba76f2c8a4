"""A real PostgreSQL server for the tests (and the history benchmark): Debian's
``postgresql`` package, started by ``initdb``/``pg_ctl`` in a temporary folder on a free
port of 127.0.0.1, and stopped at the end.

PostgreSQL refuses to run as root: as root (CI), the server runs as ``nobody``. Where
PostgreSQL is not installed the tests that need it are skipped with the reason, unless
``TIERCI_REQUIRE_POSTGRES=1`` (``.ci/run`` sets it) makes that a failure.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

REQUIRE_VARIABLE = "TIERCI_REQUIRE_POSTGRES"
_UNPRIVILEGED = "nobody"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str

    def url(self, database: str) -> str:
        """A URL without the password: the tests pass it in PGPASSWORD, as users should."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def admin_url(self) -> str:
        return self.url("postgres")


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH, else Debian's versioned folder."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _can_traverse(folder: Path, account: pwd.struct_passwd) -> bool:
    """Whether ``account`` may pass through ``folder`` and every folder above it."""
    for step in (folder, *folder.parents):
        try:
            status = step.stat()
        except OSError:
            return False
        if status.st_uid == account.pw_uid:
            allowed = status.st_mode & stat.S_IXUSR
        elif status.st_gid == account.pw_gid:
            allowed = status.st_mode & stat.S_IXGRP
        else:
            allowed = status.st_mode & stat.S_IXOTH
        if not allowed:
            return False
    return True


_USUAL_TEMP_FOLDERS = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))


def server_parent(
    account: pwd.struct_passwd | None, fallbacks: tuple[Path, ...] = _USUAL_TEMP_FOLDERS
) -> Path:
    """Where the server's folder goes: the temp folder, unless the unprivileged account
    cannot reach it (``mktemp -d`` makes a 0700 folder, and CI's TMPDIR may be under
    one); then the first of the usual world-traversable temp folders it can reach."""
    preferred = Path(tempfile.gettempdir()).resolve()
    if account is None:
        return preferred
    candidates = (preferred, *fallbacks)
    for candidate in candidates:
        if candidate.is_dir() and _can_traverse(candidate.resolve(), account):
            return candidate.resolve()
    raise PermissionError(
        f"no temp folder that user {account.pw_name!r} can reach (tried "
        + ", ".join(str(candidate) for candidate in candidates)
        + "): set TMPDIR to a folder whose every parent others may enter (mode o+x)"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A fresh server, run as an unprivileged user; stopped and removed at the end."""
    binaries = find_binaries()
    if binaries is None:
        raise FileNotFoundError(
            "PostgreSQL is not installed (no initdb/pg_ctl): apt-get install postgresql"
        )
    as_root = os.geteuid() == 0
    account = pwd.getpwnam(_UNPRIVILEGED) if as_root else None
    root = Path(tempfile.mkdtemp(prefix="tierci-pg-", dir=server_parent(account)))
    password = "tierci-test-password"
    data = root / "data"
    root.chmod(0o755)
    (root / "password").write_text(password + "\n", encoding="utf-8")
    if account is not None:
        os.chown(root, account.pw_uid, account.pw_gid)
        os.chown(root / "password", account.pw_uid, account.pw_gid)
    uid = account.pw_uid if account is not None else None
    gid = account.pw_gid if account is not None else None
    environment = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "HOME": str(root)}
    port = _free_port()

    def run(*command: str) -> None:
        subprocess.run(
            command,
            cwd=root,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=True,
            user=uid,
            group=gid,
            extra_groups=[] if account is not None else None,
        )

    try:
        run(
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            "tierci",
            "--auth=scram-sha-256",
            f"--pwfile={root / 'password'}",
            "-E",
            "UTF8",
        )
        run(
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            # TCP only: a Unix socket's path may not exceed 107 bytes, and a temp
            # folder's length is the machine's (TMPDIR), never a test's to depend on.
            f"-h 127.0.0.1 -p {port} -k '' -c fsync=off -c max_connections=60",
            "start",
        )
        try:
            yield PostgresServer(host="127.0.0.1", port=port, user="tierci", password=password)
        finally:
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
