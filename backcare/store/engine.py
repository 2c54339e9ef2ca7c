"""The two database engines the store runs on, and everything that differs between them.

The store's functions and SQL are ONE set. DuckDB (an embedded file, the default) and PostgreSQL
(`BACKCARE_DATABASE_URL=postgresql://...`, for several app processes on one chain) differ only in what an
`Engine` below does, plus the few named pieces beside it:
- connection: DuckDB's one connection per process; on PostgreSQL `PgPool`, a connection per open cursor
  (a DuckDB cursor has its own transaction, a psycopg cursor shares its connection's), autocommit, UTC;
- parameter markers: `pg_sql` (below); values are bound client-side (psycopg's ClientCursor), so a None
  parameter in `$x IS NULL` types itself as on DuckDB;
- the write transaction: `Engine.begin_write` (PostgreSQL: REPEATABLE READ, see the last point);
- driver errors: `DRIVER_ERRORS`, `is_constraint_error`, `is_clash` (db.translate words them); a server
  that cannot be reached is a StoreError naming the URL without its password (DuckDB's busy file is
  DatabaseLocked: one process per file);
- migrations: `Engine.extra_migrations` (PostgreSQL: 0000_postgres_compat, the DOUBLE domain),
  `Engine.migration_sql` (PostgreSQL's variant of 0007: the 64-bit secret as NUMERIC(20, 0), not UBIGINT)
  and `Engine.late_migrations`, run after the shipped ones (PostgreSQL: the indexes a client's rows are
  read by, `_PG_INDEXES`: DuckDB scans a client's sessions by its zone maps and dropped that index in
  0002, PostgreSQL without it reads all 2.9 M sessions of a chain for one client's history);
  concurrent starts: `Engine.lock_migrations` (an advisory lock);
- a row count answer: DuckDB answers INSERT/UPDATE/DELETE with one row holding the count, PgCursor too;
- bulk load and sequences: backcare/store/transfer.py (DuckDB writes CSV, PostgreSQL COPYs it; setval);
- the file's own maintenance stays DuckDB's: the erasure's file rebuild is VACUUM FULL on PostgreSQL
  (erasure._vacuum_full); CHECKPOINT/ATTACH and the Parquet export are not run there; the CSV import reads
  and checks the file in an in-memory DuckDB, a slice of clients at a time, and COPYs each slice's new rows
  to the server while the next slice is checked (importer._import_on_postgres).

How to write SQL that runs on both (the lead ports new SQL by this list; the store tests run on both):
- Parameters: `?` (positional, a list) or `$name` (named, a dict), as the store has always written them.
  On PostgreSQL they are rewritten once per statement text to psycopg's `%s` / `%(name)s` (`pg_sql`); a
  literal `%` in the SQL is escaped for you. Never build SQL text from values.
- Types: INTEGER, BIGINT, VARCHAR, BOOLEAN, DATE, TIMESTAMP, DOUBLE PRECISION (the shipped migrations'
  bare `DOUBLE` is a domain on PostgreSQL; new SQL writes DOUBLE PRECISION). No UBIGINT, LIST, STRUCT, MAP.
- Ids: `DEFAULT nextval('x_id_seq')` with `CREATE SEQUENCE x_id_seq START 1`, as the existing tables do.
- Upserts: `INSERT ... ON CONFLICT (...) DO UPDATE SET ... / DO NOTHING`, never `INSERT OR REPLACE`.
- Functions: standard ones (coalesce, lower, trim, count(*) FILTER (WHERE ...), CAST, EXTRACT,
  date arithmetic with INTERVAL, current_timestamp). Not DuckDB's date_diff, epoch, strftime, arg_max,
  list_*, regexp_matches, contains, `SELECT * REPLACE`; not PostgreSQL's `::regclass` tricks either.
  Portable spellings of the DuckDB habits: a list parameter `x = ANY(?)` (not list_contains); seconds
  between two timestamps `EXTRACT(EPOCH FROM b - a)` (not date_diff); an interval of n seconds
  `INTERVAL '1 second' * n` (not `INTERVAL n SECOND`); the x of the latest y
  `(array_agg(x ORDER BY y DESC))[1]` (not arg_max); `strpos(lower(a), lower(b)) > 0` (not contains); a
  regular expression `a ~ 'pattern'` (not regexp_matches); `generate_series(0, n - 1) AS t(k)` (not range);
  integer division `CAST(floor(a / 7.0) AS INTEGER)` (not //); and every subquery in FROM gets an alias.
- Values come back alike: numeric results (sum of BIGINT, avg) load as int when whole, else float.
- One statement per execute() when there are parameters (migrations may hold several).
- Transactions: only through Database.transaction()/audit()/bookkeeping(). On PostgreSQL a write runs at
  REPEATABLE READ, so a row changed by another process since this transaction began raises a clash
  (Conflict, "please try again") exactly as DuckDB's optimistic concurrency does: no lost update.
- A new migration is one SQL text for both engines. Only when that is impossible: the same name in
  `_PG_VARIANTS` with PostgreSQL's text (never a change to what an already shipped migration does on DuckDB).
- Tests: a store test that takes the `db` fixture in a module listed in tests/conftest.py STORE_TEST_MODULES
  runs on both engines (a throwaway PostgreSQL server, tests/pg_server.py).
"""

