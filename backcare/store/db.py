"""The database handle: one DuckDB connection per process, a cursor per operation, named migrations,
and the write transaction that carries its own audit row.

Nothing above this module sees a driver exception: driver errors become the domain errors of
backcare.errors, worded for the user, with the driver's text in the log.

Two engines (backcare.store.engine): the embedded DuckDB file (the default), or a PostgreSQL server when
BACKCARE_DATABASE_URL=postgresql://... is set (or open_database() is given such a URL). The same code runs
on both; what differs lives in engine.py.

Audit rows written by the repository functions (audit_log.action; outcome ok | denied):
  gym.create, user.create, client.create, client.consent, client.contact, client.view, client.history, client.search,
  client.list, client.status, client.load, session.log, session.list, report.save, report.view,
  assignment.create, assignment.status, assignment.list, referral.queue, referral.view, referral.status,
  handoff.view. Reads other than client.view, client.history, report.view and handoff.view are audited
  only when refused. `detail` is JSON and never holds health data.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from backcare.auth import Actor
from backcare.errors import BackCareError, Clash, Conflict, DatabaseLocked, StoreError
from backcare.store.engine import (
    DRIVER_ERRORS,
    DUCKDB,
    POSTGRES,
    Engine,
    PgPool,
    database_url,
    is_clash,
    is_constraint_error,
    is_postgres_url,
    is_unreachable,
)
from backcare.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "BACKCARE_DB"

_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name        VARCHAR PRIMARY KEY,
    applied_at  TIMESTAMP NOT NULL
)
"""


def utcnow() -> datetime:
    """The store's clock: naive UTC, to the microsecond. Functions take `now=` so tests can fix time."""
    return datetime.now(UTC).replace(tzinfo=None)


def default_db_path() -> Path:
    """BACKCARE_DB when set, else data/backcare.duckdb in the repository."""
    configured = os.environ.get(ENV_VAR)
    return Path(configured) if configured else REPO_ROOT / "data" / "backcare.duckdb"


def resolve_path(path: str | Path | None = None) -> Path:
    return Path(path) if path is not None else default_db_path()


def resolve_target(target: str | Path | None = None) -> str | Path:
    """What open_database() opens: a postgresql:// URL as given, else a file; when nothing is given,
    BACKCARE_DATABASE_URL when set, else the file of resolve_path()."""
    if is_postgres_url(target):
        return str(target)
    if target is None and database_url():
        return str(database_url())
    return resolve_path(target)


def redacted(url: str) -> str:
    """A database URL fit for a message or a log: the password replaced."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def translate(error: BaseException, doing: str = "the database operation") -> BackCareError:
    """A driver error as a domain error; the driver's message goes to the log only."""
    log.warning("database error during %s: %s", doing, error)
    if is_constraint_error(error):
        return Conflict(
            f"{doing[:1].upper()}{doing[1:]} was refused: a record with the same identity already "
            "exists or a required value is missing."
        )
    if is_clash(error):
        return Clash(
            f"{doing[:1].upper()}{doing[1:]} clashed with another change made at the same time: please try again."
        )
    if is_unreachable(error):
        return StoreError(
            f"{doing[:1].upper()}{doing[1:]} failed: the database server did not answer; nothing was changed. "
            "Try again in a moment; if this keeps happening, tell your administrator."
        )
    return StoreError(
        f"{doing[:1].upper()}{doing[1:]} failed in the database; nothing was changed. "
        "If this keeps happening, tell your administrator."
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=_json_default, sort_keys=True)


T = TypeVar("T")

# The read cache (issue 13): how long an entry may be served at most (the client's status and 28-day counts
# depend on the clock), and how many entries one database file keeps.
READ_CACHE_SECONDS = 60.0
READ_CACHE_ENTRIES = 4096
_MISSING = object()


