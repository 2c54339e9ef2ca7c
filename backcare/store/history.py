"""Reads for one client's history page: aggregated chart series and the client's referrals.

Charts never receive raw rows: the pain series is one row per day, the load series one row per 7-day week.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from backcare.auth import Action, Actor
from backcare.errors import InvalidInput, Unavailable
from backcare.store import load
from backcare.store._base import client_gym, guard, one_as_dict, rows_as_dicts
from backcare.store.assignments import assignments_in
from backcare.store.clients import one_client_select
from backcare.store.db import Database, utcnow
from backcare.store.records import (
    CLEARED_STATUSES,
    AssignmentRow,
    ClientRow,
    ClientStatus,
    ReferralRow,
    ReportSummary,
    SessionRow,
)
from backcare.store.referrals import referral_row, referral_select
from backcare.store.reports import SUMMARY_COLUMNS, report_summary
from backcare.store.sessions import READABLE_DATE, SESSION_COLUMNS, session_row
from backcare.store.status import MONITOR_WINDOW, is_open_referral, status_of

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
    return _pain_days(rows)


def _pain_days(rows: list[tuple]) -> list[PainDay]:
    """The pain series from (created_at, id, pain_score, level) rows of one window, any order."""
    rows = sorted(rows, key=lambda row: (row[0], row[1]), reverse=True)  # latest first
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
    lo = _band_start(weeks, on)
    days: dict[date, tuple[int, float]] = {}
    first: date | None = None
    for day, sessions, day_load, earliest in cur.execute(
        _BAND_SUMS, {"client_id": client_id, "lo": lo, "on": on}
    ).fetchall():
        if day is not None:
            days[day] = (int(sessions), float(day_load))
        first = earliest if first is None or earliest < first else first
    return _band_weeks(days, first, weeks, on)


def _band_start(weeks: int, on: date) -> date:
    """The first day the band's weeks and their chronic windows reach back to."""
    return on - timedelta(days=load.ACUTE_DAYS * (weeks + load.CHRONIC_WEEKS - 1) - 1)


def _band_weeks(days: dict[date, tuple[int, float]], first: date | None, weeks: int, on: date) -> list[LoadWeek]:
    """The band from the sessions and load of each day between _band_start() and `on`, and the date of the
    client's first session (None: none): the weeks and their 4-week window."""
    sums: dict[int, tuple[int, float]] = {}
    for day, (day_sessions, day_load) in days.items():
        back = (on - day).days // load.ACUTE_DAYS
        week_sessions, week_load = sums.get(back, (0, 0.0))
        sums[back] = (week_sessions + day_sessions, week_load + day_load)
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


