"""Daily rollups of the reports for the managers' trends (migrations 0011_trend_rollups,
0012_trend_rollups_by_day and 0014_rollup_lookup_index in backcare/store/migrations.py, issue 13).

The trends page reads these rows, not the reports: one row per day and group, never per client, so a
page's cost grows with days x gyms (x levels, causes; x trainers for the table by trainer), not with reports.

- trend_level_days: per day, gym and level;
- trend_cause_days: per day, gym and contributing cause (one count per report_causes row);
- trend_trainer_days: per day, gym, author (account id, 0 for none, and the name typed on the report) and
  red flag (level refer or above).

Each row holds `reports` (how many) and `report_keys` (their record keys summed modulo 2^32): both add up
over days and groups, so every published count and its cell key come out exactly as a per-report query
would give them. Distinct clients do not add up over days (a client reporting on Monday and Thursday is one
client of the week), so the rows carry two bounds for the small-group rule instead (backcare.store.privacy:
no figure about fewer than 5 clients):

- `clients`: the distinct clients of the row's reports that day. Summed over a group's rows it is an UPPER
  bound of the group's distinct clients (a client counted once per day and row it appears in);
- `client_bits`: the OR of the row's clients' bits, a client's bit being 1 << (its record key mod 62). OR-ed
  over a group's rows, the number of bits set is a LOWER bound of its distinct clients (each client sets
  exactly one bit, so k set bits need at least k clients).

A group whose lower bound reaches 5 is shown, one whose upper bound (or report count) stays under 5 is
hidden, and only the groups in between are recounted exactly from the reports (backcare.store.analytics):
few at chain scale (a group of 5 clients or more whose clients share bits), and small by definition (fewer
than 5 clients, or a few more colliding in 62 bits). The rule never lets a group under 5 through: a shown
group's lower bound, or its exact count, is 5 or more.

Kept current in the same transaction as each write that changes them, in two ways:

- a NEW report (save_report, the dearest write of a busy gym) is ADDED to its rows (`add_report`): reports
  + 1, its key added to report_keys, its client's bit OR-ed into client_bits, and clients + 1 only when the
  client has no other report in that row's group that day (one query on the client's other reports of the
  day and their cause rows: DuckDB reads one row group of each by its zone maps, PostgreSQL uses
  reports_client_time and report_causes (report_id), migration 0014_rollup_lookup_index). Each row is
  upserted (`INSERT ... ON CONFLICT DO UPDATE` on the tables' primary keys, 0014): three statements,
  whatever the size of the day, instead of recounting it (at 100k clients: 11-13 ms of a save, was 43 ms);
- every other write that changes them RECOUNTS the rows of the day and gym it touches from the base tables
  (`refresh_report` after complete_report, `forget_client` after an erasure, `rebuild`): delete, then insert
  the recount (the table by trainer: only the author's rows). A recount rather than -1 deltas: distinct
  clients and bitmasks do not subtract, and a report whose level or causes change (complete_report) and an
  erasure are one code path.

Either way the rows equal a recount (tests/test_rollups.py checks it after random sequences of writes, and
the added report case by case). Referrals and plan assignments are not rolled up: the referral figures
are medians and 90th percentiles of hours, and "due" depends on the time of the read; they read the
referrals table (one row per referral, a small share of the reports).

The key sums are made with the deployment's secret (privacy_key), which is never changed; whatever changed
it would have to call rebuild() in the same transaction (the privacy tests that try many secrets do).

Record keys are computed here in Python (record_keys: the same keyed hash as privacy.with_record_keys, which
gives the same keys on DuckDB and PostgreSQL), so the SQL of this module stays standard; the bulk insert of
`rebuild` is the one step that differs by engine (_bulk_insert: DuckDB scans the pandas frame in place,
PostgreSQL takes it by COPY).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from backcare.models import Level
from backcare.store import privacy
from backcare.store.db import utcnow

KEY_SPACE = privacy.KEY_SPACE
_MASK = np.uint64(KEY_SPACE - 1)

LEVEL_DAYS = "trend_level_days"
CAUSE_DAYS = "trend_cause_days"
TRAINER_DAYS = "trend_trainer_days"
TABLES = (LEVEL_DAYS, CAUSE_DAYS, TRAINER_DAYS)
CLIENT_BITS = 62  # bits 0..61 of a BIGINT: the sign bit stays clear on both engines
RED_LEVELS: tuple[str, ...] = tuple(lv.value for lv in Level if lv.needs_professional)
_TOTALS = ("reports", "report_keys", "clients", "client_bits")
LEVEL_COLUMNS = ("day", "gym_id", "level", *_TOTALS)
CAUSE_COLUMNS = ("day", "gym_id", "cause", *_TOTALS)
TRAINER_COLUMNS = ("day", "gym_id", "author_id", "author", "red", *_TOTALS)


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


def client_bits(client_keys: np.ndarray) -> np.ndarray:
    """Each client's bit: 1 << (its record key mod CLIENT_BITS)."""
    return np.left_shift(np.int64(1), np.asarray(client_keys, dtype=np.int64) % CLIENT_BITS)