class ReadCache:
    """Reads of one client kept between writes, for one DuckDB file in this process (DuckDB lets one process
    hold the file, so this process sees every write). Each committed write bumps a generation: the
    generation of each client it declares it touched, or the global one when it declares nothing (so a
    write path nobody annotated invalidates everything: slower, never stale). An entry is served while the
    global generation, its client's generation and the UTC day are what they were before its SQL ran, and
    for READ_CACHE_SECONDS at most. Bounded (least recently used out). Shared by every Database handle of
    the same file in the process (the pages' handle and a test's own), and off until enabled (the app
    enables it where it opens the database: ui.context); the generations are kept whether or not it
    is on. Values put in must be immutable (frozen row models, tuples)."""

    def __init__(self, *, entries: int = READ_CACHE_ENTRIES, seconds: float = READ_CACHE_SECONDS, clock=time.monotonic):
        self.enabled = False
        self.entries = entries
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._global = 0
        self._clients: dict[int, int] = {}
        self._values: OrderedDict[tuple, tuple[int, int, date, float, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._values)

    def generation(self, client_id: int) -> tuple[int, int]:
        """(global, client) generations: taken BEFORE the SQL of a read runs, so a write committed while it
        runs leaves the entry already out of date."""
        with self._lock:
            return self._global, self._clients.get(client_id, 0)

    def get(self, key: tuple, client_id: int) -> Any:
        with self._lock:
            entry = self._values.get(key)
            if entry is None:
                return _MISSING
            global_gen, client_gen, day, stamp, value = entry
            if (
                global_gen != self._global
                or client_gen != self._clients.get(client_id, 0)
                or day != utcnow().date()
                or self._clock() - stamp > self.seconds
            ):
                del self._values[key]
                return _MISSING
            self._values.move_to_end(key)
            return value

    def put(self, key: tuple, generation: tuple[int, int], value: Any) -> None:
        with self._lock:
            self._values[key] = (*generation, utcnow().date(), self._clock(), value)
            self._values.move_to_end(key)
            while len(self._values) > self.entries:
                self._values.popitem(last=False)

    def bump(self, client_ids: Iterable[int] | None = None) -> None:
        """After a commit: the clients written (None: anything may have changed)."""
        with self._lock:
            if client_ids is None:
                self._global += 1
                self._values.clear()
                self._clients.clear()  # the global generation already outdates every entry
                return
            for client_id in client_ids:
                self._clients[client_id] = self._clients.get(client_id, 0) + 1


_READ_CACHES: dict[str, ReadCache] = {}
_READ_CACHES_LOCK = threading.Lock()


def _read_cache_for(path: Path) -> ReadCache:
    key = str(Path(path).resolve())
    with _READ_CACHES_LOCK:
        cache = _READ_CACHES.get(key)
        if cache is None:
            cache = _READ_CACHES[key] = ReadCache()
        return cache


@dataclass
class Transaction:
    """One open write: its cursor, and the audit row it will commit with (entity_id and detail may be
    filled in while the work runs, e.g. with the id of a row just created). What it writes, for the read
    cache: touches(client_id) for each client whose data it changes, or touches_no_client_data() for a
    write that changes none (a draft, sign-in bookkeeping); one that declares neither outdates every
    cached read when it commits."""

    cursor: Any  # a duckdb cursor, or engine.PgCursor
    actor: Actor
    action: str
    entity: str | None = None
    entity_id: Any = None
    detail: dict | None = None
    now: datetime = field(default_factory=utcnow)
    touched: set[int] = field(default_factory=set)
    client_data: bool = True

    def touches(self, *client_ids: int) -> None:
        """This write changes these clients' data (their record, reports, sessions, referrals, plans...)."""
        self.touched.update(int(c) for c in client_ids)

    def touches_no_client_data(self) -> None:
        """This write changes nothing a client's cached reads show."""
        self.client_data = False


class Database:
    """One DuckDB connection per process (on PostgreSQL, a pool of connections playing its part). Every
    operation takes its own cursor (threads are safe); writes are serialised inside the process so its own
    transactions never conflict (on PostgreSQL, another process's may: that is a Conflict to retry)."""

    def __init__(self, connection: Any, path: Path | str, *, read_only: bool = False, engine: Engine = DUCKDB):
        self._connection = connection
        self.path = path  # the file, or the PostgreSQL URL (see `where` for messages)
        self.read_only = read_only
        self.engine = engine
        self._write_lock = threading.RLock()
        self._closed = False
        # DuckDB: the file's read cache (shared by every handle of the file in this process); PostgreSQL: none,
        # since other processes write too.
        self.read_cache: ReadCache | None = (
            None if engine is POSTGRES or isinstance(path, str) else _read_cache_for(Path(path))
        )
        self._written(None)  # a file opened anew (perhaps made again at the same path): nothing kept is trusted

    def __repr__(self) -> str:
        return f"Database({self.where!r}, read_only={self.read_only})"

    @property
    def where(self) -> str:
        """The file, or the URL without its password."""
        return redacted(self.path) if isinstance(self.path, str) else str(self.path)

    @property
    def is_postgres(self) -> bool:
        return self.engine is POSTGRES

    @property
    def file(self) -> Path:
        """The DuckDB file (the erasure's rebuild and the file's own checks need it); PostgreSQL has none."""
        if isinstance(self.path, str):
            raise StoreError(f"The database {self.where} is a server database, not a file.")
        return self.path

    # --- the file rebuild (store.erasure) needs these -------------------------------------------

    @property
    def connection(self) -> Any:
        """The process's one connection (cursors come from it)."""
        return self._connection

    def replace_connection(self, connection: Any) -> None:
        """Put a new connection in place of the current one (after the file was swapped); the Database
        keeps its identity, so pages holding it through st.cache_resource carry on."""
        self._connection = connection
        self._written(None)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the process's write lock: no write of this process starts until the block ends."""
        with self._write_lock:
            yield

    # --- the read cache (issue 13) ----------------------------------------------------------------

    def enable_read_cache(self) -> bool:
        """Serve reads of one client from the file's ReadCache between writes (see ReadCache); a no-op on
        PostgreSQL and read-only. Returns whether the cache is on."""
        if self.read_cache is None or self.read_only:
            return False
        self.read_cache.enabled = True
        return True

    def cached_read(self, key: tuple, client_id: int, read: Callable[[], T]) -> T:
        """`read()` (the SQL of one client's read, without its permission check), or its value kept from an
        earlier call when the cache is on and nothing this client's data depends on was written since.
        `key` names the read and its arguments; the value must be immutable."""
        cache = self.read_cache
        if cache is None or not cache.enabled:
            return read()
        key = (*key, client_id)
        value = cache.get(key, client_id)
        if value is not _MISSING:
            return value
        generation = cache.generation(client_id)
        value = read()
        cache.put(key, generation, value)
        return value

    def _written(self, client_ids: Iterable[int] | None) -> None:
        if self.read_cache is not None:
            self.read_cache.bump(client_ids)

    # --- reading -------------------------------------------------------------------------------

    def cursor(self) -> Any:
        """A raw cursor. Whatever it runs is unknown to the read cache, so taking one counts as a write to any
        client (the store's own reads and writes go through read() and transaction())."""
        cur = self._cursor()
        self._written(None)
        return cur

    def _cursor(self) -> Any:
        if self._closed:
            raise StoreError(f"The database {self.where} has been closed.")
        try:
            return self.connection.cursor()
        except DRIVER_ERRORS as error:
            raise translate(error, "opening a database cursor") from None

    @contextmanager
    def read(self, doing: str = "reading the database") -> Iterator[Any]:
        """A cursor for reads; driver errors become StoreError."""
        cur = self._cursor()
        try:
            yield cur
        except DRIVER_ERRORS as error:
            raise translate(error, doing) from None
        finally:
            cur.close()

    # --- writing -------------------------------------------------------------------------------

    @contextmanager
    def transaction(
        self,
        actor: Actor,
        action: str,
        entity: str | None = None,
        entity_id: Any = None,
        detail: dict | None = None,
        *,
        now: datetime | None = None,
    ) -> Iterator[Transaction]:
        """BEGIN ... COMMIT with the audit row (outcome 'ok') inserted just before COMMIT, so the
        detail and entity_id may be completed by the work. Any exception rolls everything back."""
        if self.read_only:
            raise StoreError(f"The database {self.where} is open read-only: nothing can be changed.")
        with self._write_lock:
            cur = self._cursor()
            txn = Transaction(
                cur, actor, str(getattr(action, "value", action)), entity, entity_id, detail, now or utcnow()
            )
            try:
                cur.execute(self.engine.begin_write)
                yield txn
                self._insert_audit(cur, txn.actor, txn.action, txn.entity, txn.entity_id, "ok", txn.detail, txn.now)
                cur.execute("COMMIT")
                # after the commit: a read that started before it and ran its SQL on the old rows is outdated
                if txn.touched:
                    self._written(txn.touched)
                elif txn.client_data:
                    self._written(None)
            except BaseException as error:
                try:
                    cur.execute("ROLLBACK")
                except DRIVER_ERRORS:
                    pass  # the transaction was already aborted by the failure
                if isinstance(error, DRIVER_ERRORS):
                    raise translate(error, f"saving ({txn.action})") from None
                raise
            finally:
                cur.close()

    @contextmanager
    def write(
        self,
        actor: Actor,
        action: str,
        entity: str | None = None,
        entity_id: Any = None,
        detail: dict | None = None,
        *,
        now: datetime | None = None,
    ) -> Iterator[Any]:
        """The transaction's cursor; see transaction()."""
        with self.transaction(actor, action, entity, entity_id, detail, now=now) as txn:
            yield txn.cursor

    def audit(
        self,
        actor: Actor,
        action: str,
        entity: str | None = None,
        entity_id: Any = None,
        *,
        outcome: str = "denied",
        detail: dict | None = None,
        now: datetime | None = None,
        work: Callable[[Any], None] | None = None,
        doing: str = "recording the audit entry",
    ) -> None:
        """Record a refused or failed attempt (or a view) in its own transaction; `work`, when given, runs
        in the same transaction first (e.g. a sign-in's failure counter). An audit row (and such a counter) is no
        client data: the read cache is left as it is."""
        if self.read_only:
            log.info("read-only database: audit %s %s %s not recorded", actor.username, action, outcome)
            return
        with self._write_lock:
            cur = self._cursor()
            try:
                cur.execute(self.engine.begin_write)
                if work is not None:
                    work(cur)
                self._insert_audit(
                    cur,
                    actor,
                    str(getattr(action, "value", action)),
                    entity,
                    entity_id,
                    outcome,
                    detail,
                    now or utcnow(),
                )
                cur.execute("COMMIT")
            except DRIVER_ERRORS as error:
                try:
                    cur.execute("ROLLBACK")
                except DRIVER_ERRORS:
                    pass
                raise translate(error, doing) from None
            finally:
                cur.close()

    def bookkeeping(self, work: Callable[[Any], Any], doing: str = "updating the database") -> Any:
        """One transaction without an audit row, for counters that belong to an action audited on its own
        (a sign-in's attempt count, a signed-in session's last activity, a triage draft); returns what `work`
        returns. Such counters are no client data: the read cache is left as it is."""
        if self.read_only:
            return None
        with self._write_lock:
            cur = self._cursor()
            try:
                cur.execute(self.engine.begin_write)
                result = work(cur)
                cur.execute("COMMIT")
                return result
            except BaseException as error:
                try:
                    cur.execute("ROLLBACK")
                except DRIVER_ERRORS:
                    pass
                if isinstance(error, DRIVER_ERRORS):
                    raise translate(error, doing) from None
                raise
            finally:
                cur.close()

    @staticmethod
    def _insert_audit(cur, actor: Actor, action: str, entity, entity_id, outcome: str, detail, now: datetime) -> None:
        cur.execute(
            "INSERT INTO audit_log (event_at, actor, role, action, entity, entity_id, outcome, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                now,
                actor.username,
                str(actor.role),
                action,
                entity,
                None if entity_id is None else str(entity_id),
                outcome,
                to_json(detail),
            ],
        )

    # --- lifecycle -----------------------------------------------------------------------------

    def applied_migrations(self) -> list[str]:
        with self.read("reading the schema version") as cur:
            return [
                name
                for (name,) in cur.execute("SELECT name FROM schema_migrations ORDER BY applied_at, name").fetchall()
            ]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._written(None)
            try:
                self.connection.close()
            except DRIVER_ERRORS as error:
                log.warning("closing %s: %s", self.where, error)

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise DatabaseLocked(str(path)) from None
        log.warning("opening %s: %s", path, error)
        raise StoreError(f"The database file {path} could not be opened ({_first_line(error)}).") from None
    except duckdb.Error as error:
        log.warning("opening %s: %s", path, error)
        raise StoreError(f"The database file {path} could not be opened ({_first_line(error)}).") from None


