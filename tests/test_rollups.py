"""The trends' daily rollups (backcare/store/rollups.py, issue 13): kept equal to a recount from the base
tables by every write, filled from the existing rows when a file is migrated, read once per query.

The recount here computes the record keys in SQL (privacy.with_record_keys, as the per-report queries
did), so it also checks the rollups' own key computation in Python. Its SQL is standard (no any_value,
GROUP BY ALL or ORDER BY ALL), so the tests taking `db` run on DuckDB and PostgreSQL alike."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.store import db as db_module
from backcare.store import plan_rollups, privacy, rollups
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


_BIT = f"bit_or(CAST(1 AS BIGINT) << CAST(ck % {rollups.CLIENT_BITS} AS INTEGER))"
_TOTALS = f"count(*), CAST(sum(rk) % {_KEY_SPACE} AS BIGINT), count(DISTINCT client_id), {_BIT}"
_RED = "(" + ", ".join(f"'{level}'" for level in rollups.RED_LEVELS) + ")"
_GROUPS = {  # each rollup table: its group columns (as SQL over the keyed reports or cause rows)
    rollups.LEVEL_DAYS: ("day", "gym_id", "level"),
    rollups.CAUSE_DAYS: ("day", "gym_id", "cause"),
    rollups.TRAINER_DAYS: ("day", "gym_id", "author_id", "author", f"level IN {_RED}"),
}


def _order(columns: int) -> str:
    return ", ".join(str(i) for i in range(1, columns + 1))  # ORDER BY every column, portably


def recount(db) -> dict[str, list]:
    """Each rollup table's rows as they should be, counted from reports and report_causes."""
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
    out = {}
    with db.read() as cur:
        pk = privacy.key_params(cur)
        for table, group in _GROUPS.items():
            source = causes if table == rollups.CAUSE_DAYS else reports
            out[table] = cur.execute(
                f"SELECT {', '.join(group)}, {_TOTALS} FROM ({source}) AS k "
                f"GROUP BY {_order(len(group))} ORDER BY {_order(len(group) + 4)}",
                pk,
            ).fetchall()
    return {table: [tuple(row) for row in rows] for table, rows in out.items()}


def rolled(db) -> dict[str, list]:
    columns = {
        rollups.LEVEL_DAYS: rollups.LEVEL_COLUMNS,
        rollups.CAUSE_DAYS: rollups.CAUSE_COLUMNS,
        rollups.TRAINER_DAYS: rollups.TRAINER_COLUMNS,
    }
    with db.read() as cur:
        return {
            table: [
                tuple(row)
                for row in cur.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {_order(len(cols))}").fetchall()
            ]
            for table, cols in columns.items()
        }


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
    rows = rolled(db)
    assert rows[rollups.CAUSE_DAYS] and len({row[2] for row in rows[rollups.LEVEL_DAYS]}) >= 3  # levels, causes


def test_a_day_of_a_trainer_is_one_row_per_red_flag_with_its_reports_and_clients(db, history):
    """No row per client: Tara's five reports of 2025-03-04 (five clients, one report each) are one row."""
    with db.read() as cur:
        rows = cur.execute(
            "SELECT red, reports, clients FROM trend_trainer_days WHERE day = DATE '2025-03-04' AND author = 'tara'"
        ).fetchall()
    assert sum(r[1] for r in rows) == 5 and sum(r[2] for r in rows) == 5 and len(rows) <= 2
    assert rolled(db) == recount(db)


def test_a_failed_write_leaves_the_rollups_as_they_were(db, history, monkeypatch):
    before = rolled(db)
    tara = history["tara"]
    client = history["clients"][0]

    def broken(cur, **report):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollups, "add_report", broken)
    with pytest.raises(RuntimeError):
        store.save_report(db, actor=tara, client_id=client.id, now=datetime(2025, 3, 11), report=report_payload())
    assert rolled(db) == before == recount(db)


# --- (b) a saved report is added to its rows, not recounted --------------------------------------

DAY = datetime(2025, 3, 4, 9, 0)


@pytest.fixture
def no_recount(monkeypatch):
    """A save must add its report to the rows: the day's recount (complete_report, erasure) would fail."""

    def refused(cur, touched):
        raise AssertionError("a save recounted its day")

    monkeypatch.setattr(rollups, "_recount", refused)


def _save(db, actor, client, when, **answers):
    return store.save_report(db, actor=actor, client_id=client.id, now=when, report=report_payload(**answers))


def _row(db, table: str, **key) -> tuple | None:
    """(reports, clients, client_bits) of one rollup row."""
    where = " AND ".join(f"{column} = ?" for column in key)
    with db.read() as cur:
        row = cur.execute(
            f"SELECT reports, clients, client_bits FROM {table} WHERE {where}", list(key.values())
        ).fetchone()
    return None if row is None else tuple(row)


