"""Whole-file export: every table as Parquet and CSV, written by DuckDB's COPY from one snapshot.

Password hashes stay in the file: the export writes the users table without them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from backcare.auth import Action, Actor
from backcare.store._base import guard
from backcare.errors import InvalidInput, StoreError

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
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in rows]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select_for_export(cur, table: str) -> str:
    left_out = LEFT_OUT_COLUMNS.get(table, frozenset())
    if not left_out:
        return f"SELECT * FROM {_quote(table)}"
    names = [name for (name,) in cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? "
        "ORDER BY ordinal_position", [table]).fetchall() if name not in left_out]
    return f"SELECT {', '.join(_quote(n) for n in names)} FROM {_quote(table)}"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def export_database(db, *, actor: Actor, directory: str | Path,
                    progress: ExportProgress | None = None) -> list[ExportedTable]:
    """Write DIR/<table>.parquet and DIR/<table>.csv for every table, from one consistent snapshot."""
    guard(db, actor, Action.EXPORT, None, attempt="export", entity="database")
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInput("directory", f"{directory} cannot be created ({error.strerror})") from None
    if not directory.is_dir():
        raise InvalidInput("directory", f"{directory} is not a directory")
    detail: dict = {"directory": str(directory)}
    exported: list[ExportedTable] = []
    with db.write(actor, Action.EXPORT.value, "database", None, detail) as cur:
        tables = list_tables(cur)
        for done, table in enumerate(tables):
            if progress:
                progress(table, done, len(tables))
            query = _select_for_export(cur, table)
            parquet, csv = directory / f"{table}.parquet", directory / f"{table}.csv"
            try:
                cur.execute(f"COPY ({query}) TO {_sql_string(str(parquet))} (FORMAT parquet)")
                cur.execute(f"COPY ({query}) TO {_sql_string(str(csv))} (FORMAT csv, HEADER)")
            except duckdb.IOException as error:
                raise StoreError(f"Could not write {table} into {directory}: "
                                 f"{str(error).splitlines()[0]}") from None
            (rows,) = cur.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()
            exported.append(ExportedTable(table, int(rows), parquet, csv))
        if progress:
            progress("", len(tables), len(tables))
        detail["tables"] = {t.table: t.rows for t in exported}
    return exported
