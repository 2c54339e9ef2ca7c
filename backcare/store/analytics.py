"""Managers' trends: every figure aggregated in SQL, permission-checked, with no client names or ids.

The small-group rule lives here and only here: a figure that describes fewer than MIN_GROUP_CLIENTS
distinct clients is NULL in the SQL result, and `TrendTable.display()` shows it as SUPPRESSED_TEXT.
A row's `clients` column is itself such a figure. Charts drop NULL cells, so a suppressed figure never
reaches the browser as a number. Where shown figures add up to a total shown anywhere on the page
(levels to their week, weeks and gyms to the summary, plans to all plans...), `complement()` hides a
second figure so that no hidden one can be recovered by subtraction (secondary suppression).
DuckDB-specific features (median, quantile_cont, ASOF JOIN, arg_max)
are allowed in this module only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd

from backcare.auth import Action, Actor
from backcare.errors import InvalidInput
from backcare.models import CauseId, Level
from backcare.rules import CAUSE_LABELS
from backcare.store._base import guard, scope_gym
from backcare.store.db import Database, utcnow
from backcare.store.referrals import CONTACT_WITHIN

MIN_GROUP_CLIENTS = 5
SUPPRESSED_TEXT = f"fewer than {MIN_GROUP_CLIENTS}"
OUTCOME_WINDOW = timedelta(days=28)   # pain change "in the 4 weeks after" the plan (or the report)
MEANINGFUL_CHANGE = 2                 # NPRS: a 2-point change is meaningful
RED_FLAG_LEVELS: tuple[Level, ...] = tuple(level for level in Level if level.needs_professional)
ALL_PLANS = "all plans"
WITH_PLAN = "with a plan"
WITHOUT_PLAN = "without a plan"

_LEVEL_ORDER = "CASE {col} " + " ".join(f"WHEN '{lv.value}' THEN {lv.rank}" for lv in Level) + " END"
_RED = "(" + ", ".join(f"'{lv.value}'" for lv in RED_FLAG_LEVELS) + ")"
_REPORTS_IN_RANGE = ("r.created_at >= $start AND r.created_at < $end "
                     "AND ($gym_id IS NULL OR r.gym_id = $gym_id)")


def kept(expr: str, *client_counts: str) -> str:
    """SQL: `expr` when every client count given reaches MIN_GROUP_CLIENTS, else NULL (suppressed)."""
    test = " AND ".join(f"({c}) >= {MIN_GROUP_CLIENTS}" for c in client_counts)
    return f"CASE WHEN {test} THEN {expr} END"


def is_suppressed(clients: int) -> bool:
    """The same rule in Python, for figures computed outside SQL and for tests."""
    return clients < MIN_GROUP_CLIENTS


@dataclass(frozen=True, eq=False)
class TrendTable:
    """One aggregate: `frame` holds numbers (NULL where suppressed); `guarded` names the columns the
    small-group rule applies to."""

    name: str
    title: str
    frame: pd.DataFrame
    guarded: tuple[str, ...] = field(default=())

    def display(self, *, text: bool = False) -> pd.DataFrame:
        """The table as shown and downloaded: suppressed cells read SUPPRESSED_TEXT. `text`: guarded
        columns as strings throughout (one type per column, for the browser's grid)."""
        shown = self.frame.copy()
        for column in shown.columns:  # weeks and months as plain dates
            if pd.api.types.is_datetime64_any_dtype(shown[column]):
                shown[column] = shown[column].dt.date
        for column in self.guarded:
            if column in shown.columns:
                values = shown[column]
                shown[column] = (values.astype("string").fillna(SUPPRESSED_TEXT) if text
                                 else values.astype(object).where(values.notna(), SUPPRESSED_TEXT))
        return shown

    def csv(self) -> bytes:
        return self.display().to_csv(index=False).encode("utf-8")

    def chartable(self, *columns: str) -> pd.DataFrame:
        """Rows whose given columns all carry a number (suppressed groups left out)."""
        return self.frame.dropna(subset=list(columns))

    @property
    def suppressed_cells(self) -> int:
        return int(sum(self.frame[c].isna().sum() for c in self.guarded if c in self.frame.columns))


@dataclass(frozen=True, eq=False)
class Trends:
    """Everything the trends page shows, for one date range and gym."""

    start: date
    end: date
    gym_id: int | None
    summary: TrendTable
    weekly_levels: TrendTable
    weekly_red_flags: TrendTable
    causes: TrendTable
    causes_monthly: TrendTable
    by_gym: TrendTable
    by_trainer: TrendTable
    first_contact: TrendTable
    first_contact_weekly: TrendTable
    plan_adherence: TrendTable
    plan_outcome: TrendTable

    def tables(self) -> tuple[TrendTable, ...]:
        return (self.summary, self.weekly_levels, self.weekly_red_flags, self.causes, self.causes_monthly,
                self.by_gym, self.by_trainer, self.first_contact, self.first_contact_weekly,
                self.plan_adherence, self.plan_outcome)


# --- secondary (complementary) suppression ---------------------------------------------------
#
# Hiding a small group is not enough when its siblings and their total are shown: total minus the
# shown siblings gives the hidden figure back. The rule below is the only place that prevents it.


@dataclass(frozen=True, eq=False)
class _Cell:
    """One suppressible figure: row `row` of `frame`, hidden when `value` is NULL; hiding it blanks
    `blank` (the figures of that row derived from it); `size` ranks it for "the smallest sibling"."""

    frame: pd.DataFrame
    row: object
    value: str
    blank: tuple[str, ...]
    size: str = "clients"

    def hidden(self) -> bool:
        return bool(pd.isna(self.frame.at[self.row, self.value]))

    def rank(self) -> float:
        size = self.frame.at[self.row, self.size]
        return float("inf") if pd.isna(size) else float(size)

    def hide(self) -> None:
        for column in self.blank:
            if pd.api.types.is_integer_dtype(self.frame[column]) and not pd.api.types.is_extension_array_dtype(
                    self.frame[column]):
                self.frame[column] = self.frame[column].astype("Int64")
            self.frame.loc[self.row, column] = None


# (total, siblings): the siblings add up to the total. A total of None is a figure shown elsewhere on
# the page (the summary metrics), treated as always public.
_Sum = tuple["_Cell | None", "list[_Cell]"]


def complement(sums: list[_Sum]) -> None:
    """Secondary suppression, in place, until no sum has exactly one hidden figure.

    A sum (total = sibling + sibling + ...) with exactly one hidden figure gives it away by
    subtraction. For each such sum we also hide the smallest shown sibling (by client count); only
    when no sibling is left to hide do we hide the total. Hiding a sibling rather than the total keeps
    the page most useful: the totals are the headline figures (summary metrics, weekly totals) and
    each is shown in several places (a total hidden here would have to be hidden everywhere it
    appears), while the sibling hidden is the smallest, the least informative figure of its
    breakdown. The loop re-checks every sum after each change, since a cell hidden in one sum can
    leave another sum (e.g. a week's levels and the weeks of the range) with exactly one hidden.
    """
    changed = True
    while changed:
        changed = False
        for total, siblings in sums:
            hidden = sum(c.hidden() for c in siblings) + (total is not None and total.hidden())
            if hidden != 1 or not siblings:
                continue
            shown = [c for c in siblings if not c.hidden()]
            if shown:
                min(shown, key=_Cell.rank).hide()
            elif total is not None:
                total.hide()
            else:  # a lone sibling equals the public total: they share one client count, hidden together
                continue
            changed = True


def _rows(frame: pd.DataFrame, value: str, blank: tuple[str, ...], size: str = "clients",
          where: pd.Series | None = None) -> list[_Cell]:
    index = frame.index if where is None else frame.index[where.to_numpy()]
    return [_Cell(frame, i, value, blank, size) for i in index]


# --- plumbing --------------------------------------------------------------------------------


def _params(db: Database, actor: Actor, start: date, end: date, gym_id: int | None, what: str) -> dict:
    """Check the range and the permission; the query parameters ($start, $end exclusive, $gym_id)."""
    if end < start:
        raise InvalidInput("end", "the end of the range cannot be before its start")
    gym_id = gym_id if gym_id is not None else actor.gym_id  # another gym than the actor's is refused
    guard(db, actor, Action.TRENDS_READ, gym_id, attempt=f"trends.{what}", entity="trends")
    return {"start": datetime.combine(start, time()), "end": datetime.combine(end + timedelta(days=1), time()),
            "gym_id": gym_id}


def _query(db: Database, sql: str, params: dict, doing: str) -> pd.DataFrame:
    with db.read(doing) as cur:
        return cur.execute(sql, params).df()


def _cause_labels(frame: pd.DataFrame) -> pd.DataFrame:
    frame["cause"] = frame["cause"].map(lambda c: CAUSE_LABELS.get(CauseId(c), c))
    return frame


# --- the aggregates --------------------------------------------------------------------------


def trends_summary(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """One row: reports, clients, red-flag reports and their share, referrals opened."""
    p = _params(db, actor, start, end, gym_id, "summary")
    clients = "count(DISTINCT r.client_id)"
    red_clients = f"count(DISTINCT r.client_id) FILTER (WHERE r.level IN {_RED})"
    frame = _query(db, f"""
        SELECT {kept('count(*)', clients)} AS reports,
               {kept(clients, clients)} AS clients,
               {kept(f'count(*) FILTER (WHERE r.level IN {_RED})', clients, red_clients)} AS red_flag_reports,
               {kept(f'round(100.0 * count(*) FILTER (WHERE r.level IN {_RED}) / count(*), 1)', clients,
                     red_clients)} AS red_flag_pct
        FROM reports AS r WHERE {_REPORTS_IN_RANGE}
    """, p, "summarising reports")
    return TrendTable("summary", "Summary", frame, ("reports", "clients", "red_flag_reports", "red_flag_pct"))


def _weekly_levels_frame(db: Database, p: dict) -> pd.DataFrame:
    clients = "count(DISTINCT r.client_id)"
    return _query(db, f"""
        SELECT CAST(date_trunc('week', r.created_at) AS DATE) AS week, r.level,
               {kept('count(*)', clients)} AS reports, {kept(clients, clients)} AS clients
        FROM reports AS r WHERE {_REPORTS_IN_RANGE}
        GROUP BY 1, 2 ORDER BY 1, {_LEVEL_ORDER.format(col='r.level')}
    """, p, "counting reports a week")


def _weekly_totals_frame(db: Database, p: dict) -> pd.DataFrame:
    clients = "count(DISTINCT r.client_id)"
    red_clients = f"count(DISTINCT r.client_id) FILTER (WHERE r.level IN {_RED})"
    return _query(db, f"""
        SELECT CAST(date_trunc('week', r.created_at) AS DATE) AS week,
               {kept('count(*)', clients)} AS reports,
               {kept(clients, clients)} AS clients,
               {kept(f'count(*) FILTER (WHERE r.level IN {_RED})', clients, red_clients)} AS red_flag_reports,
               {kept(f'round(100.0 * count(*) FILTER (WHERE r.level IN {_RED}) / count(*), 1)', clients,
                     red_clients)} AS red_flag_pct
        FROM reports AS r WHERE {_REPORTS_IN_RANGE}
        GROUP BY 1 ORDER BY 1
    """, p, "counting red flags a week")


_WEEK_GUARDED = ("reports", "clients", "red_flag_reports", "red_flag_pct")
_RED_COLUMNS = ("red_flag_reports", "red_flag_pct")


def _weekly(db: Database, p: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The levels of each week and the weeks' totals, suppressed together: the weeks add up to the
    summary; a week's levels add up to its reports, its red-flag levels to its red-flag reports, and its
    other levels plus its red-flag reports to its reports."""
    levels, weeks = _weekly_levels_frame(db, p), _weekly_totals_frame(db, p)
    red = levels["level"].isin([lv.value for lv in RED_FLAG_LEVELS])
    week_row = dict(zip(weeks["week"], _rows(weeks, "reports", _WEEK_GUARDED)))
    week_red = dict(zip(weeks["week"], _rows(weeks, "red_flag_reports", _RED_COLUMNS, size="red_flag_reports")))
    sums: list[_Sum] = [(None, list(week_row.values())), (None, list(week_red.values()))]
    for week in week_row:
        this = levels["week"] == week
        cells = lambda where: _rows(levels, "reports", ("reports", "clients"), where=where)  # noqa: E731
        sums += [(week_row[week], cells(this)), (week_red[week], cells(this & red)),
                 (week_row[week], cells(this & ~red) + [week_red[week]])]
    complement(sums)
    return levels, weeks


def weekly_levels(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Reports a week by triage level (weeks start on Monday)."""
    frame, _ = _weekly(db, _params(db, actor, start, end, gym_id, "weekly_levels"))
    return TrendTable("reports_per_week_by_level", "Reports a week by level", frame, ("reports", "clients"))


def weekly_red_flags(db: Database, *, actor: Actor, start: date, end: date,
                     gym_id: int | None = None) -> TrendTable:
    """Per week: reports, and the share at refer or above (a professional needed)."""
    _, frame = _weekly(db, _params(db, actor, start, end, gym_id, "weekly_red_flags"))
    return TrendTable("red_flag_share_per_week", "Share of red flags (refer and above) a week", frame,
                      _WEEK_GUARDED)


def _causes_frame(db: Database, p: dict) -> pd.DataFrame:
    return _query(db, f"""
        WITH base AS (SELECT r.id, r.client_id FROM reports AS r WHERE {_REPORTS_IN_RANGE}),
        per_cause AS (
            SELECT rc.cause, count(*) AS reports, count(DISTINCT b.client_id) AS clients
            FROM report_causes AS rc JOIN base AS b ON b.id = rc.report_id GROUP BY rc.cause
        )
        SELECT {kept('rank() OVER (PARTITION BY clients >= ' + str(MIN_GROUP_CLIENTS) + ' ORDER BY reports DESC)',
                     'clients')} AS rank,
               cause, {kept('reports', 'clients')} AS reports, {kept('clients', 'clients')} AS clients,
               {kept('round(100.0 * reports / (SELECT count(*) FROM base), 1)', 'clients')} AS pct_of_reports
        FROM per_cause ORDER BY per_cause.clients >= {MIN_GROUP_CLIENTS} DESC, per_cause.reports DESC, per_cause.cause
    """, p, "ranking causes")


def _causes_monthly_frame(db: Database, p: dict) -> pd.DataFrame:
    return _query(db, f"""
        WITH per_cause AS (
            SELECT CAST(date_trunc('month', r.created_at) AS DATE) AS month, rc.cause,
                   count(*) AS reports, count(DISTINCT r.client_id) AS clients
            FROM reports AS r JOIN report_causes AS rc ON rc.report_id = r.id
            WHERE {_REPORTS_IN_RANGE} GROUP BY 1, 2
        )
        SELECT month,
               {kept(f'rank() OVER (PARTITION BY month, clients >= {MIN_GROUP_CLIENTS} ORDER BY reports DESC)',
                     'clients')} AS rank,
               cause, {kept('reports', 'clients')} AS reports, {kept('clients', 'clients')} AS clients
        FROM per_cause ORDER BY per_cause.month, per_cause.clients >= {MIN_GROUP_CLIENTS} DESC, per_cause.reports DESC,
                 per_cause.cause
    """, p, "ranking causes by month")


def _causes(db: Database, p: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Causes over the range and by month, suppressed together: a cause's months add up to its row."""
    ranked, monthly = _causes_frame(db, p), _causes_monthly_frame(db, p)
    complement([(_Cell(ranked, i, "reports", ("rank", "reports", "clients", "pct_of_reports")),
                 _rows(monthly, "reports", ("rank", "reports", "clients"), where=monthly["cause"] == cause))
                for i, cause in zip(ranked.index, ranked["cause"])])
    return _cause_labels(ranked), _cause_labels(monthly)


def causes_ranked(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Contributing causes over the whole range, most reports first; share of all reports in the range."""
    frame, _ = _causes(db, _params(db, actor, start, end, gym_id, "causes"))
    return TrendTable("causes_ranked", "Contributing causes, ranked", frame,
                      ("rank", "reports", "clients", "pct_of_reports"))


def causes_by_month(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Causes ranked within each calendar month of the range."""
    _, frame = _causes(db, _params(db, actor, start, end, gym_id, "causes_monthly"))
    return TrendTable("causes_by_month", "Causes ranked by month", frame, ("rank", "reports", "clients"))


def _by_group(db: Database, p: dict, group_select: str, joins: str, group_by: str, doing: str) -> pd.DataFrame:
    clients = "count(DISTINCT r.client_id)"
    red_clients = f"count(DISTINCT r.client_id) FILTER (WHERE r.level IN {_RED})"
    return _query(db, f"""
        SELECT {group_select},
               {kept('count(*)', clients)} AS reports,
               {kept(clients, clients)} AS clients,
               {kept(f'count(*) FILTER (WHERE r.level IN {_RED})', clients, red_clients)} AS red_flag_reports,
               {kept(f'round(100.0 * count(*) FILTER (WHERE r.level IN {_RED}) / count(*), 1)', clients,
                     red_clients)} AS red_flag_pct
        FROM reports AS r {joins} WHERE {_REPORTS_IN_RANGE}
        GROUP BY {group_by} ORDER BY {group_by}
    """, p, doing)


_GROUP_GUARDED = ("reports", "clients", "red_flag_reports", "red_flag_pct")


def _gyms_and_trainers(db: Database, p: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """By gym and by trainer, suppressed together: the gyms, and all the trainers, add up to the summary;
    a gym's trainers add up to the gym (reports, and red-flag reports, each)."""
    gyms = _by_group(db, p, "g.name AS gym", "JOIN gyms AS g ON g.id = r.gym_id", "g.name",
                     "counting reports by gym")
    trainers = _by_group(db, p, "g.name AS gym, coalesce(u.display_name, r.author) AS trainer",
                         "JOIN gyms AS g ON g.id = r.gym_id LEFT JOIN users AS u ON u.id = r.author_id",
                         "g.name, coalesce(u.display_name, r.author)", "counting reports by trainer")
    sums: list[_Sum] = []
    for value, blank, size in (("reports", _GROUP_GUARDED, "clients"),
                               ("red_flag_reports", _RED_COLUMNS, "red_flag_reports")):
        per_gym = dict(zip(gyms["gym"], _rows(gyms, value, blank, size)))
        sums += [(None, list(per_gym.values())), (None, _rows(trainers, value, blank, size))]
        sums += [(cell, _rows(trainers, value, blank, size, where=trainers["gym"] == gym))
                 for gym, cell in per_gym.items()]
    complement(sums)
    return gyms, trainers


def reports_by_gym(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    frame, _ = _gyms_and_trainers(db, _params(db, actor, start, end, gym_id, "by_gym"))
    return TrendTable("reports_by_gym", "By gym", frame, _GROUP_GUARDED)


def reports_by_trainer(db: Database, *, actor: Actor, start: date, end: date,
                       gym_id: int | None = None) -> TrendTable:
    """By the trainer who made the report (staff names are not client data)."""
    _, frame = _gyms_and_trainers(db, _params(db, actor, start, end, gym_id, "by_trainer"))
    return TrendTable("reports_by_trainer", "By trainer", frame, _GROUP_GUARDED)


_TARGET_SECONDS = ("CASE f.level " + " ".join(
    f"WHEN '{lv.value}' THEN {int(span.total_seconds())}" for lv, span in CONTACT_WITHIN.items()) + " END")
_REFERRALS_IN_RANGE = ("f.opened_at >= $start AND f.opened_at < $end "
                       "AND ($gym_id IS NULL OR f.gym_id = $gym_id)")
_CONTACT_CTE = f"""
    timed AS (
        SELECT f.client_id, f.level, f.opened_at,
               date_diff('second', f.opened_at, f.first_contact_at) / 3600.0 AS hours,
               date_diff('second', f.opened_at, f.first_contact_at) <= {_TARGET_SECONDS} AS on_time,
               f.first_contact_at IS NOT NULL
                   OR date_diff('second', f.opened_at, $now) > {_TARGET_SECONDS} AS due
        FROM referrals AS f WHERE {_REFERRALS_IN_RANGE}
    )"""


def first_contact_times(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None,
                        now: datetime | None = None) -> TrendTable:
    """Hours from the report (the referral opens with it) to the clinic's first contact, by level.
    `on_time_pct`: of the referrals already due (contacted, or past the level's target), the share
    contacted within the target (1 h, 24 h, 7 days); `waiting_overdue`: past it and not contacted."""
    p = _params(db, actor, start, end, gym_id, "first_contact") | {"now": now or utcnow()}
    frame, _ = _first_contacts(db, p)
    return TrendTable("time_to_first_contact", "Time from report to first clinic contact", frame,
                      ("referrals", "clients", "contacted", "median_hours", "p90_hours", "on_time_pct",
                       "waiting_overdue"))


def _first_contact_frame(db: Database, p: dict) -> pd.DataFrame:
    clients = "count(DISTINCT client_id)"
    contacted = "count(DISTINCT client_id) FILTER (WHERE hours IS NOT NULL)"
    due = "count(DISTINCT client_id) FILTER (WHERE due)"
    late = "count(DISTINCT client_id) FILTER (WHERE due AND hours IS NULL)"
    return _query(db, f"""
        WITH {_CONTACT_CTE}
        SELECT level, {kept('count(*)', clients)} AS referrals, {kept(clients, clients)} AS clients,
               {kept('count(hours)', clients, contacted)} AS contacted,
               {kept('round(median(hours), 1)', clients, contacted)} AS median_hours,
               {kept('round(quantile_cont(hours, 0.9), 1)', clients, contacted)} AS p90_hours,
               {kept('round(100.0 * count(*) FILTER (WHERE due AND on_time) / count(*) FILTER (WHERE due), 1)',
                     clients, due)} AS on_time_pct,
               {kept('count(*) FILTER (WHERE due AND hours IS NULL)', clients, late)} AS waiting_overdue
        FROM timed GROUP BY level ORDER BY {_LEVEL_ORDER.format(col='level')} DESC
    """, p, "timing first contacts")


def _first_contact_weekly_frame(db: Database, p: dict) -> pd.DataFrame:
    contacted = "count(DISTINCT client_id) FILTER (WHERE hours IS NOT NULL)"
    return _query(db, f"""
        WITH {_CONTACT_CTE}
        SELECT CAST(date_trunc('week', opened_at) AS DATE) AS week, level,
               {kept('count(hours)', contacted)} AS contacted,
               {kept('round(median(hours), 1)', contacted)} AS median_hours
        FROM timed GROUP BY 1, 2 ORDER BY 1, {_LEVEL_ORDER.format(col='level')} DESC
    """, p, "timing first contacts a week")


def _first_contacts(db: Database, p: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """By level and by week and level, suppressed together: a level's weeks add up to its contacts."""
    levels, weekly = _first_contact_frame(db, p), _first_contact_weekly_frame(db, p)
    complement([(_Cell(levels, i, "contacted", ("contacted", "median_hours", "p90_hours"), "contacted"),
                 _rows(weekly, "contacted", ("contacted", "median_hours"), "contacted",
                       where=weekly["level"] == level))
                for i, level in zip(levels.index, levels["level"])])
    return levels, weekly


def first_contact_weekly(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None,
                         now: datetime | None = None) -> TrendTable:
    """Median hours to first contact, per week the referral opened and level."""
    p = _params(db, actor, start, end, gym_id, "first_contact") | {"now": now or utcnow()}
    _, frame = _first_contacts(db, p)
    return TrendTable("time_to_first_contact_per_week", "Median hours to first contact a week", frame,
                      ("contacted", "median_hours"))


_ASSIGNMENTS_IN_RANGE = ("a.created_at >= $start AND a.created_at < $end "
                         "AND ($gym_id IS NULL OR c.gym_id = $gym_id)")


def plan_adherence(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Plans assigned in the range, per plan and for all plans: the share completed."""
    p = _params(db, actor, start, end, gym_id, "plan_adherence")
    clients = "count(DISTINCT a.client_id)"
    frame = _query(db, f"""
        SELECT coalesce(a.plan_id, '{ALL_PLANS}') AS plan,
               {kept('count(*)', clients)} AS assigned, {kept(clients, clients)} AS clients,
               {kept("count(*) FILTER (WHERE a.status = 'completed')", clients)} AS completed,
               {kept("count(*) FILTER (WHERE a.status = 'stopped')", clients)} AS stopped,
               {kept("count(*) FILTER (WHERE a.status = 'active')", clients)} AS active,
               {kept("round(100.0 * count(*) FILTER (WHERE a.status = 'completed') / count(*), 1)", clients)}
                   AS completed_pct
        FROM assignments AS a JOIN clients AS c ON c.id = a.client_id
        WHERE {_ASSIGNMENTS_IN_RANGE}
        GROUP BY ROLLUP (a.plan_id) ORDER BY a.plan_id IS NULL, a.plan_id
    """, p, "measuring plan adherence")
    frame["plan"] = frame["plan"].map(lambda c: c if c == ALL_PLANS else CAUSE_LABELS.get(CauseId(c), c))
    guarded = ("assigned", "clients", "completed", "stopped", "active", "completed_pct")
    total = frame["plan"] == ALL_PLANS
    complement([(cell, _rows(frame, "assigned", guarded, where=~total))
                for cell in _rows(frame, "assigned", guarded, where=total)])
    return TrendTable("plan_adherence", "Plan adherence (share of assigned plans completed)", frame,
                      ("assigned", "clients", "completed", "stopped", "active", "completed_pct"))


def plan_outcome(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Pain-score change over the 4 weeks after a plan was assigned, next to reports without a plan.

    With a plan: baseline = the client's last report at or before the assignment; follow-up = their
    last report in the 28 days after it. Without: a normal or monitor report (a plan could have been
    given) with no plan of the client running in its 28 days; follow-up likewise. Pairs without a
    follow-up report are left out. Change = follow-up minus baseline (negative: less pain)."""
    p = _params(db, actor, start, end, gym_id, "plan_outcome")
    window = f"INTERVAL {int(OUTCOME_WINDOW.total_seconds())} SECOND"
    frame = _query(db, f"""
        WITH plan_starts AS (
            SELECT a.client_id, a.plan_id, a.created_at AS t0, b.id AS baseline_id, b.pain_score AS baseline
            FROM assignments AS a JOIN clients AS c ON c.id = a.client_id
            ASOF JOIN reports AS b ON b.client_id = a.client_id AND b.created_at <= a.created_at
            WHERE {_ASSIGNMENTS_IN_RANGE}
        ),
        bare_reports AS (
            SELECT r.client_id, NULL AS plan_id, r.created_at AS t0, r.id AS baseline_id, r.pain_score AS baseline
            FROM reports AS r
            WHERE {_REPORTS_IN_RANGE} AND r.level IN ('{Level.NORMAL.value}', '{Level.MONITOR.value}')
              AND NOT EXISTS (
                  SELECT 1 FROM assignments AS a
                  WHERE a.client_id = r.client_id AND a.created_at <= r.created_at + {window}
                    AND (a.ended_at IS NULL OR a.ended_at >= r.created_at))
        ),
        starts AS (
            SELECT *, true AS with_plan FROM plan_starts UNION ALL SELECT *, false FROM bare_reports
        ),
        pairs AS (
            SELECT s.with_plan, s.plan_id, s.client_id, s.baseline_id, s.t0,
                   arg_max(f.pain_score, f.created_at) - any_value(s.baseline) AS change
            FROM starts AS s JOIN reports AS f
              ON f.client_id = s.client_id AND f.created_at > s.t0 AND f.created_at <= s.t0 + {window}
            GROUP BY s.with_plan, s.plan_id, s.client_id, s.baseline_id, s.t0
        ),
        grouped AS (
            -- a report that started several plans at once counts once in the 'with a plan' row
            SELECT CASE WHEN with_plan THEN '{WITH_PLAN}' ELSE '{WITHOUT_PLAN}' END AS grp, NULL AS plan_id,
                   client_id, change FROM (SELECT DISTINCT with_plan, client_id, baseline_id, t0, change FROM pairs)
            UNION ALL
            SELECT '{WITH_PLAN}', plan_id, client_id, change FROM pairs WHERE with_plan
        )
        SELECT grp AS "group", plan_id AS plan,
               {kept('count(*)', 'count(DISTINCT client_id)')} AS pairs,
               {kept('count(DISTINCT client_id)', 'count(DISTINCT client_id)')} AS clients,
               {kept('round(avg(change), 2)', 'count(DISTINCT client_id)')} AS mean_change,
               {kept('median(change)', 'count(DISTINCT client_id)')} AS median_change,
               {kept(f'round(100.0 * count(*) FILTER (WHERE change <= -{MEANINGFUL_CHANGE}) / count(*), 1)',
                     'count(DISTINCT client_id)')} AS improved_pct,
               {kept(f'round(100.0 * count(*) FILTER (WHERE change >= {MEANINGFUL_CHANGE}) / count(*), 1)',
                     'count(DISTINCT client_id)')} AS worse_pct
        FROM grouped GROUP BY grp, plan_id
        ORDER BY grp = '{WITHOUT_PLAN}', plan_id IS NOT NULL, plan_id
    """, p, "measuring plan outcomes")
    for group in (WITH_PLAN, WITHOUT_PLAN):  # both groups always shown, side by side
        if not (frame["group"] == group).any():
            frame = pd.concat([frame, pd.DataFrame([{"group": group}])], ignore_index=True)
    frame["plan"] = frame["plan"].map(lambda c: ALL_PLANS if c is None or pd.isna(c)
                                      else CAUSE_LABELS.get(CauseId(c), c))
    frame.loc[frame["group"] == WITHOUT_PLAN, "plan"] = "—"
    guarded = ("pairs", "clients", "mean_change", "median_change", "improved_pct", "worse_pct")
    with_plan = frame["group"] == WITH_PLAN
    complement([(cell, _rows(frame, "pairs", guarded, where=with_plan & (frame["plan"] != ALL_PLANS)))
                for cell in _rows(frame, "pairs", guarded, where=with_plan & (frame["plan"] == ALL_PLANS))])
    return TrendTable("plan_outcome", "Pain change in the 4 weeks after (with and without a plan)", frame,
                      ("pairs", "clients", "mean_change", "median_change", "improved_pct", "worse_pct"))


def trends(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None,
           now: datetime | None = None) -> Trends:
    """Every aggregate of the trends page for one range and gym."""
    now = now or utcnow()
    args: dict[str, Any] = {"actor": actor, "start": start, "end": end, "gym_id": gym_id}
    return Trends(
        start=start, end=end, gym_id=scope_gym(actor, gym_id),
        summary=trends_summary(db, **args),
        weekly_levels=weekly_levels(db, **args),
        weekly_red_flags=weekly_red_flags(db, **args),
        causes=causes_ranked(db, **args),
        causes_monthly=causes_by_month(db, **args),
        by_gym=reports_by_gym(db, **args),
        by_trainer=reports_by_trainer(db, **args),
        first_contact=first_contact_times(db, **args, now=now),
        first_contact_weekly=first_contact_weekly(db, **args, now=now),
        plan_adherence=plan_adherence(db, **args),
        plan_outcome=plan_outcome(db, **args),
    )


__all__ = [
    "MIN_GROUP_CLIENTS", "SUPPRESSED_TEXT", "TrendTable", "Trends", "trends", "trends_summary", "weekly_levels",
    "weekly_red_flags", "causes_ranked", "causes_by_month", "reports_by_gym", "reports_by_trainer",
    "first_contact_times", "first_contact_weekly", "plan_adherence", "plan_outcome", "complement",
]