# Per day of the band's weeks (NULL: a session outside them, kept for the first session's date; a session stored
# with an impossible date, year 0, is left out as every read leaves it out). Grouped by the plain date, not by a
# computed week number: the expression cost DuckDB more to plan than the rows to read.
_BAND_SUMS = f"""
SELECT CASE WHEN date BETWEEN CAST($lo AS DATE) AND CAST($on AS DATE) THEN date END AS day,
       count(*) AS sessions, sum({load.SESSION_LOAD_SQL}) AS load, min(date) AS first_day
FROM sessions
WHERE client_id = $client_id AND {READABLE_DATE}
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


def _latest_referrals_in(
    cur, client: dict, since: datetime | None, now: datetime
) -> tuple[list[ReferralRow], list[str]]:
    """_referrals_in(cur, client's id), given `since`, the opening time of the 10th latest referral, and the
    levels of every referral of the client not cleared (for status.status_of): one read of the referrals from
    then on or not cleared, sorted here (see _sessions_and_band_in), the client's name and number from its row."""
    if since is None:  # no referral at all
        return [], []
    closed = ", ".join(f"'{status}'" for status in CLEARED_STATUSES)
    rows = rows_as_dicts(
        cur.execute(
            referral_select(with_client=False)
            + f" WHERE r.client_id = $client_id AND (r.opened_at >= $since OR r.status NOT IN ({closed}))",
            {"now": now, "client_id": client["id"], "since": since},
        )
    )
    open_levels = [row["level"] for row in rows if is_open_referral(row["status"])]
    latest = sorted(
        (row for row in rows if row["opened_at"] >= since), key=lambda row: (row["opened_at"], row["id"]), reverse=True
    )[:_HISTORY_REFERRALS]
    for row in latest:
        row.setdefault("client_name", client["name"])
        row.setdefault("client_external_id", client["external_id"])
    return [referral_row(row) for row in latest], open_levels


class _Bounds(NamedTuple):
    """Where the history page's reads begin (None: the client has no such row)."""

    sessions_since: date | None  # the date of the `recent`-th latest session
    reports_since: datetime | None  # the time of the `recent`-th latest report
    referrals_since: datetime | None  # the opening of the 10th latest referral
    first_session: date | None  # the client's first session (the load band needs 4 weeks of history)


def _client_in(cur, client_id: int, recent: int) -> tuple[dict, _Bounds]:
    """The client's row without its status (clients.one_client_select) with the _Bounds of the page's other
    reads, in one statement. Unavailable when there is no such client."""
    n = max(1, int(recent))
    sql = one_client_select(
        f"(SELECT min(date) FROM (SELECT date FROM sessions WHERE client_id = $client_id AND {READABLE_DATE} "
        f"ORDER BY date DESC LIMIT {n}) AS latest) AS sessions_since, "
        "(SELECT min(created_at) FROM (SELECT created_at FROM reports WHERE client_id = $client_id "
        f"ORDER BY created_at DESC LIMIT {n}) AS latest) AS reports_since, "
        "(SELECT min(opened_at) FROM (SELECT opened_at FROM referrals WHERE client_id = $client_id "
        f"ORDER BY opened_at DESC LIMIT {_HISTORY_REFERRALS}) AS latest) AS referrals_since, "
        f"(SELECT min(date) FROM sessions WHERE client_id = $client_id AND {READABLE_DATE}) AS first_session",
        with_status=False,
    )
    row = one_as_dict(cur.execute(sql, {"client_id": client_id}))
    if row is None:
        raise Unavailable()  # reads like a refusal: ids cannot be probed
    bounds = _Bounds(
        row.pop("sessions_since"), row.pop("reports_since"), row.pop("referrals_since"), row.pop("first_session")
    )
    return row, bounds


def _sessions_and_band_in(
    cur, client_id: int, recent: int, bounds: _Bounds, weeks: int, on: date
) -> tuple[list[SessionRow], list[LoadWeek]]:
    """sessions_in(cur, client_id, recent) and _band_in(cur, client_id, weeks, on) from one read of the
    client's sessions from the earlier of the two's first day: the latest ones sorted here (a top-N over the
    rows made DuckDB scan the table twice) and the band's days summed here. Each statement costs DuckDB more
    to plan than its few rows to read (tests/test_history_round_trips.py holds both equal to their own reads)."""
    band_lo = _band_start(weeks, on)
    if bounds.first_session is None:  # no session at all
        return [], _band_weeks({}, None, weeks, on)
    since = bounds.sessions_since if recent >= 1 else None
    lo = band_lo if since is None else min(since, band_lo)
    rows = rows_as_dicts(
        cur.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE client_id = ? AND date >= ? AND {READABLE_DATE}",
            [client_id, lo],
        )
    )
    days: dict[date, tuple[int, float]] = {}
    for row in rows:
        if band_lo <= row["date"] <= on:
            sessions, day_load = days.get(row["date"], (0, 0.0))
            days[row["date"]] = (sessions + 1, day_load + row["rpe"] * row["minutes"])  # load.SESSION_LOAD_SQL
    band = _band_weeks(days, bounds.first_session, weeks, on)
    if since is None:
        return [], band
    latest = sorted((row for row in rows if row["date"] >= since), key=lambda r: (r["date"], r["id"]), reverse=True)
    return [session_row(row) for row in latest[:recent]], band


