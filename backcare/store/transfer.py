"""Moving a chain from its DuckDB file to a PostgreSQL server (`python -m backcare migrate-to-postgres`).

The target is migrated to the same schema first, then every table of the file is copied in one PostgreSQL
transaction: DuckDB writes each table as CSV (in C, to a temporary file) and PostgreSQL reads it with COPY,
so rows never pass through Python one by one. The target's secondary indexes (those backing no constraint)
are dropped for the copy and built again after it, in the same transaction: one sort per index instead of
an index entry per row. Before COMMIT every table's rows are counted on both sides; any difference rolls
everything back. Sequences are set past the copied ids (and past ids the file's sequences had already
handed out, so an erased client's id is never reused). The deployment's privacy key travels with the data,
so the managers' figures stay as they were.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from backcare.auth import SYSTEM
from backcare.errors import Conflict, StoreError
from backcare.store.ahead import Ahead
from backcare.store.db import Database, open_database, redacted
from backcare.store.engine import DRIVER_ERRORS, is_postgres_url

if TYPE_CHECKING:
    from backcare.store.demo import DemoAccount

# Written by each side's own migrations, never copied.
NOT_COPIED = frozenset({"schema_migrations"})
# Present in a target just created (the secret open_database gives every new database, the trends' rollup
# state rows that migrations 0011 and 0013 write): replaced by the file's, so the copied rollups keep their keys.
REPLACED = frozenset({"privacy_key", "trend_rollup_state", "plan_rollup_state"})
_CHUNK = 1 << 20
SLICE_ROWS = 250_000  # rows of a slice at most
SLICE_BYTES = 32 << 20  # a slice's CSV, about: a table of wide rows (reports: 1.4 kB each) comes in more slices
FIRST_SLICE_ROWS = 10_000  # a table's first slice, which says how wide its rows are, and the fewest in a slice


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    source_rows: int
    target_rows: int


@dataclass(frozen=True, slots=True)
class Transfer:
    tables: tuple[TableCount, ...]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(t.source_rows for t in self.tables)


def _tables(cur) -> list[str]:
    return [
        name
        for (name,) in cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
    ]


def _columns(cur) -> dict[str, list[str]]:
    """Every table's columns in order, in one query (PostgreSQL's information_schema answers each query in
    about 10 ms: one per table was a quarter of a second)."""
    columns: dict[str, list[str]] = {}
    for table, name in cur.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "ORDER BY table_name, ordinal_position"
    ).fetchall():
        columns.setdefault(table, []).append(name)
    return columns


def _count(cur, table: str) -> int:
    return int(cur.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def _source_sequences(source: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The last id each of the file's sequences handed out (absent: never used)."""
    rows = source.execute("SELECT sequence_name, last_value FROM duckdb_sequences()").fetchall()
    return {name: int(value) for name, value in rows if value is not None}


def migrate_to_postgres(source_path: str | Path, target_url: str) -> Transfer:
    """Copy the DuckDB file at `source_path` into the PostgreSQL database at `target_url` (see the module
    docstring). Conflict when the target already holds data; nothing is changed then."""
    source_path = Path(source_path)
    if not is_postgres_url(target_url):
        raise StoreError(f"The target must be a postgresql:// URL, not {target_url!r}.")
    if not source_path.exists():
        raise StoreError(f"The database file {source_path} does not exist.")
    started = time.perf_counter()
    # the file must be at the current schema: opening it for writing once (any command) brings it there
    source_db = open_database(source_path, read_only=True)
    try:
        target = open_database(target_url)
        try:
            return _copy(source_db, target, started)
        finally:
            target.close()
    finally:
        source_db.close()


