"""`init --admin NAME`: a new, real database with one administrator and nothing else.

The way into a real deployment (demo data only ever comes with demo mode). The password comes from
standard input (--password-stdin) or is typed twice at a terminal, never from the arguments. The file is
built beside its path and moved into place when complete: an interrupted `init` leaves no file. On
PostgreSQL (BACKCARE_DATABASE_URL or --db postgresql://...) the database is made on the server first
(createdb); `init` brings it to the schema and adds the administrator, and refuses one that holds anyone.
"""

from __future__ import annotations

import argparse

from backcare.auth import SYSTEM
from backcare.errors import Conflict, InvalidInput

DB_HELP = (
    "the new database file (default: BACKCARE_DATABASE_URL, else BACKCARE_DB or data/backcare.duckdb); it must "
    "not exist yet. A postgresql:// URL: an empty database on the server (made with createdb)"
)


def register(subparsers) -> None:
    init = subparsers.add_parser(
        "init",
        help="create a real database with its first administrator",
        description="Creates a new database file holding one chain-wide administrator and nothing else (no "
        "gyms, clients or demo data). Then start the app without demo mode, sign in and add the "
        "gyms and people on the People and gyms page.",
    )
    init.add_argument("--admin", required=True, metavar="NAME", help="the administrator's username")
    init.add_argument("--name", metavar="DISPLAY_NAME", help="name shown in the app (default: the username)")
    init.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    init.add_argument("--db", help=DB_HELP)
    init.set_defaults(func=run_init)


def run_init(args: argparse.Namespace) -> int:
    from backcare.cli.users import read_password
    from backcare.store.accounts import add_user
    from backcare.store.db import resolve_path, resolve_target
    from backcare.store.deployment import create_database_file
    from backcare.store.people import username_problem

    problem = username_problem(args.admin)  # before the password is asked for
    if problem:
        raise InvalidInput("username", problem)
    target = resolve_target(args.db)
    if isinstance(target, str):
        return _init_on_server(args, target)
    path = resolve_path(args.db)
    if path.exists():
        raise Conflict(
            f"The database file {path} already exists: `init` only makes a new one (add people to "
            "it with `python -m backcare users add`)."
        )
    password = read_password(args.password_stdin)
    user = create_database_file(
        path,
        lambda db: add_user(
            db, actor=SYSTEM, username=args.admin, display_name=args.name or args.admin, role="admin", password=password
        ),
    )
    print(
        f"Created {path} with one administrator, {user.username}. Start the app without demo mode "
        f"(BACKCARE_DEMO=0 bash scripts/app.sh) and sign in to add gyms and people."
    )
    return 0


def _init_on_server(args: argparse.Namespace, url: str) -> int:
    """`init` on a PostgreSQL database: only one that holds no gyms, users or clients (a real deployment or a
    demo is never touched). The schema is made before the password is asked for, so a server that cannot be
    reached is said first. The administrator is added in one transaction with a second check under a lock, so
    of two `init` commands run at once only one sets the database up."""
    from backcare.cli.users import read_password
    from backcare.store.accounts import add_user
    from backcare.store.db import open_database
    from backcare.store.deployment import holds_people
    from backcare.store.people import NOT_NEW

    with open_database(url) as db:
        if holds_people(db):  # said before the password is asked for; checked again where the admin is added
            raise Conflict(NOT_NEW.format(where=db.where))
        password = read_password(args.password_stdin)
        user = add_user(
            db,
            actor=SYSTEM,
            username=args.admin,
            display_name=args.name or args.admin,
            role="admin",
            password=password,
            only_into_new=True,  # another `init` may have added its administrator in between
        )
        where = db.where
    print(
        f"Set up {where} with one administrator, {user.username}. Start the app without demo mode "
        f"(BACKCARE_DEMO=0, BACKCARE_DATABASE_URL set) and sign in to add gyms and people."
    )
    return 0