def _bit(db, client) -> int:
    with db.read() as cur:
        pk = privacy.key_params(cur)
    return int(rollups.client_bits(rollups.record_keys("client", [client.id], pk["pk1"], pk["pk2"]))[0])


def test_a_clients_second_report_of_the_day_adds_a_report_not_a_client(db, gym, trainer_actor, client, no_recount):
    _save(db, trainer_actor, client, DAY)
    _save(db, trainer_actor, client, DAY + timedelta(hours=5))
    _save(db, trainer_actor, client, DAY + timedelta(hours=15))  # 00:00 the next day: a row of its own
    bit = _bit(db, client)
    day, trainer = DAY.date(), dict(author_id=trainer_actor.user_id, author=trainer_actor.username, red=False)
    assert _row(db, rollups.LEVEL_DAYS, day=day, gym_id=gym.id, level="normal") == (2, 1, bit)
    assert _row(db, rollups.TRAINER_DAYS, day=day, gym_id=gym.id, **trainer) == (2, 1, bit)
    with db.read() as cur:  # its level follows the client's reports of the episode: whichever, one report
        next_day = cur.execute(
            "SELECT reports, clients, client_bits FROM trend_level_days WHERE day = ?", [day + timedelta(days=1)]
        ).fetchall()
    assert [tuple(row) for row in next_day] == [(1, 1, bit)]
    assert rolled(db) == recount(db)


def test_a_second_client_on_the_same_day_adds_a_client_and_its_bit(db, gym, trainer_actor, client, no_recount):
    other = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Grace Hopper", consent_by="x")
    _save(db, trainer_actor, client, DAY)
    _save(db, trainer_actor, other, DAY + timedelta(hours=1))
    _save(db, trainer_actor, client, DAY + timedelta(hours=2))
    bits = _bit(db, client) | _bit(db, other)
    assert _row(db, rollups.LEVEL_DAYS, day=DAY.date(), gym_id=gym.id, level="normal") == (3, 2, bits)
    assert rolled(db) == recount(db)


def test_each_cause_and_level_counts_the_client_once_a_day(db, gym, trainer_actor, client, no_recount):
    """The same client's reports of one day with other causes and levels: each row counts the client once,
    a row the client is new to counts them too."""
    bit = _bit(db, client)
    _save(db, trainer_actor, client, DAY, context={"warmup_minutes": 2})  # normal, warm_up
    _save(db, trainer_actor, client, DAY + timedelta(hours=1), context={"cooldown_done": False})  # recovery
    _save(db, trainer_actor, client, DAY + timedelta(hours=2), context={"warmup_minutes": 2, "cooldown_done": False})
    _save(db, trainer_actor, client, DAY + timedelta(hours=3), pain_quality="sharp", pain_score=4)  # refer
    day = dict(day=DAY.date(), gym_id=gym.id)
    assert _row(db, rollups.CAUSE_DAYS, **day, cause="warm_up") == (2, 1, bit)
    assert _row(db, rollups.CAUSE_DAYS, **day, cause="recovery") == (2, 1, bit)
    with db.read() as cur:
        levels = cur.execute("SELECT level, reports, clients FROM trend_level_days ORDER BY level").fetchall()
        red = cur.execute("SELECT red, reports, clients FROM trend_trainer_days ORDER BY red").fetchall()
    assert len(levels) >= 2 and sum(row[1] for row in levels) == 4 and {row[2] for row in levels} == {1}
    assert [tuple(row) for row in red] == [(False, 3, 1), (True, 1, 1)]
    assert rolled(db) == recount(db)


def test_a_report_with_no_account_is_counted_under_author_0(db, gym, trainer_actor, client, no_recount):
    """An actor made by code has no account id: its reports are rows of author_id 0 under the typed name,
    apart from the same name's reports with an account."""
    desk = Actor(username=trainer_actor.username, role=Role.TRAINER, gym_id=gym.id)
    bit = _bit(db, client)
    _save(db, desk, client, DAY)
    _save(db, desk, client, DAY + timedelta(hours=1))
    _save(db, trainer_actor, client, DAY + timedelta(hours=2))
    day = dict(day=DAY.date(), gym_id=gym.id, author=trainer_actor.username, red=False)
    assert _row(db, rollups.TRAINER_DAYS, **day, author_id=0) == (2, 1, bit)
    assert _row(db, rollups.TRAINER_DAYS, **day, author_id=trainer_actor.user_id) == (1, 1, bit)
    assert rolled(db) == recount(db)


