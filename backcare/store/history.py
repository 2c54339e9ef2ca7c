"""Reads for one client's history page: aggregated chart series and the client's referrals.

Charts never receive raw rows: the pain series is one row per day, the load series one row per 7-day week.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from backcare.auth import Action, Actor
from backcare.errors import InvalidInput, Unavailable
from backcare.store import load
from backcare.store._base import client_gym, guard, one_as_dict, rows_as_dicts
from backcare.store.assignments import assignments_in
from backcare.store.clients import one_client_select
from backcare.store.db import Database, utcnow
from backcare.store.records import AssignmentRow, ClientRow, ClientStatus, ReferralRow, ReportRow, SessionRow
from backcare.store.referrals import referral_row, referral_select
from backcare.store.reports import REPORT_COLUMNS, report_row
from backcare.store.sessions import READABLE_DATE, SESSION_COLUMNS, session_row
from backcare.store.status import status_params

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
    guard(
        db, actor, Action.CLIENT_READ, client_gym(db, client_id), attempt=attempt, entity="clients", entity_id=client_id
    )


def _check_pain_days(days: int) -> None:
    if not 1 <= days <= 3 * 366:
        raise InvalidInput("days", "must be between 1 and 1098")


def _check_weeks(weeks: int) -> None:
    if not 1 <= weeks <= 156:
        raise InvalidInput("weeks", "must be between 1 and 156")


def pain_by_day(
    db: Database, *, actor: Actor, client_id: int, days: int = 180, on: date | None = None
) -> list[PainDay]:
    """One row per day with at least one report in the `days` days ending on `on`, oldest first."""
    _check_pain_days(days)
    _check_read(db, actor, client_id, "client.pain")
    with db.read("reading the pain history") as cur:
        return _pain_in(cur, client_id, days, on or utcnow().date())


_SEVERITY = {"emergency": 4, "urgent": 3, "refer": 2, "monitor": 1}  # any other level: 0


def _pain_in(cur, client_id: int, days: int, on: date) -> list[PainDay]:
    """Per day: the reports, the worst score, the latest score asked and the most serious level. The window's
    reports are read as four narrow columns and grouped here: the GROUP BY with two ordered array_aggs cost
    DuckDB twice the time of the plain read (mostly planning), for a few dozen rows at most."""
    rows = cur.execute(
        "SELECT created_at, id, pain_score, level FROM reports "
        "WHERE client_id = ? AND created_at >= ? AND created_at < ?",
        [client_id, on - timedelta(days=days - 1), on + timedelta(days=1)],
    ).fetchall()
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)  # latest first
    by_day: dict[date, list[tuple]] = {}
    for row in rows:
        by_day.setdefault(row[0].date(), []).append(row)
    pain = []
    for day in sorted(by_day):
        reports = by_day[day]
        scores = [score for _, _, score, _ in reports if score is not None]
        pain.append(
            PainDay(
                day=day,
                reports=len(reports),
                worst_pain=max(scores, default=None),
                last_pain=scores[0] if scores else None,
                worst_level=max((level for _, _, _, level in reports), key=lambda level: _SEVERITY.get(level, 0)),
            )
        )
    return pain


def weekly_load_band(
    db: Database, *, actor: Actor, client_id: int, weeks: int = 12, on: date | None = None
) -> list[LoadWeek]:
    """The last `weeks` 7-day weeks ending on `on` (today by default), oldest first, each with its
    acute:chronic ratio and whether that ratio is a spike (>= the triage threshold)."""
    _check_weeks(weeks)
    _check_read(db, actor, client_id, "client.load")
    with db.read("computing the weekly load") as cur:
        return _band_in(cur, client_id, weeks, on or utcnow().date())


def _band_in(cur, client_id: int, weeks: int, on: date) -> list[LoadWeek]:
    """load.one_client_band_sql's rows (tests/test_history_round_trips.py holds them equal) from one plain
    GROUP BY over the client's sessions: the days' sums and the first session's date come from SQL, the weeks
    and their 4-week window over those few sums are done here. The band SQL's CTEs, window and series cost
    DuckDB more to plan than to run (about 3 ms of a history read at chain scale); the aggregate about 1.5."""
    lo = on - timedelta(days=load.ACUTE_DAYS * (weeks + load.CHRONIC_WEEKS - 1) - 1)
    sums: dict[int, tuple[int, float]] = {}
    first: date | None = None
    for day, sessions, day_load, earliest in cur.execute(
        _BAND_SUMS, {"client_id": client_id, "lo": lo, "on": on}
    ).fetchall():
        if day is not None:
            back = (on - day).days // load.ACUTE_DAYS
            week_sessions, week_load = sums.get(back, (0, 0.0))
            sums[back] = (week_sessions + int(sessions), week_load + float(day_load))
        first = earliest if first is None or earliest < first else first
    loads = [sums.get(back, (0, 0.0))[1] for back in range(weeks + load.CHRONIC_WEEKS - 1)]
    band = []
    for back in range(weeks - 1, -1, -1):
        sessions, week_load = sums.get(back, (0, 0.0))
        chronic = sum(loads[back : back + load.CHRONIC_WEEKS])
        week_end = on - timedelta(days=load.ACUTE_DAYS * back)
        full_history = first is not None and first <= week_end - timedelta(days=load.CHRONIC_DAYS - 1)
        ratio = None if chronic == 0 or not full_history else week_load / (chronic / load.CHRONIC_WEEKS)
        band.append(
            LoadWeek(
                week_start=week_end - timedelta(days=load.ACUTE_DAYS - 1),
                week_end=week_end,
                sessions=sessions,
                load=week_load,
                chronic_weekly_load=chronic / load.CHRONIC_WEEKS,
                ratio=ratio,
                spike=load.is_spike(ratio),
            )
        )
    return band


# Per day of the band's weeks (NULL: a session outside them, kept for the first session's date). Grouped by
# the plain date, not by a computed week number: the expression cost DuckDB more to plan than the rows to read.
_BAND_SUMS = f"""
SELECT CASE WHEN date BETWEEN CAST($lo AS DATE) AND CAST($on AS DATE) THEN date END AS day,
       count(*) AS sessions, sum({load.SESSION_LOAD_SQL}) AS load, min(date) AS first_day
