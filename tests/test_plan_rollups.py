"""The plans' daily rollups (backcare/store/plan_rollups.py, migration 0013_plan_rollups_by_day, issue 13) equal a
recount from the base tables after every kind of write that changes them: a plan assigned with a report and on
its own, a status change, feedback recorded (several entries, on several days, with a session), an erasure; and a
file migrated to 0013 with rows in it is counted once on its next open. The published adherence figures read from
them equal the per-row queries': tests/test_trends_plan_reference.py."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from backcare import store
from backcare.auth import SYSTEM, Role
from backcare.errors import Conflict, InvalidInput
from backcare.store import db as db_module
from backcare.store import plan_rollups, privacy
from backcare.store.privacy import with_record_keys
from backcare.store.rollups import CLIENT_BITS
from tests.conftest import report_payload

START = datetime(2025, 3, 3, 7, 0)
PLANS = ("warm_up", "core", "load")
_BIT = f"bit_or(CAST(1 AS BIGINT) << CAST(ck % {CLIENT_BITS} AS INTEGER))"
_TOTALS = f"count(*), CAST(sum(k) % {privacy.KEY_SPACE} AS BIGINT), count(DISTINCT client_id), {_BIT}"
_SOURCES = {  # each table: its base rows, keyed in SQL (privacy.with_record_keys), with its group columns
    plan_rollups.ASSIGNED_DAYS: with_record_keys(
        "SELECT a.id, a.client_id, CAST(a.created_at AS DATE) AS day, c.gym_id, a.plan_id, a.status AS state "
        "FROM assignments AS a JOIN clients AS c ON c.id = a.client_id",
        [("assignment", "id", "k"), ("client", "client_id", "ck")],
    ),
    plan_rollups.FEEDBACK_DAYS: with_record_keys(
        "SELECT f.id, f.client_id, f.entry_date AS day, c.gym_id, a.plan_id, f.done AS state "
        "FROM plan_feedback AS f JOIN assignments AS a ON a.id = f.assignment_id "
        "JOIN clients AS c ON c.id = f.client_id",
        [("feedback", "id", "k"), ("client", "client_id", "ck")],
    ),
}


def recount(db) -> dict[str, list[tuple]]:
    with db.read() as cur:
        pk = privacy.key_params(cur)
        return {
            table: [
                tuple(row)
                for row in cur.execute(
                    f"SELECT day, gym_id, plan_id, state, {_TOTALS} FROM ({source}) AS keyed "
                    "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
                    pk,
                ).fetchall()
            ]
            for table, source in _SOURCES.items()
        }


def rolled(db) -> dict[str, list[tuple]]:
    with db.read() as cur:
        return {
            table: [
                tuple(row)
                for row in cur.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1, 2, 3, 4").fetchall()
            ]
            for table, columns in plan_rollups.COLUMNS.items()
        }


def plan_writes(db, rng: random.Random, *, clients: int = 6, steps: int = 30, check=None) -> dict:
    """A random sequence of the writes that change the plans' rollups, in two gyms; `check()` after each."""
    trainers = []
    for name in "AB":
        gym = store.create_gym(db, actor=SYSTEM, name=f"Gym {name}")
        user = store.create_user(
            db, actor=SYSTEM, username=f"t{name}", display_name=f"T {name}", role=Role.TRAINER, gym_id=gym.id
        )
        trainers.append(store.actor_for(user))
    people = []
    for i in range(clients):
        trainer = trainers[i % 2]
        client = store.create_client(db, actor=trainer, gym_id=trainer.gym_id, name=f"Client {i}", consent_by="x")
        people.append((client.id, trainer))
    active: list[tuple[int, int, object]] = []  # (assignment, client, trainer)
    done: dict[str, int] = {}
    now = START
    for _ in range(steps):
        now += timedelta(hours=rng.choice((3, 9, 20, 30)))
        roll = rng.random()
        if roll < 0.35 or not active:
            client_id, trainer = rng.choice(people)
            try:
                if rng.random() < 0.5:  # with a report (reports.save_report -> assignments.insert_assignment)
                    saved = store.save_report(
                        db,
                        actor=trainer,
                        client_id=client_id,
                        now=now,
                        report=report_payload(pain_score=rng.randint(0, 3)),
                        assign_plans=[rng.choice(PLANS)],
                    )
                    ids = list(saved.assignment_ids)
                else:  # on its own (assignments.assign_plan)
                    ids = [
                        store.assign_plan(
                            db,
                            actor=trainer,
                            client_id=client_id,
                            plan_id=rng.choice(PLANS),
                            start_date=now.date(),
                            review_date=(now + timedelta(days=28)).date(),
                            now=now,
                        ).id
                    ]
            except Conflict:  # the plan is already active for the client: nothing written
                ids = []
            active += [(a, client_id, trainer) for a in ids]
            done["assign"] = done.get("assign", 0) + 1
        elif roll < 0.75:
            assignment_id, client_id, trainer = rng.choice(active)
            mine = [a for a, c, _ in active if c == client_id]
            entries = [
                {
                    "assignment_id": a,
                    "entry_date": (now - timedelta(days=rng.randint(0, 2))).date(),
                    "done": rng.choice(["all", "some", "none"]),
                    "pain_during": rng.randint(0, 9),
                    "pain_morning_after": rng.randint(0, 9),
                }
                for a in mine
            ]
            session = {"date": now.date(), "minutes": 30, "rpe": 5} if rng.random() < 0.3 else None
            try:
                store.record_feedback(db, actor=trainer, client_id=client_id, entries=entries, session=session)
            except InvalidInput:  # an entry dated before its plan: refused, nothing stored
                continue
            done["feedback"] = done.get("feedback", 0) + 1
        elif roll < 0.94:
            assignment_id, client_id, trainer = active.pop(rng.randrange(len(active)))
            status = rng.choice(["completed", "stopped"])
            store.set_assignment_status(db, actor=trainer, assignment_id=assignment_id, status=status, now=now)
            done["status"] = done.get("status", 0) + 1
        elif len(people) > 3:
            client_id, _ = people.pop(rng.randrange(len(people)))
            store.erase_client(db, actor=SYSTEM, client_id=client_id, compact=False, now=now)
            active = [a for a in active if a[1] != client_id]
            done["erase"] = done.get("erase", 0) + 1
        if check is not None:
            check()
    return done