def migrations_for(engine: Engine) -> tuple[tuple[str, str], ...]:
    """The migrations this engine runs, in order: PostgreSQL's compatibility step first, then every shipped
    one (with PostgreSQL's variant where the DuckDB SQL cannot run there), then PostgreSQL's own indexes
    (see engine.py). Each runs once, by name, whatever its place in the list."""
    shipped = tuple((name, engine.migration_sql(name, sql)) for name, sql in MIGRATIONS)
    return engine.extra_migrations() + shipped + engine.late_migrations()


def apply_migrations(connection: Any, *, now: datetime | None = None, engine: Engine = DUCKDB) -> list[str]:
    """Apply each pending migration in its own transaction with its schema_migrations row; return names.
    On PostgreSQL one process migrates at a time (an advisory lock), the others find the work done."""
    cur = connection.cursor()
    applied_now: list[str] = []
    try:
        engine.lock_migrations(cur)
        try:
            cur.execute(_SCHEMA_MIGRATIONS)
            done = {name for (name,) in cur.execute("SELECT name FROM schema_migrations").fetchall()}
            for name, sql in migrations_for(engine):
                if name in done:
                    continue
                cur.execute("BEGIN TRANSACTION")
                try:
                    cur.execute(sql)
                    cur.execute(
                        "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", [name, now or utcnow()]
                    )
                    cur.execute("COMMIT")
                except DRIVER_ERRORS:
                    cur.execute("ROLLBACK")
                    raise
                applied_now.append(name)
        finally:
            engine.unlock_migrations(cur)
    except DRIVER_ERRORS as error:
        raise translate(error, "updating the database schema") from None
    finally:
        cur.close()
    return applied_now


