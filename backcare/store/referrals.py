"""Referrals: the clinic's queue, status changes with author, time and note, clearance, the handoff."""

from __future__ import annotations

from datetime import datetime, timedelta

from backcare.auth import Action, Actor, allowed
from backcare.errors import Conflict, InvalidInput, Unavailable
from backcare.models import Level, Note, checked_text
from backcare.store._base import guard, one_as_dict, rows_as_dicts, scope_gym, the_row, the_row_as_dict
from backcare.store.db import Database, utcnow
from backcare.store.records import (
    CLEARED_STATUSES,
    HandoffFinding,
    HandoffSession,
    HandoffSummary,
    ReferralEventRow,
    ReferralRow,
    ReferralStatus,
)
from backcare.store.reports import REPORT_COLUMNS, report_row
from backcare.store.sessions import READABLE_DATE

S = ReferralStatus
NEXT_STATUSES: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    S.NEW: frozenset({S.CONTACTED, S.SEEN}),
    S.CONTACTED: frozenset({S.SEEN}),
    S.SEEN: frozenset({S.CLEARED, S.CLEARED_WITH_RESTRICTIONS, S.NOT_CLEARED}),
    S.NOT_CLEARED: frozenset({S.CLEARED, S.CLEARED_WITH_RESTRICTIONS}),
    S.CLEARED: frozenset(),
    S.CLEARED_WITH_RESTRICTIONS: frozenset(),
}
OPEN_STATUSES: tuple[ReferralStatus, ...] = tuple(s for s in ReferralStatus if s not in CLEARED_STATUSES)

# How soon the clinic should make first contact; past it, a referral not yet contacted is overdue.
CONTACT_WITHIN: dict[Level, timedelta] = {
    Level.EMERGENCY: timedelta(hours=1),
    Level.URGENT: timedelta(hours=24),
    Level.REFER: timedelta(days=7),
}

_SECONDS = {level: int(within.total_seconds()) for level, within in CONTACT_WITHIN.items()}


def referral_select(*, with_client: bool = True) -> str:
    """The SELECT of referral rows (ReferralRow's columns, the overdue mark, the queue's order), to be followed
    by a WHERE. `with_client`: the client's name and number joined from clients; a caller holding the client's
    row already (the history page) leaves the join out and fills them in."""
    names = "c.name AS client_name, c.external_id AS client_external_id," if with_client else ""
    join = " JOIN clients AS c ON c.id = r.client_id" if with_client else ""
    return f"""
SELECT r.id, r.report_id, r.client_id, r.gym_id, r.level, r.status, r.opened_at, r.first_contact_at,
       r.closed_at, r.restrictions, {names}
       r.first_contact_at IS NULL AND r.status = 'new' AND CASE r.level
           WHEN 'emergency' THEN $now - r.opened_at
                > INTERVAL '1 second' * {_SECONDS[Level.EMERGENCY]}
           WHEN 'urgent' THEN $now - r.opened_at > INTERVAL '1 second' * {_SECONDS[Level.URGENT]}
           ELSE $now - r.opened_at > INTERVAL '1 second' * {_SECONDS[Level.REFER]} END AS overdue,
       EXTRACT(EPOCH FROM $now - r.opened_at) / 3600.0 AS age_hours,
       CASE r.level WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END AS level_order,
       CASE WHEN r.status = 'new' THEN 0 WHEN r.status IN ('cleared', 'cleared_with_restrictions') THEN 2
            ELSE 1 END AS stage_order
FROM referrals AS r{join}
"""


_REFERRAL_SELECT = referral_select()
# The clinic's work order: first contact still to make (most serious, then longest waiting, first), then the
# referrals waiting on a professional or a clearance (the same way), then closed ones when asked for. A new
# emergency never sits below old ones that were seen long ago and only wait for a clearance.
_WORK_ORDER = " ORDER BY stage_order, level_order, r.opened_at, r.id"


def referral_row(row: dict) -> ReferralRow:
    row.pop("level_order", None)
    row.pop("stage_order", None)
    return ReferralRow(**row)


def awaits_first_contact(referral: ReferralRow) -> bool:
    """The first group of the queue: no contact with the client recorded yet."""
    return referral.status == S.NEW


def needs_confirmation(status: ReferralStatus | str) -> bool:
    """Clearing lets the trainer load the client again: the clinic confirms it, naming the client."""
    return ReferralStatus(status) in CLEARED_STATUSES


