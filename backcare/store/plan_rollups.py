"""Daily rollups of the plan assignments and their feedback for the managers' plan adherence (migration
0013_plan_rollups_by_day in backcare/store/migrations.py, issue 13).

The figures of plan_adherence (backcare.store.analytics) are counts of assignments made in the range by plan
and status, and of feedback entries dated in the range by plan and how much of the plan was done. They read
these rows, not the assignments and entries: one row per day and group, never per client.

- plan_assigned_days: per day (the assignment's created_at date, UTC), gym (the client's), plan and status;
- plan_feedback_days: per day (the entry's date), gym (the client's), plan (the assignment's) and `done`.

The same design as the report rollups (backcare.store.rollups, read its docstring): each row holds its
records' count and record-key sum (they add up over days and groups, so each published count and its cell
key are exactly a per-row query's), the day's distinct clients (summed over days: an UPPER bound of a
group's distinct clients) and the OR of the clients' bits (popcount: a LOWER bound). The analytics decide the
small-group rule from the bounds and recount from the base rows only the few groups in between.

Kept current in the same transaction as each write that changes them, by recounting the rows of the day and
gym it touches from the base tables: a new assignment and a status change (refresh_assignment, called by
assignments.insert_assignment and set_assignment_status), feedback recorded (refresh_feedback), an erasure
(client_days before the deletes, forget_client after) and rollups.rebuild (the demo build; a file migrated
to 0013 is counted once on its next open for writing by ensure_built). A client's gym never changes, so an
assignment or an entry stays in its day and gym. tests/test_plan_rollups.py checks the rows equal a recount
after each write of a random sequence (DuckDB and PostgreSQL); tests/test_trends_plan_reference.py that every
published adherence figure equals the per-row queries'.

The plan outcome (pain change per assignment, from its latest entry in the range) is not rolled up: the pair
depends on the range's end; it reads a row per assignment with feedback in the range.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import pandas as pd

from backcare.store.db import utcnow
from backcare.store.rollups import KEY_SPACE, _bulk_insert, _keys, build_once, client_bits, record_keys

ASSIGNED_DAYS = "plan_assigned_days"
FEEDBACK_DAYS = "plan_feedback_days"
TABLES = (ASSIGNED_DAYS, FEEDBACK_DAYS)
ASSIGNED_COLUMNS = ("day", "gym_id", "plan_id", "status", "assignments", "assignment_keys", "clients", "client_bits")
FEEDBACK_COLUMNS = ("day", "gym_id", "plan_id", "done", "entries", "entry_keys", "clients", "client_bits")
COLUMNS = {ASSIGNED_DAYS: ASSIGNED_COLUMNS, FEEDBACK_DAYS: FEEDBACK_COLUMNS}
_KIND = {ASSIGNED_DAYS: "assignment", FEEDBACK_DAYS: "feedback"}  # the record keys' kind (privacy.kind_salt)

# The base rows of each table: id, client_id, the group columns (day, gym, plan, state).
_ROWS = {
    ASSIGNED_DAYS: """
        SELECT a.id, a.client_id, CAST(a.created_at AS DATE) AS day, c.gym_id, a.plan_id, a.status
        FROM assignments AS a JOIN clients AS c ON c.id = a.client_id""",
    FEEDBACK_DAYS: """
        SELECT f.id, f.client_id, f.entry_date AS day, c.gym_id, a.plan_id, f.done
        FROM plan_feedback AS f JOIN assignments AS a ON a.id = f.assignment_id
        JOIN clients AS c ON c.id = f.client_id""",
}
_ON_DAY = {
    ASSIGNED_DAYS: " WHERE c.gym_id = ? AND a.created_at >= ? AND a.created_at < ?",
    FEEDBACK_DAYS: " WHERE c.gym_id = ? AND f.entry_date = ?",
}


def _counted(table: str, rows: pd.DataFrame, pk1: int, pk2: int) -> pd.DataFrame:
    """Base rows (id, client_id, the group columns) -> the table's rows: the count, the records' key sum modulo
    2^32 (keys of the table's kind: assignment or feedback), the distinct clients and the OR of their bits (as
    rollups._rolled counts the reports)."""
    columns = COLUMNS[table]
    group = list(columns[:4])
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    rows = rows.assign(
        rk=record_keys(_KIND[table], rows["id"].to_numpy(), pk1, pk2),
        bit=client_bits(record_keys("client", rows["client_id"].to_numpy(), pk1, pk2)),
    )
    out = rows.groupby(group, sort=False).agg(n=("id", "size"), keys=("rk", "sum"), clients=("client_id", "nunique"))
    out["client_bits"] = rows.drop_duplicates([*group, "bit"]).groupby(group, sort=False)["bit"].sum()
    out = out.reset_index()
    out["keys"] = out["keys"] % KEY_SPACE
    return out.rename(columns={"n": columns[4], "keys": columns[5]})[list(columns)]


def _recount_day(cur, table: str, day: date, gym_id: int) -> None:
    """Delete the rows of one day and gym and insert their recount from the base tables: a few hundred base
    rows at chain scale, counted in plain Python (pandas' fixed cost per group-by would be most of a write's
    time, as rollups._recount_day found)."""
    cur.execute(f"DELETE FROM {table} WHERE day = ? AND gym_id = ?", [day, gym_id])
    if table == ASSIGNED_DAYS:
        start = datetime.combine(day, datetime.min.time())
        params: list = [gym_id, start, start + timedelta(days=1)]
    else:
        params = [gym_id, day]
    rows = cur.execute(_ROWS[table] + _ON_DAY[table], params).fetchall()  # id, client, day, gym, plan, state
    if not rows:
        return
    pk1, pk2 = _keys(cur)
    keys = record_keys(_KIND[table], [row[0] for row in rows], pk1, pk2).tolist()
    bits = client_bits(record_keys("client", [row[1] for row in rows], pk1, pk2)).tolist()
    groups: dict[tuple, list] = {}
    for index, (_, client, _day, _gym, plan, state) in enumerate(rows):
        totals = groups.setdefault((plan, state), [0, 0, set(), 0])
        totals[0] += 1
        totals[1] += keys[index]
        totals[2].add(client)
        totals[3] |= bits[index]
    values = [
        (day, gym_id, plan, state, n, total % KEY_SPACE, len(who), mask)
        for (plan, state), (n, total, who, mask) in sorted(groups.items())
    ]
    one = f"({', '.join('?' * len(COLUMNS[table]))})"
    cur.execute(
        f"INSERT INTO {table} ({', '.join(COLUMNS[table])}) VALUES {', '.join([one] * len(values))}",
        [v for row in values for v in row],
    )


def _recount(cur, touched: Iterable[tuple]) -> None:
    """Recount each (table, day, gym_id) touched, once."""
    for table, day, gym_id in sorted({(t, pd.Timestamp(d).date(), int(g)) for t, d, g in touched}):
        _recount_day(cur, table, day, gym_id)


# --- the hooks (one call per write, inside the write's transaction) ------------------------------


def refresh_assignment(cur, assignment_id: int) -> None:
    """After an assignment is created or its status changes: recount its day and gym."""
    rows = cur.execute(
        "SELECT CAST(a.created_at AS DATE), c.gym_id FROM assignments AS a JOIN clients AS c ON c.id = a.client_id "
        "WHERE a.id = ?",
        [assignment_id],
    ).fetchall()
    _recount(cur, [(ASSIGNED_DAYS, day, gym) for day, gym in rows])


def refresh_feedback(cur, client_id: int, days: Iterable[date]) -> None:
    """After feedback entries of a client are recorded: recount their days in the client's gym."""
    (gym_id,) = cur.execute("SELECT gym_id FROM clients WHERE id = ?", [client_id]).fetchone()
    _recount(cur, [(FEEDBACK_DAYS, day, gym_id) for day in days])