def pending_migrations(connection: Any, engine: Engine = DUCKDB) -> list[str]:
    cur = connection.cursor()
    try:
        exists = engine.has_table(cur, "schema_migrations")
        done = set() if not exists else {n for (n,) in cur.execute("SELECT name FROM schema_migrations").fetchall()}
    finally:
        cur.close()
    return [name for name, _ in migrations_for(engine) if name not in done]


def _connect_postgres(url: str) -> PgPool:
    try:
        return PgPool(url)
    except DRIVER_ERRORS as error:
        log.warning("opening %s: %s", redacted(url), error)
        raise StoreError(
            f"The database server at {redacted(url)} could not be reached ({_first_line(error)})."
        ) from None


def open_database(path: str | Path | None = None, *, read_only: bool = False) -> Database:
    """Open (creating it if needed) and migrate the database: the file, or the PostgreSQL database of a
    postgresql:// URL (given, or BACKCARE_DATABASE_URL when no path is given). DatabaseLocked when another
    process has the file."""
    target = resolve_target(path)
    engine: Engine = POSTGRES if isinstance(target, str) else DUCKDB
    if isinstance(target, str):
        connection: Any = _connect_postgres(target)
        where = redacted(target)
    else:
        if not read_only:
            target.parent.mkdir(parents=True, exist_ok=True)
        connection = _connect(target, read_only)
        where = f"file {target}"
    try:
        if read_only:
            missing = pending_migrations(connection, engine)
            if missing:
                raise StoreError(
                    f"The database {where} is older than this version of BackCare "
                    f"(missing {', '.join(missing)}): open it once for writing to update it."
                )
        else:
            apply_migrations(connection, engine=engine)
        if not read_only:
            from backcare.store.privacy import ensure_privacy_key

            ensure_privacy_key(connection)
            from backcare.store.rollups import ensure_built

            ensure_built(connection)  # migration 0011: the trends' rollups counted from the existing rows, once
    except BaseException:
        connection.close()
        raise
    db = Database(connection, target, read_only=read_only, engine=engine)
    if not read_only and engine is DUCKDB:
        # a rebuild owed by an erasure that a killed process left unfinished is done now, before anyone reads
        # (PostgreSQL has no file to rebuild: its own VACUUM reclaims the erased rows' space)
        from backcare.store.erasure import finish_interrupted_erasures

        try:
            finish_interrupted_erasures(db)
        except BaseException:
            db.close()
            raise
    return db
