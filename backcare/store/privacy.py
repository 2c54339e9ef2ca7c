"""Cell-key perturbation of the managers' figures, as census offices publish tables (the ABS/ONS cell-key
method); docs/PRIVACY.md is the full description, with the parameters below and what they guarantee.

1. Every record (a report, a client, a referral, a plan assignment, a before/after pair) has a fixed
   32-bit record key: a keyed hash of its id with this deployment's secret (table privacy_key). The hash
   is computed in SQL (murmur3's finaliser, twice, keyed: with_record_keys; BIGINT arithmetic that gives the
   same keys on DuckDB and PostgreSQL), so nothing is stored per row,
   except in the trends' daily rollups (backcare.store.rollups: key sums per day, group and client, the
   same hash computed in Python when a report is written).
2. A figure's cell key is the sum of the keys of the records it counts, modulo 2^32: the same records
   always give the same cell key, whatever view, date range or filter they are reached through.
3. A fixed perturbation table maps (count, cell key) to a small adjustment; the figure shown is the
   count plus its adjustment. Totals are cells of their own, never sums of shown cells.
4. A figure about fewer than MIN_CLIENTS distinct clients (0 included) is not shown at all: it reads
   "fewer than 5", so an empty group and a group of 1-4 look the same. A shown count is never below 5.

Medians and means (magnitudes) get a jitter derived from the same cell key; shares are computed from
the adjusted counts. Nothing here ever returns a true count of a shown figure.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Any

from backcare.errors import StoreError
from backcare.store.engine import DRIVER_ERRORS

MIN_CLIENTS = 5
KEY_BITS = 32
KEY_SPACE = 1 << KEY_BITS
_MASK = KEY_SPACE - 1
_GOLDEN = 2654435761  # Knuth's multiplicative constant: a second, independent-looking draw from a cell key

# One salt per kind of record, so a report and a client with the same id have unrelated keys.
_KIND_SALT = {
    "report": 0x9E3779B9,
    "client": 0x85EBCA6B,
    "referral": 0xC2B2AE35,
    "assignment": 0x27D4EB2F,
    "pair": 0x165667B1,
    "feedback": 0xD3A2646C,  # an entry of plan feedback (issue 15)
}


def kind_salt(kind: str) -> int:
    """The salt of a kind of record ('report', 'client', ...): for code that computes record keys outside SQL."""
    return _KIND_SALT[kind]


@dataclass(frozen=True)
class PerturbationTable:
    """(count, cell key) -> adjustment. `rows[n]` lists (adjustment, probability) for a count n; the last
    row serves every larger count. A cell key in [0, 1) picks the adjustment whose cumulative probability
    first exceeds it. `hours_jitter` (relative) and `points_jitter` (absolute) bound the magnitudes' jitter."""

    rows: dict[int, tuple[tuple[int, float], ...]]
    hours_jitter: float
    points_jitter: float

    def adjustment(self, count: int, cell_key: float) -> int:
        row = self.rows[min(count, max(self.rows))]
        total = 0.0
        for change, probability in row:
            total += probability
            if cell_key < total:
                return change
        return row[-1][0]


# The published table (docs/PRIVACY.md). Counts of 5 and 6 cannot go below 5; from 7 on the adjustment is
# symmetric, mean 0, variance 1.6. About a third of cells are shown unchanged: no one can tell which.
CELL_KEY_TABLE = PerturbationTable(
    rows={
        5: ((0, 0.50), (1, 0.30), (2, 0.20)),
        6: ((-1, 0.25), (0, 0.35), (1, 0.25), (2, 0.15)),
        7: ((-2, 0.15), (-1, 0.20), (0, 0.30), (1, 0.20), (2, 0.15)),
    },
    hours_jitter=0.10,
    points_jitter=0.25,
)
# No adjustment at all, the small-group rule unchanged: tests that count by hand use it.
EXACT = PerturbationTable(rows={5: ((0, 1.0),)}, hours_jitter=0.0, points_jitter=0.0)

TABLE = CELL_KEY_TABLE


def cell_key(key_sum: int) -> float:
    return (int(key_sum) & _MASK) / KEY_SPACE


def _second_draw(key_sum: int) -> float:
    """A value in [-1, 1) from the cell key, unrelated to the count's adjustment."""
    return 2.0 * (((int(key_sum) * _GOLDEN) & _MASK) / KEY_SPACE) - 1.0


def shown(clients: int) -> bool:
    """Whether a figure about `clients` distinct clients may be shown at all."""
    return int(clients) >= MIN_CLIENTS


def perturb_count(count: int, key_sum: int, clients: int) -> int | None:
    """The count as shown: None (reads "fewer than 5") for fewer than MIN_CLIENTS clients, else the count
    plus its adjustment, never below MIN_CLIENTS."""
    if not shown(clients) or count < MIN_CLIENTS:
        return None
    return max(MIN_CLIENTS, int(count) + TABLE.adjustment(int(count), cell_key(key_sum)))


def perturb_hours(value: float | None, key_sum: int, clients: int) -> float | None:
    """A median or quantile of hours, moved by up to ±hours_jitter of itself, to 0.1 h."""
    if value is None or _missing(value) or not shown(clients):
        return None
    return round(float(value) * (1.0 + TABLE.hours_jitter * _second_draw(key_sum)), 1)


