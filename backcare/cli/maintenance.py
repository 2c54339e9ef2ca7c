"""Maintenance commands: `compact` rebuilds the database file from its live data, so rows deleted by an
erasure are gone from its bytes (finishes an erasure whose rebuild could not be done at the time);
`migrate-to-postgres` moves a chain from its file to a PostgreSQL server."""

from __future__ import annotations

import argparse

DB_HELP = "database file (default: BACKCARE_DB or data/backcare.duckdb)"


def register(subparsers) -> None:
    compact = subparsers.add_parser(
        "compact",
        help="rebuild the database file so deleted (erased) data is gone from its bytes",
        description="Copies the live data into a new file and swaps it in. Stop the app first: the file "
        "cannot be rebuilt while another process has it open.",
    )
    compact.add_argument("--db", help=DB_HELP)
    compact.set_defaults(func=run_compact)

    move = subparsers.add_parser(
        "migrate-to-postgres",
        help="copy a DuckDB database file into an empty PostgreSQL database",
        description="Creates the schema in the PostgreSQL database, copies every table with COPY in one "
        "transaction, counts every table's rows on both sides and sets the id sequences past the copied ids. "
        "Refuses a target that already holds data. Stop the app first (the file must not be in use).",
    )
    move.add_argument("--from", dest="source", required=True, help="the DuckDB database file to copy")
    move.add_argument("--to", dest="target", required=True, help="postgresql://user:password@host:port/database")
    move.set_defaults(func=run_migrate_to_postgres)


def run_compact(args: argparse.Namespace) -> int:
    from backcare.store.deployment import open_existing  # an existing file only: a mistyped --db creates nothing
    from backcare.store.erasure import compact_database

    db = open_existing(args.db)
    try:
        before, after = compact_database(db)
    finally:
        db.close()
    print(f"Rebuilt {db.where}: {before:,} bytes before, {after:,} after.")
    return 0


def run_migrate_to_postgres(args: argparse.Namespace) -> int:
    from backcare.store.transfer import describe, migrate_to_postgres

    transfer = migrate_to_postgres(args.source, args.target)
    print(describe(transfer, args.source, args.target))
    return 0
