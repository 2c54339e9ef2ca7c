"""Erasure of a client: every row about them goes in one transaction, then the file is rebuilt.

Deleting rows is not enough for privacy: DuckDB marks the old blocks free but leaves their bytes in
the file until something overwrites them. So after the delete the store copies the live data into a
new file (ATTACH + COPY FROM DATABASE) and swaps it in place of the old one:

1. the process's write lock is held throughout, so nothing in this process writes meanwhile;
2. CHECKPOINT, copy every table, sequence and index into `<file>.compact-<token>`, mark the copy with
   a token (a comment on schema_migrations), DETACH it;
3. close the process's one connection and make sure it was the last one: DuckDB keeps one instance
   per file inside a process, and a second connection (a test's own handle, say) would keep the old
   file open and receive writes that the swapped file never sees. If one is still there after a few
   seconds, the original file stays and the rebuild is refused with one sentence;
4. rename the copy over the original (atomic on one file system), reconnect, check the token to be
   sure the connection sees the new file, clear the token. The Database object keeps its identity
   (pages hold it through st.cache_resource) with the new connection inside.

The erasure's transaction also writes a row to `pending_erasures`: the file owes a rebuild. The copy made
in step 2 has that table emptied, so the row disappears exactly when the rebuilt file is swapped in. A
process killed at any point therefore leaves either the old file with its row (the next start, in
open_database, removes any half-made `*.compact-<hex>` copy and rebuilds at once; if it cannot, admins see
the debt on the Admin page and `python -m backcare compact` pays it) or the rebuilt file without it. A kill
before the deletion commits rolls the erasure back entirely.

A read running in another thread during steps 3-4 (a fraction of a second) fails with the store's
"please try again" sentence; it is never served stale data. Another *process* cannot hold the file:
DuckDB allows one writer per file. CHECKPOINT is refused while another thread's read runs, so it is
retried a few times with short pauses. If anything fails before the rename (CHECKPOINT still refused,
close() refused because a read is running, another connection to the file), the original file is kept,
the copy is removed, `db` is left with a working connection (the old one, or a new one to whichever file
is current) and CompactionPending (a StoreError) says the rebuild is still to do: the erasure's delete has
already committed, and compact_database() run again (Admin page button, `python -m backcare compact`)
finishes it. Reads are not locked out during the swap (no readers/writer lock), so a busy app may need
the rebuild retried. The Database gives this module what the swap needs: exclusive() (its write lock) and
replace_connection().

The audit log keeps that an erasure happened, when and by whom: earlier audit rows that point at the
client (or its reports, sessions, referrals and plans) keep their action, actor and time but lose the
pointer and the detail.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel, ConfigDict

from backcare.auth import Action, Actor
from backcare.errors import BackCareError, InvalidInput, StoreError
from backcare.store import plan_rollups, rollups
from backcare.store._base import client_gym, guard, rows_as_dicts, scope_gym, the_row
from backcare.store.db import Database, utcnow
from backcare.store.engine import DRIVER_ERRORS
from backcare.store.privacy import has_table

log = logging.getLogger(__name__)

SWAP_WAIT_ATTEMPTS = 30  # x 0.1 s: how long the swap waits for another connection to the file to go
CHECKPOINT_ATTEMPTS = 8  # CHECKPOINT is refused while another thread's read runs; retried with pauses
CHECKPOINT_PAUSE = 0.05  # seconds, growing with each attempt (about 1.8 s in all)
RECONNECT_ATTEMPTS = 20  # x 0.1 s
CLOSE_ATTEMPTS = 10  # close() is refused while another thread's query runs; retried every CLOSE_PAUSE s
CLOSE_PAUSE = 0.02
COMPACT_HINT = (
    "Run the rebuild again with 'Rebuild the database file' on the Admin page or `python -m backcare compact`."
)
_COPY_NAME = re.compile(r"\.compact-[0-9a-f]{12}(\.wal)?")  # after the database file's own name


def _step(name: str) -> None:
    """Marks the points of an erasure a test may stop the process at (tests/security/test_erasure_interrupted.py)."""


class CompactionPending(StoreError):
    """The database file could not be rebuilt now; nothing was lost and the rebuild can be run again."""

    def __init__(self, reason: str, message: str | None = None, receipt: ErasureReceipt | None = None):
        self.reason = reason
        self.receipt = receipt
        super().__init__(message or f"The database file was not rebuilt: {reason}. Nothing was lost. {COMPACT_HINT}")


# Child tables first; each query deletes the rows of one client ($id).
_DELETES: tuple[tuple[str, str], ...] = (
    (
        "report_findings",
        "DELETE FROM report_findings WHERE report_id IN (SELECT id FROM reports WHERE client_id = $id)",
    ),
    ("report_causes", "DELETE FROM report_causes WHERE report_id IN (SELECT id FROM reports WHERE client_id = $id)"),
    (
        "referral_events",
        "DELETE FROM referral_events WHERE referral_id IN (SELECT id FROM referrals WHERE client_id = $id)",
    ),
    ("referrals", "DELETE FROM referrals WHERE client_id = $id"),
    ("plan_feedback", "DELETE FROM plan_feedback WHERE client_id = $id"),
    ("assignments", "DELETE FROM assignments WHERE client_id = $id"),
    ("report_submissions", "DELETE FROM report_submissions WHERE client_id = $id"),
    ("triage_drafts", "DELETE FROM triage_drafts WHERE client_id = $id"),
    ("reports", "DELETE FROM reports WHERE client_id = $id"),
    ("sessions", "DELETE FROM sessions WHERE client_id = $id"),
    ("clients", "DELETE FROM clients WHERE id = $id"),
)

# Audit rows about the client: by the entity they point at, or by a client_id in their detail, or by
# the client's name or reference appearing anywhere in the detail.
_SCRUB_AUDIT = """
UPDATE audit_log SET entity_id = NULL, detail = NULL
WHERE (entity = 'clients' AND entity_id = $id_text)
   OR (entity = 'reports' AND entity_id IN (SELECT CAST(id AS VARCHAR) FROM reports WHERE client_id = $id))
   OR (entity = 'sessions' AND entity_id IN (SELECT CAST(id AS VARCHAR) FROM sessions WHERE client_id = $id))
   OR (entity = 'referrals' AND entity_id IN (SELECT CAST(id AS VARCHAR) FROM referrals WHERE client_id = $id))
   OR (entity = 'assignments' AND entity_id IN (SELECT CAST(id AS VARCHAR) FROM assignments WHERE client_id = $id))
   OR coalesce(detail, '') ~ ('"client_id": ?"?' || $id_text || '"?[,}]')
   OR strpos(lower(coalesce(detail, '')), lower($name)) > 0
   OR strpos(lower(coalesce(detail, '')), lower($external_id)) > 0
