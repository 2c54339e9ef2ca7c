"""Training-load reads for one client; the definitions and the SQL are in backcare.store.load."""

from __future__ import annotations

from datetime import date, timedelta

from backcare.auth import Action, Actor
from backcare.errors import InvalidInput
from backcare.store import load
from backcare.store._base import client_gym, guard, rows_as_dicts
from backcare.store.db import Database, utcnow
from backcare.store.records import DailyLoad, LoadRatio, WeeklyLoad

MAX_DAYS = 3 * 366


def _check(db: Database, actor: Actor, client_id: int) -> None:
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.load", entity="clients", entity_id=client_id)


def daily_load(db: Database, *, actor: Actor, client_id: int, start: date, end: date) -> list[DailyLoad]:
    """One row per day from start to end (rest days included, load 0)."""
    if end < start:
        raise InvalidInput("end", "the last day cannot be before the first")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("start", "ask for at most three years at a time")
    _check(db, actor, client_id)
    with db.read("computing the training load") as cur:
        rows = rows_as_dicts(
            cur.execute(load.one_client_daily_sql(), {"client_id": client_id, "first_day": start, "last_day": end})
        )
    return [DailyLoad(**{k: v for k, v in r.items() if k not in ("client_id", "weekly_sessions")}) for r in rows]


def weekly_load(
    db: Database, *, actor: Actor, client_id: int, weeks: int = 8, on: date | None = None
) -> list[WeeklyLoad]:
    """The last `weeks` 7-day weeks ending on `on` (today by default), oldest first."""
    if not 1 <= weeks <= 156:
        raise InvalidInput("weeks", "must be between 1 and 156")
    _check(db, actor, client_id)
    on = on or utcnow().date()
    first_week_end = on - timedelta(days=load.ACUTE_DAYS * (weeks - 1))
    with db.read("computing the weekly load") as cur:
        rows = rows_as_dicts(
            cur.execute(
                load.one_client_weekly_sql(), {"client_id": client_id, "first_day": first_week_end, "last_day": on}
            )
        )
    return [WeeklyLoad(**r) for r in rows]


def load_ratio(db: Database, *, actor: Actor, client_id: int, on: date | None = None) -> LoadRatio:
    """The 7:28-day acute:chronic ratio on `on`: a load-spike indicator, not an injury prediction."""
    _check(db, actor, client_id)
    on = on or utcnow().date()
    with db.read("computing the load ratio") as cur:
        (row,) = rows_as_dicts(
            cur.execute(load.one_client_daily_sql(), {"client_id": client_id, "first_day": on, "last_day": on})
        )
    ratio = row["acute_chronic_ratio"]
    return LoadRatio(
        day=on,
        acute_load=row["weekly_load"],
        chronic_weekly_load=row["chronic_weekly_load"],
        ratio=ratio,
        spike=load.is_spike(ratio),
    )
