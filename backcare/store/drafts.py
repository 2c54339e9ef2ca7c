"""A half-filled triage form kept on the server for one trainer and one client (issue 14): a reload or a
dropped connection on a tablet no longer loses the answers. Removed when the report is saved or abandoned,
and erased with the client. The triage screen decides when to save; this module only keeps the answers.

Not audited per write: a draft is saved on every answer, and the report it becomes is audited when saved.
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


def save_draft(db: Database, *, actor: Actor, client_id: int, answers: dict, now: datetime | None = None) -> None:
    """Keep (or replace) this person's draft for this client."""
    user_id = _draft_owner(db, actor, client_id, Action.CLIENT_WRITE)
    if user_id is None:
        return
    text = json.dumps(answers, default=str, sort_keys=True)
    if len(text) > MAX_DRAFT_BYTES:
        raise InvalidInput("draft", "is too long to keep")
    now = now or utcnow()
    db.bookkeeping(
        lambda cur: cur.execute(
            "INSERT INTO triage_drafts (user_id, client_id, answers_json, saved_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id, client_id) DO UPDATE SET answers_json = excluded.answers_json, "
            "saved_at = excluded.saved_at",
            [user_id, client_id, text, now],
        ),
        "keeping the draft",
    )


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


def delete_draft(db: Database, *, actor: Actor, client_id: int) -> None:
    """The report was saved or abandoned: the draft goes."""
    user_id = _draft_owner(db, actor, client_id, Action.CLIENT_WRITE)
    if user_id is None:
        return
    db.bookkeeping(
        lambda cur: cur.execute("DELETE FROM triage_drafts WHERE user_id = ? AND client_id = ?", [user_id, client_id]),
        "removing the draft",
    )