def _copy(source_db: Database, target: Database, started: float) -> Transfer:
    source = source_db.cursor()
    try:
        tables = [t for t in _tables(source) if t not in NOT_COPIED]
        with target.read("checking the target database") as cur:
            target_tables = set(_tables(cur))
            missing = [t for t in tables if t not in target_tables]
            if missing:
                raise StoreError(f"The target database lacks the tables {', '.join(missing)}.")
            holding = [t for t in tables if t not in REPLACED and _count(cur, t)]
        if holding:
            raise Conflict(
                f"The target database {target.where} already holds data (in {', '.join(holding)}): "
                "migrate-to-postgres copies into an empty database only. Nothing was changed."
            )
        sequences = _source_sequences(source)
        counts: list[TableCount] = []
        detail: dict = {"tables": {}}
        with (
            target.transaction(SYSTEM, "database.migrate", "database", None, detail) as txn,
            tempfile.TemporaryDirectory(prefix="backcare-migrate-") as staging,
        ):
            cur = txn.cursor
            plan = []
            source_columns, target_columns = _columns(source), _columns(cur)
            for table in tables:
                columns = [c for c in source_columns[table] if c in set(target_columns[table])]
                plan.append((table, ", ".join(f'"{c}"' for c in columns)))
            _empty_for_freeze(cur, [table for table, _ in plan], target.where)
            _bulk_load_settings(cur)
            rebuilt = _drop_secondary_indexes(cur)
            # DuckDB writes the next slice while PostgreSQL reads this one: the two engines work side by side
            slices = _Exporter(source_db, plan, Path(staging))
            try:
                for table, column_list, csv in slices:
                    if csv is None:  # the table's last slice is done
                        continue
                    with cur.copy(f'COPY "{table}" ({column_list}) FROM STDIN (FORMAT csv, FREEZE)') as copy:
                        with csv.open("rb") as f:
                            while chunk := f.read(_CHUNK):
                                copy.write(chunk)
                    csv.unlink()
            finally:
                slices.stop()
            for definition in rebuilt:
                cur.execute(definition)
            for table, _ in plan:
                counted = TableCount(table, _count(source, table), _count(cur, table))
                counts.append(counted)
                detail["tables"][table] = counted.target_rows
            wrong = [c for c in counts if c.source_rows != c.target_rows]
            if wrong:
                raise StoreError(
                    "The copy was rolled back: the row counts differ for "
                    + ", ".join(f"{c.table} ({c.source_rows} in the file, {c.target_rows} copied)" for c in wrong)
                )
            _set_sequences(cur, sequences)
            # the planner's statistics of the copied tables now, not when autovacuum gets round to them (a
            # client's history must be read by index from the first request on; pg_restore's advice too)
            cur.execute("ANALYZE")
    except DRIVER_ERRORS as error:
        raise StoreError(f"The copy into {target.where} failed and was rolled back ({error}).") from None
    finally:
        source.close()
    return Transfer(tuple(counts), time.perf_counter() - started)


def _empty_for_freeze(cur, tables: list[str], where: str) -> None:
    """Empty the target's tables in this transaction, so that COPY may load them FREEZE: rows written frozen and
    visible to all, so the count, the index builds and ANALYZE that follow do not rewrite every page to set
    its hint bits. (Fully logged, unlike UNLOGGED: the copy is as durable as any write.) The tables are
    locked first and checked again: a row written since the first check (an app already pointed at the
    target) is a Conflict, never truncated away; only the rows the target's own migrations wrote (REPLACED)
    go."""
    names = ", ".join(f'"{table}"' for table in tables)
    cur.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
    holding = [t for t in tables if t not in REPLACED and _count(cur, t)]
    if holding:
        raise Conflict(
            f"The target database {where} already holds data (in {', '.join(holding)}): "
            "migrate-to-postgres copies into an empty database only. Nothing was changed."
        )
    cur.execute(f"TRUNCATE {names}")


def _bulk_load_settings(cur) -> None:
    """For this transaction only: memory for the index builds to sort in (one sort per index, in memory
    rather than in temporary files), with the server's parallel workers."""
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")


def _drop_secondary_indexes(cur) -> list[str]:
    """Drop the target's indexes that back no constraint (primary keys and UNIQUE constraints stay, they check
    the rows as they come); returns their definitions, to be run again once the rows are in."""
    rows = cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
    ).fetchall()
    for name, _ in rows:
        cur.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


