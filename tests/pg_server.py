"""A throwaway PostgreSQL server for the tests: initdb into a temporary directory, started on a free port
with its unix socket in the same directory, stopped at the end of the session.

The server binaries come from Debian's postgresql package (/usr/lib/postgresql/<version>/bin, or
BACKCARE_PG_BIN). initdb and postgres refuse to run as root, so under root they run as the `postgres`
system user (runuser), which owns the temporary directory. No binaries: `available()` is False and the
PostgreSQL half of the store tests is skipped with that reason (CI installs the package: scripts/test.sh).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg


def pg_bin() -> Path | None:
    configured = os.environ.get("BACKCARE_PG_BIN")
    candidates = [configured] if configured else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _as_user() -> str | None:
    """Root may not run the server: the postgres system user does (the Debian package creates it)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return "postgres"


def available() -> str | None:
    """None when a server can be started here, else the reason it cannot."""
    if pg_bin() is None:
        return "PostgreSQL server binaries not found (apt-get install -y postgresql)"
    if os.geteuid() == 0 and _as_user() is None:
        return "running as root and there is no postgres system user to run the server"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self) -> None:
        binaries = pg_bin()
        assert binaries is not None, available()
        self.bin = binaries
        self.user = _as_user()
        self.dir = Path(tempfile.mkdtemp(prefix="backcare-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.log = self.dir / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    def _run(self, *argv: str, wait: bool = True) -> subprocess.Popen[bytes] | None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        if wait:
            subprocess.run(command, check=True, capture_output=True, cwd=self.dir)
            return None
        with open(self.log, "ab") as log:
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)

    def start(self) -> PgServer:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        # durability is not under test here: the settings make a test database fast to create and fill
        self._process = self._run(
            "postgres",
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-k",
            str(self.dir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
            wait=False,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    return self
            except psycopg.OperationalError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL did not start: {self.log.read_text(errors='replace')[-2000:]}"
                    ) from None
                time.sleep(0.1)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()  # smart shutdown after SIGTERM; the socket dir goes with the tree
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class ReusedDatabase:
    """One migrated database per test process, put back to its just-migrated state before each test that uses
    it: every table emptied in one TRUNCATE, the rows the migrations write put back, every sequence restarted.
    That takes a few milliseconds where CREATE DATABASE ... TEMPLATE and DROP DATABASE take about 0.3 s, and
    the store's tests on PostgreSQL make hundreds of databases. A test that changed the schema (a column, an
    index, a table) leaves a shape the reset does not know: the database is then dropped and made again."""

    def __init__(self, server: PgServer, template: str) -> None:
        self.server = server
        self.template = template
        self.name = ""
        self._create()

    def _create(self) -> None:
        self.name = f"reused_{uuid.uuid4().hex[:12]}"
        self.server.admin(f"CREATE DATABASE {self.name} TEMPLATE {self.template}")
        with psycopg.connect(self.url) as connection:
            self.shape = _shape(connection)
            self.tables = [
                row[0]
                for row in connection.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
                )
            ]
            self.sequences = connection.execute(
                "SELECT sequencename, start_value FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall()
            self.seeded: dict[str, tuple[list[str], list[tuple]]] = {}
            for table in self.tables:
                cursor = connection.execute(f'SELECT * FROM "{table}"')  # type: ignore[arg-type]
                rows = cursor.fetchall()
                if rows:
                    self.seeded[table] = ([column.name for column in cursor.description or ()], rows)

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def reset(self) -> str:
        """Empty the database back to its migrated state; the URL to open."""
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if _shape(connection) != self.shape:
                stale = self.name
                self.server.admin(f"DROP DATABASE IF EXISTS {stale} WITH (FORCE)")
                self._create()
                return self.url
            with connection.transaction():
                connection.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in self.tables))  # type: ignore[arg-type]
                for sequence, start in self.sequences:
                    connection.execute("SELECT setval(%s, %s, false)", (sequence, start))
                for table, (columns, rows) in self.seeded.items():
                    names = ", ".join(f'"{c}"' for c in columns)
                    marks = ", ".join(["%s"] * len(columns))
                    with connection.cursor() as cursor:
                        cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)  # type: ignore[arg-type]
        return self.url


def _shape(connection) -> tuple:
    """The schema's columns, indexes, sequences and views, to notice a test that changed them."""
    return (
        connection.execute(
            "SELECT md5(string_agg(table_name || '.' || column_name || ':' || data_type || ':' "
            "|| coalesce(column_default, ''), ',' ORDER BY table_name, column_name)) "
            "FROM information_schema.columns WHERE table_schema = 'public'"
        ).fetchone(),
        connection.execute(
            "SELECT md5(string_agg(indexname || indexdef, ',' ORDER BY indexname)) FROM pg_indexes "
            "WHERE schemaname = 'public'"
        ).fetchone(),
        connection.execute(
            "SELECT string_agg(sequencename, ',' ORDER BY sequencename) FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchone(),
    )