"""


class ErasureCandidate(BaseModel):
    """What an administrator sees before erasing: who, where, and how much will go."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    external_id: str
    name: str
    gym_id: int
    gym_name: str
    sessions: int
    reports: int
    referrals: int
    assignments: int


class PendingRebuild(BaseModel):
    """An erasure whose rebuild of the file is still owed: the file may hold fragments of the erased data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    erased_at: datetime
    erased_by: str


class ErasureReceipt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    external_id: str  # shown once, to the administrator who erased; not stored anywhere
    erased_at: datetime
    erased_by: str
    rows_deleted: dict[str, int]
    audit_rows_scrubbed: int
    compacted: bool
    file_bytes_before: int | None = None
    file_bytes_after: int | None = None


_CANDIDATE_SELECT = """
SELECT c.id, c.external_id, c.name, c.gym_id, g.name AS gym_name,
       (SELECT count(*) FROM sessions AS s WHERE s.client_id = c.id) AS sessions,
       (SELECT count(*) FROM reports AS r WHERE r.client_id = c.id) AS reports,
       (SELECT count(*) FROM referrals AS f WHERE f.client_id = c.id) AS referrals,
       (SELECT count(*) FROM assignments AS a WHERE a.client_id = c.id) AS assignments
FROM clients AS c JOIN gyms AS g ON g.id = c.gym_id
"""


def find_clients_to_erase(db: Database, *, actor: Actor, query: str, limit: int = 20) -> list[ErasureCandidate]:
    """Clients whose name or reference contains `query`, with how many records each has. The search is
    audited without the query (it would be a name)."""
    gym_id = scope_gym(actor, None)
    guard(db, actor, Action.CLIENT_ERASE, gym_id, attempt="client.erase_search", entity="clients")
    query = (query or "").strip().lower()
    if not query:
        return []
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with db.read("searching clients") as cur:
        rows = rows_as_dicts(
            cur.execute(
                _CANDIDATE_SELECT
                + " WHERE (lower(c.name) LIKE $p ESCAPE '\\' OR lower(c.external_id) LIKE $p ESCAPE '\\')"
                " AND ($gym_id IS NULL OR c.gym_id = $gym_id) ORDER BY c.name, c.id LIMIT $limit",
                {"p": pattern, "gym_id": gym_id, "limit": max(1, min(int(limit), 200))},
            )
        )
    db.audit(actor, "client.erase_search", "clients", None, outcome="ok", detail={"results": len(rows)})
    return [ErasureCandidate(**r) for r in rows]


def erase_client(
    db: Database, *, actor: Actor, client_id: int, compact: bool = True, now: datetime | None = None
) -> ErasureReceipt:
    """Delete the client and everything about them in one transaction (with its audit row), scrub the
    audit rows that point at them, then rebuild the file so their data is gone from its bytes. When the
    rebuild cannot be done now, the deletion stays committed and CompactionPending (with .receipt) says so:
    compact_database() run later finishes the job."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_ERASE, gym_id, attempt="client.erase", entity="clients", entity_id=client_id)
    now = now or utcnow()
    deleted: dict[str, int] = {}
    detail: dict[str, Any] = {"rows_deleted": deleted}
    with db.transaction(actor, "client.erase", "clients", None, detail, now=now) as txn:
        cur = txn.cursor
        external_id, name = the_row(cur.execute("SELECT external_id, name FROM clients WHERE id = ?", [client_id]))
        # a very short name would match unrelated text: then the pointers alone find the rows
        name_to_match = name.strip() if len(name.strip()) >= 4 else f"\x00{uuid.uuid4().hex}"
        (scrubbed,) = the_row(
            cur.execute(
                _SCRUB_AUDIT,
                {"id": client_id, "id_text": str(client_id), "name": name_to_match, "external_id": external_id},
            )
        )
        touched = rollups.client_days(cur, client_id)  # the trends' daily rollups that count the client
        plans_touched = plan_rollups.client_days(cur, client_id)
        for table, sql in _DELETES:
            (count,) = the_row(cur.execute(sql, {"id": client_id}))
            deleted[table] = int(count)
        rollups.forget_client(cur, touched)  # ... recounted without them
        plan_rollups.forget_client(cur, plans_touched)
        detail["audit_rows_scrubbed"] = int(scrubbed)
        _step("deleting")
        # the debt of a rebuild commits with the deletion (gone from the file only when it is rebuilt)
        cur.execute("INSERT INTO pending_erasures (erased_at, erased_by) VALUES (?, ?)", [now, actor.username])
    _step("deleted")
    receipt = ErasureReceipt(
        external_id=external_id,
        erased_at=now,
        erased_by=actor.username,
        rows_deleted=deleted,
        audit_rows_scrubbed=int(scrubbed),
        compacted=False,
    )
    if not compact:
        return receipt
    try:
        before, after = compact_database(db)
    except CompactionPending as pending:
        raise CompactionPending(
            pending.reason,
            receipt=receipt,
            message=f"Client {external_id} was erased: their records are deleted and the erasure itself is saved. "
            f"The database file could not be rebuilt yet ({pending.reason}), so it may still hold "
            f"fragments of their data. {COMPACT_HINT}",
        ) from None
    return receipt.model_copy(update={"compacted": True, "file_bytes_before": before, "file_bytes_after": after})