def check_referral_change(
    status: ReferralStatus | str, note: str | None = None, restrictions: str | None = None
) -> tuple[ReferralStatus, str | None, str | None]:
    """The status, note and restrictions of a change as they will be stored; InvalidInput when one is missing
    or does not belong (a clearance says why; restrictions go only with a clearance with restrictions)."""
    try:
        target = ReferralStatus(status)
    except ValueError:
        raise InvalidInput("status", f"must be one of {', '.join(s.value for s in ReferralStatus)}") from None
    note = checked_text("note", (note or "").strip() or None, Note)
    restrictions = checked_text("restrictions", (restrictions or "").strip() or None, Note)
    if target in CLEARED_STATUSES and not note:
        raise InvalidInput("note", "a clearance needs a note: who assessed the client and what they found")
    if target == S.CLEARED_WITH_RESTRICTIONS and not restrictions:
        raise InvalidInput("restrictions", "say what the client may and may not do")
    if restrictions and target != S.CLEARED_WITH_RESTRICTIONS:
        raise InvalidInput("restrictions", "restrictions go with the status cleared_with_restrictions")
    return target, note, restrictions


def _fetch_referral(cur, referral_id: int, now: datetime) -> dict:
    return the_row_as_dict(cur.execute(_REFERRAL_SELECT + " WHERE r.id = $id", {"now": now, "id": referral_id}))


def list_referral_queue(
    db: Database,
    *,
    actor: Actor,
    gym_id: int | None = None,
    statuses: tuple[ReferralStatus | str, ...] | list | None = None,
    now: datetime | None = None,
) -> list[ReferralRow]:
    """Referrals not cleared (or those in `statuses`) in the clinic's work order: first contact still to make,
    then waiting on a professional or a clearance, then closed; within each, emergency, urgent, refer and the
    longest waiting first. `overdue`: not contacted within the level's time (1 h, 24 h, 7 days)."""
    gym_id = scope_gym(actor, gym_id)
    guard(db, actor, Action.REFERRAL_READ, gym_id, attempt="referral.queue", entity="referrals")
    try:
        wanted = [ReferralStatus(s).value for s in (statuses or OPEN_STATUSES)]
    except ValueError:
        raise InvalidInput("statuses", f"must be among {', '.join(s.value for s in ReferralStatus)}") from None
    now = now or utcnow()
    with db.read("reading the referral queue") as cur:
        rows = rows_as_dicts(
            cur.execute(
                _REFERRAL_SELECT
                + " WHERE r.status = ANY($statuses) AND ($gym_id IS NULL OR r.gym_id = $gym_id)"
                + _WORK_ORDER,
                {"now": now, "statuses": wanted, "gym_id": gym_id},
            )
        )
    return [referral_row(r) for r in rows]


def _referral_gym(db: Database, referral_id: int) -> int:
    with db.read("looking up the referral") as cur:
        row = cur.execute("SELECT gym_id FROM referrals WHERE id = ?", [referral_id]).fetchone()
    if row is None:
        raise Unavailable()  # reads like a refusal: ids cannot be probed
    return int(row[0])


def get_referral(db: Database, *, actor: Actor, referral_id: int, now: datetime | None = None) -> ReferralRow:
    gym_id = _referral_gym(db, referral_id)
    guard(db, actor, Action.REFERRAL_READ, gym_id, attempt="referral.view", entity="referrals", entity_id=referral_id)
    with db.read("reading the referral") as cur:
        return referral_row(_fetch_referral(cur, referral_id, now or utcnow()))


def referral_events(db: Database, *, actor: Actor, referral_id: int) -> list[ReferralEventRow]:
    """The referral's status history, oldest first. The notes are the clinic's working notes about the
    client's health: only those who may read the handoff get them (a trainer sees each status, who set it and
    when, and the restrictions on the referral itself, with `note` None)."""
    gym_id = _referral_gym(db, referral_id)
    guard(db, actor, Action.REFERRAL_READ, gym_id, attempt="referral.view", entity="referrals", entity_id=referral_id)
    with db.read("reading the referral history") as cur:
        rows = rows_as_dicts(
            cur.execute(
                "SELECT id, referral_id, event_at, status, author, CASE WHEN $notes THEN note END AS note "
                "FROM referral_events WHERE referral_id = $id ORDER BY event_at, id",
                {"id": referral_id, "notes": allowed(actor, Action.HANDOFF_READ, gym_id)},
            )
        )
    return [ReferralEventRow(**r) for r in rows]