def perturb_points(value: float | None, key_sum: int, clients: int) -> float | None:
    """A mean or median of pain-score changes, moved by up to ±points_jitter, to 0.1 point."""
    if value is None or _missing(value) or not shown(clients):
        return None
    return round(float(value) + TABLE.points_jitter * _second_draw(key_sum), 1)


def share(numerator: int | None, denominator: int | None) -> float | None:
    """A percentage of two shown (adjusted) counts, at most 100; None when either is not shown."""
    if numerator is None or denominator is None or _missing(numerator) or _missing(denominator):
        return None
    return round(min(100.0, 100.0 * int(numerator) / int(denominator)), 1)


def _missing(value) -> bool:
    try:
        return value is None or value != value or (isinstance(value, float) and math.isnan(value))
    except TypeError:  # pandas.NA
        return True


# --- SQL ------------------------------------------------------------------------------------


def _xor(a: str, b: str) -> str:
    """a XOR b of two non-negative BIGINTs in standard SQL ((a | b) - (a & b)): DuckDB spells XOR `xor()`,
    PostgreSQL `#`, and neither knows the other's."""
    return f"((({a}) | ({b})) - (({a}) & ({b})))"


def _times_mod32(column: str, constant: int) -> str:
    """(column * constant) mod 2^32 for column, constant < 2^32, in signed 64-bit arithmetic: the product
    itself would overflow a BIGINT, so the column is split in 16-bit halves (each partial product < 2^48)."""
    low = f"(({column} & 65535) * {constant})"
    high = f"(((({column} >> 16) * {constant}) & 65535) << 16)"
    return f"(({low} + {high}) & {_MASK})"


def _fmix32_steps(column: str) -> list[str]:
    """murmur3's 32-bit finaliser, one step per item, each an expression of `column` (a BIGINT < 2^32)."""
    return [
        _xor(column, f"({column} >> 16)"),
        _times_mod32(column, 2246822507),
        _xor(column, f"({column} >> 13)"),
        _times_mod32(column, 3266489909),
        _xor(column, f"({column} >> 16)"),
    ]


def with_record_keys(source_sql: str, keys: list[tuple[str, str, str]]) -> str:
    """SQL: every column of `source_sql` plus one record-key column per (kind, id column, new column name)
    (and the key's intermediate steps, as columns `<name>_h0`, `<name>_h1`, ...).

    The key of a non-negative integer id is fmix32(fmix32(id folded to 32 bits ^ kind salt ^ $pk1) ^ $pk2):
    keyed with both halves of the deployment's secret ($pk1, $pk2: key_params). The same arithmetic on both
    engines, in BIGINT (every intermediate value < 2^49), so DuckDB and PostgreSQL give the same keys, and
    rollups.record_keys gives them in Python. Each step is its own nested SELECT, fenced by OFFSET 0 so that
    no planner folds the steps back into one expression (which would repeat its input 4^11 times)."""
    sql = f"SELECT * FROM ({source_sql}) AS keyed_source"
    for kind, id_column, name in keys:
        as_int = f"CAST({id_column} AS BIGINT)"
        salted = _xor(str(_KIND_SALT[kind]), "CAST($pk1 AS BIGINT)")
        steps = [_xor(_xor(f"({as_int} & {_MASK})", f"({as_int} >> 32)"), salted)]
        steps += _fmix32_steps("{h}")
        steps += [_xor("{h}", "CAST($pk2 AS BIGINT)")]
        steps += _fmix32_steps("{h}")
        for i, step in enumerate(steps):
            column = name if i == len(steps) - 1 else f"{name}_h{i}"
            expr = step.replace("{h}", f"{name}_h{i - 1}") if i else step
            sql = f"SELECT *, {expr} AS {column} FROM ({sql} OFFSET 0) AS {name}_s{i}"
    return sql


def key_sum_sql(expr: str) -> str:
    """A sum of record keys, reduced modulo 2^32 (exact integer arithmetic)."""
    return f"CAST(coalesce({expr}, 0) % {KEY_SPACE} AS BIGINT)"


def ensure_privacy_key(connection: Any) -> None:
    """Give the deployment its secret the first time the file is opened for writing; never changed after
    (a new secret would redraw every adjustment, and two draws of one figure can be averaged)."""
    cur = connection.cursor()
    try:
        if not has_table(cur, "privacy_key"):  # a schema from before migration 0007 (tests open such files)
            return
        cur.execute("BEGIN TRANSACTION")
        cur.execute(
            "INSERT INTO privacy_key (id, secret) SELECT 1, ? WHERE NOT EXISTS (SELECT 1 FROM privacy_key) "
            "ON CONFLICT (id) DO NOTHING",  # two processes opening a new PostgreSQL database at once
            [secrets.randbits(64)],
        )
        cur.execute("COMMIT")
    except DRIVER_ERRORS:
        try:
            cur.execute("ROLLBACK")
        except DRIVER_ERRORS:
            pass
        raise
    finally:
        cur.close()


def has_table(cur, name: str) -> bool:
    row = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = current_schema() AND table_name = ?",
        [name],
    ).fetchone()
    return bool(row and row[0])


def key_params(cur) -> dict[str, int]:
    """The query parameters $pk1, $pk2: the two 32-bit halves of the deployment's secret."""
    row = cur.execute("SELECT secret FROM privacy_key WHERE id = 1").fetchone()
    if row is None:
        raise StoreError(
            "This database has no privacy key yet: open it once for writing (start the app or run "
            "any command) and try again."
        )
    secret = int(row[0])
    return {"pk1": secret & _MASK, "pk2": secret >> KEY_BITS}
