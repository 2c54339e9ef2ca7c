"""Whole-database export: every table as Parquet and CSV, written by DuckDB's COPY from one snapshot.

Password hashes stay in the database: the export writes the users table without them.

On PostgreSQL the output is the same files with the same columns and types: inside the export's one
REPEATABLE READ transaction (one snapshot) the server streams each table as CSV (COPY ... TO STDOUT, rows
in id order, as the file keeps them), and an in-memory DuckDB reads it into a table of the DuckDB schema's
column types and writes the Parquet and CSV exactly as the file's export does (`_PostgresTables`).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from backcare.auth import Action, Actor
from backcare.errors import BackCareError, InvalidInput, StoreError
from backcare.store._base import guard, the_row

log = logging.getLogger(__name__)

# table name, tables done, tables in total
ExportProgress = Callable[[str, int, int], None]

LEFT_OUT_COLUMNS: dict[str, frozenset[str]] = {"users": frozenset({"password_hash"})}


@dataclass(frozen=True, slots=True)
class ExportedTable:
    table: str
    rows: int
    parquet: Path
    csv: Path


def list_tables(cur) -> list[str]:
    rows = cur.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in rows]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _exported_columns(cur, table: str) -> list[str]:
    left_out = LEFT_OUT_COLUMNS.get(table, frozenset())
    return [
        name
        for (name,) in cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        if name not in left_out
    ]


def _select_for_export(cur, table: str) -> str:
    if not LEFT_OUT_COLUMNS.get(table):
        return f"SELECT * FROM {_quote(table)}"
    return f"SELECT {', '.join(_quote(n) for n in _exported_columns(cur, table))} FROM {_quote(table)}"


class _PostgresTables:
    """The PostgreSQL side of the export: an in-memory DuckDB at the current schema (the shipped migrations)
    gives each table's columns and types; the server's rows arrive as CSV and leave as DuckDB writes them."""

    def __init__(self) -> None:
        from backcare.store.db import apply_migrations

        self.scratch = duckdb.connect()
        apply_migrations(self.scratch)

    def write(self, cur, table: str, parquet: Path, csv: Path) -> None:
        names = _exported_columns(self.scratch, table)
        if not names:
            raise StoreError(f"Nothing was exported: the table {table} is not part of this version's schema.")
        columns = ", ".join(_quote(n) for n in names)
        order = " ORDER BY id" if "id" in names else ""  # a row updated on the server moves in its heap
        raw = csv.with_name(f".{table}.server.csv")
        with (
            raw.open("wb") as out,
            cur.copy(f"COPY (SELECT {columns} FROM {_quote(table)}{order}) TO STDOUT (FORMAT csv)") as copy,
        ):
            for chunk in copy:
                out.write(chunk)
        try:
            self.scratch.execute(
                f"CREATE OR REPLACE TEMP TABLE export_rows AS SELECT {columns} FROM {_quote(table)} LIMIT 0"
            )
            # PostgreSQL's CSV: NULL is an empty field, an empty string is "" (kept as one); an empty table
            # is an empty file, which DuckDB's reader cannot sniff
            if raw.stat().st_size:
                self.scratch.execute(
                    f"COPY export_rows FROM {_sql_string(str(raw))} "
                    "(FORMAT csv, HEADER false, DELIMITER ',', QUOTE '\"', ESCAPE '\"', ALLOW_QUOTED_NULLS false)"
                )
            self.scratch.execute(f"COPY export_rows TO {_sql_string(str(parquet))} (FORMAT parquet)")
            self.scratch.execute(f"COPY export_rows TO {_sql_string(str(csv))} (FORMAT csv, HEADER)")
        finally:
            raw.unlink(missing_ok=True)

    def close(self) -> None:
        self.scratch.close()


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _target_problem(path: Path) -> str | None:
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return f"{path} exists and is not a regular file"
    return None


def _export_in_one_transaction(
    db, actor: Actor, staging: Path, directory: Path, detail: dict, progress: ExportProgress | None, moved: list[Path]
) -> list[ExportedTable]:
    """COPY every table into `staging`, then move the files into `directory`, all before the transaction
    (one snapshot, with the audit row 'ok') commits. Each file moved into place is listed in `moved`."""
    exported: list[ExportedTable] = []
    server = _PostgresTables() if db.is_postgres else None
    try:
        with db.write(actor, Action.EXPORT.value, "database", None, detail) as cur:
            _write_tables(cur, server, staging, directory, detail, progress, exported, moved)
    finally:
        if server is not None:
            server.close()
    return exported


def _write_tables(
    cur,
    server: _PostgresTables | None,
    staging: Path,
    directory: Path,
    detail: dict,
    progress: ExportProgress | None,
    exported: list[ExportedTable],
    moved: list[Path],
) -> None:
    tables = list_tables(cur)
    problems = [
        p
        for t in tables
        for p in (_target_problem(directory / f"{t}.parquet"), _target_problem(directory / f"{t}.csv"))
        if p
    ]
    if problems:
        raise StoreError(f"Nothing was exported: {problems[0]}.")
    for done, table in enumerate(tables):
        if progress:
            progress(table, done, len(tables))
        try:
            if server is not None:
                server.write(cur, table, staging / f"{table}.parquet", staging / f"{table}.csv")
            else:
                query = _select_for_export(cur, table)
                cur.execute(f"COPY ({query}) TO {_sql_string(str(staging / f'{table}.parquet'))} (FORMAT parquet)")
                cur.execute(f"COPY ({query}) TO {_sql_string(str(staging / f'{table}.csv'))} (FORMAT csv, HEADER)")
        except (duckdb.IOException, OSError) as error:
            raise StoreError(
                f"Nothing was exported: could not write {table} into {directory}: {str(error).splitlines()[0]}"
            ) from None
        (rows,) = the_row(cur.execute(f"SELECT count(*) FROM {_quote(table)}"))
        exported.append(ExportedTable(table, int(rows), directory / f"{table}.parquet", directory / f"{table}.csv"))
    for done_table in exported:
        for target in (done_table.parquet, done_table.csv):
            try:
                os.replace(staging / target.name, target)
            except OSError as error:
                raise StoreError(
                    f"Nothing was exported: {target.name} could not be moved into {directory} ({error.strerror})."
                ) from None
            moved.append(target)
    detail["tables"] = {t.table: t.rows for t in exported}
    if progress:
        progress("", len(exported), len(exported))


def export_database(
    db, *, actor: Actor, directory: str | Path, progress: ExportProgress | None = None
) -> list[ExportedTable]:
    """Write DIR/<table>.parquet and DIR/<table>.csv for every table, from one consistent snapshot.

    The files are written into a temporary directory inside DIR and moved into place only when every
    table was written; on any failure the temporary directory and any file already moved are removed (no
    partial export with client data is left behind) and the failed attempt is audited (outcome 'failed')
    in its own transaction."""
    guard(db, actor, Action.EXPORT, None, attempt="export", entity="database")
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInput("directory", f"{directory} cannot be created ({error.strerror})") from None
    if not directory.is_dir():
        raise InvalidInput("directory", f"{directory} is not a directory")
    detail: dict = {"directory": str(directory)}
    staging: Path | None = None
    moved: list[Path] = []
    try:
        try:
            staging = Path(tempfile.mkdtemp(prefix=".backcare-export-", dir=directory))
        except OSError as error:
            raise StoreError(f"Nothing was exported: {directory} is not writable ({error.strerror}).") from None
        return _export_in_one_transaction(db, actor, staging, directory, detail, progress, moved)
    except BaseException as error:
        for path in moved:
            try:
                path.unlink(missing_ok=True)
            except OSError as unlink_error:
                log.error("could not remove %s after a failed export: %s", path, unlink_error)
        _audit_failure(db, actor, directory, error)
        raise
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _audit_failure(db, actor: Actor, directory: Path, error: BaseException) -> None:
    reason = type(error).__name__ if not isinstance(error, BackCareError) else str(error)[:300]
    try:
        db.audit(
            actor,
            Action.EXPORT.value,
            "database",
            None,
            outcome="failed",
            detail={"directory": str(directory), "error": reason},
            doing="recording the failed export",
        )
    except BackCareError as audit_error:
        log.error("could not audit the failed export into %s: %s", directory, audit_error)
