"""Reads for one client's history page: aggregated chart series and the client's referrals.

Charts never receive raw rows: the pain series is one row per day, the load series one row per 7-day week.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

from backcare import load
from backcare.auth import Action, Actor
from backcare.errors import InvalidInput
from backcare.store._base import client_gym, guard, rows_as_dicts
from backcare.store.assignments import list_assignments
from backcare.store.clients import get_client
from backcare.store.db import Database, utcnow
from backcare.store.records import AssignmentRow, ClientRow, ClientStatus, ReferralRow, ReportRow, SessionRow
from backcare.store.referrals import _REFERRAL_SELECT, _referral
from backcare.store.reports import list_reports
from backcare.store.sessions import list_sessions

_ROW = ConfigDict(frozen=True, extra="forbid")


class PainDay(BaseModel):
    """The client's pain on one day with reports: the worst and the latest score (None when no report of the
    day had its pain asked: an emergency stop)."""

    model_config = _ROW

    day: date
    reports: int
    worst_pain: int | None
    last_pain: int | None
    worst_level: str


class LoadWeek(BaseModel):
    """One 7-day week of training load, with the acute:chronic ratio on its last day (a load-spike
    indicator, never an injury prediction)."""

    model_config = _ROW

    week_start: date
    week_end: date
    sessions: int
    load: float
    chronic_weekly_load: float
    ratio: float | None
    spike: bool


def _check_read(db: Database, actor: Actor, client_id: int, attempt: str) -> None:
    guard(db, actor, Action.CLIENT_READ, client_gym(db, client_id), attempt=attempt, entity="clients",
          entity_id=client_id)


def pain_by_day(db: Database, *, actor: Actor, client_id: int, days: int = 180,
                on: date | None = None) -> list[PainDay]:
    """One row per day with at least one report in the `days` days ending on `on`, oldest first."""
    if not 1 <= days <= 3 * 366:
        raise InvalidInput("days", "must be between 1 and 1098")
    _check_read(db, actor, client_id, "client.pain")
    on = on or utcnow().date()
    with db.read("reading the pain history") as cur:
        rows = rows_as_dicts(cur.execute(
            """
            SELECT CAST(created_at AS DATE) AS day, count(*) AS reports, max(pain_score) AS worst_pain,
                   arg_max(pain_score, created_at) FILTER (WHERE pain_score IS NOT NULL) AS last_pain,
                   arg_max(level, CASE level WHEN 'emergency' THEN 4 WHEN 'urgent' THEN 3 WHEN 'refer' THEN 2
                                             WHEN 'monitor' THEN 1 ELSE 0 END) AS worst_level
            FROM reports
            WHERE client_id = ? AND created_at >= ? AND created_at < ?
            GROUP BY CAST(created_at AS DATE)
            ORDER BY day
            """, [client_id, on - timedelta(days=days - 1), on + timedelta(days=1)]))
    return [PainDay(**r) for r in rows]


def _weekly_band_sql() -> str:
    return f"""
SELECT day - {load.ACUTE_DAYS - 1} AS week_start, day AS week_end, weekly_sessions AS sessions,
       weekly_load AS load, chronic_weekly_load, acute_chronic_ratio AS ratio
FROM ({load.one_client_daily_sql()})
WHERE date_diff('day', day, CAST($last_day AS DATE)) % {load.ACUTE_DAYS} = 0
ORDER BY day
"""


def weekly_load_band(db: Database, *, actor: Actor, client_id: int, weeks: int = 12,
                     on: date | None = None) -> list[LoadWeek]:
    """The last `weeks` 7-day weeks ending on `on` (today by default), oldest first, each with its
    acute:chronic ratio and whether that ratio is a spike (>= the triage threshold)."""
    if not 1 <= weeks <= 156:
        raise InvalidInput("weeks", "must be between 1 and 156")
    _check_read(db, actor, client_id, "client.load")
    on = on or utcnow().date()
    first_week_end = on - timedelta(days=load.ACUTE_DAYS * (weeks - 1))
    with db.read("computing the weekly load") as cur:
        rows = rows_as_dicts(cur.execute(_weekly_band_sql(),
                                         {"client_id": client_id, "first_day": first_week_end, "last_day": on}))
    return [LoadWeek(**r, spike=load.is_spike(r["ratio"])) for r in rows]


def client_referrals(db: Database, *, actor: Actor, client_id: int, open_only: bool = False,
                     limit: int = 10) -> list[ReferralRow]:
    """A client's referrals, newest first (the open ones only with `open_only`)."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.referrals", entity="clients",
          entity_id=client_id, also=(Action.REFERRAL_READ,))
    with db.read("reading the client's referrals") as cur:
        rows = rows_as_dicts(cur.execute(
            _REFERRAL_SELECT + " WHERE r.client_id = $client_id AND (NOT $open_only OR r.status NOT IN "
            "('cleared', 'cleared_with_restrictions')) ORDER BY r.opened_at DESC, r.id DESC "
            f"LIMIT {max(1, int(limit))}",
            {"now": utcnow(), "client_id": client_id, "open_only": open_only}))
    return [_referral(r) for r in rows]


class ClientHistory(BaseModel):
    """Everything the history page shows for one client, read in one call."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    client: ClientRow
    status: ClientStatus
    sessions: tuple[SessionRow, ...]
    reports: tuple[ReportRow, ...]
    pain: tuple[PainDay, ...]
    load: tuple[LoadWeek, ...]
    assignments: tuple[AssignmentRow, ...]
    referrals: tuple[ReferralRow, ...]


def client_history(db: Database, *, actor: Actor, client_id: int, recent: int = 20, weeks: int = 12,
                   pain_days: int = 180, audit: bool = True, on: date | None = None) -> ClientHistory:
    """The client's record, status, recent sessions and reports, the pain and load series, plans and
    referrals. `audit`: record the 'client.history' view (the page does so once per client and sign-in)."""
    on = on or utcnow().date()
    client = get_client(db, actor=actor, client_id=client_id, audit=False)
    return ClientHistory(
        client=client,
        status=client.status,
        sessions=tuple(list_sessions(db, actor=actor, client_id=client_id, limit=recent)),
        reports=tuple(list_reports(db, actor=actor, client_id=client_id, limit=recent, audit=audit)),
        pain=tuple(pain_by_day(db, actor=actor, client_id=client_id, days=pain_days, on=on)),
        load=tuple(weekly_load_band(db, actor=actor, client_id=client_id, weeks=weeks, on=on)),
        assignments=tuple(list_assignments(db, actor=actor, client_id=client_id)),
        referrals=tuple(client_referrals(db, actor=actor, client_id=client_id)),
    )