# --- compaction ------------------------------------------------------------------------------


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class _Copy:
    path: Path
    token: str


def _checkpoint(cur: duckdb.DuckDBPyConnection) -> None:
    """CHECKPOINT, retried a few times: DuckDB refuses it (TransactionException) while a read of another
    thread is running, and reads are short."""
    for attempt in range(CHECKPOINT_ATTEMPTS):
        try:
            cur.execute("CHECKPOINT")
            return
        except duckdb.Error as error:
            if attempt == CHECKPOINT_ATTEMPTS - 1:
                log.warning("CHECKPOINT refused %d times: %s", CHECKPOINT_ATTEMPTS, error)
                raise CompactionPending("other sessions kept reading the database") from None
            time.sleep(CHECKPOINT_PAUSE * (attempt + 1))


def _cursor_or_pending(db: Database):
    """A cursor for the rebuild; a database that cannot be read leaves the rebuild pending, not failed."""
    try:
        return db.cursor()
    except BackCareError:
        raise CompactionPending("the database could not be read") from None


_IN_PROGRESS: set[Path] = set()  # copies this process is making: not leftovers, even if another handle opens


def _copy_live_data(db: Database) -> _Copy:
    copy = _Copy(db.file.with_name(f"{db.file.name}.compact-{uuid.uuid4().hex[:12]}"), uuid.uuid4().hex)
    _IN_PROGRESS.add(copy.path)
    cur = _cursor_or_pending(db)
    try:
        _checkpoint(cur)
        (source,) = cur.execute("SELECT current_database()").fetchone()
        cur.execute(f"ATTACH {_sql_string(str(copy.path))} AS backcare_compact")
        try:
            cur.execute(f'COPY FROM DATABASE "{source}" TO backcare_compact')
            _step("copying")
            # the rebuilt file owes nothing: once it is swapped in, every erasure so far is complete
            cur.execute("DELETE FROM backcare_compact.pending_erasures")
            cur.execute(f"COMMENT ON TABLE backcare_compact.schema_migrations IS {_sql_string(copy.token)}")
        finally:
            cur.execute("DETACH backcare_compact")
        _step("copied")
    except (duckdb.Error, BackCareError) as error:
        _remove(copy.path)
        _IN_PROGRESS.discard(copy.path)
        if isinstance(error, CompactionPending):
            raise
        log.warning("copying the live data for the rebuild: %s", error)
        raise CompactionPending("copying the live data failed") from None
    finally:
        try:
            cur.close()
        except duckdb.Error:
            pass
    return copy


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}.wal")):
        try:
            leftover.unlink()
        except FileNotFoundError:
            pass