def lower_bound(bits: Iterable[int] | np.ndarray) -> np.ndarray:
    """The number of bits set in each OR of client bits: at most the number of distinct clients behind it."""
    return np.bitwise_count(np.asarray(list(bits) if not isinstance(bits, np.ndarray) else bits, dtype=np.int64))


# --- counting ------------------------------------------------------------------------------------

_REPORT_ROWS = """
    SELECT r.id, r.client_id, r.gym_id, coalesce(r.author_id, 0) AS author_id, r.author, r.level,
           CAST(r.created_at AS DATE) AS day
    FROM reports AS r"""
_CAUSE_ROWS = """
    SELECT r.id, r.client_id, r.gym_id, rc.cause, CAST(r.created_at AS DATE) AS day
    FROM report_causes AS rc JOIN reports AS r ON r.id = rc.report_id"""
_ON_DAY = " WHERE r.gym_id = ? AND r.created_at >= ? AND r.created_at < ?"


def _frame(cur, sql: str, params: list) -> pd.DataFrame:
    cur.execute(sql, params)
    names = [d[0] for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=names)


def _rolled(rows: pd.DataFrame, group: list[str], columns: tuple[str, ...], pk1: int, pk2: int) -> pd.DataFrame:
    """Rows of base records (id, client_id, group columns) -> one row per group: reports, their key sum
    modulo 2^32, the distinct clients and the OR of their bits."""
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    rows = rows.assign(
        rk=record_keys("report", rows["id"].to_numpy(), pk1, pk2),
        bit=client_bits(record_keys("client", rows["client_id"].to_numpy(), pk1, pk2)),
    )
    out = rows.groupby(group, sort=False).agg(
        reports=("id", "size"), report_keys=("rk", "sum"), clients=("client_id", "nunique")
    )
    # OR of the clients' bits = the sum of the group's distinct bits
    out["client_bits"] = rows.drop_duplicates([*group, "bit"]).groupby(group, sort=False)["bit"].sum()
    out = out.reset_index()
    out["report_keys"] = out["report_keys"] % KEY_SPACE
    return out[list(columns)]


def _counted(reports: pd.DataFrame, causes: pd.DataFrame, pk1: int, pk2: int) -> dict[str, pd.DataFrame]:
    """The rows of each rollup table counted from base rows (reports, and their report_causes rows)."""
    reports = reports.assign(red=reports["level"].isin(RED_LEVELS))
    return {
        LEVEL_DAYS: _rolled(reports, ["day", "gym_id", "level"], LEVEL_COLUMNS, pk1, pk2),
        CAUSE_DAYS: _rolled(causes, ["day", "gym_id", "cause"], CAUSE_COLUMNS, pk1, pk2),
        TRAINER_DAYS: _rolled(reports, ["day", "gym_id", "author_id", "author", "red"], TRAINER_COLUMNS, pk1, pk2),
    }


def _python(value):
    return value.item() if isinstance(value, np.generic) else value


def _insert_rows(cur, table: str, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """A few rows in one INSERT (a write's recount: a handful of rows)."""
    if frame.empty:
        return
    one = f"({', '.join('?' * len(columns))})"
    rows = list(frame[list(columns)].itertuples(index=False, name=None))
    cur.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(rows))}",
        [_python(v) for row in rows for v in row],
    )


