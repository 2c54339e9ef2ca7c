"""The trends' daily rollups (backcare/store/rollups.py, issue 13): kept equal to a recount from the base
tables by every write, filled from the existing rows when a file is migrated, read once per query.

The recount here computes the record keys in SQL (privacy.with_record_keys, as the per-report queries
did), so it also checks the rollups' own key computation in Python. Its SQL is standard (no any_value,
GROUP BY ALL or ORDER BY ALL), so the tests taking `db` run on DuckDB and PostgreSQL alike."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.store import db as db_module
from backcare.store import privacy, rollups
from backcare.store.privacy import with_record_keys
from tests.conftest import report_payload

MANAGER = Actor(username="mia", role=Role.MANAGER)
START = datetime(2025, 3, 3, 7, 0)  # a Monday
_KEY_SPACE = privacy.KEY_SPACE

# Answers that give each level, and contexts that give (or not) a contributing cause.
KINDS = {
    "normal": lambda rng: report_payload(pain_score=rng.randint(0, 3)),
    "refer": lambda rng: report_payload(pain_quality="sharp", pain_score=rng.randint(1, 6)),
    "urgent": lambda rng: report_payload(fever_or_unwell=True),
    "stop": lambda rng: {"saddle_numbness": True, "chest_pain": False},  # saved at an emergency stop
}
CONTEXTS = (None, {"warmup_minutes": 2}, {"cooldown_done": False}, {"warmup_minutes": 15, "cooldown_done": True})


_ALL_REPORT_COLUMNS = ", ".join(str(i) for i in range(1, 11))  # ORDER BY every column, portably
_ALL_CAUSE_COLUMNS = ", ".join(str(i) for i in range(1, 8))


def recount(db) -> tuple[list, list]:
    """(report rows, cause rows) as the rollups should hold them, counted from reports and report_causes."""
    keys = [("report", "id", "rk"), ("client", "client_id", "ck")]
    reports = with_record_keys(
        "SELECT id, client_id, gym_id, coalesce(author_id, 0) AS author_id, author, level, "
        "CAST(created_at AS DATE) AS day FROM reports",
        keys,
    )
    causes = with_record_keys(
        "SELECT r.id, r.client_id, r.gym_id, rc.cause, CAST(r.created_at AS DATE) AS day "
        "FROM report_causes AS rc JOIN reports AS r ON r.id = rc.report_id",
        keys,
    )
    with db.read() as cur:
        pk = privacy.key_params(cur)
        bits = ", ".join(f"('{cause}', {bit})" for cause, bit in rollups.CAUSE_BITS.items())
        by_report = cur.execute(
            f"""WITH masks AS (
                    SELECT rc.report_id, sum(DISTINCT b.bit) AS mask
                    FROM report_causes AS rc JOIN (VALUES {bits}) AS b(cause, bit) ON b.cause = rc.cause
                    GROUP BY rc.report_id)
                SELECT day, gym_id, author_id, author, level, client_id, count(*),
                       CAST(sum(rk) % {_KEY_SPACE} AS BIGINT), CAST(min(ck) AS BIGINT),
                       CAST(coalesce(bit_or(m.mask), 0) AS INTEGER)
                FROM ({reports}) AS r LEFT JOIN masks AS m ON m.report_id = r.id
                GROUP BY day, gym_id, author_id, author, level, client_id ORDER BY {_ALL_REPORT_COLUMNS}""",
            pk,
        ).fetchall()
        by_cause = cur.execute(
            f"""SELECT day, gym_id, cause, client_id, count(*), CAST(sum(rk) % {_KEY_SPACE} AS BIGINT),
                       CAST(min(ck) AS BIGINT)
                FROM ({causes}) AS c GROUP BY day, gym_id, cause, client_id ORDER BY {_ALL_CAUSE_COLUMNS}""",
            pk,
        ).fetchall()
    return by_report, by_cause


def rolled(db) -> tuple[list, list]:
    with db.read() as cur:
        return (
            cur.execute(
                "SELECT day, gym_id, author_id, author, level, client_id, reports, report_keys, client_key, causes "
                f"FROM trend_report_days ORDER BY {_ALL_REPORT_COLUMNS}"
            ).fetchall(),
            cur.execute(
                "SELECT day, gym_id, cause, client_id, reports, report_keys, client_key "
                f"FROM trend_cause_days ORDER BY {_ALL_CAUSE_COLUMNS}"
            ).fetchall(),
        )


def build_history(
    db, rng: random.Random, *, clients: int, steps: int, check=None, pace=(1, 3, 9, 20, 30), erase: float = 0.04
) -> dict:
    """A random sequence of writes through the store: reports of every level (several a day for some
    clients), answers added after an emergency stop, referral contacts, plans assigned and ended, and
    erasures. `check()` runs after each write; `pace`: hours between writes to draw from; `erase`: the
    share of writes that erase a client."""
    gyms = [store.create_gym(db, actor=SYSTEM, name=f"Gym {c}") for c in "AB"]
    trainers = [
        store.actor_for(
            store.create_user(
                db, actor=SYSTEM, username=f"t{i}", display_name=f"Trainer {i}", role=Role.TRAINER, gym_id=gym.id
            )
        )
        for i, gym in enumerate([gyms[0], gyms[0], gyms[1]])
    ]
    clinic = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="cleo", display_name="Cleo Clinic", role=Role.CLINIC)
    )
    people = []
    for i in range(clients):
        trainer = trainers[i % len(trainers)]
        people.append(
            (
                store.create_client(
                    db,
                    actor=trainer,
                    gym_id=trainer.gym_id,
                    name=f"Client {i}",
                    trainer_id=trainer.user_id,
                    consent_by=trainer.username,
                ),
                trainer,
            )
        )
    now = START
    stopped: list[tuple[int, Actor, int]] = []  # (report, trainer, client)
    referrals: list[tuple[int, int]] = []  # (referral, client)
    plans: list[tuple[int, Actor, int]] = []  # (assignment, trainer, client)
    done = Counter()
    for _ in range(steps):
        now += timedelta(hours=rng.choice(pace))
        roll = rng.random()
        if roll < 0.10 and stopped:
            report_id, trainer, _ = stopped.pop(rng.randrange(len(stopped)))
            store.complete_report(
                db,
                actor=trainer,
                report_id=report_id,
                now=now,
                answers={"pain_score": rng.randint(0, 9), "leg_symptoms": "one_leg", "pregnant": False},
                context=rng.choice(CONTEXTS[1:]),
            )
            done["complete"] += 1
        elif 0.10 <= roll < 0.24 and referrals:
            store.update_referral(
                db,
                actor=clinic,
                referral_id=referrals.pop(rng.randrange(len(referrals)))[0],
                status="contacted",
                now=now,
            )
            done["contact"] += 1
        elif 0.24 <= roll < 0.32 and plans:
            assignment_id, trainer, _ = plans.pop(rng.randrange(len(plans)))
            status = rng.choice(["completed", "stopped"])
            store.set_assignment_status(db, actor=trainer, assignment_id=assignment_id, status=status, now=now)
            done["plan status"] += 1
        elif 0.32 <= roll < 0.32 + erase and len(people) > 3:
            client, _ = people.pop(rng.randrange(len(people)))
            store.erase_client(db, actor=SYSTEM, client_id=client.id, compact=False, now=now)
            stopped = [s for s in stopped if s[2] != client.id]
            referrals = [r for r in referrals if r[1] != client.id]
            plans = [p for p in plans if p[2] != client.id]
            done["erase"] += 1
        else:
            client, trainer = rng.choice(people)
            kind = rng.choice(list(KINDS))
            payload = KINDS[kind](rng)
            if kind != "stop":
                payload["context"] = rng.choice(CONTEXTS)
            saved = store.save_report(
                db,
                actor=trainer,
                client_id=client.id,
                now=now,
                report=payload,
                assign_plans=["warm_up"] if kind == "normal" and rng.random() < 0.5 else (),
            )
            if kind == "stop":
                stopped.append((saved.report_id, trainer, client.id))
            if saved.referral_id is not None:
                referrals.append((saved.referral_id, client.id))
            plans += [(a, trainer, client.id) for a in saved.assignment_ids]
            done["save"] += 1
        if check is not None:
            check()
    return {"gyms": gyms, "trainers": trainers, "done": done, "last": now}


# --- (a) the rollups equal a recount after any sequence of writes --------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_after_random_writes_the_rollups_equal_a_recount_from_the_base_tables(db, seed):
    mismatches = []

    def check():
        if rolled(db) != recount(db):
            mismatches.append(len(mismatches))

    history = build_history(db, random.Random(seed), clients=7, steps=45, check=check)
    assert not mismatches
    assert history["done"]["save"] >= 15 and {"erase", "contact"} <= set(history["done"])
    by_report, by_cause = rolled(db)
    assert by_cause and len({row[4] for row in by_report}) >= 3  # several levels and causes


def test_several_reports_of_a_client_on_one_day_are_one_row_with_their_count(db, history):
    with db.read() as cur:
        rows = cur.execute(
            "SELECT reports FROM trend_report_days WHERE day = DATE '2025-03-04' AND author = 'tara'"
        ).fetchall()
    assert sorted(rows) == [(1,)] * 5  # five clients of Tara, one report each
    assert rolled(db) == recount(db)


def test_a_failed_write_leaves_the_rollups_as_they_were(db, history, monkeypatch):
    before = rolled(db)
    tara = history["tara"]
    client = history["clients"][0]

    def broken(cur, report_id):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollups, "refresh_report", broken)
    with pytest.raises(RuntimeError):
        store.save_report(db, actor=tara, client_id=client.id, now=datetime(2025, 3, 11), report=report_payload())
    assert rolled(db) == before == recount(db)


def test_record_keys_in_python_equal_the_sql_ones(db):
    ids = [0, 1, 2, 41, 2**31 - 1, 2**32 + 5, 2**40 + 12345]
    with db.read() as cur:
        pk = privacy.key_params(cur)
        values = ", ".join(f"({i})" for i in ids)
        for kind in ("report", "client"):
            sql = with_record_keys(f"SELECT id FROM (VALUES {values}) AS t(id)", [(kind, "id", "k")])
            expected = dict(cur.execute(f"SELECT id, CAST(k AS BIGINT) FROM ({sql}) AS keyed", pk).fetchall())
            got = rollups.record_keys(kind, ids, pk["pk1"], pk["pk2"])
            assert [int(k) for k in got] == [expected[i] for i in ids]


# --- (c) trends() runs each query once --------------------------------------------------------


class _CountingCursor:
    def __init__(self, cursor, log):
        self._cursor, self._log = cursor, log

    def execute(self, sql, params=None):
        self._log.append((" ".join(sql.split()), repr(params)))
        self._cursor.execute(sql, params) if params is not None else self._cursor.execute(sql)
        return self

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def test_trends_runs_no_query_twice(db, history, monkeypatch):
    log: list[tuple[str, str]] = []
    real = db_module.Database.cursor
    monkeypatch.setattr(db_module.Database, "cursor", lambda self: _CountingCursor(real(self), log))
    store.trends(db, actor=MANAGER, start=date(2025, 3, 1), end=date(2025, 3, 10), now=datetime(2025, 3, 12))
    repeated = {sql[:80]: n for (sql, _), n in Counter(log).items() if n > 1}
    assert not repeated
    texts = Counter(sql for sql, _ in log)
    assert max(texts.values()) == 1, "the same query text run with other parameters"
    assert sum("FROM reports" in sql and "report_causes" not in sql for sql in texts) == 1  # plan_outcome only
    # the privacy key, 11 tables, the gyms and the trainers to list, and the feedback behind the plans' outcome
    # (19 before the rollups, 8 of them twice)
    assert len(log) <= 15


# --- (d) the migration fills the rollups of a database that has rows ---------------------------


def test_the_migration_upgrades_a_database_with_rows(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    before = tuple(m for m in db_module.MIGRATIONS if m[0] != "0011_trend_rollups")
    with monkeypatch.context() as old:  # the schema and store of before 0011: no rollups, no hooks
        old.setattr(db_module, "MIGRATIONS", before)
        old.setattr(rollups, "refresh_report", lambda cur, report_id: None)
        old.setattr(rollups, "forget_client", lambda cur, client_id: None)
        database = store.open_database(path)
        history = build_history(database, random.Random(7), clients=6, steps=30)
        with database.read() as cur:
            assert not privacy.has_table(cur, "trend_report_days")
            (reports,) = cur.execute("SELECT count(*) FROM reports").fetchone()
        assert reports >= 15
        expected = recount(database)
        database.close()

    database = store.open_database(path)  # applies 0011 and counts the existing rows into it
    try:
        with database.read() as cur:
            (built_at,) = cur.execute("SELECT built_at FROM trend_rollup_state").fetchone()
            applied = [n for (n,) in cur.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
        assert built_at is not None and applied[-1] == "0011_trend_rollups"
        assert rolled(database) == expected and len(expected[0]) > 10
        summary = store.trends_summary(database, actor=MANAGER, start=START.date(), end=history["last"].date())
        assert summary.frame["reports"].iloc[0] is not None
        database.close()
        database = store.open_database(path)  # built once: a second open does not count again
        with database.read() as cur:
            (again,) = cur.execute("SELECT built_at FROM trend_rollup_state").fetchone()
        assert again == built_at
    finally:
        database.close()


def test_a_new_database_starts_with_built_empty_rollups(db):
    with db.read() as cur:
        (built_at,) = cur.execute("SELECT built_at FROM trend_rollup_state").fetchone()
        assert cur.execute("SELECT count(*) FROM trend_report_days").fetchone() == (0,)
    assert built_at is not None


def test_every_cause_has_its_bit():
    from backcare.models import CauseId

    assert set(rollups.CAUSE_BITS) == {c.value for c in CauseId}
    assert sorted(rollups.CAUSE_BITS.values()) == [1 << i for i in range(len(CauseId))]


def test_a_rebuild_counts_the_same_rows_as_the_writes_did(db, history):
    """rebuild() loads its frames in bulk (DuckDB scans them, PostgreSQL takes them by COPY): the same rows."""
    before = rolled(db)
    with db.write(SYSTEM, "test.rollups_rebuild") as cur:
        rollups.rebuild(cur)
    assert rolled(db) == before == recount(db) and len(before[0]) > 5 and before[1]


@pytest.mark.duckdb_only("the demo build loads its frames through DuckDB (backcare/store/demo.py)")
def test_the_demo_build_fills_the_rollups_in_its_transaction(db):
    from backcare.store.demo import build_demo

    build_demo(db, clients=40, weeks=4, seed=3, now=datetime(2025, 3, 10, 12, 0))
    by_report, by_cause = rolled(db)
    assert len(by_report) > 20 and by_cause
    assert (by_report, by_cause) == recount(db)