def test_after_each_write_the_plan_rollups_equal_a_recount(db):
    mismatches: list[int] = []
    writes = {"n": 0}

    def check() -> None:
        writes["n"] += 1
        if rolled(db) != recount(db):
            mismatches.append(writes["n"])

    done = plan_writes(db, random.Random(11), check=check)
    counted = recount(db)
    assert mismatches == []
    assert {"assign", "feedback", "status", "erase"} <= set(done), done
    assert len(counted[plan_rollups.ASSIGNED_DAYS]) >= 5 and len(counted[plan_rollups.FEEDBACK_DAYS]) >= 5


def test_the_migration_counts_the_plans_of_a_database_with_rows(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    before = tuple(m for m in db_module.MIGRATIONS if m[0] != "0013_plan_rollups_by_day")
    with monkeypatch.context() as old:  # the schema and store of before 0013: no plan rollups, no hooks
        old.setattr(db_module, "MIGRATIONS", before)
        for hook in ("refresh_assignment", "refresh_feedback", "forget_client"):
            old.setattr(plan_rollups, hook, lambda *args: None)
        old.setattr(plan_rollups, "client_days", lambda cur, client_id: [])
        database = store.open_database(path)
        plan_writes(database, random.Random(5), steps=14)
        with database.read() as cur:
            assert not privacy.has_table(cur, plan_rollups.ASSIGNED_DAYS)
        database.close()
    database = store.open_database(path)  # applies 0013 and counts the existing rows into its tables
    try:
        expected = recount(database)
        assert rolled(database) == expected and expected[plan_rollups.ASSIGNED_DAYS]
        with database.read() as cur:
            (built_at,) = cur.execute("SELECT built_at FROM plan_rollup_state").fetchone()
        assert built_at is not None
    finally:
        database.close()