def test_a_save_that_fails_after_adding_its_report_leaves_the_rollups_as_they_were(
    db, gym, trainer_actor, client, monkeypatch
):
    """The rows were added to, then a later step of the save failed: the whole transaction is undone."""
    from backcare.store import reports

    _save(db, trainer_actor, client, DAY, context={"warmup_minutes": 2})
    before = rolled(db)
    added = []
    real = rollups.add_report

    def add_then_note(cur, **report):
        real(cur, **report)
        added.append(report["report_id"])

    def broken(cur, client_id):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollups, "add_report", add_then_note)
    monkeypatch.setattr(reports, "active_plan_ids", broken)  # the step after the rollups
    with pytest.raises(RuntimeError):
        _save(db, trainer_actor, client, DAY + timedelta(hours=1), context={"warmup_minutes": 2})
    assert added and rolled(db) == before == recount(db)


def test_a_completed_report_is_still_recounted(db, gym, trainer_actor, client):
    """Answers added after an emergency stop change the report's level and causes: its day is recounted."""
    saved = store.save_report(
        db, actor=trainer_actor, client_id=client.id, now=DAY, report={"saddle_numbness": True, "chest_pain": False}
    )
    _save(db, trainer_actor, client, DAY + timedelta(hours=1), context={"warmup_minutes": 2})
    store.complete_report(
        db,
        actor=trainer_actor,
        report_id=saved.report_id,
        now=DAY + timedelta(hours=2),
        answers={"pain_score": 2, "leg_symptoms": "none", "pregnant": False},
        context={"warmup_minutes": 2},
    )
    assert rolled(db) == recount(db)


def test_on_postgresql_indexes_serve_the_lookup_of_the_clients_other_reports_of_the_day(db, engine):
    """Without report_causes (report_id) (0014 on PostgreSQL) each save would read every cause row."""
    if engine != "postgresql":
        pytest.skip("DuckDB finds those rows by its zone maps: no index (see rollups._SAME_DAY)")
    with db.write(SYSTEM, "test.rollups_plan") as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # a test database is small: ask for the indexes' plan
        plan = cur.execute("EXPLAIN " + rollups._SAME_DAY, [1, DAY, DAY + timedelta(days=1), 1, 0]).fetchall()
    text = "\n".join(row[0] for row in plan)
    # reports: reports_client_time or reports_gym_time, as the statistics go; the cause rows: the new index
    assert "Seq Scan" not in text and "report_causes_report" in text, text


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
    # every cursor the store takes (its reads and writes go through the private one; the public one is for raw SQL)
    real = db_module.Database._cursor
    monkeypatch.setattr(db_module.Database, "_cursor", lambda self: _CountingCursor(real(self), log))
    store.trends(db, actor=MANAGER, start=date(2025, 3, 1), end=date(2025, 3, 10), now=datetime(2025, 3, 12))
    repeated = {sql[:80]: n for (sql, _), n in Counter(log).items() if n > 1}
    assert not repeated
    texts = Counter(sql for sql, _ in log)
    assert max(texts.values()) == 1, "the same query text run with other parameters"
    recounts = sum("count(DISTINCT r.client_id)" in sql for sql in texts)  # groups the bounds left open
    # the reports read: plan_outcome, the summary's distinct clients, and the recount of undecided groups only
    assert sum("FROM reports" in sql and "report_causes" not in sql for sql in texts) == 2 + recounts
    # the privacy key, 11 tables, the gyms and the trainers to list, the feedback behind the plans' outcome,
    # the summary's clients (19 before the rollups, 8 of them twice), and for plan adherence each plan rollup's
    # distinct (client, plan) pairs beside its rows (two more since 0013), and its recount of open groups
    plan_recounts = sum("SELECT DISTINCT client_id, plan_no, state" in sql for sql in texts)
    assert len(log) <= 18 + recounts + plan_recounts


# --- (d) the migration fills the rollups of a database that has rows ---------------------------


