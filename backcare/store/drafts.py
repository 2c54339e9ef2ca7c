"""A half-filled triage form kept on the server for one trainer and one client (issue 14): a reload or a
dropped connection on a tablet no longer loses the answers. Removed when the report is saved or abandoned,
and erased with the client. The triage screen decides when to save; this module only keeps the answers.

Audited where it starts and where it is abandoned, not per answer: the first save of a draft for a client
writes a `triage.draft_started` row and a discard a `triage.draft_discarded` row, so the log shows who held
which client's half-filled answers and when; the changes in between (one per answer) are bookkeeping, and the
report a draft becomes is audited when saved. Only the person who typed a draft reads it back.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from backcare.auth import Action, Actor
from backcare.errors import InvalidInput
from backcare.store._base import client_gym, guard
from backcare.store.db import Database, utcnow

DRAFT_MAX_AGE = timedelta(hours=12)  # an older draft is a form left behind, not one to carry on with
MAX_DRAFT_BYTES = 20_000


def _user_id(actor: Actor) -> int | None:
    """Drafts belong to a person: an actor without an account (the command line) keeps none."""
    return actor.user_id


def _draft_owner(db: Database, actor: Actor, client_id: int, action: Action) -> int | None:
    """The permission check every draft call makes, then whose draft it is (None: no account, no draft)."""
    guard(db, actor, action, client_gym(db, client_id), attempt="triage.draft", entity="clients", entity_id=client_id)
    return _user_id(actor)


_UPSERT = (
    "INSERT INTO triage_drafts (user_id, client_id, answers_json, saved_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (user_id, client_id) DO UPDATE SET answers_json = excluded.answers_json, saved_at = excluded.saved_at"
)

_REPLACE = (
    "UPDATE triage_drafts SET answers_json = ?, saved_at = ? WHERE user_id = ? AND client_id = ? AND saved_at >= ? "
    "RETURNING client_id"
)


def save_draft(db: Database, *, actor: Actor, client_id: int, answers: dict, now: datetime | None = None) -> None:
    """Keep (or replace) this person's draft for this client. The first save (no draft kept, or only one too
    old to offer) is audited; a replacement is not. Drafts of this person past the age limit go at the same
    time: a form left behind is not kept longer than it can be carried on with."""
    user_id = _draft_owner(db, actor, client_id, Action.CLIENT_WRITE)
    if user_id is None:
        return
    text = json.dumps(answers, default=str, sort_keys=True)
    if len(text) > MAX_DRAFT_BYTES:
        raise InvalidInput("draft", "is too long to keep")
    now = now or utcnow()
    # A draft kept and young enough: a plain UPDATE of it, one statement (about half the CPU of the upsert on
    # DuckDB, measured at chain scale; this runs on every answer a trainer taps). A draft removed meanwhile
    # (saved or discarded in another tab) stays removed. None updated: the first save, audited below.
    replaced = db.bookkeeping(
        lambda cur: cur.execute(_REPLACE, [text, now, user_id, client_id, now - DRAFT_MAX_AGE]).fetchall(),
        "keeping the draft",
    )
    if replaced:
        return
    with db.transaction(actor, "triage.draft_started", "clients", client_id, now=now) as txn:
        txn.touches_no_client_data()  # a draft is none of the client's cached reads
        txn.cursor.execute(
            "DELETE FROM triage_drafts WHERE user_id = ? AND saved_at < ?", [user_id, now - DRAFT_MAX_AGE]
        )
        txn.cursor.execute(_UPSERT, [user_id, client_id, text, now])


def load_draft(
    db: Database, *, actor: Actor, client_id: int, now: datetime | None = None, max_age: timedelta = DRAFT_MAX_AGE
) -> dict | None:
    """This person's draft for this client, or None (none kept, or older than `max_age`)."""
    user_id = _draft_owner(db, actor, client_id, Action.CLIENT_READ)
    if user_id is None:
        return None
    now = now or utcnow()
    with db.read("reading the draft") as cur:
        row = cur.execute(
            "SELECT answers_json, saved_at FROM triage_drafts WHERE user_id = ? AND client_id = ?", [user_id, client_id]
        ).fetchone()
    if row is None or now - row[1] > max_age:
        return None
    return json.loads(row[0])


def delete_draft(
    db: Database, *, actor: Actor, client_id: int, discarded: bool = False, now: datetime | None = None
) -> None:
    """The report was saved (its save is audited) or abandoned (`discarded`: audited here): the draft goes."""
    user_id = _draft_owner(db, actor, client_id, Action.CLIENT_WRITE)
    if user_id is None:
        return
    sql, args = "DELETE FROM triage_drafts WHERE user_id = ? AND client_id = ?", [user_id, client_id]
    if not discarded:
        db.bookkeeping(lambda cur: cur.execute(sql, args), "removing the draft")
        return
    with db.transaction(actor, "triage.draft_discarded", "clients", client_id, now=now) as txn:
        txn.touches_no_client_data()  # a draft is none of the client's cached reads
        txn.cursor.execute(sql, args)


def recent_drafts(
    db: Database, *, actor: Actor, now: datetime | None = None, max_age: timedelta = DRAFT_MAX_AGE, limit: int = 3
) -> list[tuple[int, datetime]]:
    """This person's drafts still to carry on with, newest first: (client id, saved at). Only the person's
    own drafts, each written with the client's access checked; the page reads each client through the
    store's own check before naming them."""
    user_id = _user_id(actor)
    if user_id is None:
        return []
    now = now or utcnow()
    with db.read("reading the drafts") as cur:
        rows = cur.execute(
            "SELECT client_id, saved_at FROM triage_drafts WHERE user_id = ? AND saved_at >= ? "
            "ORDER BY saved_at DESC LIMIT ?",
            [user_id, now - max_age, limit],
        ).fetchall()
    return [(int(client_id), saved_at) for client_id, saved_at in rows]