def _bulk_insert(cur, table: str, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """All rows of `frame` into `table`: DuckDB scans the frame in place; PostgreSQL (engine.PgCursor, which
    has no register) takes them by COPY."""
    if not hasattr(cur, "register"):
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in frame[list(columns)].itertuples(index=False, name=None):
                day, *rest = row
                copy.write_row([pd.Timestamp(day).date(), *(_python(v) for v in rest)])
        return
    cur.register("rollup_frame", frame)
    try:
        select = ", ".join("CAST(day AS DATE)" if c == "day" else c for c in columns)
        cur.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM rollup_frame")
    finally:
        cur.unregister("rollup_frame")


_COLUMNS = {LEVEL_DAYS: LEVEL_COLUMNS, CAUSE_DAYS: CAUSE_COLUMNS, TRAINER_DAYS: TRAINER_COLUMNS}


def _recount_day(cur, day: date, gym_id: int, authors: set[tuple[int, str]]) -> None:
    """Delete the rows of one day and gym (the trainer rows: only those of `authors`) and insert their
    recount from the base tables."""
    bounds = [
        gym_id,
        datetime.combine(day, datetime.min.time()),
        datetime.combine(day + timedelta(days=1), datetime.min.time()),
    ]
    for table in (LEVEL_DAYS, CAUSE_DAYS):
        cur.execute(f"DELETE FROM {table} WHERE day = ? AND gym_id = ?", [day, gym_id])
    for author_id, author in sorted(authors):
        cur.execute(
            f"DELETE FROM {TRAINER_DAYS} WHERE day = ? AND gym_id = ? AND author_id = ? AND author = ?",
            [day, gym_id, author_id, author],
        )
    # one day of one gym: a few hundred rows at chain scale, counted in plain Python (pandas' fixed cost per
    # group-by was most of a save's time)
    reports = cur.execute(_REPORT_ROWS + _ON_DAY, bounds).fetchall()  # id, client, gym, author_id, author, level, day
    causes = cur.execute(_CAUSE_ROWS + _ON_DAY, bounds).fetchall()  # id, client, gym, cause, day
    if not reports:
        return
    pk1, pk2 = _keys(cur)
    ids = [row[0] for row in reports] + [row[0] for row in causes]
    clients = [row[1] for row in reports] + [row[1] for row in causes]
    rk = record_keys("report", ids, pk1, pk2).tolist()
    bits = client_bits(record_keys("client", clients, pk1, pk2)).tolist()
    counted: dict[str, dict[tuple, list]] = {LEVEL_DAYS: {}, CAUSE_DAYS: {}, TRAINER_DAYS: {}}

    def add(table: str, group: tuple, index: int, client: int) -> None:
        totals = counted[table].setdefault(group, [0, 0, set(), 0])
        totals[0] += 1
        totals[1] += rk[index]
        totals[2].add(client)
        totals[3] |= bits[index]

    for index, (_, client, gym, author_id, author, level, _day) in enumerate(reports):
        add(LEVEL_DAYS, (day, gym, level), index, client)
        if (author_id, author) in authors:
            add(TRAINER_DAYS, (day, gym, author_id, author, level in RED_LEVELS), index, client)
    for index, (_, client, gym, cause, _day) in enumerate(causes, start=len(reports)):
        add(CAUSE_DAYS, (day, gym, cause), index, client)
    for table, groups in counted.items():
        frame = pd.DataFrame(
            [(*group, n, keys % KEY_SPACE, len(who), mask) for group, (n, keys, who, mask) in groups.items()],
            columns=list(_COLUMNS[table]),
        )
        _insert_rows(cur, table, frame, _COLUMNS[table])


def _recount(cur, touched: Iterable[tuple]) -> None:
    """Recount each (day, gym_id, author_id, author) touched, one day and gym at a time."""
    by_day: dict[tuple[date, int], set[tuple[int, str]]] = {}
    for day, gym_id, author_id, author in touched:
        by_day.setdefault((day, int(gym_id)), set()).add((int(author_id), author))
    for (day, gym_id), authors in sorted(by_day.items()):
        _recount_day(cur, day, gym_id, authors)


# --- a new report: added to its rows --------------------------------------------------------------

# The client's OTHER reports of the same day and gym, with their causes (a report without causes: one row,
# cause NULL). A client has a handful of reports a day. DuckDB finds them by its zone maps (reports lie in
# time order, report_causes rows in report id order: EXPLAIN ANALYZE at 100k clients reads one row group
# of each, under 2 ms); PostgreSQL by reports_client_time and report_causes_report (0014, engine.py).
_SAME_DAY = """
    SELECT r.level, coalesce(r.author_id, 0), r.author, rc.cause
    FROM reports AS r LEFT JOIN report_causes AS rc ON rc.report_id = r.id
    WHERE r.client_id = ? AND r.created_at >= ? AND r.created_at < ? AND r.gym_id = ? AND r.id <> ?"""


def _upsert_sql(table: str, rows: int) -> str:
    """Add `rows` rows of totals to `table`: a new group's row is inserted, an existing one summed into."""
    columns = _COLUMNS[table]
    key = columns[: -len(_TOTALS)]
    one = f"({', '.join('?' * len(columns))})"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * rows)} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        f"reports = {table}.reports + excluded.reports, "
        f"report_keys = ({table}.report_keys + excluded.report_keys) % {KEY_SPACE}, "
        f"clients = {table}.clients + excluded.clients, "
        f"client_bits = {table}.client_bits | excluded.client_bits"
    )