class _Exporter(Ahead[tuple[str, str, Path | None]]):
    """A thread of DuckDB writing each table as CSV slices (by rowid) into `staging`, a slice or two ahead of
    the COPY that reads them; yields (table, columns, file) in order. A table's first slice is small and the
    others about SLICE_BYTES (at most SLICE_ROWS rows): with slices of 250,000 rows the server waited 1.2 s for
    the first slice of reports (350 MB of CSV) while it had nothing else to read."""

    def _produce(self, source_db: Database, plan: list[tuple[str, str]], staging: Path) -> None:
        cur = source_db.cursor()
        try:
            for table, column_list in plan:
                (last,) = cur.execute(f'SELECT coalesce(max(rowid), -1) FROM "{table}"').fetchone()
                start, n, rows = 0, 0, min(FIRST_SLICE_ROWS, SLICE_ROWS)
                while start <= int(last):
                    csv = staging / f"{table}.{n}.csv"
                    cur.execute(
                        f'COPY (SELECT {column_list} FROM "{table}" WHERE rowid >= {start} '
                        f"AND rowid < {start + rows}) TO '{csv}' (FORMAT csv, HEADER false)"
                    )
                    size = csv.stat().st_size
                    if not self._put((table, column_list, csv)):
                        return
                    start, n = start + rows, n + 1
                    if size:  # the next slices about SLICE_BYTES each, by this slice's bytes per row
                        rows = max(min(FIRST_SLICE_ROWS, SLICE_ROWS), min(SLICE_ROWS, int(SLICE_BYTES * rows / size)))
                if not self._put((table, column_list, None)):
                    return
        finally:
            cur.close()


def _set_sequences(cur, used_in_file: dict[str, int]) -> None:
    """Every `<table>_id_seq` of the target past the largest id copied and past what the file's sequence
    had handed out."""
    for (sequence,) in cur.execute(
        "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()"
    ).fetchall():
        table = sequence.removesuffix("_id_seq")
        (largest,) = cur.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"').fetchone()
        last = max(int(largest), used_in_file.get(sequence, 0))
        if last > 0:
            cur.execute("SELECT setval(?, ?)", [sequence, last])


def describe(transfer: Transfer, source: str | Path, target_url: str) -> str:
    """The command's report: every table's rows on both sides."""
    width = max([len("table"), *(len(t.table) for t in transfer.tables)])
    lines = [
        f"Copied {source} into {redacted(target_url)}:",
        f"{'table':<{width}}  {'in the file':>12}  {'in PostgreSQL':>13}",
    ]
    lines += [f"{t.table:<{width}}  {t.source_rows:>12,}  {t.target_rows:>13,}" for t in transfer.tables]
    rate = transfer.rows / transfer.seconds if transfer.seconds else 0.0
    lines.append(f"{transfer.rows:,} rows in {transfer.seconds:.1f} s ({rate:,.0f} rows/s); every count matches.")
    return "\n".join(lines)


def ensure_demo_on_postgres(
    url: str, *, if_missing: bool, progress: Callable[[str, int, int | None], None] | None = None, **options: Any
) -> list[DemoAccount] | None:
    """`python -m backcare demo` on a PostgreSQL database, guarded exactly as on a file: the demo goes only
    into a NEW database (on a server: one holding no gyms, users or clients, as `createdb` leaves it). With
    `if_missing` (demo mode's start) a database that is a demo already is used as it is (None) and any other
    that holds people is refused; without it, any database that holds people is refused. The demo is built
    into a temporary DuckDB file (the generator loads its frames through DuckDB) and copied in by
    migrate-to-postgres: one PostgreSQL transaction, so the demo mark and the demo data arrive together or not
    at all, and a real deployment is never given demo data."""
    from backcare.store import deployment
    from backcare.store.demo import build_demo

    with open_database(url) as db:
        where = db.where
        demo_already = deployment.is_demo(db)
        taken = demo_already or deployment.holds_people(db)
    if if_missing and demo_already:
        return None
    if if_missing and taken:
        raise Conflict(
            f"The database {where} is not a demo database, so demo mode will not use it: start without demo "
            "mode (BACKCARE_DEMO=0), or point BACKCARE_DATABASE_URL at a new, empty database for a demo."
        )
    if taken:
        raise Conflict(
            f"The database {where} already holds gyms, users or clients: the demo needs a new, empty database "
            "(createdb one and give its URL)."
        )
    with tempfile.TemporaryDirectory(prefix="backcare-demo-") as building:
        path = Path(building) / "demo.duckdb"
        summary = deployment.create_database_file(
            path,
            lambda db: build_demo(db, progress=progress, **options),
        )
        if progress:
            progress(f"copying the demo into {where}", 0, None)
        migrate_to_postgres(path, url)  # Conflict when someone filled the database meanwhile: nothing copied
    return list(summary.accounts)
