"""Maintenance commands: `compact` rebuilds the database file from its live data, so rows deleted by an
erasure are gone from its bytes (finishes an erasure whose rebuild could not be done at the time)."""

from __future__ import annotations

import argparse

# an existing file only: a mistyped --db creates nothing
from backcare.store.deployment import open_existing as open_database

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


def run_compact(args: argparse.Namespace) -> int:
    from backcare.store.erasure import compact_database

    db = open_database(args.db)
    try:
        before, after = compact_database(db)
    finally:
        db.close()
    print(f"Rebuilt {db.path}: {before:,} bytes before, {after:,} after.")
    return 0