def client_days(cur, client_id: int) -> list[tuple]:
    """Before a client's assignments and feedback are deleted (erasure): the days and gyms that count them."""
    assigned = cur.execute(
        "SELECT DISTINCT CAST(a.created_at AS DATE), c.gym_id FROM assignments AS a "
        "JOIN clients AS c ON c.id = a.client_id WHERE a.client_id = ?",
        [client_id],
    ).fetchall()
    entries = cur.execute(
        "SELECT DISTINCT f.entry_date, c.gym_id FROM plan_feedback AS f JOIN clients AS c ON c.id = f.client_id "
        "WHERE f.client_id = ?",
        [client_id],
    ).fetchall()
    return [(ASSIGNED_DAYS, d, g) for d, g in assigned] + [(FEEDBACK_DAYS, d, g) for d, g in entries]


def forget_client(cur, touched: list[tuple]) -> None:
    """After a client's assignments and feedback are deleted: recount the days client_days() named."""
    _recount(cur, touched)


def counted_from_base(cur, table: str) -> pd.DataFrame:
    """Every row of `table` as a recount from the base tables gives it (rebuild; the tests compare)."""
    pk1, pk2 = _keys(cur)
    return _counted(table, cur.execute(_ROWS[table]).df(), pk1, pk2)


def rebuild(cur, *, now: datetime | None = None) -> None:
    """Every row recounted from the base tables (rollups.rebuild calls it; ensure_built on a migrated file)."""
    for table in TABLES:
        cur.execute(f"DELETE FROM {table}")
        frame = counted_from_base(cur, table)
        if not frame.empty:
            _bulk_insert(cur, table, frame, COLUMNS[table])
    cur.execute("UPDATE plan_rollup_state SET built_at = ? WHERE id = 1", [now or utcnow()])


def ensure_built(connection) -> bool:
    """Fill the rollups of a file migrated to 0013 from its existing rows, once (in one transaction); True when
    it built them now. Called by rollups.ensure_built on every open for writing, after the privacy key exists."""
    return build_once(connection, "plan_rollup_state", rebuild)
