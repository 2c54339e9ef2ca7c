"""Managers' trends: every figure aggregated in SQL, permission-checked, with no client names or ids, and
protected by cell-key perturbation (backcare.store.privacy, docs/PRIVACY.md).

Each count is computed in SQL with the sum of its records' keys and the number of distinct clients it
describes; `_publish()` turns those into the figure shown: "fewer than 5" (NULL in the frame) for fewer
than 5 clients, else the count plus its fixed adjustment. Shares are computed from adjusted counts,
medians and means get a jitter from the same cell key. Every table lists the same rows whatever the data
(every week and level of the range, every cause, gym, trainer, plan), so an empty group and a small one
look alike, and rows hidden as "fewer than 5" are ordered by name, never by their size. A TrendTable's
frame holds only published values: charts and CSV downloads cannot reach a true count.
The report figures (summary, weeks, causes, gyms, trainers) read the daily rollups of
backcare.store.rollups (rows per day and group, no client: counted and keyed when the reports were written),
not the reports: the same counts and key sums, so the same published counts, at a cost that grows with
days x gyms (x levels, causes; x trainers for the table by trainer) rather than with reports. Distinct clients
do not add up over days: the small-group rule reads two bounds from the rollups and recounts from the reports
only the few groups the bounds leave open (_bounded), so it decides exactly as a per-report count would; the
distinct clients of a week, cause, gym or trainer are no longer published, the summary's "clients who reported"
is (_reach: the range's client ids, the one figure that reads them). Plan adherence reads the
plans' daily rollups (backcare.store.plan_rollups: rows per day, gym, plan and status or `done`) with the same
bounds and recount (_rolled_plan_counts), and the range's distinct (client, plan) pairs for its distinct-client
figures. The plan outcome and referral figures are counted in numpy from integer rows (_plan_counts, _timed:
record keys by rollups.record_keys, medians by percentile_cont's formula) and the outcome's pairs found by
GROUP BYs and joins (issue 13: hashing every row in SQL and one distinct aggregate per count were most of the
page's time at chain scale); they still read a row per plan, feedback entry or referral of the range.
trends() checks the range and the permission and reads the privacy key once, and runs each query once.
Every query runs on DuckDB and PostgreSQL alike (backcare/store/engine.py) and gives the same figures there:
record keys in BIGINT arithmetic (privacy.with_record_keys), medians and quantiles as percentile_cont
(_median, _quantile), weeks and months by _truncated, seconds between two timestamps by _seconds (whole
seconds, as DuckDB's date_diff counted them), and lists of names sorted here, not by the server's collation.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from backcare.auth import Action, Actor
from backcare.errors import InvalidInput
from backcare.models import EARLIEST_DATE, CauseId, Level
from backcare.rules import CAUSE_LABELS
from backcare.store import plan_rollups, privacy
from backcare.store._base import guard, scope_gym
from backcare.store.db import Database, utcnow
from backcare.store.plan_rollups import ASSIGNED_DAYS, FEEDBACK_DAYS
from backcare.store.privacy import key_sum_sql, with_record_keys
from backcare.store.referrals import CONTACT_WITHIN
from backcare.store.rollups import CAUSE_DAYS, LEVEL_DAYS, TRAINER_DAYS, lower_bound, record_keys

MIN_GROUP_CLIENTS = privacy.MIN_CLIENTS
SUPPRESSED_TEXT = f"fewer than {MIN_GROUP_CLIENTS}"
OUTCOME_WINDOW = timedelta(days=28)  # pain change "in the 4 weeks after" the plan (or the report)
MEANINGFUL_CHANGE = 2  # NPRS: a 2-point change is meaningful
RED_FLAG_LEVELS: tuple[Level, ...] = tuple(level for level in Level if level.needs_professional)
ALL_PLANS = "all plans"
WITH_PLAN = "with a plan"
WITHOUT_PLAN = "without a plan"

_RED = "(" + ", ".join(f"'{lv.value}'" for lv in RED_FLAG_LEVELS) + ")"
_REPORTS_IN_RANGE = "r.created_at >= $start AND r.created_at < $end AND ($gym_id IS NULL OR r.gym_id = $gym_id)"
_LEVELS = [lv.value for lv in Level]
_CONTACT_LEVELS = [lv.value for lv in reversed(RED_FLAG_LEVELS)]  # emergency first
_CAUSES = [c.value for c in CauseId]


def is_suppressed(clients: int) -> bool:
    """The small-group rule: a figure about fewer than MIN_GROUP_CLIENTS clients is not shown."""
    return not privacy.shown(clients)


@dataclass(frozen=True, eq=False)
class TrendTable:
    """One aggregate: `frame` holds published numbers (NULL where fewer than 5 clients); `guarded` names
    the columns the small-group rule applies to."""

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
                shown[column] = (
                    values.astype("string").fillna(SUPPRESSED_TEXT)
                    if text
                    else values.astype(object).where(values.notna(), SUPPRESSED_TEXT)
                )
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
        return (
            self.summary,
            self.weekly_levels,
            self.weekly_red_flags,
            self.causes,
            self.causes_monthly,
            self.by_gym,
            self.by_trainer,
            self.first_contact,
            self.first_contact_weekly,
            self.plan_adherence,
            self.plan_outcome,
        )


# --- counting and publishing -----------------------------------------------------------------


def _counted(name: str, key: str = "rk", where: str | None = None, *, clients: bool = False) -> str:
    """SQL select items for one count: `name` (the true count), `name__key` (its cell's key sum) and
    `name__clients` (the distinct clients it describes). `clients`: count distinct clients (key: ck)."""
    only = f" FILTER (WHERE {where})" if where else ""
    count, keys = (
        (f"count(DISTINCT client_id){only}", f"sum(DISTINCT ck){only}")
        if clients
        else (f"count(*){only}", f"sum({key}){only}")
    )
    return f"{count} AS {name}, {key_sum_sql(keys)} AS {name}__key, count(DISTINCT client_id){only} AS {name}__clients"


def _rolled(name: str, where: str | None = None) -> str:
    """SQL select items for one count over rollup rows (backcare.store.rollups): `name` (the reports, they add
    up), `name__key` (their key sum), and the two bounds of its distinct clients: `name__upper` (the daily
    distinct clients summed) and `name__bits` (the OR of the clients' bits). _bounded() turns the bounds into
    `name__clients`."""
    only = f" FILTER (WHERE {where})" if where else ""
    return (
        f"CAST(coalesce(sum(reports){only}, 0) AS BIGINT) AS {name}, "
        f"{key_sum_sql(f'sum(report_keys){only}')} AS {name}__key, "
        f"CAST(coalesce(sum(clients){only}, 0) AS BIGINT) AS {name}__upper, "
        f"CAST(coalesce(bit_or(client_bits){only}, 0) AS BIGINT) AS {name}__bits"
    )


@dataclass(frozen=True)
class _Spec:
    """How the helper columns of a frame become published figures."""

    counts: tuple[str, ...]
    shares: tuple[tuple[str, str, str], ...] = ()  # (column, numerator count, denominator count)
    hours: tuple[tuple[str, str], ...] = ()  # (column, basis count)
    points: tuple[tuple[str, str], ...] = ()  # (column, basis count)
    at_most: tuple[tuple[str, str], ...] = ()  # (column, count it cannot exceed, e.g. clients <= reports)


def _zero_filled(frame: pd.DataFrame, spec: _Spec) -> None:
    for name in spec.counts:
        for column in (name, f"{name}__key", f"{name}__clients"):
            frame[column] = frame[column].fillna(0).astype("int64")


def _publish(frame: pd.DataFrame, spec: _Spec) -> pd.DataFrame:
    """Replace true counts by published ones and drop every helper column (true values never leave)."""
    _zero_filled(frame, spec)
    out = frame.copy()
    for column, basis in spec.hours:
        out[column] = pd.array(
            [
                privacy.perturb_hours(v, k, c)
                for v, k, c in zip(frame[column], frame[f"{basis}__key"], frame[f"{basis}__clients"], strict=True)
            ],
            dtype="Float64",
        )
    for column, basis in spec.points:
        out[column] = pd.array(
            [
                privacy.perturb_points(v, k, c)
                for v, k, c in zip(frame[column], frame[f"{basis}__key"], frame[f"{basis}__clients"], strict=True)
            ],
            dtype="Float64",
        )
    for name in spec.counts:
        out[name] = pd.array(
            [
                privacy.perturb_count(n, k, c)
                for n, k, c in zip(  # plain ints (tolist): a pandas scalar per cell cost more than the rule
                    frame[name].tolist(),
                    frame[f"{name}__key"].tolist(),
                    frame[f"{name}__clients"].tolist(),
                    strict=True,
                )
            ],
            dtype="Int64",
        )
    for column, limit in spec.at_most:  # post-processing of published values only
        out[column] = out[[column, limit]].min(axis=1, skipna=False).astype("Int64")
    for column, numerator, denominator in spec.shares:
        out[column] = pd.array(
            [privacy.share(n, d) for n, d in zip(out[numerator].tolist(), out[denominator].tolist(), strict=True)],
            dtype="Float64",
        )
    helpers = [c for c in out.columns if "__" in c]
    return out.drop(columns=helpers)


def _full(frame: pd.DataFrame, index: dict[str, list]) -> pd.DataFrame:
    """Every combination of the given values as a row, in that order (absent groups counted as 0)."""
    names = list(index)
    if len(names) == 1:  # a one-level MultiIndex matches nothing in a frame indexed by one column
        grid = pd.Index(index[names[0]], name=names[0])
    else:
        grid = pd.MultiIndex.from_product([index[n] for n in names], names=names)
    return frame.set_index(names).reindex(grid).reset_index()


# --- plumbing --------------------------------------------------------------------------------


# Inside trends(): the checked parameters of its range, so the figures it gathers do not check and read
# the privacy key again (each query of the page runs once).
_CHECKED: ContextVar[dict | None] = ContextVar("trends_checked_params", default=None)


def _params(db: Database, actor: Actor, start: date, end: date, gym_id: int | None, what: str) -> dict:
    """Check the range and the permission; the query parameters ($start, $end exclusive, $gym_id, the
    privacy key's $pk1, $pk2, and $first, $last: the range's first and last day for the rollups)."""
    checked = _CHECKED.get()
    if checked is not None and checked["args"] == (db, actor, start, end, gym_id):
        return dict(checked["params"])
    if not isinstance(start, date) or not isinstance(end, date):
        raise InvalidInput("start" if not isinstance(start, date) else "end", "must be a date")
    if start < EARLIEST_DATE:
        raise InvalidInput("start", f"the range cannot start before {EARLIEST_DATE:%Y}")
    if end < start:
        raise InvalidInput("end", "the end of the range cannot be before its start")
    gym_id = gym_id if gym_id is not None else actor.gym_id  # another gym than the actor's is refused
    guard(db, actor, Action.TRENDS_READ, gym_id, attempt=f"trends.{what}", entity="trends")
    with db.read("reading the privacy key") as cur:
        keys = privacy.key_params(cur)
    return {
        "start": datetime.combine(start, time()),
        "end": datetime.combine(end + timedelta(days=1), time()),
        "first": start,
        "last": end,
        "gym_id": gym_id,
        **keys,
    }


def _truncated(part: str, expr: str) -> str:
    """The date of the week (Monday) or month that `expr` (a DATE or TIMESTAMP) falls in, on both engines
    (PostgreSQL's date_trunc of a bare DATE goes through a time zone)."""
    return f"CAST(date_trunc('{part}', CAST({expr} AS TIMESTAMP)) AS DATE)"


def _seconds(start: str, end: str) -> str:
    """Whole seconds from `start` to `end` (two TIMESTAMPs), each first cut to its second: what DuckDB's
    date_diff('second', ...) counted, so the published hours stay as they were."""
    return f"EXTRACT(EPOCH FROM date_trunc('second', {end}) - date_trunc('second', {start}))"


def _quantile(expr: str, fraction: float) -> str:
    """The continuous quantile (linear interpolation; DuckDB's quantile_cont), standard SQL on both engines."""
    return f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY {expr})"


def _median(expr: str) -> str:
    return _quantile(expr, 0.5)


def _sorted_rows(rows: list) -> list[tuple]:
    """Rows of names in code-point order (DuckDB's ORDER BY; a PostgreSQL server's collation may differ),
    NULLs last."""
    return sorted((tuple(row) for row in rows), key=lambda row: [(v is None, "" if v is None else v) for v in row])


_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


def _query(db: Database, sql: str, params: dict, doing: str) -> pd.DataFrame:
    """Run one query with the parameters it names (DuckDB refuses unused ones)."""
    used = set(_PARAMETER.findall(sql))
    with db.read(doing) as cur:
        return cur.execute(sql, {k: v for k, v in params.items() if k in used}).df()


def _weeks(p: dict) -> list[pd.Timestamp]:
    first = p["start"].date() - timedelta(days=p["start"].weekday())
    last = (p["end"] - timedelta(days=1)).date()
    return [pd.Timestamp(first + timedelta(weeks=i)) for i in range((last - first).days // 7 + 1)]


def _months(p: dict) -> list[pd.Timestamp]:
    day, last = p["start"].date().replace(day=1), (p["end"] - timedelta(days=1)).date()
    months = []
    while day <= last:
        months.append(pd.Timestamp(day))
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def _as_timestamps(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    frame[column] = pd.to_datetime(frame[column])
    return frame


def _label(cause: str) -> str:
    return CAUSE_LABELS.get(CauseId(cause), cause)


_ROLLED_IN_RANGE = "day >= $first AND day <= $last AND ($gym_id IS NULL OR gym_id = $gym_id)"
_RED_ROLLED = f"level IN {_RED}"
_REPORT_COUNTS = f"{_rolled('reports')}, {_rolled('red_flag_reports', where=_RED_ROLLED)}"
_TRAINER_COUNTS = f"{_rolled('reports')}, {_rolled('red_flag_reports', where='red')}"
_COUNTS = {"reports": None, "red_flag_reports": f"r.level IN {_RED}"}  # each count's reports, for a recount
_REPORT_SPEC = _Spec(counts=("reports", "red_flag_reports"), shares=(("red_flag_pct", "red_flag_reports", "reports"),))
_REPORT_GUARDED = ("reports", "red_flag_reports", "red_flag_pct")
_SUMMARY_SPEC = _Spec(
    counts=("reports", "clients", "red_flag_reports"),
    shares=(("red_flag_pct", "red_flag_reports", "reports"),),
    at_most=(("clients", "reports"),),
)
_SUMMARY_GUARDED = ("reports", "clients", "red_flag_reports", "red_flag_pct")
_REPORTS_FROM = "reports AS r"
_CAUSES_FROM = "report_causes AS rc JOIN reports AS r ON r.id = rc.report_id"
_TRAINERS_FROM = "reports AS r JOIN gyms AS g ON g.id = r.gym_id LEFT JOIN users AS u ON u.id = r.author_id"


def _literal(value: Any) -> str:
    """A group's value as an SQL literal (for the recount's filter): dates, integers, text."""
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return f"DATE '{pd.Timestamp(value).date().isoformat()}'"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def _group_key(value: Any) -> Any:
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return pd.Timestamp(value).date()
    if isinstance(value, np.integer):
        return int(value)
    return value


def _bounded(
    db: Database, p: dict, frame: pd.DataFrame, counts: dict[str, str | None], *, source: str, group: dict[str, str]
) -> pd.DataFrame:
    """Each count's `__clients` from its bounds (_rolled): its lower bound where that is 5 or more (shown), its
    upper bound (or report count) where that is under 5 (hidden), and else, for the few groups in between, the
    exact distinct clients recounted from the base rows (`source`: the FROM clause; `group`: the frame's group
    columns as SQL over it; `counts`: each count's filter). So `__clients` is 5 or more exactly when the
    group's distinct clients are: the small-group rule sees what a per-report count would give it."""
    borderline = pd.Series(False, index=frame.index)
    for name in counts:
        count = frame[name].fillna(0).astype("int64").to_numpy()
        lower = lower_bound(frame[f"{name}__bits"].fillna(0).astype("int64").to_numpy())
        upper = np.minimum(frame[f"{name}__upper"].fillna(0).astype("int64").to_numpy(), count)
        decided = np.where(lower >= MIN_GROUP_CLIENTS, lower, np.where(upper < MIN_GROUP_CLIENTS, upper, -1))
        frame[f"{name}__clients"] = decided
        borderline |= decided < 0
    frame = frame.drop(columns=[f"{n}__{part}" for n in counts for part in ("upper", "bits")])
    if borderline.any():
        exact = _recounted(db, p, frame.loc[borderline, list(group)], counts, source=source, group=group)
        for name in counts:
            column = f"{name}__clients"
            missing = frame[column] < 0
            if not missing.any():
                continue
            keys = [
                tuple(_group_key(v) for v in row) for row in frame.loc[missing, list(group)].itertuples(index=False)
            ]
            frame.loc[missing, column] = [exact.get(key, {}).get(name, 0) for key in keys]
    return frame


def _recounted(
    db: Database, p: dict, cells: pd.DataFrame, counts: dict[str, str | None], *, source: str, group: dict[str, str]
) -> dict[tuple, dict[str, int]]:
    """The exact distinct clients of each count of the given groups, from the base rows of the range."""
    items = [f"{expr} AS {name}" for name, expr in group.items()]
    items += [
        f"count(DISTINCT r.client_id){f' FILTER (WHERE {where})' if where else ''} AS {name}"
        for name, where in counts.items()
    ]
    only = [f"{expr} IN ({', '.join(sorted({_literal(v) for v in cells[name]}))})" for name, expr in group.items()]
    sql = f"SELECT {', '.join(items)} FROM {source} WHERE {' AND '.join([_REPORTS_IN_RANGE, *only])}" + (
        f" GROUP BY {', '.join(str(i + 1) for i in range(len(group)))}" if group else ""
    )
    found = _query(db, sql, p, "recounting the clients of small groups")
    names = list(group)
    return {
        tuple(_group_key(v) for v in row[: len(names)]): dict(zip(counts, map(int, row[len(names) :]), strict=True))
        for row in found[names + list(counts)].itertuples(index=False)
    }


def _reach(db: Database, p: dict) -> tuple[int, int]:
    """The distinct clients who reported in the range and the sum of their record keys: the summary's
    "clients", the one distinct count the rollups cannot give (it reads the reports' client ids)."""
    ids = _query(db, f"SELECT DISTINCT r.client_id FROM reports AS r WHERE {_REPORTS_IN_RANGE}", p, "counting clients")
    keys = record_keys("client", ids["client_id"].to_numpy(), p["pk1"], p["pk2"])
    return len(ids), int(keys.sum() % privacy.KEY_SPACE)


# --- the aggregates --------------------------------------------------------------------------


def _summary_frame(db: Database, p: dict) -> pd.DataFrame:
    frame = _query(db, f"SELECT {_REPORT_COUNTS} FROM {LEVEL_DAYS} WHERE {_ROLLED_IN_RANGE}", p, "summarising reports")
    frame = _bounded(db, p, frame, _COUNTS, source=_REPORTS_FROM, group={})
    clients, key = _reach(db, p)
    frame = frame.assign(clients=clients, clients__key=key, clients__clients=clients)
    return _publish(frame, _SUMMARY_SPEC)[list(_SUMMARY_GUARDED)]


def trends_summary(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """One row: reports, clients, red-flag reports and their share (a cell of its own, not a sum)."""
    frame = _summary_frame(db, _params(db, actor, start, end, gym_id, "summary"))
    return TrendTable("summary", "Summary", frame, _SUMMARY_GUARDED)


_WEEK = _truncated("week", "r.created_at")
_MONTH = _truncated("month", "r.created_at")


def weekly_levels(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Reports a week by triage level (weeks start on Monday): every week of the range, every level."""
    p = _params(db, actor, start, end, gym_id, "weekly_levels")
    frame = _query(
        db,
        f"""
        SELECT {_truncated("week", "day")} AS week, level, {_rolled("reports")}
        FROM {LEVEL_DAYS} WHERE {_ROLLED_IN_RANGE} GROUP BY 1, 2
    """,
        p,
        "counting reports a week",
    )
    frame = _bounded(db, p, frame, {"reports": None}, source=_REPORTS_FROM, group={"week": _WEEK, "level": "r.level"})
    frame = _full(_as_timestamps(frame, "week"), {"week": _weeks(p), "level": _LEVELS})
    frame = _publish(frame, _Spec(counts=("reports",)))
    return TrendTable("reports_per_week_by_level", "Reports a week by level", frame, ("reports",))


def weekly_red_flags(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Per week: reports, and the share at refer or above (a professional needed)."""
    p = _params(db, actor, start, end, gym_id, "weekly_red_flags")
    frame = _query(
        db,
        f"""
        SELECT {_truncated("week", "day")} AS week, {_REPORT_COUNTS}
        FROM {LEVEL_DAYS} WHERE {_ROLLED_IN_RANGE} GROUP BY 1
    """,
        p,
        "counting red flags a week",
    )
    frame = _bounded(db, p, frame, _COUNTS, source=_REPORTS_FROM, group={"week": _WEEK})
    frame = _publish(_full(_as_timestamps(frame, "week"), {"week": _weeks(p)}), _REPORT_SPEC)
    return TrendTable("red_flag_share_per_week", "Share of red flags (refer and above) a week", frame, _REPORT_GUARDED)


def _ranked(frame: pd.DataFrame, within: list[str]) -> pd.DataFrame:
    """Rank 1 = most reports among the shown causes (of each `within` group); shown causes first by their
    published count, then the hidden ones by name: their order never says which is bigger."""
    frame = frame.assign(_hidden=frame["reports"].isna(), _neg=-frame["reports"].astype("Float64"))
    frame["rank"] = (
        frame.groupby(within)["reports"].rank(method="min", ascending=False).astype("Int64")
        if within
        else frame["reports"].rank(method="min", ascending=False).astype("Int64")
    )
    ordered = frame.sort_values([*within, "_hidden", "_neg", "cause"], na_position="last", kind="stable")
    return ordered.drop(columns=["_hidden", "_neg"]).reset_index(drop=True)


def _cause_frame(db: Database, p: dict, period: str | None) -> pd.DataFrame:
    """Per cause (and `period`, 'month'): the reports that list it (report_causes rows) from trend_cause_days,
    with their key sum and distinct clients (bounded, recounted where needed)."""
    period_item = f"{_truncated(period, 'day')} AS {period}, " if period else ""
    frame = _query(
        db,
        f"SELECT {period_item}cause, {_rolled('reports')} FROM {CAUSE_DAYS} WHERE {_ROLLED_IN_RANGE} "
        f"GROUP BY {'1, 2' if period else '1'}",
        p,
        "ranking causes" + (f" by {period}" if period else ""),
    )
    group = ({period: _truncated(period, "r.created_at")} if period else {}) | {"cause": "rc.cause"}
    return _bounded(db, p, frame, {"reports": None}, source=_CAUSES_FROM, group=group)


def causes_ranked(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Contributing causes over the whole range, most reports first; share of all reports in the range
    (the summary's published total)."""
    p = _params(db, actor, start, end, gym_id, "causes")
    return _causes_table(db, p, _summary_frame(db, p)["reports"].iloc[0])


def _causes_table(db: Database, p: dict, total: Any) -> TrendTable:
    """causes_ranked() for checked parameters; `total`: the summary's published count of reports."""
    frame = _publish(_full(_cause_frame(db, p, None), {"cause": _CAUSES}), _Spec(counts=("reports",)))
    frame["pct_of_reports"] = pd.array([privacy.share(n, total) for n in frame["reports"]], dtype="Float64")
    frame["cause"] = frame["cause"].map(_label)
    frame = _ranked(frame, [])
    return TrendTable(
        "causes_ranked",
        "Contributing causes, ranked",
        frame[["rank", "cause", "reports", "pct_of_reports"]],
        ("rank", "reports", "pct_of_reports"),
    )


def causes_by_month(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Causes ranked within each calendar month of the range: every month, every cause."""
    p = _params(db, actor, start, end, gym_id, "causes_monthly")
    frame = _full(_as_timestamps(_cause_frame(db, p, "month"), "month"), {"month": _months(p), "cause": _CAUSES})
    frame = _publish(frame, _Spec(counts=("reports",)))
    frame["cause"] = frame["cause"].map(_label)
    frame = _ranked(frame, ["month"])
    return TrendTable(
        "causes_by_month", "Causes ranked by month", frame[["month", "rank", "cause", "reports"]], ("rank", "reports")
    )


def reports_by_gym(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Every gym in scope, with or without reports."""
    p = _params(db, actor, start, end, gym_id, "by_gym")
    with db.read("listing gyms") as cur:
        gyms = cur.execute(
            "SELECT id, name FROM gyms WHERE $gym_id IS NULL OR id = $gym_id", {"gym_id": p["gym_id"]}
        ).fetchall()
    gyms = sorted(gyms, key=lambda g: (g[1], g[0]))
    frame = _query(
        db,
        f"SELECT gym_id, {_REPORT_COUNTS} FROM {LEVEL_DAYS} WHERE {_ROLLED_IN_RANGE} GROUP BY gym_id",
        p,
        "counting reports by gym",
    )
    frame = _bounded(db, p, frame, _COUNTS, source=_REPORTS_FROM, group={"gym_id": "r.gym_id"})
    frame = _publish(_full(frame, {"gym_id": [g for g, _ in gyms]}), _REPORT_SPEC)
    frame.insert(0, "gym", frame.pop("gym_id").map(dict(gyms)))
    return TrendTable("reports_by_gym", "By gym", frame, _REPORT_GUARDED)


_TRAINER = "coalesce(u.display_name, rolled.author)"


def reports_by_trainer(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """By the trainer who made the report (staff names are not client data). Every trainer of the gyms in
    scope is listed, and everyone who ever made a report there, whether or not they did in the range."""
    p = _params(db, actor, start, end, gym_id, "by_trainer")
    with db.read("listing trainers") as cur:
        people = cur.execute(
            f"""
            SELECT DISTINCT g.name AS gym, coalesce(u.display_name, r.author) AS trainer
            FROM (SELECT DISTINCT gym_id, author_id, author FROM {TRAINER_DAYS}
                  WHERE $gym_id IS NULL OR gym_id = $gym_id) AS r
            JOIN gyms AS g ON g.id = r.gym_id LEFT JOIN users AS u ON u.id = r.author_id
            UNION
            SELECT g.name, u.display_name FROM users AS u JOIN gyms AS g ON g.id = u.gym_id
            WHERE u.role = 'trainer' AND ($gym_id IS NULL OR u.gym_id = $gym_id)
        """,
            {"gym_id": p["gym_id"]},
        ).fetchall()
    people = _sorted_rows(people)
    frame = _query(
        db,
        f"""
        WITH rolled AS (
            SELECT gym_id, author_id, author, red, reports, report_keys, clients, client_bits
            FROM {TRAINER_DAYS} WHERE {_ROLLED_IN_RANGE}
        )
        SELECT g.name AS gym, {_TRAINER} AS trainer, {_TRAINER_COUNTS}
        FROM rolled JOIN gyms AS g ON g.id = rolled.gym_id LEFT JOIN users AS u ON u.id = rolled.author_id
        GROUP BY 1, 2
    """,
        p,
        "counting reports by trainer",
    )
    frame = _bounded(
        db,
        p,
        frame,
        _COUNTS,
        source=_TRAINERS_FROM,
        group={"gym": "g.name", "trainer": "coalesce(u.display_name, r.author)"},
    )
    grid = pd.MultiIndex.from_tuples(people, names=["gym", "trainer"])
    frame = frame.set_index(["gym", "trainer"]).reindex(grid).reset_index()
    return TrendTable("reports_by_trainer", "By trainer", _publish(frame, _REPORT_SPEC), _REPORT_GUARDED)


_TARGET_SECONDS = (
    "CASE f.level "
    + " ".join(f"WHEN '{lv.value}' THEN {int(span.total_seconds())}" for lv, span in CONTACT_WITHIN.items())
    + " END"
)
_REFERRALS_IN_RANGE = "f.opened_at >= $start AND f.opened_at < $end AND ($gym_id IS NULL OR f.gym_id = $gym_id)"
_TIMED_ROWS = f"""
        SELECT f.id, f.client_id, f.level, f.opened_at,
               CAST({_seconds("f.opened_at", "f.first_contact_at")} AS DOUBLE PRECISION) / 3600.0 AS hours,
               {_seconds("f.opened_at", "f.first_contact_at")} <= {_TARGET_SECONDS} AS on_time,
               f.first_contact_at IS NOT NULL
                   OR {_seconds("f.opened_at", "CAST($now AS TIMESTAMP)")} > {_TARGET_SECONDS} AS due
        FROM referrals AS f WHERE {_REFERRALS_IN_RANGE}"""
_CONTACT_CTE = f"timed AS ({with_record_keys(_TIMED_ROWS, [('referral', 'id', 'fk'), ('client', 'client_id', 'ck')])})"
_CONTACT_GUARDED = ("referrals", "clients", "contacted", "median_hours", "p90_hours", "on_time_pct", "waiting_overdue")


_LEVEL_NO = "CASE f.level " + " ".join(f"WHEN '{lv}' THEN {i}" for i, lv in enumerate(_CONTACT_LEVELS)) + " ELSE -1 END"
# The referrals of the range as numbers: level, the week it opened, hours to first contact (contacted: 1 when
# there was one), whether it was on time and whether it is due (the same expressions as _TIMED_ROWS).
_TIMED_NUMBERS = f"""
        SELECT f.id, f.client_id, {_LEVEL_NO} AS level_no, {_truncated("week", "f.opened_at")} AS week,
               CASE WHEN f.first_contact_at IS NULL THEN 0 ELSE 1 END AS contacted,
               coalesce(CAST({_seconds("f.opened_at", "f.first_contact_at")} AS DOUBLE PRECISION) / 3600.0, 0.0)
                   AS hours,
               CASE WHEN {_seconds("f.opened_at", "f.first_contact_at")} <= {_TARGET_SECONDS} THEN 1 ELSE 0 END
                   AS on_time,
               CASE WHEN f.first_contact_at IS NOT NULL
                   OR {_seconds("f.opened_at", "CAST($now AS TIMESTAMP)")} > {_TARGET_SECONDS} THEN 1 ELSE 0 END AS due
        FROM referrals AS f WHERE {_REFERRALS_IN_RANGE}"""


def _quantile_of(values: np.ndarray, fraction: float) -> float:
    """percentile_cont (both engines' formula: the value at (n - 1) x fraction, interpolated linearly from
    the one below); NaN for no values."""
    if not len(values):
        return np.nan
    ordered = np.sort(values)
    position = (len(ordered) - 1) * fraction
    low = int(np.floor(position))
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def _timed(db: Database, p: dict) -> dict[str, np.ndarray]:
    """The referrals of the range (_TIMED_NUMBERS) as arrays with their record keys (fk, ck), fetched once per
    trends() call (both contact tables read them): hashing 100k referrals in SQL twice, and one distinct
    aggregate per count, was a quarter of the page's time at chain scale."""
    checked = _CHECKED.get()
    cache = checked.setdefault("timed", {}) if checked is not None else {}
    key = repr(sorted((k, v) for k, v in p.items() if k in ("start", "end", "gym_id", "now")))
    if key not in cache:
        with db.read("timing first contacts") as cur:
            used = {k: v for k, v in p.items() if k in set(_PARAMETER.findall(_TIMED_NUMBERS))}
            result = cur.execute(_TIMED_NUMBERS, used)
            fetched = result.fetchnumpy() if hasattr(cur, "register") else result.df()
        rows = {c: np.asarray(fetched[c], dtype="int64") for c in ("id", "client_id", "level_no", "contacted")}
        rows |= {c: np.asarray(fetched[c], dtype="int64").astype(bool) for c in ("on_time", "due")}
        rows["contacted"] = rows["contacted"].astype(bool)
        rows["hours"] = np.asarray(fetched["hours"], dtype="float64")
        rows["week"] = pd.to_datetime(np.asarray(fetched["week"])).to_numpy(dtype="datetime64[D]")
        rows["fk"] = record_keys("referral", rows["id"], p["pk1"], p["pk2"])
        rows["ck"] = record_keys("client", rows["client_id"], p["pk1"], p["pk2"])
        cache[key] = rows
    return cache[key]


def _cell_counts(rows: dict[str, np.ndarray], chosen: np.ndarray, name: str, *, clients: bool = False) -> dict:
    """_counted() of one cell: the rows `chosen` counted (key: their fk) or their distinct clients (key: the
    sum of their DISTINCT ck), with the distinct clients they describe."""
    who = np.unique(rows["client_id"][chosen])
    if clients:
        count, key = len(who), int(np.unique(rows["ck"][chosen]).sum())
    else:
        count, key = int(chosen.sum()), int(rows["fk"][chosen].sum())
    return {name: count, f"{name}__key": key % privacy.KEY_SPACE, f"{name}__clients": len(who)}


def first_contact_times(
    db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None, now: datetime | None = None
) -> TrendTable:
    """Hours from the report (the referral opens with it) to the clinic's first contact, by level.
    `on_time_pct`: of the referrals already due (contacted, or past the level's target), the share
    contacted within the target (1 h, 24 h, 7 days); `waiting_overdue`: past it and not contacted."""
    p = _params(db, actor, start, end, gym_id, "first_contact") | {"now": now or utcnow()}
    rows = _timed(db, p)
    records = []
    for index, level in enumerate(_CONTACT_LEVELS):
        cell = rows["level_no"] == index
        if not cell.any():
            continue  # no referral at this level: absent, counted as 0 (as GROUP BY level left it)
        contacted, due = cell & rows["contacted"], cell & rows["due"]
        hours = rows["hours"][contacted]
        records.append(
            {"level": level}
            | _cell_counts(rows, cell, "referrals")
            | _cell_counts(rows, cell, "clients", clients=True)
            | _cell_counts(rows, contacted, "contacted")
            | {"median_hours": _quantile_of(hours, 0.5), "p90_hours": _quantile_of(hours, 0.9)}
            | _cell_counts(rows, due & rows["on_time"], "on_time")
            | _cell_counts(rows, due, "due")
            | _cell_counts(rows, due & ~rows["contacted"], "waiting_overdue")
        )
    columns = ["level", "median_hours", "p90_hours"] + [
        f"{n}{part}"
        for n in ("referrals", "clients", "contacted", "on_time", "due", "waiting_overdue")
        for part in ("", "__key", "__clients")
    ]
    frame = pd.DataFrame(records, columns=columns)
    frame = _publish(
        _full(frame, {"level": _CONTACT_LEVELS}),
        _Spec(
            counts=("referrals", "clients", "contacted", "on_time", "due", "waiting_overdue"),
            shares=(("on_time_pct", "on_time", "due"),),
            hours=(("median_hours", "contacted"), ("p90_hours", "contacted")),
            at_most=(("clients", "referrals"), ("contacted", "referrals")),
        ),
    )
    return TrendTable(
        "time_to_first_contact",
        "Time from report to first clinic contact",
        frame[["level", *_CONTACT_GUARDED]],
        _CONTACT_GUARDED,
    )


def first_contact_weekly(
    db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None, now: datetime | None = None
) -> TrendTable:
    """Median hours to first contact, per week the referral opened and level."""
    p = _params(db, actor, start, end, gym_id, "first_contact") | {"now": now or utcnow()}
    rows = _timed(db, p)
    records = []
    for week in np.unique(rows["week"]):
        in_week = rows["week"] == week
        for index, level in enumerate(_CONTACT_LEVELS):
            cell = in_week & (rows["level_no"] == index)
            if not cell.any():
                continue
            contacted = cell & rows["contacted"]
            records.append(
                {"week": pd.Timestamp(week), "level": level}
                | _cell_counts(rows, contacted, "contacted")
                | {"median_hours": _quantile_of(rows["hours"][contacted], 0.5)}
            )
    columns = ["week", "level", "contacted", "contacted__key", "contacted__clients", "median_hours"]
    frame = pd.DataFrame(records, columns=columns)
    frame = _full(_as_timestamps(frame, "week"), {"week": _weeks(p), "level": _CONTACT_LEVELS})
    frame = _publish(frame, _Spec(counts=("contacted",), hours=(("median_hours", "contacted"),)))
    return TrendTable(
        "time_to_first_contact_per_week", "Median hours to first contact a week", frame, ("contacted", "median_hours")
    )


_ASSIGNMENTS_IN_RANGE = "a.created_at >= $start AND a.created_at < $end AND ($gym_id IS NULL OR c.gym_id = $gym_id)"
# Feedback entries dated in the range (issue 15), with the plan they are about.
_FEEDBACK_IN_RANGE = "f.entry_date >= $start AND f.entry_date < $end AND ($gym_id IS NULL OR c.gym_id = $gym_id)"
_ADHERENCE_GUARDED = (
    "assigned",
    "clients",
    "completed",
    "stopped",
    "active",
    "completed_pct",
    "feedback_entries",
    "feedback_clients",
    "done_pct",
    "all_done_pct",
)


_PLAN_NO = "CASE {col} " + " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(sorted(_CAUSES))) + " ELSE -1 END"
_STATUS_NO = "CASE a.status WHEN 'completed' THEN 1 WHEN 'stopped' THEN 2 WHEN 'active' THEN 3 ELSE 0 END"
_DONE_NO = "CASE f.done WHEN 'some' THEN 1 WHEN 'all' THEN 2 ELSE 0 END"
# The rows behind the plan adherence figures as integers (no text to fetch): id, client, plan and state codes.
_ASSIGNED_CODES = f"""
    SELECT a.id, a.client_id, {_PLAN_NO.format(col="a.plan_id")} AS plan_no, {_STATUS_NO} AS state
    FROM assignments AS a JOIN clients AS c ON c.id = a.client_id WHERE {_ASSIGNMENTS_IN_RANGE}"""
_FEEDBACK_CODES = f"""
    SELECT f.id, f.client_id, {_PLAN_NO.format(col="a.plan_id")} AS plan_no, {_DONE_NO} AS state
    FROM plan_feedback AS f JOIN assignments AS a ON a.id = f.assignment_id
    JOIN clients AS c ON c.id = f.client_id WHERE {_FEEDBACK_IN_RANGE}"""


def _runs(values: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array (the first of each run of equal values)."""
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _plan_counts(
    db: Database,
    p: dict,
    source: str,
    kind: str,
    counts: dict[str, tuple[bool, tuple[int, ...] | None]],
    doing: str,
    *,
    values: str | None = None,
) -> pd.DataFrame:
    """_counted() per plan and for all plans (GROUP BY ROLLUP (plan_id)), computed here from integer rows
    (`source`: id, client_id, plan_no, state) with their record keys from rollups.record_keys (the keys of
    privacy.with_record_keys). `counts`: name -> (distinct clients?, the states it counts, None: all). The
    same figures as the SQL did (counts, key sums modulo 2^32, distinct clients and their DISTINCT keys), at a
    fraction of its time: hashing every row in SQL's nested steps and one distinct aggregate per count took
    0.4 s for a chain's 350k feedback entries of a quarter. `values`: a column of the rows whose mean (SQL's avg)
    and median (percentile_cont(0.5)) per plan come back as mean_<values> and median_<values> (NaN: no rows)."""
    with db.read(doing) as cur:  # DuckDB hands the columns over as arrays (fetchnumpy: no frame to build)
        result = cur.execute(source, {k: v for k, v in p.items() if k in set(_PARAMETER.findall(source))})
        fetched = result.fetchnumpy() if hasattr(cur, "register") else result.df()
    rows = {name: np.asarray(fetched[name], dtype="int64") for name in ("id", "client_id", "plan_no", "state")}
    fetched_values = np.asarray(fetched[values], dtype="int64") if values is not None else np.empty(0, "int64")
    n_plans = len(_CAUSES)
    client, plan, state = rows["client_id"], np.where(rows["plan_no"] < 0, n_plans, rows["plan_no"]), rows["state"]
    rk = record_keys(kind, rows["id"], p["pk1"], p["pk2"])
    cell = plan * 4 + state  # plan (n_plans: not in the library, counted in the total only) x state (0-3)
    size = (n_plans + 1) * 4
    reports = np.bincount(cell, minlength=size).reshape(n_plans + 1, 4)
    # key sums per cell, exact: each 16-bit half summed in float64 (exact below 2^53, i.e. 2^37 rows)
    halves = [np.bincount(cell, weights=part, minlength=size) for part in (rk & 0xFFFF, rk >> 16)]
    key_sums = np.rint(halves[0]).astype(np.int64) + (np.rint(halves[1]).astype(np.int64) << 16)
    key_sums = key_sums.reshape(n_plans + 1, 4)
    # the distinct (client, plan, state) triples, sorted by client, then plan, then state: one sort
    triples = _runs(np.sort(client * size + cell))
    t_client, t_plan, t_state = triples // size, (triples % size) // 4, triples % 4
    in_states = {states: np.isin(t_state, list(states or range(4))) for _, states in counts.values()}
    records = []
    for index, label in [*enumerate(sorted(_CAUSES)), (None, ALL_PLANS)]:
        record: dict[str, Any] = {"plan": label}
        in_plan = t_plan == index if index is not None else None
        for name, (distinct_clients, states) in counts.items():
            wanted = list(range(4)) if states is None else list(states)
            rows_in = in_states[states] if in_plan is None else in_states[states] & in_plan
            who = _runs(t_client[rows_in])  # the cell's distinct clients (sorted: runs)
            if distinct_clients:  # keyed by the sum of their DISTINCT keys (as sum(DISTINCT ck))
                count = len(who)
                key = int(_runs(np.sort(record_keys("client", who, p["pk1"], p["pk2"]))).sum())
            else:
                plans = slice(None) if index is None else slice(index, index + 1)
                count = int(reports[plans, wanted].sum())
                key = int(key_sums[plans, wanted].sum())
            record[name], record[f"{name}__key"], record[f"{name}__clients"] = count, key % privacy.KEY_SPACE, len(who)
        if values is not None:
            numbers = fetched_values if index is None else fetched_values[plan == index]
            record[f"mean_{values}"] = float(np.mean(numbers)) if len(numbers) else np.nan
            record[f"median_{values}"] = float(np.median(numbers)) if len(numbers) else np.nan
        records.append(record)
    return pd.DataFrame(records)


_STATE_CODES = {  # the rollups' state column -> the codes of _STATUS_NO and _DONE_NO
    ASSIGNED_DAYS: ("status", {"completed": 1, "stopped": 2, "active": 3}),
    FEEDBACK_DAYS: ("done", {"some": 1, "all": 2}),
}


def _plan_triples(db: Database, p: dict, source: str) -> list[tuple]:
    """The range's distinct (client, plan, state) codes of `source`: the exact recount of the groups the
    rollups' bounds leave open."""
    with db.read("recounting the clients of small groups") as cur:
        return cur.execute(
            f"SELECT DISTINCT client_id, plan_no, state FROM ({source}) AS coded",
            {k: v for k, v in p.items() if k in set(_PARAMETER.findall(source))},
        ).fetchall()


def _rolled_plan_counts(
    db: Database,
    p: dict,
    table: str,
    source: str,
    counts: dict[str, tuple[bool, tuple[int, ...] | None]],
    doing: str,
) -> pd.DataFrame:
    """What _plan_counts gives, read from the plans' daily rollups (backcare.store.plan_rollups: rows per day,
    gym, plan and state): counts and key sums add up over the rows; each count's `__clients` is decided by its
    bounds as _bounded does (lower bound if 5 or more, upper bound if under 5, else recounted exactly from the
    base rows). The distinct-client figures (`(True, None)`) and the distinct clients of the counts over every
    state are exact, from the range's distinct (client, plan) pairs of `source` (the base rows as codes, as
    _plan_counts reads them): the one part that reads the clients, as the summary's _reach does."""
    state, codes = _STATE_CODES[table]
    count, keys = plan_rollups.COLUMNS[table][4:6]
    rows = _query(
        db,
        f"""SELECT plan_id, {state} AS state, CAST(sum({count}) AS BIGINT) AS n, {key_sum_sql(f"sum({keys})")} AS k,
                   CAST(sum(clients) AS BIGINT) AS upper, CAST(bit_or(client_bits) AS BIGINT) AS bits
            FROM {table} WHERE {_ROLLED_IN_RANGE} GROUP BY 1, 2""",
        p,
        doing,
    )
    order = sorted(_CAUSES)
    n_plans = len(order)
    plan = np.array([order.index(v) if v in order else n_plans for v in rows["plan_id"]], dtype="int64")
    code = np.array([codes.get(v, 0) for v in rows["state"]], dtype="int64")
    n, k = rows["n"].to_numpy(dtype="int64"), rows["k"].to_numpy(dtype="int64")
    upper, bits = rows["upper"].to_numpy(dtype="int64"), rows["bits"].to_numpy(dtype="int64")
    with db.read(doing) as cur:  # the range's distinct (client, plan) pairs: the exact distinct clients
        result = cur.execute(
            f"SELECT DISTINCT client_id, plan_no FROM ({source}) AS coded",
            {k: v for k, v in p.items() if k in set(_PARAMETER.findall(source))},
        )  # DuckDB hands the columns over as arrays (50k pairs as Python tuples cost 50 ms at 100k clients)
        pairs = result.fetchnumpy() if hasattr(cur, "register") else result.df()
    pair_client = np.asarray(pairs["client_id"], dtype="int64")
    pair_plan = np.asarray(pairs["plan_no"], dtype="int64")
    pair_plan = np.where(pair_plan < 0, n_plans, pair_plan)
    records: list[dict[str, Any]] = []
    borderline: list[tuple[int, str, tuple[int, ...]]] = []
    for index, label in [*enumerate(order), (None, ALL_PLANS)]:
        record: dict[str, Any] = {"plan": label}
        in_plan = np.ones(len(rows), bool) if index is None else plan == index
        who = _runs(np.sort(pair_client if index is None else pair_client[pair_plan == index]))
        for name, (distinct_clients, states) in counts.items():
            if distinct_clients:  # keyed by the sum of their DISTINCT keys (as sum(DISTINCT ck))
                key = int(_runs(np.sort(record_keys("client", who, p["pk1"], p["pk2"]))).sum())
                record[name], record[f"{name}__key"], record[f"{name}__clients"] = (
                    len(who),
                    key % privacy.KEY_SPACE,
                    len(who),
                )
                continue
            chosen = in_plan if states is None else in_plan & np.isin(code, list(states))
            total = int(n[chosen].sum())
            record[name], record[f"{name}__key"] = total, int(k[chosen].sum()) % privacy.KEY_SPACE
            if states is None:
                record[f"{name}__clients"] = len(who)
                continue
            lower = int(lower_bound(np.array([np.bitwise_or.reduce(bits[chosen]) if chosen.any() else 0]))[0])
            most = min(int(upper[chosen].sum()), total)
            decided = lower if lower >= MIN_GROUP_CLIENTS else most if most < MIN_GROUP_CLIENTS else -1
            record[f"{name}__clients"] = decided
            if decided < 0:
                borderline.append((len(records), name, states))
        records.append(record)
    if borderline:  # the few groups the bounds leave open: their distinct clients recounted from the base rows
        triples = _plan_triples(db, p, source)
        for at, name, states in borderline:
            index = None if at == n_plans else at
            records[at][f"{name}__clients"] = len(
                {c for c, q, st in triples if st in states and (index is None or (n_plans if q < 0 else q) == index)}
            )
    return pd.DataFrame(records)


def _adherence_counts(db: Database, p: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The true counts behind plan_adherence (assignments; feedback entries), per plan and for all plans, from
    the plans' daily rollups (the distinct clients as _rolled_plan_counts says)."""
    assigned = _rolled_plan_counts(
        db,
        p,
        ASSIGNED_DAYS,
        _ASSIGNED_CODES,
        {
            "assigned": (False, None),
            "clients": (True, None),
            "completed": (False, (1,)),
            "stopped": (False, (2,)),
            "active": (False, (3,)),
        },
        "measuring plan adherence",
    )
    entries = _rolled_plan_counts(
        db,
        p,
        FEEDBACK_DAYS,
        _FEEDBACK_CODES,
        {
            "feedback_entries": (False, None),
            "feedback_clients": (True, None),
            "done": (False, (1, 2)),
            "all_done": (False, (2,)),
        },
        "measuring plan feedback",
    )
    return assigned, entries


def plan_adherence(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Per plan (every plan of the library) and for all plans: the plans assigned in the range and the share
    completed; and, from the trainers' feedback dated in the range (on plans assigned at any time), the share of
    entries where the client did the plan (all or some) and did all of it. Each count is a cell of its own with
    its own clients; 'all plans' is never the sum of the plans' rows."""
    p = _params(db, actor, start, end, gym_id, "plan_adherence")
    plans = sorted(_CAUSES) + [ALL_PLANS]
    assigned, entries = _adherence_counts(db, p)
    assigned = _publish(
        _full(assigned, {"plan": plans}),
        _Spec(
            counts=("assigned", "clients", "completed", "stopped", "active"),
            shares=(("completed_pct", "completed", "assigned"),),
            at_most=(("clients", "assigned"),),
        ),
    )
    entries = _publish(
        _full(entries, {"plan": plans}),
        _Spec(
            counts=("feedback_entries", "feedback_clients", "done", "all_done"),
            shares=(("done_pct", "done", "feedback_entries"), ("all_done_pct", "all_done", "feedback_entries")),
            at_most=(("feedback_clients", "feedback_entries"),),
        ),
    )
    frame = assigned.merge(entries, on="plan", how="left", validate="one_to_one")
    frame["plan"] = frame["plan"].map(lambda c: c if c == ALL_PLANS else _label(c))
    return TrendTable(
        "plan_adherence",
        "Plan adherence (plans completed; feedback entries where the plan was done)",
        frame[["plan", *_ADHERENCE_GUARDED]],
        _ADHERENCE_GUARDED,
    )


_ID_SPACE = 1 << 40  # feedback ids stay below it; days since 2000 x _ID_SPACE + id orders by day, then id
_DAY_THEN_ID = f"CAST(f.entry_date - DATE '2000-01-01' AS BIGINT) * {_ID_SPACE} + f.id"
_OUTCOME_GUARDED = ("plans", "clients", "mean_change", "median_change", "improved_pct", "worse_pct")


def plan_outcome(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Pain change after a plan, per plan (every plan of the library) and for all plans, from the trainers'
    feedback (issue 15).

    Each plan assignment with feedback dated in the range is one before/after pair: before = the pain score of
    the triage report the plan came from (or the client's last report before it: the same pre-plan level the
    history page's pain rule reads); after = the next-morning pain of its latest feedback entry in the range.
    Plans with no pre-plan report are left out. Change = after minus before (negative: less pain); improved and
    worse are changes of 2 points or more (NPRS). A pair's record key is its assignment's. This replaces the
    earlier comparison of triage reports with and without a plan, which mixed clients the plan never reached."""
    from backcare.store.feedback import pre_plan_report_sql  # noqa: PLC0415  (the pre-plan level, one definition)

    p = _params(db, actor, start, end, gym_id, "plan_outcome")
    in_range = "f.entry_date >= $start AND f.entry_date < $end"
    # The latest entry in the range of each assignment (latest day, then highest id: ORDER BY entry_date DESC,
    # id DESC LIMIT 1) by one GROUP BY of day and id in one number (two GROUP BYs and a join took twice as
    # long at 100k clients), and the report before the plan by a join where the assignment names its
    # report (pre_plan_report_sql's first case, spelled as a join) and by pre_plan_report_sql itself for the
    # others: the per-assignment subqueries and window this replaces took 0.3-0.4 s at chain scale.
    pairs = f"""
            WITH last_entry AS (
                SELECT f.assignment_id, max({_DAY_THEN_ID}) % {_ID_SPACE} AS id
                FROM plan_feedback AS f WHERE {in_range} GROUP BY f.assignment_id
            ), plans AS (
                SELECT a.id, a.plan_id, a.client_id, a.report_id, a.created_at, f.pain_morning_after AS after
                FROM last_entry AS e JOIN plan_feedback AS f ON f.id = e.id
                JOIN assignments AS a ON a.id = e.assignment_id JOIN clients AS c ON c.id = a.client_id
                WHERE ($gym_id IS NULL OR c.gym_id = $gym_id)
            )
            SELECT id, client_id, {_PLAN_NO.format(col="plan_id")} AS plan_no,
                   CASE WHEN after - before <= -{MEANINGFUL_CHANGE} THEN 1
                        WHEN after - before >= {MEANINGFUL_CHANGE} THEN 2 ELSE 0 END AS state,
                   after - before AS change FROM (
                SELECT a.id, a.plan_id, a.client_id, r.pain_score AS before, a.after
                FROM plans AS a JOIN reports AS r
                    ON r.id = a.report_id AND r.client_id = a.client_id AND r.pain_score IS NOT NULL
                UNION ALL
                SELECT a.id, a.plan_id, a.client_id, {pre_plan_report_sql("a", "r.pain_score")} AS before, a.after
                FROM plans AS a WHERE a.report_id IS NULL
            ) AS paired WHERE before IS NOT NULL"""
    frame = _plan_counts(
        db,
        p,
        pairs,
        "pair",
        {"plans": (False, None), "clients": (True, None), "improved": (False, (1,)), "worse": (False, (2,))},
        "measuring plan outcomes",
        values="change",
    )
    frame = _publish(
        _full(frame, {"plan": [ALL_PLANS] + sorted(_CAUSES)}),
        _Spec(
            counts=("plans", "clients", "improved", "worse"),
            shares=(("improved_pct", "improved", "plans"), ("worse_pct", "worse", "plans")),
            points=(("mean_change", "plans"), ("median_change", "plans")),
            at_most=(("clients", "plans"),),
        ),
    )
    frame["plan"] = frame["plan"].map(lambda c: c if c == ALL_PLANS else _label(c))
    return TrendTable(
        "plan_outcome",
        "Pain change after a plan (report before it → latest next-morning pain in the feedback)",
        frame[["plan", *_OUTCOME_GUARDED]],
        _OUTCOME_GUARDED,
    )


def trends(
    db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None, now: datetime | None = None
) -> Trends:
    """Every aggregate of the trends page for one range and gym."""
    now = now or utcnow()
    args: dict[str, Any] = {"actor": actor, "start": start, "end": end, "gym_id": gym_id}
    p = _params(db, actor, start, end, gym_id, "summary")  # checked once: each figure below reuses it
    checked = _CHECKED.set({"args": (db, actor, start, end, gym_id), "params": p})
    try:
        summary = TrendTable("summary", "Summary", _summary_frame(db, p), _SUMMARY_GUARDED)
        return Trends(
            start=start,
            end=end,
            gym_id=scope_gym(actor, gym_id),
            summary=summary,
            weekly_levels=weekly_levels(db, **args),
            weekly_red_flags=weekly_red_flags(db, **args),
            causes=_causes_table(db, p, summary.frame["reports"].iloc[0]),
            causes_monthly=causes_by_month(db, **args),
            by_gym=reports_by_gym(db, **args),
            by_trainer=reports_by_trainer(db, **args),
            first_contact=first_contact_times(db, **args, now=now),
            first_contact_weekly=first_contact_weekly(db, **args, now=now),
            plan_adherence=plan_adherence(db, **args),
            plan_outcome=plan_outcome(db, **args),
        )
    finally:
        _CHECKED.reset(checked)


__all__ = [
    "MIN_GROUP_CLIENTS",
    "SUPPRESSED_TEXT",
    "TrendTable",
    "Trends",
    "trends",
    "trends_summary",
    "weekly_levels",
    "weekly_red_flags",
    "causes_ranked",
    "causes_by_month",
    "reports_by_gym",
    "reports_by_trainer",
    "first_contact_times",
    "first_contact_weekly",
    "plan_adherence",
    "plan_outcome",
]