FROM sessions
WHERE client_id = $client_id
GROUP BY 1
"""


def client_referrals(
    db: Database, *, actor: Actor, client_id: int, open_only: bool = False, limit: int = 10
) -> list[ReferralRow]:
    """A client's referrals, newest first (the open ones only with `open_only`)."""
    gym_id = client_gym(db, client_id)
    guard(
        db,
        actor,
        Action.CLIENT_READ,
        gym_id,
        attempt="client.referrals",
        entity="clients",
        entity_id=client_id,
        also=(Action.REFERRAL_READ,),
    )
    with db.read("reading the client's referrals") as cur:
        return _referrals_in(cur, client_id, open_only, limit)


def _referrals_in(cur, client_id: int, open_only: bool = False, limit: int = 10) -> list[ReferralRow]:
    # the open-only condition only when asked for: the history page's read (all of them) plans no dead branch
    only_open = " AND r.status NOT IN ('cleared', 'cleared_with_restrictions')" if open_only else ""
    rows = rows_as_dicts(
        cur.execute(
            referral_select() + f" WHERE r.client_id = $client_id{only_open} ORDER BY r.opened_at DESC, r.id DESC "
            f"LIMIT {max(1, int(limit))}",
            {"now": utcnow(), "client_id": client_id},
        )
    )
    return [referral_row(r) for r in rows]


_HISTORY_REFERRALS = 10  # the history page's referrals: the latest ten


def _latest_referrals_in(cur, client: ClientRow, since: datetime | None) -> list[ReferralRow]:
    """_referrals_in(cur, client.id), given `since`, the opening time of the 10th latest referral: the
    referrals from then on, sorted here (see _latest_reports_in), the client's name and number from its row."""
    if since is None:
        return []
    rows = rows_as_dicts(
        cur.execute(
            referral_select(with_client=False) + " WHERE r.client_id = $client_id AND r.opened_at >= $since",
            {"now": utcnow(), "client_id": client.id, "since": since},
        )
    )
    rows.sort(key=lambda row: (row["opened_at"], row["id"]), reverse=True)
    for row in rows:
        row.setdefault("client_name", client.name)
        row.setdefault("client_external_id", client.external_id)
    return [referral_row(row) for row in rows[:_HISTORY_REFERRALS]]


