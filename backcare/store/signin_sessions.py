"""Server-side sign-in sessions: one row per sign-in, keyed by a digest of a random id that only the
server-side state of that browser session holds.

Every rerun of the app checks its row, so signing out in one tab (which ends every open session of the
account) empties the other tabs too, and idle expiry runs on the server's clock, whether or not anyone
taps: the app checks on a timer as well as on each rerun.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from backcare.auth import Actor
from backcare.store._base import the_row
from backcare.store.db import Database, utcnow

IDLE_LIMIT = timedelta(minutes=30)
# A rerun moves last_seen_at on at most this often: one small write per person per interval, not per tap.
TOUCH_EVERY = timedelta(seconds=15)
KEEP_ENDED = timedelta(days=30)  # ended sessions are dropped after this (the audit log keeps the sign-ins)

ACTIVE, ENDED, IDLE = "active", "ended", "idle"


def _key(session_id: str) -> str:
    # only the digest is stored: a copy of the database file does not hold a usable session id
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(cur, *, user_id: int, now: datetime) -> str:
    """Inside the sign-in's own transaction: a new session row; returns the id for the session state."""
    session_id = secrets.token_urlsafe(32)
    cur.execute("DELETE FROM signin_sessions WHERE coalesce(ended_at, last_seen_at) < ?", [now - KEEP_ENDED])
    cur.execute(
        "INSERT INTO signin_sessions (id, user_id, started_at, last_seen_at) VALUES (?, ?, ?, ?)",
        [_key(session_id), user_id, now, now],
    )
    return session_id


# The session's row: (user_id, last_seen_at, ended_at).
SESSION_ROW = "SELECT user_id, last_seen_at, ended_at FROM signin_sessions WHERE id = ?"


def session_key(session_id: str) -> str:
    """The session's row id: the digest of its id."""
    return _key(session_id)


def session_state(
    db: Database, *, actor: Actor, now: datetime | None = None, idle: timedelta = IDLE_LIMIT, touch: bool = True
) -> str:
    """ACTIVE, ENDED (signed out, here or in another tab) or IDLE (just expired; the row is ended now).
    `touch`: this run is a person's action, so it counts as activity (a timer's check does not).
    An actor made by code (no session_id) has no session row and is always ACTIVE."""
    if actor.session_id is None:
        return ACTIVE
    with db.read("checking the sign-in session") as cur:
        row = cur.execute(SESSION_ROW, [_key(actor.session_id)]).fetchone()
    return judge_session(db, actor=actor, row=row, now=now or utcnow(), idle=idle, touch=touch)


def judge_session(db: Database, *, actor: Actor, row: tuple | None, now: datetime, idle: timedelta, touch: bool) -> str:
    """session_state() given the session's row as SESSION_ROW reads it (None: no such row): ends an idle
    session (audited) and records a tap's activity."""
    assert actor.session_id is not None
    key = _key(actor.session_id)
    if row is None or row[2] is not None or row[0] != actor.user_id:
        return ENDED
    last_seen = row[1]
    if now - last_seen > idle:
        with db.transaction(
            actor,
            "signin.expired",
            "users",
            actor.user_id,
            {"idle_minutes": round(idle.total_seconds() / 60, 1)},
            now=now,
        ) as txn:
            txn.cursor.execute(
                "UPDATE signin_sessions SET ended_at = ?, end_reason = 'idle' WHERE id = ? AND ended_at IS NULL",
                [now, key],
            )
        return IDLE
    if touch and now - last_seen >= min(TOUCH_EVERY, idle / 4):
        db.bookkeeping(
            lambda cur: cur.execute(
                "UPDATE signin_sessions SET last_seen_at = ? WHERE id = ? AND ended_at IS NULL AND last_seen_at < ?",
                [now, key, now],
            ),
            "recording activity",
        )
    return ACTIVE


def end_sessions(db: Database, *, actor: Actor, now: datetime | None = None) -> int:
    """Sign-out: ends every open session of the actor's account (every tab, every device); audited."""
    if actor.user_id is None:
        return 0
    now = now or utcnow()
    detail: dict[str, int] = {}
    with db.transaction(actor, "signin.signout", "users", actor.user_id, detail, now=now) as txn:
        (ended,) = the_row(
            txn.cursor.execute(
                "SELECT count(*) FROM signin_sessions WHERE user_id = ? AND ended_at IS NULL", [actor.user_id]
            )
        )
        txn.cursor.execute(
            "UPDATE signin_sessions SET ended_at = ?, end_reason = 'signout' WHERE user_id = ? AND ended_at IS NULL",
            [now, actor.user_id],
        )
        detail["sessions"] = int(ended)
    return int(ended)


def session_user(
    db: Database, *, session_id: str, now: datetime | None = None, idle: timedelta = IDLE_LIMIT
) -> int | None:
    """The user id of an open, not idle, session (a reload resumes it); None otherwise. Reading only: the
    resumed run then checks and touches the row as every run does."""
    now = now or utcnow()
    with db.read("resuming the sign-in session") as cur:
        row = cur.execute(
            "SELECT user_id, last_seen_at, ended_at FROM signin_sessions WHERE id = ?", [_key(session_id)]
        ).fetchone()
    if row is None or row[2] is not None or now - row[1] > idle:
        return None
    return int(row[0])