from __future__ import annotations

import functools
import os
import queue
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import duckdb
import psycopg
import psycopg.errors
from psycopg.adapt import Loader

URL_ENV_VAR = "BACKCARE_DATABASE_URL"

# Every driver exception the store may see; db.translate() turns each into a domain error.
DRIVER_ERRORS: tuple[type[BaseException], ...] = (duckdb.Error, psycopg.Error)


def database_url() -> str | None:
    """BACKCARE_DATABASE_URL when it names a PostgreSQL server, else None (the embedded file)."""
    url = os.environ.get(URL_ENV_VAR, "").strip()
    return url or None


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


# --- error classes, one question per difference ----------------------------------------------------


def is_constraint_error(error: BaseException) -> bool:
    return isinstance(error, (duckdb.ConstraintException, psycopg.errors.IntegrityError))


def is_clash(error: BaseException) -> bool:
    """Two transactions changed the same rows at once: the later one is refused and may be retried."""
    return isinstance(
        error,
        (
            duckdb.TransactionException,
            psycopg.errors.SerializationFailure,
            psycopg.errors.DeadlockDetected,
            psycopg.errors.LockNotAvailable,
        ),
    )


def is_unreachable(error: BaseException) -> bool:
    """The server went away (restarted, network cut): not the request's fault, worth a retry later."""
    return isinstance(error, psycopg.OperationalError) and not is_clash(error)


# --- parameter markers ------------------------------------------------------------------------------

_TOKENS = re.compile(
    r"""
    (?P<literal>'(?:[^']|'')*')         # a string literal, kept as it is
  | (?P<ident>"(?:[^"]|"")*")           # a quoted identifier
  | (?P<comment>--[^\n]*)               # a line comment
  | (?P<named>\$(?P<name>[A-Za-z_]\w*)) # $name
  | (?P<qmark>\?)                       # ?
  | (?P<percent>%)                      # a literal % (psycopg would read it as a marker)
    """,
    re.VERBOSE,
)


@functools.lru_cache(maxsize=4096)
def pg_sql(sql: str) -> str:
    """The store's SQL with psycopg's markers: `?` -> %s, `$name` -> %(name)s, `%` -> %%."""

    def swap(match: re.Match[str]) -> str:
        if match.group("named"):
            return f"%({match.group('name')})s"
        if match.group("qmark"):
            return "%s"
        if match.group("percent"):
            return "%%"
        return match.group(0)

    return _TOKENS.sub(swap, sql)


# --- PostgreSQL: a connection per cursor, from a small pool -----------------------------------------


class _NumericLoader(Loader):
    """numeric as DuckDB gives it: an int when whole (sum of BIGINT, a 64-bit secret), else a float (avg)."""

    def load(self, data: Any) -> Any:
        text = bytes(data).decode()
        if text in ("NaN", "Infinity", "-Infinity"):
            return float(text)
        return int(text) if "." not in text and "e" not in text.lower() else float(text)


