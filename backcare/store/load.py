"""Training load: the definitions, and the SQL that computes them (DuckDB window functions).

All metrics are per client and per calendar day, from logged sessions (FOSTER, GABBETT):

- **session load** = session RPE (0-10) x minutes, in arbitrary units (AU). Foster 2001.
- **daily load** = the sum of the day's session loads; 0 on a day without sessions (rest days count).
- **weekly load** = the sum of the daily loads of the 7 days ending on the day.
- **monotony** = mean daily load / standard deviation of daily load over those 7 days. We use the
  population SD (the 7 days are the whole week, not a sample of it). When every day of the week has
  the same load the SD is 0 and monotony is undefined: NULL, never a division by zero. Foster 1998.
- **strain** = weekly load x monotony (NULL when monotony is).
- **chronic weekly load** = the sum of the 28 days ending on the day, divided by 4.
- **acute:chronic ratio** = weekly load / chronic weekly load (the 7:28-day ratio, coupled: the acute
  week is part of the chronic window). NULL when the chronic load is 0, and NULL until the client's first
  logged session is at least 28 days old: with a part-filled chronic window every new client would look
  like a spike. Gabbett 2016.

The ratio is contested as a predictor (Lolli 2019, Impellizzeri 2020): BackCare shows it only as a
**load-spike indicator** (at or above LOAD_RATIO_SPIKE), never as a risk or an injury prediction.

The SQL generates every day of the window (so rest days are rows with load 0) and uses ROWS windows
over that gap-free series; nothing is computed in Python loops.
"""

from __future__ import annotations

from backcare.rules import LOAD_RATIO_SPIKE  # noqa: F401  (one threshold for triage and the screens)

ACUTE_DAYS = 7
CHRONIC_DAYS = 28
CHRONIC_WEEKS = CHRONIC_DAYS // ACUTE_DAYS
RATIO_LABEL = "Load-spike indicator (last 7 days vs the 28-day weekly average); not an injury prediction"

SESSION_LOAD_SQL = "rpe * minutes"


def daily_metrics_sql(scope_sql: str, session_filter_sql: str) -> str:
    """One row per client in `scope_sql` (a SELECT of `client_id`) and per day from $first_day to
    $last_day, with sessions, load, weekly_load, monotony, strain, chronic_weekly_load and
    acute_chronic_ratio.

    Named parameters: $first_day, $last_day, and whatever the scope and filter use.
    `session_filter_sql` narrows the sessions read (e.g. `client_id = $client_id`) so one client's
    metrics touch only that client's rows.
    """
    lead_in = CHRONIC_DAYS - 1
    return f"""
WITH scope AS ({scope_sql}),
days AS (
    SELECT CAST(CAST($first_day AS DATE) - {lead_in} + CAST(k AS INTEGER) AS DATE) AS day
    FROM generate_series(0, CAST($last_day AS DATE) - CAST($first_day AS DATE) + {lead_in}) AS t(k)
),
grid AS (SELECT scope.client_id, days.day FROM scope CROSS JOIN days),
logged AS (
    SELECT client_id, date AS day, count(*) AS sessions, sum({SESSION_LOAD_SQL}) AS load
    FROM sessions
    WHERE ({session_filter_sql})
      AND date BETWEEN CAST($first_day AS DATE) - {lead_in} AND CAST($last_day AS DATE)
    GROUP BY client_id, date
),
first_logged AS (
    SELECT client_id, min(date) AS first_session FROM sessions WHERE ({session_filter_sql}) GROUP BY client_id
),
daily AS (
    SELECT grid.client_id, grid.day, coalesce(logged.sessions, 0) AS sessions,
           coalesce(logged.load, 0.0) AS load
    FROM grid LEFT JOIN logged ON logged.client_id = grid.client_id AND logged.day = grid.day
),
with_history AS (
    SELECT daily.*, first_logged.first_session <= daily.day - {CHRONIC_DAYS - 1} AS full_history
    FROM daily LEFT JOIN first_logged ON first_logged.client_id = daily.client_id
),
windowed AS (
    SELECT client_id, day, sessions, load,
           sum(load) OVER acute AS weekly_load,
           sum(sessions) OVER acute AS weekly_sessions,
           avg(load) OVER acute AS mean_daily,
           stddev_pop(load) OVER acute AS sd_daily,
           max(load) OVER acute - min(load) OVER acute AS spread,
           sum(load) OVER chronic AS chronic_load, full_history
    FROM with_history
    WINDOW acute AS (PARTITION BY client_id ORDER BY day ROWS BETWEEN {ACUTE_DAYS - 1} PRECEDING AND CURRENT ROW),
           chronic AS (PARTITION BY client_id ORDER BY day ROWS BETWEEN {CHRONIC_DAYS - 1} PRECEDING AND CURRENT ROW)
)
SELECT client_id, day, sessions, load, weekly_sessions, weekly_load,
       CASE WHEN spread = 0 THEN NULL ELSE mean_daily / sd_daily END AS monotony,
       CASE WHEN spread = 0 THEN NULL ELSE weekly_load * mean_daily / sd_daily END AS strain,
       chronic_load / {CHRONIC_WEEKS} AS chronic_weekly_load,
       CASE WHEN chronic_load = 0 OR NOT coalesce(full_history, false) THEN NULL
            ELSE weekly_load / (chronic_load / {CHRONIC_WEEKS}) END AS acute_chronic_ratio
FROM windowed
WHERE day >= CAST($first_day AS DATE)
ORDER BY client_id, day
"""


