"""Daily rollups of the reports for the managers' trends (migration 0011_trend_rollups in
backcare/store/migrations.py, issue 13).

The trends page used to count the reports of the range at every rerun: each query joined the reports
(and their causes) of the range and hashed two record keys per report in SQL. The rollups hold what those
queries need, already counted and keyed, one row per day and group:

- trend_report_days: per day, gym, author (account id, 0 for none, and the name typed on the report),
  level and CLIENT: `reports` (how many), `report_keys` (their record keys summed modulo 2^32) and
  `client_key` (the client's record key).
  `causes`: a bitmask (CAUSE_BITS) of the causes of those reports, so the distinct clients per cause come
  from the same rows as every other distinct count (one pass, no join).
- trend_cause_days: the same per day, gym, cause and client (one count per report_causes row): the counts
  and key sums per cause (they add up without the clients; the page sums them, DISTINCT-free).

Why a client in every row. The published figures need, per group (a week and level, a cause, a gym, a
trainer, the whole range), the number of DISTINCT clients and the sum of their distinct keys
(backcare.store.privacy): it decides the small-group rule and is itself a published figure. Distinct
counts do not add up across days (a client reporting on Monday and Thursday is one client of the week), and
the page takes any date range, so a rollup per day without clients could not give them exactly, and a
per-week or per-month membership table would miss the partial weeks and months at the range's edges. A
(day, group, client) row is the finest grain that keeps every figure exact for any range: the counts
and key sums add up over its rows, and `count(DISTINCT client_id)` / `sum(DISTINCT client_key)` over the
rows of a group give exactly what the per-report queries gave. Its size grows with client-days, not
reports (several reports of one client on one day are one row), and no read joins reports to their
causes or hashes a key.

Kept current in the same transaction as each write that changes them, by recounting the affected client's
rows from the base tables (`refresh_report`, `forget_client`, `rebuild`): delete, then insert the recount.
A recount rather than +1/-1 deltas: a report whose level or causes change (complete_report), a new report
and an erasure are then one code path, and the rows equal a recount by construction (tests/test_rollups.py
checks it after random sequences of writes). Referrals and plan assignments are not rolled up: the
referral figures are medians and 90th percentiles of hours, and "due" depends on the time of the read,
neither of which adds up; they read the referrals table (one row per referral, a small share of the
reports), and the plan figures are another issue's.

The key sums are made with the deployment's secret (privacy_key), which is never changed; whatever changed
it would have to call rebuild() in the same transaction (the privacy tests that try many secrets do).

Record keys are computed here in Python (record_keys: the same keyed hash as privacy.with_record_keys, which
gives the same keys on DuckDB and PostgreSQL), so the SQL of this module stays standard; the bulk insert of
`rebuild` is the one step that differs by engine (_bulk_insert: DuckDB scans the pandas frame in place,
PostgreSQL takes it by COPY).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import numpy as np
import pandas as pd

from backcare.store import privacy
from backcare.store.db import utcnow

KEY_SPACE = privacy.KEY_SPACE
_MASK = np.uint64(KEY_SPACE - 1)

REPORT_DAYS = "trend_report_days"
CAUSE_DAYS = "trend_cause_days"
_REPORT_COLUMNS = (
    "day",
    "gym_id",
    "author_id",
    "author",
    "level",
    "client_id",
    "reports",
    "report_keys",
    "client_key",
    "causes",
)
# One bit per contributing cause in trend_report_days.causes (the causes of the row's reports). Append only:
# stored rows keep their bits. A cause not listed here (none today) gets no bit, as the trends list none.
CAUSE_BITS: dict[str, int] = {
    cause: 1 << i
    for i, cause in enumerate(("form", "core", "posterior_chain", "warm_up", "load", "recovery", "posture"))
}
_CAUSE_COLUMNS = ("day", "gym_id", "cause", "client_id", "reports", "report_keys", "client_key")


# --- record keys ---------------------------------------------------------------------------------


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(16))
    h = (h * np.uint64(2246822507)) & _MASK
    h = h ^ (h >> np.uint64(13))
    h = (h * np.uint64(3266489909)) & _MASK
    return h ^ (h >> np.uint64(16))


def record_keys(kind: str, ids: Iterable[int] | np.ndarray, pk1: int, pk2: int) -> np.ndarray:
    """The record keys of non-negative integer ids, exactly as privacy.with_record_keys computes them in SQL:
    fmix32(fmix32(id folded to 32 bits ^ kind salt ^ pk1) ^ pk2)."""
    x = np.asarray(ids, dtype=np.int64).astype(np.uint64)
    h = (x & _MASK) ^ (x >> np.uint64(32)) ^ (np.uint64(privacy.kind_salt(kind)) ^ np.uint64(pk1))
    h = _fmix32(h)
    h = _fmix32(h ^ np.uint64(pk2))
    return h.astype(np.int64)


def _keys(cur) -> tuple[int, int]:
    params = privacy.key_params(cur)
    return params["pk1"], params["pk2"]


# --- counting ------------------------------------------------------------------------------------

_REPORT_ROWS = """
    SELECT r.id, r.client_id, r.gym_id, coalesce(r.author_id, 0) AS author_id, r.author, r.level,
           CAST(r.created_at AS DATE) AS day
    FROM reports AS r"""
_CAUSE_ROWS = """
    SELECT r.id, r.client_id, r.gym_id, rc.cause, CAST(r.created_at AS DATE) AS day
    FROM report_causes AS rc JOIN reports AS r ON r.id = rc.report_id"""


def _frame(cur, sql: str, params: list) -> pd.DataFrame:
    cur.execute(sql, params)
    names = [d[0] for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=names)


def _rolled(
    rows: pd.DataFrame,
    group: list[str],
    columns: tuple[str, ...],
    pk1: int,
    pk2: int,
    causes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rows of base records (id, client_id, group columns) -> one row per group and client, counted and keyed.
    `causes` (id, cause rows of the same reports): the `causes` bitmask of each row's reports."""
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    rows = rows.assign(
        rk=record_keys("report", rows["id"].to_numpy(), pk1, pk2),
        client_key=record_keys("client", rows["client_id"].to_numpy(), pk1, pk2),
    )
    aggregates: dict = {"reports": ("id", "size"), "report_keys": ("rk", "sum")}
    if causes is not None:
        bits = causes.assign(bit=causes["cause"].map(CAUSE_BITS).fillna(0).astype("int64"))
        mask = bits.drop_duplicates(["id", "bit"]).groupby("id")["bit"].sum()
        rows = rows.assign(mask=rows["id"].map(mask).fillna(0).astype("int64"))
        for bit in CAUSE_BITS.values():  # OR over the group's reports: each bit's max, vectorised
            rows[f"_bit{bit}"] = rows["mask"] & bit
            aggregates[f"_bit{bit}"] = (f"_bit{bit}", "max")
    out = rows.groupby([*group, "client_id", "client_key"], sort=False).agg(**aggregates).reset_index()
    out["report_keys"] = out["report_keys"] % KEY_SPACE
    if causes is not None:
        out["causes"] = sum(out[f"_bit{bit}"] for bit in CAUSE_BITS.values())
    return out[list(columns)]