def _client_in(cur, client_id: int, recent: int) -> tuple[ClientRow, date | None, datetime | None, datetime | None]:
    """The client's row and status (clients.one_client_select), with the date of the client's `recent`-th
    latest session and the time of the `recent`-th latest report and of the 10th latest referral (None: none)
    in the same statement, for the _latest_*_in reads. Unavailable when there is no such client."""
    n = max(1, int(recent))
    sql = one_client_select(
        f"(SELECT min(date) FROM (SELECT date FROM sessions WHERE client_id = $client_id AND {READABLE_DATE} "
        f"ORDER BY date DESC LIMIT {n}) AS latest) AS sessions_since, "
        "(SELECT min(created_at) FROM (SELECT created_at FROM reports WHERE client_id = $client_id "
        f"ORDER BY created_at DESC LIMIT {n}) AS latest) AS reports_since, "
        "(SELECT min(opened_at) FROM (SELECT opened_at FROM referrals WHERE client_id = $client_id "
        f"ORDER BY opened_at DESC LIMIT {_HISTORY_REFERRALS}) AS latest) AS referrals_since"
    )
    row = one_as_dict(cur.execute(sql, {**status_params(None), "client_id": client_id}))
    if row is None:
        raise Unavailable()  # reads like a refusal: ids cannot be probed
    since = row.pop("sessions_since"), row.pop("reports_since"), row.pop("referrals_since")
    return ClientRow(**row), *since


def _latest_sessions_in(cur, client_id: int, recent: int, since: date | None) -> list[SessionRow]:
    """sessions_in(cur, client_id, recent), given `since`, the date of the `recent`-th latest session: the
    sessions from then on, sorted here (see _latest_reports_in)."""
    if since is None or recent < 1:
        return []
    rows = rows_as_dicts(
        cur.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE client_id = ? AND date >= ? AND {READABLE_DATE}",
            [client_id, since],
        )
    )
    rows.sort(key=lambda row: (row["date"], row["id"]), reverse=True)
    return [session_row(row) for row in rows[:recent]]


def _latest_reports_in(cur, client_id: int, recent: int, since: datetime | None) -> list[ReportRow]:
    """reports_in(cur, client_id, recent), given `since`, the time of the `recent`-th latest report: the ~41
    columns of the reports from then on, sorted here. One ORDER BY ... LIMIT over the wide rows made DuckDB
    scan the table twice (a top-N on the key, then the wide columns again); the bounded filter reads them
    once (about 0.8 ms of 7 at chain scale). Ties on the bounding time may bring a few more rows, which the
    sort cuts off."""
    if since is None or recent < 1:
        return []
    rows = rows_as_dicts(
        cur.execute(f"SELECT {REPORT_COLUMNS} FROM reports WHERE client_id = ? AND created_at >= ?", [client_id, since])
    )
    rows.sort(key=lambda row: (row["created_at"], row["id"]), reverse=True)
    return [report_row(row) for row in rows[:recent]]


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


def client_history(
    db: Database,
    *,
    actor: Actor,
    client_id: int,
    recent: int = 20,
    weeks: int = 12,
    pain_days: int = 180,
    audit: bool = True,
    on: date | None = None,
) -> ClientHistory:
    """The client's record, status, recent sessions and reports, the pain and load series, plans and
    referrals. `audit`: record the 'client.history' view (the page does so once per client and sign-in).

    One permission check (a refusal is audited as 'client.view', as reading the record alone is) and at most
    one query per panel on one cursor: the page reruns on every tap. At chain scale on DuckDB each statement's
    planning and any second scan cost more than its rows (issue 13), so the client's statement also finds
    where the latest sessions, reports and referrals begin, the wide reads are bounded by those times rather
    than sorted and cut by the engine (a top-N over wide rows scans the table twice), a panel known empty is
    not read, and the pain and load series are summed per day in SQL and grouped here."""
    _check_pain_days(pain_days)
    _check_weeks(weeks)
    on = on or utcnow().date()
    with db.read("reading the client's history") as cur:
        # NotFound before any permission question
        client, sessions_since, reports_since, referrals_since = _client_in(cur, client_id, recent)
        guard(
            db, actor, Action.CLIENT_READ, client.gym_id, attempt="client.view", entity="clients", entity_id=client_id
        )
        history = ClientHistory(
            client=client,
            status=client.status,
            sessions=tuple(_latest_sessions_in(cur, client_id, recent, sessions_since)),
            reports=tuple(_latest_reports_in(cur, client_id, recent, reports_since)),
            pain=tuple(_pain_in(cur, client_id, pain_days, on)),
            load=tuple(_band_in(cur, client_id, weeks, on)),
            assignments=tuple(assignments_in(cur, client_id)),
            referrals=tuple(_latest_referrals_in(cur, client, referrals_since)),
        )
    if audit:
        db.audit(actor, "client.history", "clients", client_id, outcome="ok")
    return history