def test_the_migration_upgrades_a_database_with_rows(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    later = (
        "0011_trend_rollups",
        "0012_trend_rollups_by_day",
        "0013_plan_rollups_by_day",
        "0014_rollup_lookup_index",
    )
    before = tuple(m for m in db_module.MIGRATIONS if m[0] not in later)
    with monkeypatch.context() as old:  # the schema and store of before 0011: no rollups, no hooks
        old.setattr(db_module, "MIGRATIONS", before)
        old.setattr(rollups, "refresh_report", lambda cur, report_id: None)
        old.setattr(rollups, "add_report", lambda cur, **report: None)
        old.setattr(rollups, "forget_client", lambda cur, touched: None)
        for hook in ("refresh_assignment", "refresh_feedback", "forget_client"):  # the plans' rollups (0013)
            old.setattr(plan_rollups, hook, lambda *args: None)
        old.setattr(plan_rollups, "client_days", lambda cur, client_id: [])
        database = store.open_database(path)
        history = build_history(database, random.Random(7), clients=6, steps=30)
        with database.read() as cur:
            assert not privacy.has_table(cur, "trend_level_days")
            (reports,) = cur.execute("SELECT count(*) FROM reports").fetchone()
        assert reports >= 15
        expected = recount(database)
        database.close()

    database = store.open_database(path)  # applies 0011, 0012 and 0014 and counts the existing rows into them
    try:
        with database.read() as cur:
            (built_at,) = cur.execute("SELECT built_at FROM trend_rollup_state").fetchone()
            applied = [n for (n,) in cur.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
        assert built_at is not None and set(later) <= set(applied)
        assert rolled(database) == expected and len(expected[rollups.LEVEL_DAYS]) > 10
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
        assert all(cur.execute(f"SELECT count(*) FROM {t}").fetchone() == (0,) for t in rollups.TABLES)
    assert built_at is not None


def test_the_bits_of_a_group_never_count_more_than_its_distinct_clients():
    """The lower bound of the small-group rule: k bits set need k clients, whatever the keys."""
    rng = random.Random(5)
    for _ in range(2000):
        clients = rng.sample(range(2**32), rng.randint(0, 12))
        repeated = clients + [rng.choice(clients) for _ in range(rng.randint(0, 6))] if clients else []
        mask = 0
        for bit in rollups.client_bits(repeated):
            mask |= int(bit)
        assert 0 <= mask < 2**62
        assert int(rollups.lower_bound([mask])[0]) <= len(set(clients))


def test_a_rebuild_counts_the_same_rows_as_the_writes_did(db, history):
    """rebuild() loads its frames in bulk (DuckDB scans them, PostgreSQL takes them by COPY): the same rows."""
    before = rolled(db)
    with db.write(SYSTEM, "test.rollups_rebuild") as cur:
        rollups.rebuild(cur)
    assert rolled(db) == before == recount(db)
    assert len(before[rollups.LEVEL_DAYS]) > 5 and before[rollups.CAUSE_DAYS] and before[rollups.TRAINER_DAYS]


@pytest.mark.duckdb_only("the demo build loads its frames through DuckDB (backcare/store/demo.py)")
def test_the_demo_build_fills_the_rollups_in_its_transaction(db):
    from backcare.store.demo import build_demo

    build_demo(db, clients=40, weeks=4, seed=3, now=datetime(2025, 3, 10, 12, 0))
    rows = rolled(db)
    assert len(rows[rollups.LEVEL_DAYS]) > 20 and rows[rollups.CAUSE_DAYS]
    assert rows == recount(db)


# --- (e) the small-group rule from the bounds: never a group under 5 clients -----------------------------------


def _clients_reporting(db, gym, trainer, clients: int, days: int) -> None:
    for i in range(clients):
        client = store.create_client(db, actor=trainer, gym_id=gym.id, name=f"Client {i}", consent_by="x")
        for day in range(days):
            when = START + timedelta(days=day, hours=i)
            store.save_report(db, actor=trainer, client_id=client.id, now=when, report=report_payload(pain_score=1))


@pytest.mark.parametrize("bits", [rollups.CLIENT_BITS, 1])
def test_four_clients_reporting_on_many_days_stay_hidden_whatever_the_bounds(
    db, gym, trainer_actor, bits, exact, monkeypatch
):
    """12 reports and 12 client-days in one week and level, from 4 clients: the upper bound says 12, the bits at
    most 4, so the group is recounted: 4 clients, hidden (every figure of it, whatever the report count)."""
    monkeypatch.setattr(rollups, "CLIENT_BITS", bits)
    _clients_reporting(db, gym, trainer_actor, clients=4, days=3)
    week = store.trends(db, actor=MANAGER, start=START.date(), end=START.date() + timedelta(days=6))
    normal = week.weekly_levels.frame.set_index("level").loc["normal"]
    assert pd.isna(normal["reports"])
    assert week.summary.frame[["reports", "clients"]].isna().all(axis=None)
    assert week.by_trainer.frame["reports"].isna().all() and week.by_gym.frame["reports"].isna().all()


def test_five_clients_whose_bits_collide_are_shown_after_the_recount(db, gym, trainer_actor, exact, monkeypatch):
    """One bit for every client: the lower bound says 1, the upper bound 10; the recount finds 5 clients."""
    monkeypatch.setattr(rollups, "CLIENT_BITS", 1)
    _clients_reporting(db, gym, trainer_actor, clients=5, days=2)
    week = store.trends(db, actor=MANAGER, start=START.date(), end=START.date() + timedelta(days=6))
    assert week.weekly_levels.frame.set_index("level").loc["normal", "reports"] == 10
    assert week.summary.frame.iloc[0][["reports", "clients"]].tolist() == [10, 5]