def add_report(
    cur,
    *,
    report_id: int,
    client_id: int,
    gym_id: int,
    author_id: int | None,
    author: str,
    level: str,
    causes: Iterable[str],
    created_at: datetime,
) -> None:
    """After a NEW report is inserted (with its report_causes rows), in the same transaction: add it to its
    level, cause and trainer rows (reports + 1, its key, its client's bit; clients + 1 in each row whose group
    has no other report of this client that day). The values are those just written to reports."""
    day = created_at.date()
    start = datetime.combine(day, datetime.min.time())
    others = cur.execute(_SAME_DAY, [client_id, start, start + timedelta(days=1), gym_id, report_id]).fetchall()
    author_key = author_id or 0  # 0: no account id, as the recount writes it
    red = level in RED_LEVELS
    seen_levels = {row[0] for row in others}
    seen_authors = {(row[1], row[2], row[0] in RED_LEVELS) for row in others}
    seen_causes = {row[3] for row in others if row[3] is not None}
    pk1, pk2 = _keys(cur)
    key = int(record_keys("report", [report_id], pk1, pk2)[0])
    bit = int(client_bits(record_keys("client", [client_id], pk1, pk2))[0])

    def totals(count: int, seen: bool) -> list:
        return [count, count * key % KEY_SPACE, int(not seen), bit]

    cur.execute(_upsert_sql(LEVEL_DAYS, 1), [day, gym_id, level, *totals(1, level in seen_levels)])
    cur.execute(
        _upsert_sql(TRAINER_DAYS, 1),
        [day, gym_id, author_key, author, red, *totals(1, (author_key, author, red) in seen_authors)],
    )
    counted: dict[str, int] = {}
    for cause in causes:  # one row per report_causes row, as the recount counts them
        counted[cause] = counted.get(cause, 0) + 1
    if counted:  # one statement, each cause once (an upsert may not touch a row twice)
        cur.execute(
            _upsert_sql(CAUSE_DAYS, len(counted)),
            [v for cause, n in counted.items() for v in (day, gym_id, cause, *totals(n, cause in seen_causes))],
        )


# --- the hooks (one call per write, inside the write's transaction) ------------------------------

_TOUCHED = "SELECT DISTINCT CAST(created_at AS DATE), gym_id, coalesce(author_id, 0), author FROM reports WHERE "


def refresh_report(cur, report_id: int) -> None:
    """After a report is changed (level, causes: complete_report): recount its day and gym (and its author's
    rows). A new report is added instead (add_report)."""
    _recount(cur, cur.execute(_TOUCHED + "id = ?", [report_id]).fetchall())


def client_days(cur, client_id: int) -> list[tuple]:
    """Before a client's reports are deleted (erasure): the days and groups their rows count them in."""
    return [tuple(row) for row in cur.execute(_TOUCHED + "client_id = ?", [client_id]).fetchall()]


def forget_client(cur, touched: list[tuple]) -> None:
    """After a client's reports are deleted: recount the days and groups client_days() named."""
    _recount(cur, touched)


def rebuild(cur, *, now: datetime | None = None) -> None:
    """Every rollup row recounted from the base tables (the demo build, the migration's backfill)."""
    for table in TABLES:
        cur.execute(f"DELETE FROM {table}")
    pk1, pk2 = _keys(cur)
    counted = _counted(cur.execute(_REPORT_ROWS).df(), cur.execute(_CAUSE_ROWS).df(), pk1, pk2)
    for table, frame in counted.items():
        if not frame.empty:
            _bulk_insert(cur, table, frame, _COLUMNS[table])
    cur.execute("UPDATE trend_rollup_state SET built_at = ? WHERE id = 1", [now or utcnow()])
    if privacy.has_table(cur, "plan_rollup_state"):  # the plans' rollups too (a schema from 0013 on)
        from backcare.store import plan_rollups  # noqa: PLC0415  (plan_rollups imports this module)

        plan_rollups.rebuild(cur, now=now)


def ensure_built(connection) -> bool:
    """Fill the rollups of a file migrated to 0011 or 0012 from its existing rows, once (in one transaction),
    and the plans' rollups of a file migrated to 0013 (plan_rollups.ensure_built). Called on every open for
    writing, after the privacy key exists; True when it built them now."""
    from backcare.store import plan_rollups  # noqa: PLC0415  (plan_rollups imports this module)

    built = _ensure_reports_built(connection)
    return plan_rollups.ensure_built(connection) or built


def _ensure_reports_built(connection) -> bool:
    return build_once(connection, "trend_rollup_state", rebuild)


def build_once(connection, state_table: str, build) -> bool:
    """`build(cur)` in one transaction when `state_table` says the rollups are still to be filled (built_at
    NULL) and the privacy key exists; True when it built them now. The report and plan rollups' ensure_built."""
    cur = connection.cursor()
    try:
        if not privacy.has_table(cur, state_table) or not privacy.has_table(cur, "privacy_key"):
            return False
        row = cur.execute(f"SELECT built_at FROM {state_table} WHERE id = 1").fetchone()
        if row is None or row[0] is not None:
            return False
        if cur.execute("SELECT count(*) FROM privacy_key").fetchone()[0] == 0:
            return False
        cur.execute("BEGIN TRANSACTION")
        try:
            build(cur)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return True
    finally:
        cur.close()
