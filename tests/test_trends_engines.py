"""The managers' Trends figures are the same on DuckDB and PostgreSQL: one history written through the store on
each engine, with one privacy key, publishes identical tables (the real cell-key perturbation, not the exact
table of the hand-counted tests). The record keys are BIGINT arithmetic on both engines
(privacy.with_record_keys) and in Python (rollups.record_keys); medians, quantiles, weeks and the seconds to a
first contact are spelled alike (backcare/store/analytics.py)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from backcare import store
from backcare.auth import SYSTEM, Role
from backcare.store import privacy
from tests.conftest import MANAGER, report_payload
from tests.fresh_db import fresh_database
from tests.test_rollups import START, build_history

SECRET = 0xC0FFEE_1234_5678_9A  # one deployment's key on both engines (a 64-bit secret)
PLAN_DAY = datetime(2025, 3, 4, 9, 30, 15, 250_000)  # fractional seconds: hours are counted in whole seconds


def _set_secret(db) -> None:
    """Before any record: the same secret on both engines (the rollups are still empty, nothing to recount)."""
    with db.write(SYSTEM, "test.privacy_key") as cur:
        cur.execute("UPDATE privacy_key SET secret = ? WHERE id = 1", [SECRET])


def _build(db) -> datetime:
    """A random history (every level, causes, contacts, plans ended, erasures) and a gym of seven clients with
    the warm-up plan, feedback on it and referrals contacted after uneven times. Returns the last write's time."""
    _set_secret(db)
    last = build_history(db, random.Random(11), clients=12, steps=70, erase=0.02)["last"]
    gym = store.create_gym(db, actor=SYSTEM, name="Gym C")
    trainer = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="cara", display_name="Cara", role=Role.TRAINER, gym_id=gym.id)
    )
    clinic = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="cliff", display_name="Cliff Clinic", role=Role.CLINIC)
    )
    for i in range(7):
        client = store.create_client(db, actor=trainer, gym_id=gym.id, name=f"Carla {i}", consent_by="cara")
        at = PLAN_DAY + timedelta(minutes=7 * i, microseconds=137 * i)
        saved = store.save_report(
            db,
            actor=trainer,
            client_id=client.id,
            now=at,
            assign_plans=["warm_up"],
            report=report_payload(pain_score=3 + i % 4, context={"warmup_minutes": 2}),
        )
        (plan,) = saved.assignment_ids
        for days, morning in ((1, 2 + i % 3), (4, i % 5)):
            entry = {
                "assignment_id": plan,
                "entry_date": at.date() + timedelta(days=days),
                "done": ("all", "some", "none")[(i + days) % 3],
                "pain_during": 2,
                "pain_morning_after": morning,
            }
            store.record_feedback(db, actor=trainer, client_id=client.id, entries=[entry])
        referred = store.save_report(
            db,
            actor=trainer,
            client_id=client.id,
            now=at + timedelta(days=2),
            report=report_payload(pain_quality="sharp", pain_score=4),
        )
        assert referred.referral_id is not None
        store.update_referral(
            db,
            actor=clinic,
            referral_id=referred.referral_id,
            status="contacted",
            now=at + timedelta(days=2, hours=1 + 3 * i, seconds=0.6 * i),
        )
    return max(last, PLAN_DAY + timedelta(days=7))


def test_one_history_publishes_identical_trends_on_duckdb_and_postgresql(tmp_path, pg_url):
    published = {}
    for engine, target in (("duckdb", None), ("postgresql", pg_url)):
        db = fresh_database(tmp_path / "t.duckdb") if target is None else store.open_database(target)
        try:
            last = _build(db)
            with db.read() as cur:
                assert privacy.key_params(cur) == {"pk1": SECRET & 0xFFFFFFFF, "pk2": SECRET >> 32}
            published[engine] = store.trends(
                db, actor=MANAGER, start=START.date() - timedelta(days=2), end=last.date(), now=last + timedelta(days=1)
            )
        finally:
            db.close()
    duck, pg = published["duckdb"], published["postgresql"]
    for ours, theirs in zip(duck.tables(), pg.tables(), strict=True):
        assert ours.name == theirs.name
        pd.testing.assert_frame_equal(ours.frame, theirs.frame, obj=ours.name)
    # the comparison covers shown figures of every kind, not only "fewer than 5"
    assert duck.summary.frame["reports"].notna().all()
    assert duck.first_contact.frame["median_hours"].notna().any()
    assert duck.first_contact.frame["p90_hours"].notna().any()
    assert duck.weekly_levels.frame["reports"].notna().any()
    assert duck.causes_monthly.frame["reports"].notna().any()
    outcome = duck.plan_outcome.frame.set_index("plan")
    assert pd.notna(outcome.loc["all plans", "median_change"]) and pd.notna(outcome.loc["all plans", "mean_change"])
    assert duck.plan_adherence.frame["done_pct"].notna().any()


@pytest.mark.parametrize("ids", [[0, 1, 2, 41, 2**31 - 1, 2**32 + 5, 2**40 + 12345]])
def test_record_keys_are_the_same_in_sql_on_both_engines_and_in_python(tmp_path, pg_url, ids):
    from backcare.store import rollups

    values = ", ".join(f"({i})" for i in ids)
    sql = privacy.with_record_keys(f"SELECT id FROM (VALUES {values}) AS t(id)", [("pair", "id", "k")])
    params = {"pk1": SECRET & 0xFFFFFFFF, "pk2": SECRET >> 32}
    keys = {}
    for engine, target in (("duckdb", None), ("postgresql", pg_url)):
        db = fresh_database(tmp_path / "k.duckdb") if target is None else store.open_database(target)
        try:
            with db.read() as cur:
                rows = cur.execute(f"SELECT id, k FROM ({sql}) AS keyed ORDER BY id", params).fetchall()
            keys[engine] = [int(k) for _, k in rows]
        finally:
            db.close()
    in_python = [int(k) for k in rollups.record_keys("pair", ids, params["pk1"], params["pk2"])]
    assert keys["duckdb"] == keys["postgresql"] == in_python
    assert all(0 <= k < privacy.KEY_SPACE for k in in_python) and len(set(in_python)) == len(ids)


def test_a_week_starts_on_monday_on_both_engines_whatever_the_server_time_zone(tmp_path, pg_url):
    from backcare.store.analytics import _truncated

    sql = f"SELECT {_truncated('week', 'CAST(? AS DATE)')}, {_truncated('month', 'CAST(? AS DATE)')}"
    answers = {}
    for engine, target in (("duckdb", None), ("postgresql", pg_url)):
        db = fresh_database(tmp_path / "w.duckdb") if target is None else store.open_database(target)
        try:
            with db.read() as cur:
                if target is not None:
                    cur.execute("SET TIME ZONE 'America/Los_Angeles'")
                answers[engine] = cur.execute(sql, [date(2025, 3, 9), date(2025, 3, 9)]).fetchone()
        finally:
            db.close()
    assert answers["duckdb"] == answers["postgresql"] == (date(2025, 3, 3), date(2025, 3, 1))
