"""`users add | disable | enable | reset-password | unlock | add-gym | list`: accounts from the command line, for the
first administrator and for scripts.

The command line acts as auth.SYSTEM (whoever can run it holds the database file anyway); every change
is audited like one made on the Admin page. Passwords come from standard input (--password-stdin, the
first line) or are asked twice at the terminal; they never appear in arguments, output or the audit log.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from backcare.auth import SYSTEM, password_problem
from backcare.errors import InvalidInput

DB_HELP = "database file (default: BACKCARE_DB or data/backcare.duckdb)"
ROLES = ("trainer", "clinic", "manager", "admin")


def register(subparsers) -> None:
    users = subparsers.add_parser("users", help="manage accounts: add, disable, enable, reset-password, list")
    commands = users.add_subparsers(dest="users_command", required=True)

    add = commands.add_parser(
        "add",
        help="create an account",
        description="Create an account. A trainer belongs to one gym (--gym); other roles "
        "without --gym work across every gym.",
    )
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--gym", metavar="NAME", help="the gym's name")
    add.add_argument("--name", metavar="DISPLAY_NAME", help="name shown in the app (default: the username)")
    add.add_argument("--contact", help="phone or e-mail (shown to the clinic in handoffs; also matches single sign-on)")
    secret = add.add_mutually_exclusive_group()
    secret.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    secret.add_argument(
        "--no-password", action="store_true", help="no password: the person signs in through single sign-on only"
    )
    add.add_argument("--db", help=DB_HELP)
    add.set_defaults(func=run_add)

    for name, func, text in (
        ("disable", run_disable, "stop an account from signing in (its history stays)"),
        ("enable", run_enable, "let a disabled account sign in again"),
        ("unlock", run_unlock, "lift a lock after too many wrong passwords"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("username")
        command.add_argument("--db", help=DB_HELP)
        command.set_defaults(func=func)

    reset = commands.add_parser("reset-password", help="set a new password (also lifts a lock)")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    reset.add_argument("--db", help=DB_HELP)
    reset.set_defaults(func=run_reset_password)

    gym = commands.add_parser("add-gym", help="create a gym (people and clients belong to one)")
    gym.add_argument("name")
    gym.add_argument("--db", help=DB_HELP)
    gym.set_defaults(func=run_add_gym)

    listing = commands.add_parser("list", help="list accounts (never their passwords)")
    listing.add_argument("--db", help=DB_HELP)
    listing.set_defaults(func=run_list)


def _open(path):
    from backcare.store.deployment import open_existing  # DatabaseLocked when the app holds the file

    return open_existing(path)  # DatabaseMissing rather than a new empty file at a mistyped path


def read_password(from_stdin: bool, *, stdin=None, prompt=getpass.getpass) -> str:
    """The first line of standard input, or typed twice at a terminal; checked before anything opens."""
    stdin = stdin or sys.stdin
    if from_stdin:
        password = stdin.readline().rstrip("\r\n")
    else:
        if not stdin.isatty():
            raise InvalidInput("password", "standard input is not a terminal: pass the password with --password-stdin")
        password = prompt("New password: ")
        if prompt("Same password again: ") != password:
            raise InvalidInput("password", "the two passwords differ")
    problem = password_problem(password)
    if problem:
        raise InvalidInput("password", problem)
    return password


def run_add(args: argparse.Namespace) -> int:
    from backcare.store import accounts

    password = None if args.no_password else read_password(args.password_stdin)
    with _open(args.db) as db:
        gym_id = accounts.gym_id_by_name(db, name=args.gym) if args.gym else None
        user = accounts.add_user(
            db,
            actor=SYSTEM,
            username=args.username,
            display_name=args.name or args.username,
            role=args.role,
            gym_id=gym_id,
            contact=args.contact,
            password=password,
        )
    where = f" at {user.gym_name}" if user.gym_name else " (every gym)"
    how = "with a password" if user.has_password else "for single sign-on only"
    print(f"Added {user.role} {user.username}{where}, {how}.")
    return 0


def _change(args: argparse.Namespace, change, done: str) -> int:
    with _open(args.db) as db:
        user = change(db, actor=SYSTEM, username=args.username)
    print(f"{user.username}: {done}.")
    return 0


def run_disable(args: argparse.Namespace) -> int:
    from backcare.store.accounts import disable_user

    return _change(args, disable_user, "disabled; they can no longer sign in")


def run_enable(args: argparse.Namespace) -> int:
    from backcare.store.accounts import enable_user

    return _change(args, enable_user, "enabled")


def run_unlock(args: argparse.Namespace) -> int:
    from backcare.store.accounts import unlock_user

    return _change(args, unlock_user, "unlocked")


def run_reset_password(args: argparse.Namespace) -> int:
    from backcare.store.accounts import reset_password

    password = read_password(args.password_stdin)
    with _open(args.db) as db:
        user = reset_password(db, actor=SYSTEM, username=args.username, password=password)
    print(f"{user.username}: password changed; any lock is lifted.")
    return 0


def run_add_gym(args: argparse.Namespace) -> int:
    from backcare.store.accounts import add_gym

    with _open(args.db) as db:
        gym = add_gym(db, actor=SYSTEM, name=args.name)
    print(f"Added gym {gym.name}.")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from backcare.store.accounts import list_users

    with _open(args.db) as db:
        users = list_users(db, actor=SYSTEM)
    if not users:
        print(
            "No accounts yet: add the first administrator with "
            "`python -m backcare users add NAME --role admin --password-stdin`."
        )
        return 0
    print(f"{'username':<20} {'role':<8} {'gym':<22} {'state':<9} sign-in")
    for user in users:
        state = "disabled" if user.disabled else ("locked" if user.is_locked() else "active")
        print(
            f"{user.username:<20} {user.role:<8} {(user.gym_name or 'every gym'):<22} {state:<9} "
            f"{'password' if user.has_password else 'single sign-on'}"
        )
    return 0