class PgCursor:
    """A DuckDB-like cursor over its own PostgreSQL connection (autocommit: the store issues BEGIN and
    COMMIT itself, as on DuckDB). execute() returns the cursor, so `cur.execute(...).fetchall()` reads alike."""

    def __init__(self, pool: PgPool, connection: psycopg.Connection):
        self._pool = pool
        self._connection: psycopg.Connection | None = connection
        self._cursor = connection.cursor()

    def execute(self, sql: str, parameters: Any = None) -> PgCursor:
        try:
            if parameters is None:
                self._cursor.execute(sql)  # no markers: sent as written (may hold several)
            else:
                if isinstance(parameters, tuple):
                    parameters = list(parameters)
                self._cursor.execute(pg_sql(sql), parameters)
        except psycopg.OperationalError:
            if self._connection is not None and self._connection.broken:
                self._pool.drop_idle()  # the server restarted or the network cut: the others are dead too
            raise
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> PgCursor:
        self._cursor.executemany(pg_sql(sql), rows)
        return self

    def _changed(self) -> list[tuple[Any, ...]] | None:
        """DuckDB answers INSERT/UPDATE/DELETE without RETURNING with one row, the count: so does this."""
        if self._cursor.description is None and (self._cursor.statusmessage or "").startswith(
            ("INSERT", "UPDATE", "DELETE")
        ):
            return [(self._cursor.rowcount,)]
        return None

    def fetchone(self) -> tuple[Any, ...] | None:
        changed = self._changed()
        return changed[0] if changed else self._cursor.fetchone()

    def fetchall(self) -> list[tuple[Any, ...]]:
        changed = self._changed()
        return changed if changed else self._cursor.fetchall()

    def fetchmany(self, size: int = 1) -> list[tuple[Any, ...]]:
        return self._cursor.fetchmany(size)

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def df(self) -> Any:
        import pandas as pd

        names = [d[0] for d in self._cursor.description or ()]
        return pd.DataFrame.from_records(self._cursor.fetchall(), columns=names)

    def copy(self, statement: str) -> Any:
        """psycopg's COPY (the bulk load of migrate-to-postgres)."""
        return self._cursor.copy(statement)

    def cursor(self) -> PgCursor:
        return self._pool.cursor()

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            self._cursor.close()
            self._pool.give_back(connection)

    def __enter__(self) -> PgCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PgPool:
    """The process's connections to one PostgreSQL database; plays the part of DuckDB's one connection
    (`.cursor()`, `.execute()`, `.close()`). A cursor holds a connection of its own until closed, so two
    threads never share a transaction; idle connections are kept for the next cursor."""

    def __init__(self, url: str, *, keep: int = 8):
        self.url = url
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._keep = keep
        self._lock = threading.Lock()
        self._closed = False
        self.give_back(self._connect())  # fail now, at open, when the server cannot be reached

    def _connect(self) -> psycopg.Connection:
        # Client-side binding: values go into the statement as typed literals, so `$gym_id IS NULL` with a None
        # and `$now - opened_at` read as on DuckDB (server-side binding cannot type a bare NULL parameter).
        connection = psycopg.connect(
            self.url, autocommit=True, application_name="backcare", cursor_factory=psycopg.ClientCursor
        )
        connection.adapters.register_loader("numeric", _NumericLoader)
        # the store's clock is naive UTC: a column's DEFAULT current_timestamp must be UTC too, whatever the
        # server's own time zone
        connection.execute("SET TIME ZONE 'UTC'")
        # a write that waits this long for another process's row lock gives up as a clash ("please try again")
        connection.execute("SET lock_timeout = '10s'")
        return connection

    def cursor(self) -> PgCursor:
        if self._closed:
            raise psycopg.OperationalError("the connection pool is closed")
        while True:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                return PgCursor(self, self._connect())
            if _usable(connection) and connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                return PgCursor(self, connection)
            connection.close()  # broken or left inside a transaction: never handed out again

    def execute(self, sql: str, parameters: Any = None) -> PgCursor:
        return self.cursor().execute(sql, parameters)

    def give_back(self, connection: psycopg.Connection) -> None:
        with self._lock:
            keep = not self._closed and self._idle.qsize() < self._keep
        if keep and _usable(connection):
            if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                try:
                    connection.execute("ROLLBACK")
                except psycopg.Error:
                    connection.close()
                    return
            self._idle.put(connection)
        else:
            connection.close()

    def drop_idle(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.drop_idle()


def _usable(connection: psycopg.Connection) -> bool:
    return not connection.closed and not connection.broken


# --- the engines --------------------------------------------------------------------------------


class Engine(Protocol):
    name: str
    begin_write: str  # the statement that opens a write transaction

    def migration_sql(self, name: str, sql: str) -> str: ...

    def extra_migrations(self) -> tuple[tuple[str, str], ...]: ...

    def late_migrations(self) -> tuple[tuple[str, str], ...]: ...

    def lock_migrations(self, cur: Any) -> None: ...

    def unlock_migrations(self, cur: Any) -> None: ...

    def has_table(self, cur: Any, name: str) -> bool: ...

    def lock_people(self, cur: Any) -> None: ...


class DuckEngine:
    """The embedded default: one file, one process."""

    name = "duckdb"
    begin_write = "BEGIN TRANSACTION"

    def migration_sql(self, name: str, sql: str) -> str:
        return sql

    def extra_migrations(self) -> tuple[tuple[str, str], ...]:
        return ()

    def late_migrations(self) -> tuple[tuple[str, str], ...]:
        return ()

    def lock_migrations(self, cur: Any) -> None:
        pass  # one process has the file

    def unlock_migrations(self, cur: Any) -> None:
        pass

    def has_table(self, cur: Any, name: str) -> bool:
        return _has_table(cur, name)

    def lock_people(self, cur: Any) -> None:
        pass  # one process has the file, and it writes one transaction at a time


# PostgreSQL before the shipped migrations: the type name they use that PostgreSQL lacks.
_PG_COMPAT = (
    "0000_postgres_compat",
    "CREATE DOMAIN double AS double precision;",
)

# Shipped migrations whose DuckDB SQL PostgreSQL cannot run, and what runs there instead (same name, same
# tables). 0007: the 64-bit unsigned secret is NUMERIC(20, 0) (loads as int, see _NumericLoader).
_PG_VARIANTS = {
    "0007_pending_erasures": """
CREATE SEQUENCE pending_erasures_id_seq START 1;
CREATE TABLE pending_erasures (
    id          BIGINT PRIMARY KEY DEFAULT nextval('pending_erasures_id_seq'),
    erased_at   TIMESTAMP NOT NULL,
    erased_by   VARCHAR NOT NULL
);
CREATE TABLE privacy_key (
    id      INTEGER PRIMARY KEY,
    secret  NUMERIC(20, 0) NOT NULL CHECK (secret >= 0 AND secret < 18446744073709551616)
);
""",
}

# Shipped migrations that PostgreSQL runs with more after them (same name). 0014: the lookup of a client's
# other reports of the day for the rollups (store.rollups.add_report) joins their report_causes rows, which
# DuckDB finds by zone maps and PostgreSQL, without this index, by reading the whole table (4.6 M rows at
# 100 k clients) on every save.
_PG_ADDITIONS = {
    "0014_rollup_lookup_index": "\nCREATE INDEX report_causes_report ON report_causes (report_id);\n",
}

# PostgreSQL after the shipped migrations: the indexes its planner needs to read one client's rows without
# scanning the table (a chain: 2.9 M sessions, 66 k assignments, 77 k referrals). DuckDB keeps none of these
# (0002 dropped the sessions one: its zone maps do the job and an index slows its bulk inserts).
_PG_INDEXES = (
    "postgres_1_client_indexes",
    """
CREATE INDEX IF NOT EXISTS sessions_client_date ON sessions (client_id, date);
CREATE INDEX IF NOT EXISTS assignments_client ON assignments (client_id);
CREATE INDEX IF NOT EXISTS referrals_client ON referrals (client_id);
""",
)

_MIGRATION_LOCK = 7_246_130_017  # pg_advisory_lock key: one process migrates at a time


class PostgresEngine:
    """A PostgreSQL server: many processes, one database."""

    name = "postgresql"
    begin_write = "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ"

    def migration_sql(self, name: str, sql: str) -> str:
        return _PG_VARIANTS.get(name, sql) + _PG_ADDITIONS.get(name, "")

    def extra_migrations(self) -> tuple[tuple[str, str], ...]:
        return (_PG_COMPAT,)

    def late_migrations(self) -> tuple[tuple[str, str], ...]:
        return (_PG_INDEXES,)

    def lock_migrations(self, cur: Any) -> None:
        cur.execute(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")

    def unlock_migrations(self, cur: Any) -> None:
        cur.execute(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")

    def has_table(self, cur: Any, name: str) -> bool:
        return _has_table(cur, name)

    def lock_people(self, cur: Any) -> None:
        # The first statement of the transaction, so its snapshot is taken after the lock: a second `init` waits
        # here and then sees the first one's administrator (repeatable read would otherwise let both add one).
        cur.execute("LOCK TABLE gyms, users, clients IN SHARE ROW EXCLUSIVE MODE")


def _has_table(cur: Any, name: str) -> bool:
    row = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?",
        [name],
    ).fetchone()
    return bool(row and row[0])


DUCKDB = DuckEngine()
POSTGRES = PostgresEngine()