def _reports_and_pain_in(
    cur, client_id: int, recent: int, bounds: _Bounds, pain_days: int, on: date, monitor_since: datetime
) -> tuple[list[ReportSummary], list[PainDay], bool]:
    """reports_in(cur, client_id, recent) as ReportSummary rows, _pain_in(cur, client_id, pain_days, on) and
    whether a `monitor` report was made from `monitor_since` on (for status.status_of), from one read of the
    client's reports from the earliest of the three's first time (see _sessions_and_band_in); ties on the
    bounding time may bring a few more rows, which the sort cuts off."""
    if bounds.reports_since is None:  # no report at all
        return [], [], False
    pain_lo = datetime.combine(on - timedelta(days=pain_days - 1), time.min)
    pain_hi = datetime.combine(on + timedelta(days=1), time.min)
    since = bounds.reports_since if recent >= 1 else None
    lo = min(pain_lo, monitor_since) if since is None else min(since, pain_lo, monitor_since)
    rows = rows_as_dicts(
        cur.execute(f"SELECT {SUMMARY_COLUMNS} FROM reports WHERE client_id = ? AND created_at >= ?", [client_id, lo])
    )
    pain = _pain_days(
        [(r["created_at"], r["id"], r["pain_score"], r["level"]) for r in rows if pain_lo <= r["created_at"] < pain_hi]
    )
    recent_monitor = any(r["level"] == "monitor" and r["created_at"] >= monitor_since for r in rows)
    if since is None:
        return [], pain, recent_monitor
    latest = sorted(
        (r for r in rows if r["created_at"] >= since), key=lambda r: (r["created_at"], r["id"]), reverse=True
    )
    return [report_summary(row) for row in latest[:recent]], pain, recent_monitor


class ClientHistory(BaseModel):
    """Everything the history page shows for one client, read in one call."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    client: ClientRow
    status: ClientStatus
    sessions: tuple[SessionRow, ...]
    reports: tuple[ReportSummary, ...]  # without the context and history the rules saw
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
    now: datetime | None = None,
) -> ClientHistory:
    """The client's record, status, recent sessions and reports, the pain and load series, plans and
    referrals. `audit`: record the 'client.history' view (the page does so once per client and sign-in); `on`:
    the last day of the series (today); `now`: the time the status and the referrals' waiting are judged at.

    One permission check (a refusal is audited as 'client.view', as reading the record alone is) and at most
    one query per panel on one cursor: the page reruns on every tap. At chain scale on DuckDB each statement's
    planning and any second scan cost more than its rows (issue 13), so the client's statement also finds
    where the latest sessions, reports and referrals begin, the wide reads are bounded by those times rather
    than sorted and cut by the engine (a top-N over wide rows scans the table twice), a panel known empty is
    not read, and one read of the sessions (of the reports) gives both the latest rows and the load band (the
    pain series), summed and grouped here."""
    _check_pain_days(pain_days)
    _check_weeks(weeks)
    now = now or utcnow()
    on = on or now.date()
    with db.read("reading the client's history") as cur:
        # NotFound before any permission question
        row, bounds = _client_in(cur, client_id, recent)
        guard(
            db, actor, Action.CLIENT_READ, row["gym_id"], attempt="client.view", entity="clients", entity_id=client_id
        )
        monitor_since = now - MONITOR_WINDOW
        sessions, band = _sessions_and_band_in(cur, client_id, recent, bounds, weeks, on)
        reports, pain, recent_monitor = _reports_and_pain_in(
            cur, client_id, recent, bounds, pain_days, on, monitor_since
        )
        assignments = assignments_in(cur, client_id)
        referrals, open_levels = _latest_referrals_in(cur, row, bounds.referrals_since, now)
        # the status from the rows the panels read (status.status_of), not a subquery of the client statement
        status = status_of(open_levels, recent_monitor, any(a.status == "active" for a in assignments))
        client = ClientRow(**row, status=status)
        history = ClientHistory(
            client=client,
            status=status,
            sessions=tuple(sessions),
            reports=tuple(reports),
            pain=tuple(pain),
            load=tuple(band),
            assignments=tuple(assignments),
            referrals=tuple(referrals),
        )
    if audit:
        db.audit(actor, "client.history", "clients", client_id, outcome="ok")
    return history