def _token_of(connection: duckdb.DuckDBPyConnection) -> str | None:
    row = connection.execute(
        "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'schema_migrations'"
    ).fetchone()
    return None if row is None else row[0]


def _connect_alone(path: Path, marker: str, attempts: int | None = None) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """Connect to the (still original) file and tell whether the connection closed before the swap was
    the last one: DuckDB shares one instance per file inside a process, and the marker database attached
    to the old connection is visible from any connection of the same instance. A cursor finishing in
    another thread releases it within moments; another connection of this process never does."""
    attempts = attempts or SWAP_WAIT_ATTEMPTS
    for attempt in range(attempts):
        connection = duckdb.connect(str(path))
        (shared,) = the_row(
            connection.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [marker])
        )
        if not shared:
            return connection, True
        if attempt == attempts - 1:
            return connection, False
        connection.close()
        time.sleep(0.1)
    raise AssertionError("unreachable")


def _reconnect(path: Path, token: str) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(path))
    if _token_of(connection) != token:
        connection.close()
        raise StoreError(
            f"The database file {path} was rebuilt but this process still sees the old copy: restart the BackCare app."
        )
    connection.execute("COMMENT ON TABLE schema_migrations IS NULL")
    return connection


def _detach_quietly(connection: duckdb.DuckDBPyConnection, marker: str) -> None:
    try:
        connection.execute(f"DETACH DATABASE IF EXISTS {marker}")
    except duckdb.Error:
        pass


def _ensure_connection(db: Database) -> None:
    """Leave `db` with a working connection to whichever file is current at db.file: the one it holds when
    that still answers, else a new one (retried briefly: a reader finishing elsewhere may hold it)."""
    try:
        db.connection.execute("SELECT 1").fetchall()
        return
    except Exception:  # noqa: BLE001  (a closed or half-closed connection raises several kinds)
        pass
    for attempt in range(RECONNECT_ATTEMPTS):
        try:
            connection = duckdb.connect(str(db.file))
            connection.execute("SELECT 1").fetchall()
        except duckdb.Error as error:
            if attempt == RECONNECT_ATTEMPTS - 1:
                log.error("reconnecting to %s after a rebuild: %s", db.file, error)
                raise StoreError(
                    f"The database file {db.file} could not be reopened after a rebuild: restart the BackCare app."
                ) from None
            time.sleep(0.1)
        else:
            db.replace_connection(connection)
            return


def _swap(db: Database, copy: _Copy) -> None:
    """Steps 3-4 of the module docstring. Raises CompactionPending (original file kept) when it cannot."""
    marker = f"backcare_swap_{copy.token[:12]}"
    try:
        db.connection.execute(f"ATTACH ':memory:' AS {marker}")
    except duckdb.Error as error:
        log.warning("marking the connection before the swap: %s", error)
        raise CompactionPending("the database connection was busy") from None
    for attempt in range(CLOSE_ATTEMPTS):
        try:
            db.connection.close()
            break
        except duckdb.Error as error:  # e.g. ResourceInUseException: a read of another thread is running
            if attempt == CLOSE_ATTEMPTS - 1:
                log.warning("closing the connection for the swap: %s", error)
                _detach_quietly(db.connection, marker)
                raise CompactionPending("other sessions were reading the database") from None
            time.sleep(CLOSE_PAUSE)
    try:
        probe, alone = _connect_alone(db.file, marker)
    except duckdb.Error as error:
        log.warning("reopening %s for the swap: %s", db.file, error)
        raise CompactionPending("the database file could not be reopened") from None
    if not alone or Path(f"{db.file}.wal").exists():
        _detach_quietly(probe, marker)
        db.replace_connection(probe)  # the original file, unchanged: the erasure is saved, the rebuild is not
        raise CompactionPending("the file is also open elsewhere in this process; restart the app first")
    try:
        probe.close()
    except duckdb.Error as error:
        log.warning("closing the probe connection: %s", error)
        db.replace_connection(probe)
        _detach_quietly(probe, marker)
        raise CompactionPending("other sessions were reading the database") from None
    _step("closed")
    try:
        os.replace(copy.path, db.file)
    except OSError as error:
        log.warning("swapping in the rebuilt file: %s", error)
        raise CompactionPending(f"the rebuilt file could not replace the old one ({error.strerror})") from None
    _step("swapped")
    db.replace_connection(_reconnect(db.file, copy.token))