def update_referral(
    db: Database,
    *,
    actor: Actor,
    referral_id: int,
    status: ReferralStatus | str,
    note: str | None = None,
    restrictions: str | None = None,
    expected_status: ReferralStatus | str | None = None,
    now: datetime | None = None,
) -> ReferralRow:
    """Move a referral on: new -> contacted -> seen -> cleared | cleared_with_restrictions | not_cleared
    (new -> seen allowed; not_cleared -> cleared later). A clearance needs a note. `expected_status`: the
    status the person saw when they typed the change; Conflict if the referral has moved on since (a second
    tap, or another clinician). The event and the audit row commit together."""
    gym_id = _referral_gym(db, referral_id)
    guard(
        db, actor, Action.REFERRAL_UPDATE, gym_id, attempt="referral.status", entity="referrals", entity_id=referral_id
    )
    target, note, restrictions = check_referral_change(status, note, restrictions)
    if expected_status is not None:
        try:
            expected_status = ReferralStatus(expected_status)
        except ValueError:
            raise InvalidInput(
                "expected_status", f"must be one of {', '.join(s.value for s in ReferralStatus)}"
            ) from None
    now = now or utcnow()
    detail = {"to": target.value}
    with db.transaction(actor, "referral.status", "referrals", referral_id, detail, now=now) as txn:
        cur = txn.cursor
        (current,) = the_row(cur.execute("SELECT status FROM referrals WHERE id = ?", [referral_id]))
        current = ReferralStatus(current)
        if expected_status is not None and current != expected_status:
            raise Conflict(
                f"This referral was changed meanwhile: it is now {current.value}, not "
                f"{expected_status.value}. Nothing was recorded; check it and try again."
            )
        if target not in NEXT_STATUSES[current]:
            next_ones = ", ".join(sorted(s.value for s in NEXT_STATUSES[current])) or "nothing (it is closed)"
            raise Conflict(
                f"A referral that is {current.value} cannot move to {target.value}; it can move to {next_ones}."
            )
        detail["from"] = current.value
        cur.execute(
            "UPDATE referrals SET status = ?, "
            "first_contact_at = CASE WHEN first_contact_at IS NULL THEN ? ELSE first_contact_at END, "
            "closed_at = CASE WHEN ? THEN ? ELSE closed_at END, "
            "restrictions = CASE WHEN ? THEN ? ELSE restrictions END WHERE id = ?",
            [
                target.value,
                now,
                target in CLEARED_STATUSES,
                now,
                target == S.CLEARED_WITH_RESTRICTIONS,
                restrictions,
                referral_id,
            ],
        )
        cur.execute(
            "INSERT INTO referral_events (referral_id, event_at, status, author, note) VALUES (?, ?, ?, ?, ?)",
            [referral_id, now, target.value, actor.username, note],
        )
        row = _fetch_referral(cur, referral_id, now)
    return referral_row(row)


def handoff_summary(db: Database, *, actor: Actor, referral_id: int, now: datetime | None = None) -> HandoffSummary:
    """Everything the clinic needs to pick the referral up; the view is audited."""
    gym_id = _referral_gym(db, referral_id)
    guard(db, actor, Action.HANDOFF_READ, gym_id, attempt="handoff.view", entity="referrals", entity_id=referral_id)
    with db.read("reading the handoff") as cur:
        ref = the_row_as_dict(
            cur.execute(
                "SELECT r.report_id, r.level, r.status, r.opened_at, c.name AS client_name, "
                "c.external_id AS client_external_id, g.name AS gym_name, c.phone, c.email "
                "FROM referrals AS r JOIN clients AS c ON c.id = r.client_id JOIN gyms AS g ON g.id = r.gym_id "
                "WHERE r.id = ?",
                [referral_id],
            )
        )
        report = report_row(
            the_row_as_dict(cur.execute(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id = ?", [ref["report_id"]]))
        )
        # The trainer who wrote the report, by their account id when the report has one.
        by_id = report.author_id is not None
        author = one_as_dict(
            cur.execute(
                f"SELECT display_name, contact FROM users WHERE {'id' if by_id else 'username'} = ?",
                [report.author_id if by_id else report.author],
            )
        )
        session = one_as_dict(
            cur.execute(
                "SELECT date, minutes, rpe, rpe * minutes AS load, exercises, warmup_minutes, cooldown_done "
                f"FROM sessions WHERE client_id = ? AND date <= ? AND {READABLE_DATE} "
                "ORDER BY date DESC, id DESC LIMIT 1",
                [report.client_id, report.created_at.date()],
            )
        )
    db.audit(actor, "handoff.view", "referrals", referral_id, outcome="ok", now=now)
    if session is not None:
        session["exercises"] = tuple(e for e in (session["exercises"] or "").split(";") if e)
    return HandoffSummary(
        referral_id=referral_id,
        report_id=report.id,
        status=ref["status"],
        client_name=ref["client_name"],
        client_external_id=ref["client_external_id"],
        gym_name=ref["gym_name"],
        level=ref["level"],
        opened_at=ref["opened_at"],
        answers={**report.answers, "context": None if report.context is None else report.context.model_dump()},
        findings=tuple(
            HandoffFinding(rule_id=f.rule_id, level=f.level, summary=f.summary, source=f.source)
            for f in report.result.findings
        ),
        causes=tuple((c.cause, tuple(c.evidence)) for c in report.result.causes),
        hours_since_workout=report.answers["hours_since_workout"],
        pain_score=report.answers["pain_score"],
        pain_trend=report.answers["trend"],
        previous_pain_score=report.history.previous_pain_score,
        episode_pain_scores=report.history.episode_pain_scores,
        age=report.age,
        answered_after_stop=report.answered_after_stop,
        session_before=None if session is None else HandoffSession(**session),
        trainer_name=author["display_name"] if author else report.author,
        trainer_contact=author["contact"] if author else None,
        client_phone=ref["phone"],
        client_email=ref["email"],
    )
