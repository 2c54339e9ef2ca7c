"""Data commands: `import sessions`, `export`, `demo`. Progress goes to stderr, results to stdout.

The command line acts as auth.SYSTEM: whoever can run it holds the database file anyway.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from backcare.auth import SYSTEM

DB_HELP = (
    "database file or postgresql:// URL (default: BACKCARE_DATABASE_URL, else BACKCARE_DB or data/backcare.duckdb)"
)


def register(subparsers) -> None:
    importing = subparsers.add_parser("import", help="import data from a file")
    kinds = importing.add_subparsers(dest="kind", required=True)
    sessions = kinds.add_parser(
        "sessions",
        help="import training sessions from a CSV file",
        description="Columns: client_id,date,minutes,rpe,exercises,warmup_minutes,cooldown_done "
        "(client_id is the client's reference such as C-0042, date is YYYY-MM-DD, exercises are "
        "separated by ';'). A file with a bad row stores nothing unless --skip-bad is given.",
    )
    sessions.add_argument("file", help="CSV file with a header row")
    sessions.add_argument("--skip-bad", action="store_true", help="store the good rows, report the bad ones")
    sessions.add_argument("--db", help=DB_HELP)
    sessions.set_defaults(func=run_import_sessions)

    export = subparsers.add_parser("export", help="write every table as DIR/<table>.parquet and .csv")
    export.add_argument("directory", metavar="DIR")
    export.add_argument("--db", help=DB_HELP)
    export.set_defaults(func=run_export)

    demo = subparsers.add_parser(
        "demo",
        help="fill a new database file (or a new, empty PostgreSQL database) with a synthetic demo history",
    )
    demo.add_argument("--clients", type=int, default=None, help="number of clients (default 60)")
    demo.add_argument("--weeks", type=int, default=None, help="weeks of history (default 26)")
    demo.add_argument("--seed", type=int, default=None, help="random seed: the same seed gives the same data")
    demo.add_argument(
        "--if-missing",
        action="store_true",
        help="demo mode's start (scripts/app.sh): build only when the file does not exist; use an "
        "existing demo file as it is; refuse a file that is not a demo",
    )
    demo.add_argument("--db", help=DB_HELP)
    demo.set_defaults(func=run_demo)


class StderrProgress:
    """Stage changes always; counts within a stage at most twice a second."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.stage = None
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if stage == self.stage and not finished and now - self.last < 0.5:
            return
        self.stage, self.last = stage, now
        if total is None:
            text = f"{stage}..."
        elif total and not finished:
            text = f"{stage}: {done:,} of {total:,} ({100 * done // total}%)"
        else:
            text = f"{stage}: {done:,} done"
        print(text, file=self.stream, flush=True)


def _open(path):
    from backcare.store.deployment import open_existing  # raises DatabaseLocked when another process holds it

    return open_existing(path)  # DatabaseMissing rather than a new empty file at a mistyped path


def run_import_sessions(args: argparse.Namespace) -> int:
    from backcare.store.importer import import_sessions_csv

    db = _open(args.db)
    try:
        result = import_sessions_csv(
            db, actor=SYSTEM, path=args.file, skip_bad=args.skip_bad, progress=StderrProgress()
        )
    finally:
        db.close()
    for bad in result.bad_rows:
        print(f"line {bad.line}: {bad.reason}", file=sys.stderr)
    if result.bad_count > len(result.bad_rows):
        print(f"... and {result.bad_count - len(result.bad_rows):,} more bad rows", file=sys.stderr)
    if not result.stored:
        print(
            f"Nothing imported: {result.bad_count:,} of {result.rows:,} rows are bad. Fix them, or run "
            "again with --skip-bad to store the good rows only.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Imported {result.inserted:,} sessions from {args.file} ({result.duplicates:,} already stored, "
        f"{result.bad_count:,} bad rows skipped)."
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from backcare.store.export import export_database

    progress = StderrProgress()
    db = _open(args.db)
    try:
        tables = export_database(
            db,
            actor=SYSTEM,
            directory=args.directory,
            progress=lambda table, done, total: progress(f"exporting {table}" if table else "export", done, total),
        )
    finally:
        db.close()
    for table in tables:
        print(f"{table.table}: {table.rows:,} rows -> {table.parquet.name}, {table.csv.name}")
    print(f"Exported {len(tables)} tables to {args.directory}.")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from backcare.store import demo
    from backcare.store.db import redacted, resolve_path, resolve_target

    options: dict[str, Any] = {
        "clients": demo.DEFAULT_CLIENTS if args.clients is None else args.clients,
        "weeks": demo.DEFAULT_WEEKS if args.weeks is None else args.weeks,
        "seed": demo.DEFAULT_SEED if args.seed is None else args.seed,
    }
    target = resolve_target(args.db)
    if isinstance(target, str):  # a PostgreSQL URL: built in a file, then copied in (store/transfer.py)
        from backcare.store.transfer import ensure_demo_on_postgres

        on_server = ensure_demo_on_postgres(target, if_missing=args.if_missing, progress=StderrProgress(), **options)
        if on_server is None:
            print(
                f"{redacted(target)} is a demo database already: using it as it is (its accounts are on the "
                "sign-in page)."
            )
            return 0
        print(f"Demo database created at {redacted(target)}.")
        _print_accounts(on_server)
        return 0
    path = resolve_path(args.db)
    if args.if_missing or not path.exists():
        # a new file is built beside its path and moved into place when complete: a kill leaves none
        accounts = demo.ensure_demo_database(path, progress=StderrProgress(), **options)
        if accounts is None:
            print(f"{path} is a demo database already: using it as it is (its accounts are on the sign-in page).")
            return 0
        print(f"Demo database created at {path}.")
    else:
        db = _open(path)
        try:
            summary = demo.build_demo(db, actor=SYSTEM, progress=StderrProgress(), **options)
        finally:
            db.close()
        accounts = list(summary.accounts)
        print("Demo history created: " + ", ".join(f"{n:,} {t}" for t, n in summary.counts.items()) + ".")
    _print_accounts(accounts)
    return 0


def _print_accounts(accounts) -> None:
    print("Demo accounts (synthetic data only; the only accounts with this public password):")
    for account in accounts:
        where = f", {account.gym}" if account.gym else ""
        print(f"  {account.role.value:<8} {account.username:<14} password: {account.password}{where}")