def compact_database(db: Database) -> tuple[int, int]:
    """Rebuild the file from its live data and swap it in (see the module docstring). Returns the file
    size in bytes before and after. CompactionPending when it could not be done now: the original file and
    its data are kept, the temporary copy is removed, and `db` keeps a working connection."""
    if db.read_only:
        raise StoreError(f"The database {db.where} is open read-only: it cannot be rebuilt.")
    if db.is_postgres:
        return _vacuum_full(db)
    if not db.file.exists():
        raise InvalidInput("path", f"{db.file} is not a database file on disk")
    with db.exclusive():  # no write of this process may land in the old file meanwhile
        copy: _Copy | None = None
        try:
            cur = _cursor_or_pending(db)
            try:
                _checkpoint(cur)
            finally:
                cur.close()
            before = db.file.stat().st_size
            copy = _copy_live_data(db)
            _swap(db, copy)
            return before, db.file.stat().st_size
        finally:
            if copy is not None:
                _remove(copy.path)  # gone already after a successful swap
                _IN_PROGRESS.discard(copy.path)
            _ensure_connection(db)


def _vacuum_full(db: Database) -> tuple[int, int]:
    """PostgreSQL's rebuild: VACUUM FULL writes each client table anew, without the deleted rows' bytes, then
    the debt is cleared. Returns the database's size in bytes before and after."""
    cur = _cursor_or_pending(db)
    try:
        (before,) = the_row(cur.execute("SELECT pg_database_size(current_database())"))
        for table in (*(t for t, _ in _DELETES), "audit_log"):
            cur.execute(f"VACUUM FULL {table}")  # outside a transaction, as VACUUM must be
        cur.execute("DELETE FROM pending_erasures")
        (after,) = the_row(cur.execute("SELECT pg_database_size(current_database())"))
    except DRIVER_ERRORS as error:
        log.warning("VACUUM FULL after an erasure: %s", error)
        raise CompactionPending("the database server refused to rewrite the tables now") from None
    finally:
        cur.close()
    return int(before), int(after)


def leftover_copies(path: Path) -> list[Path]:
    """Rebuild copies (and their journals) beside the database file, left by a process that died making one."""
    if not path.parent.is_dir():
        return []
    prefix = path.name
    return sorted(
        p
        for p in path.parent.iterdir()
        if p.name.startswith(prefix)
        and _COPY_NAME.fullmatch(p.name[len(prefix) :])
        and p.with_name(p.name.removesuffix(".wal")) not in _IN_PROGRESS
    )


def pending_count(db: Database) -> int:
    with db.read("reading the rebuilds still owed") as cur:
        if not has_table(cur, "pending_erasures"):  # a schema from before migration 0007
            return 0
        return int(the_row(cur.execute("SELECT count(*) FROM pending_erasures"))[0])


def finish_interrupted_erasures(db: Database) -> None:
    """At start (open_database, for writing): remove half-made copies of the file (whoever made them is gone:
    this process holds the file), then pay any rebuild an erasure still owes. When the rebuild cannot be
    done now the debt stays recorded: pending_rebuilds() shows it to admins."""
    for leftover in leftover_copies(db.file):
        log.warning("removing %s, left by an interrupted rebuild", leftover)
        leftover.unlink(missing_ok=True)
    if db.read_only or not pending_count(db):
        return
    try:
        compact_database(db)
    except CompactionPending as pending:
        log.warning("the rebuild an erasure owes could not be done at start: %s", pending.reason)


def pending_rebuilds(db: Database, *, actor: Actor) -> list[PendingRebuild]:
    """Erasures whose rebuild of the file is still owed, oldest first (what the Admin page warns about)."""
    guard(db, actor, Action.CLIENT_ERASE, None, attempt="client.erase_pending", entity="clients")
    with db.read("reading the rebuilds still owed") as cur:
        rows = rows_as_dicts(cur.execute("SELECT erased_at, erased_by FROM pending_erasures ORDER BY erased_at, id"))
    return [PendingRebuild(**r) for r in rows]