def _insert_rows(cur, table: str, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    if frame.empty:
        return
    cur.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [
            [v.item() if isinstance(v, np.generic) else v for v in row]
            for row in frame.itertuples(index=False, name=None)
        ],
    )


def _bulk_insert(cur, table: str, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """All rows of `frame` into `table`: DuckDB scans the frame in place; PostgreSQL (engine.PgCursor, which
    has no register) takes them by COPY."""
    if not hasattr(cur, "register"):
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in frame[list(columns)].itertuples(index=False, name=None):
                day, *rest = row
                copy.write_row(
                    [pd.Timestamp(day).date(), *(v.item() if isinstance(v, np.generic) else v for v in rest)]
                )
        return
    cur.register("rollup_frame", frame)
    try:
        select = ", ".join("CAST(day AS DATE)" if c == "day" else c for c in columns)
        cur.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM rollup_frame")
    finally:
        cur.unregister("rollup_frame")


def _recount_client(cur, client_id: int, days: list[date] | None) -> None:
    """Delete the client's rollup rows (of `days`, or all) and insert their recount from the base tables."""
    on_days = "" if days is None else f" AND CAST(r.created_at AS DATE) IN ({', '.join('?' * len(days))})"
    day_filter = "" if days is None else f" AND day IN ({', '.join('?' * len(days))})"
    params: list = [client_id, *(days or [])]
    for table in (REPORT_DAYS, CAUSE_DAYS):
        cur.execute(f"DELETE FROM {table} WHERE client_id = ?{day_filter}", params)
    reports = _frame(cur, f"{_REPORT_ROWS} WHERE r.client_id = ?{on_days}", params)
    causes = _frame(cur, f"{_CAUSE_ROWS} WHERE r.client_id = ?{on_days}", params)
    if reports.empty and causes.empty:
        return
    pk1, pk2 = _keys(cur)
    group = ["day", "gym_id", "author_id", "author", "level"]
    _insert_rows(cur, REPORT_DAYS, _rolled(reports, group, _REPORT_COLUMNS, pk1, pk2, causes), _REPORT_COLUMNS)
    _insert_rows(cur, CAUSE_DAYS, _rolled(causes, ["day", "gym_id", "cause"], _CAUSE_COLUMNS, pk1, pk2), _CAUSE_COLUMNS)


# --- the hooks (one call per write, inside the write's transaction) ------------------------------


def refresh_report(cur, report_id: int) -> None:
    """After a report is saved or changed (level, causes): recount its client's day."""
    row = cur.execute("SELECT client_id, CAST(created_at AS DATE) FROM reports WHERE id = ?", [report_id]).fetchone()
    if row is not None:
        _recount_client(cur, int(row[0]), [row[1]])


def forget_client(cur, client_id: int) -> None:
    """After a client's reports are deleted (erasure): their rows go (a recount of nothing)."""
    _recount_client(cur, client_id, None)


def rebuild(cur, *, now: datetime | None = None) -> None:
    """Every rollup row recounted from the base tables (the demo build, the migration's backfill)."""
    for table in (REPORT_DAYS, CAUSE_DAYS):
        cur.execute(f"DELETE FROM {table}")
    pk1, pk2 = _keys(cur)
    group = ["day", "gym_id", "author_id", "author", "level"]
    cause_rows = cur.execute(_CAUSE_ROWS).df()
    reports = _rolled(cur.execute(_REPORT_ROWS).df(), group, _REPORT_COLUMNS, pk1, pk2, cause_rows)
    causes = _rolled(cause_rows, ["day", "gym_id", "cause"], _CAUSE_COLUMNS, pk1, pk2)
    for table, frame, columns in ((REPORT_DAYS, reports, _REPORT_COLUMNS), (CAUSE_DAYS, causes, _CAUSE_COLUMNS)):
        if not frame.empty:
            _bulk_insert(cur, table, frame, columns)
    cur.execute("UPDATE trend_rollup_state SET built_at = ? WHERE id = 1", [now or utcnow()])


def ensure_built(connection) -> bool:
    """Fill the rollups of a file migrated to 0011 from its existing rows, once (in one transaction).
    Called on every open for writing, after the privacy key exists; True when it built them now."""
    cur = connection.cursor()
    try:
        if not privacy.has_table(cur, "trend_rollup_state") or not privacy.has_table(cur, "privacy_key"):
            return False
        row = cur.execute("SELECT built_at FROM trend_rollup_state WHERE id = 1").fetchone()
        if row is None or row[0] is not None:
            return False
        if cur.execute("SELECT count(*) FROM privacy_key").fetchone()[0] == 0:
            return False
        cur.execute("BEGIN TRANSACTION")
        try:
            rebuild(cur)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return True
    finally:
        cur.close()