ONE_CLIENT_SCOPE = "SELECT CAST($client_id AS INTEGER) AS client_id"
ONE_CLIENT_SESSIONS = "client_id = $client_id"


def one_client_daily_sql() -> str:
    """Named parameters: $client_id, $first_day, $last_day."""
    return daily_metrics_sql(ONE_CLIENT_SCOPE, ONE_CLIENT_SESSIONS)


def one_client_weekly_sql() -> str:
    """Consecutive 7-day weeks ending on $last_day, oldest first: each week is the daily metrics row of
    its last day (weekly load, monotony and strain are those of the 7 days ending there).
    Named parameters: $client_id, $first_day (the first week's last day), $last_day."""
    return f"""
SELECT day - {ACUTE_DAYS - 1} AS week_start, day AS week_end, weekly_sessions AS sessions,
       weekly_load AS load, monotony, strain
FROM ({one_client_daily_sql()}) AS daily_rows
WHERE (CAST($last_day AS DATE) - day) % {ACUTE_DAYS} = 0
ORDER BY day
"""


def one_client_band_sql() -> str:
    """The history page's band: $weeks consecutive 7-day weeks ending on $last_day, oldest first, each with
    its sessions, weekly load, chronic weekly load and acute:chronic ratio: the figures of
    daily_metrics_sql's rows on the weeks' last days (a test holds them equal), from one pass over the
    client's sessions grouped by week, without the day grid (a page rerun pays for every operator).
    Named parameters: $client_id, $last_day, $weeks.
    Columns: week_start, week_end, sessions, load, chronic_weekly_load, ratio."""
    last = "CAST($last_day AS DATE)"
    return f"""
WITH mine AS (SELECT date, {SESSION_LOAD_SQL} AS load FROM sessions WHERE client_id = $client_id),
by_week AS (
    SELECT CAST(floor(({last} - date) / {ACUTE_DAYS}.0) AS INTEGER) AS back, count(*) AS sessions, sum(load) AS load
    FROM mine
    WHERE date BETWEEN {last} - ({ACUTE_DAYS} * ($weeks + {CHRONIC_WEEKS - 1}) - 1) AND {last}
    GROUP BY 1
),
weeks AS (
    SELECT CAST(k AS INTEGER) AS back FROM generate_series(0, $weeks + {CHRONIC_WEEKS - 2}) AS t(k)
),
windowed AS (
    SELECT weeks.back, coalesce(by_week.sessions, 0) AS sessions, coalesce(by_week.load, 0.0) AS load,
           sum(coalesce(by_week.load, 0.0)) OVER (ORDER BY weeks.back
                                                 ROWS BETWEEN CURRENT ROW AND {CHRONIC_WEEKS - 1} FOLLOWING)
               AS chronic_load
    FROM weeks LEFT JOIN by_week USING (back)
)
SELECT {last} - {ACUTE_DAYS} * back - {ACUTE_DAYS - 1} AS week_start, {last} - {ACUTE_DAYS} * back AS week_end,
       sessions, load, chronic_load / {CHRONIC_WEEKS} AS chronic_weekly_load,
       CASE WHEN chronic_load = 0
              OR NOT coalesce((SELECT min(date) FROM mine) <= {last} - {ACUTE_DAYS} * back - {CHRONIC_DAYS - 1}, false)
            THEN NULL ELSE load / (chronic_load / {CHRONIC_WEEKS}) END AS ratio
FROM windowed
WHERE back < $weeks
ORDER BY back DESC
"""


def one_client_ratio_sql() -> str:
    """The same acute:chronic ratio for one client on one day, without the day grid: a 28-day sum
    (cheap enough to run inside every report save). Named parameters: $client_id, $day.
    Columns: acute_load, chronic_weekly_load, acute_chronic_ratio."""
    return f"""
SELECT acute_load, chronic_load / {CHRONIC_WEEKS} AS chronic_weekly_load,
       CASE WHEN chronic_load = 0 OR NOT full_history THEN NULL
            ELSE acute_load / (chronic_load / {CHRONIC_WEEKS}) END AS acute_chronic_ratio
FROM (
    SELECT coalesce(sum({SESSION_LOAD_SQL}) FILTER (WHERE date > CAST($day AS DATE) - {ACUTE_DAYS}), 0.0)
               AS acute_load,
           coalesce(sum({SESSION_LOAD_SQL}), 0.0) AS chronic_load,
           coalesce((SELECT min(date) FROM sessions WHERE client_id = $client_id)
                    <= CAST($day AS DATE) - {CHRONIC_DAYS - 1}, false) AS full_history
    FROM sessions
    WHERE client_id = $client_id
      AND date BETWEEN CAST($day AS DATE) - {CHRONIC_DAYS - 1} AND CAST($day AS DATE)
) AS totals
"""


def is_spike(ratio: float | None) -> bool:
    return ratio is not None and ratio >= LOAD_RATIO_SPIKE
