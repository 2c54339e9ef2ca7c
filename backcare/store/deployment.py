"""What a database file is for (a real deployment or a demo), and making a new file in one step.

A real deployment never gets demo data: demo mode is asked for (BACKCARE_DEMO=1), builds only into a new
file, and marks it in `app_settings` in the same transaction as the demo data; a file without the mark is
never given demo data. A missing file is an error unless demo mode is on: a mistyped path makes nothing.
A new file (demo or `init`) is built under a temporary name beside its path and moved into place when
complete, so an interrupted build leaves no half-made file at the path.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from backcare.errors import Conflict, DatabaseMissing
from backcare.store.db import Database, open_database, resolve_path, resolve_target
from backcare.store.people import HOLDS_PEOPLE

DEMO_ENV = "BACKCARE_DEMO"
DEMO_KEY = "demo"
_BUILDING = ".new-"  # part of the temporary name of a file being built

T = TypeVar("T")


def demo_mode_requested() -> bool:
    return os.environ.get(DEMO_ENV, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class ListedAccount:
    username: str
    role: str
    gym: str | None


@dataclass(frozen=True, slots=True)
class DemoInfo:
    """The demo mark: the accounts that sign in with the public password (all of them) and that password."""

    accounts: tuple[ListedAccount, ...]
    password: str


def mark_demo(cur, *, accounts: list[ListedAccount], password: str, now: datetime) -> None:
    """Inside the demo's own transaction: the file says it is a demo, and which accounts it opens."""
    value = {
        "accounts": [{"username": a.username, "role": a.role, "gym": a.gym} for a in accounts],
        "password": password,
    }
    cur.execute("INSERT INTO app_settings (key, value, set_at) VALUES (?, ?, ?)", [DEMO_KEY, json.dumps(value), now])


def demo_info(db: Database) -> DemoInfo | None:
    """None for a real database. Accounts disabled or removed since the demo was built are left out."""
    with db.read("reading the database's settings") as cur:
        row = cur.execute("SELECT value FROM app_settings WHERE key = ?", [DEMO_KEY]).fetchone()
        if row is None:
            return None
        active = {name for (name,) in cur.execute("SELECT username FROM users WHERE NOT disabled").fetchall()}
    value = json.loads(row[0])
    return DemoInfo(
        tuple(
            ListedAccount(a["username"], a["role"], a.get("gym")) for a in value["accounts"] if a["username"] in active
        ),
        value["password"],
    )


def is_demo(db: Database) -> bool:
    with db.read("reading the database's settings") as cur:
        return cur.execute("SELECT 1 FROM app_settings WHERE key = ?", [DEMO_KEY]).fetchone() is not None


def has_accounts(db: Database) -> bool:
    """Whether anyone can be signed in at all (a file made by hand, or by an older version, may hold none)."""
    with db.read("counting accounts") as cur:
        return cur.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


def holds_people(db: Database) -> bool:
    """Whether the database holds any gym, user or client: what makes a server database no longer "new"
    (a PostgreSQL database has no file whose absence says so)."""
    with db.read("checking whether the database is new") as cur:
        row = cur.execute(HOLDS_PEOPLE).fetchone()
    return bool(row and row[0])


def refuse_unless_demo(db: Database) -> None:
    """Demo mode on an existing file: only a file that is a demo already."""
    if not is_demo(db):
        raise Conflict(
            f"The database {db.where} is not a demo database, so demo mode will not use it: start "
            "without demo mode (BACKCARE_DEMO=0), or point BACKCARE_DB at a new file for a demo."
        )


def open_existing(path: str | Path | None = None, *, read_only: bool = False) -> Database:
    """open_database() for a file that must exist already: DatabaseMissing names the path and the two
    ways to make one, instead of creating an empty file at a mistyped path."""
    target = resolve_target(path)
    if isinstance(target, str):  # a PostgreSQL URL: the server says whether the database is there
        return open_database(target, read_only=read_only)
    if not target.exists():
        raise DatabaseMissing(str(target))
    return open_database(target, read_only=read_only)


def create_database_file(path: str | Path | None, fill: Callable[[Database], T]) -> T:
    """A new database file at `path`, filled by `fill` (in its own transactions), moved into place only when
    complete; Conflict when the path exists. Temporary files left by an interrupted build (a killed process)
    are removed first."""
    target = resolve_path(path)
    if target.exists():
        raise Conflict(f"The database file {target} already exists: nothing was changed.")
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_builds(target)
    # the name ends in .duckdb so a leftover is git-ignored like the file itself
    building = target.with_name(f".{target.stem}{_BUILDING}{os.getpid()}-{secrets.token_hex(4)}.duckdb")
    try:
        db = open_database(building)
        try:
            result = fill(db)
            with db.read("finishing the new database") as cur:
                cur.execute("CHECKPOINT")  # everything in the main file: the write-ahead log is not moved
        finally:
            db.close()
        _move_into_place(building, target)
    finally:
        for leftover in (building, _wal(building)):
            leftover.unlink(missing_ok=True)
    return result


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _move_into_place(building: Path, target: Path) -> None:
    if _wal(building).exists():  # not expected after CHECKPOINT and close; kept whole if it happens
        os.replace(_wal(building), _wal(target))
    try:
        os.link(building, target)  # never replaces a file that appeared meanwhile
    except FileExistsError:
        raise Conflict(
            f"The database file {target} was created by someone else meanwhile: nothing was changed."
        ) from None
    except OSError:  # a file system without hard links
        if target.exists():
            raise Conflict(f"The database file {target} already exists: nothing was changed.") from None
        os.replace(building, target)


def remove_abandoned_builds(target: Path) -> list[Path]:
    """Delete temporary files of builds of `target` whose process is gone (killed mid-build)."""
    removed = []
    for candidate in target.parent.glob(f".{target.stem}{_BUILDING}*.duckdb*"):
        pid = candidate.name[len(f".{target.stem}{_BUILDING}") :].split("-", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = [
    "DEMO_ENV",
    "DemoInfo",
    "ListedAccount",
    "create_database_file",
    "demo_info",
    "demo_mode_requested",
    "has_accounts",
    "holds_people",
    "is_demo",
    "mark_demo",
    "open_existing",
    "refuse_unless_demo",
    "remove_abandoned_builds",
]
