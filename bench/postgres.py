"""The benchmarks' PostgreSQL options (issue 17), shared: a database to run on, and the chain history in it.

`--database-url URL` names an EMPTY PostgreSQL database (made with createdb) that the benchmark fills;
`--throwaway-postgres` starts a server of its own for the run (tests/pg_server.py: initdb in a temporary
directory, fsync off, so write figures are an upper bound), gone when the run ends.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from backcare.store.db import redacted


def add_options(parser: argparse.ArgumentParser) -> None:
    server = parser.add_mutually_exclusive_group()
    server.add_argument("--database-url", help="an EMPTY PostgreSQL database to run on (the benchmark fills it)")
    server.add_argument(
        "--throwaway-postgres",
        action="store_true",
        help="start a PostgreSQL server of its own for the run (tests/pg_server.py; fsync off)",
    )


@contextlib.contextmanager
def database(args: argparse.Namespace, name: str = "bench") -> Iterator[str | None]:
    """The URL the run uses (None: the DuckDB file, as before)."""
    if not args.throwaway_postgres:
        yield args.database_url
        return
    from tests.pg_server import PgServer, available

    reason = available()
    if reason:
        raise SystemExit(f"no PostgreSQL server can be started here: {reason}")
    pg = PgServer().start()
    try:
        pg.admin(f"CREATE DATABASE {name}")
        yield pg.url(name)
    finally:
        pg.stop()


def describe(args: argparse.Namespace, url: str) -> str:
    return "a throwaway server, fsync off" if args.throwaway_postgres else redacted(url)


def load_chain(path: Path, url: str) -> dict:
    """The chain file copied into the empty database at `url` by migrate-to-postgres (COPY); its figures."""
    from backcare.store.transfer import migrate_to_postgres

    moved = migrate_to_postgres(path, url)
    return {"rows": moved.rows, "seconds": moved.seconds, "rows_per_s": moved.rows / moved.seconds}
