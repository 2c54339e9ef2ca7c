"""Shared fixtures: a fresh database per test under tmp_path, a gym, a trainer, a consenting client.

Fixture names are stable: other test files use them.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from tests.fresh_db import fresh_database
from tests.reports import NORMAL_REPORT

# A fixed clock for tests that need one (naive UTC).
NOW = datetime(2025, 3, 10, 12, 0, 0)


def report_payload(**overrides: Any) -> dict[str, Any]:
    """A valid TriageReport dict with a normal result (mild dull ache the day after training)."""
    payload: dict[str, Any] = {k: v for k, v in NORMAL_REPORT.items() if k != "client_id"}
    payload.update(overrides)
    return payload


@pytest.fixture(autouse=True)
def no_demo_mode(monkeypatch):
    """Demo mode is asked for (BACKCARE_DEMO=1, as scripts/app.sh does): never inherited from the shell
    that runs the tests. A test that wants it sets it."""
    monkeypatch.delenv("BACKCARE_DEMO", raising=False)


# --- The engines. A test module named here runs each test that takes `db` on both engines: DuckDB (a file
# under tmp_path) and PostgreSQL (a fresh database on the session's throwaway server, tests/pg_server.py).
# Page and AppTest tests stay on DuckDB (the store is what differs, and the suite's time is short).
STORE_TEST_MODULES = frozenset(
    {
        "test_store_clients",
        "test_store_db",
        "test_store_history",
        "test_store_inputs",
        "test_store_referrals",
        "test_store_reports",
        "test_accounts",
        "test_permissions",
        "test_scope_people",
        "test_client_contact",
        "test_handoff",
        "test_triage_drafts",
        "test_load",
        "test_load_band",
        "test_resume_signin",
        "test_history_round_trips",
        "test_erasure",
        "test_views",
        "test_postgres",
        "test_feedback_store",
        "test_plan_stages",
        "test_analytics",
        "test_rollups",
        "test_plan_rollups",
    }
)
ENGINES = ("duckdb", "postgresql")


def pytest_generate_tests(metafunc):
    if "db" in metafunc.fixturenames and metafunc.module.__name__.rpartition(".")[2] in STORE_TEST_MODULES:
        metafunc.parametrize("engine", ENGINES, indirect=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "duckdb_only(reason): the test is about the DuckDB file itself")


# Store tests about what only DuckDB has, by test name: their PostgreSQL half is skipped with the reason.
DUCKDB_ONLY = {
    "test_a_second_process_gets_database_locked_in_one_sentence": "one process per file is DuckDB's rule",
    "test_before_erasure_the_file_does_hold_the_names": "reads the DuckDB file's bytes",
    "test_before_erasure_the_file_does_hold_the_contact": "reads the DuckDB file's bytes",
    "test_erasing_the_client_erases_the_contact_from_the_file": "reads the DuckDB file's bytes",
    "test_after_erasure_the_raw_bytes_of_the_file_no_longer_hold_the_name": "reads the DuckDB file's bytes",
    "test_rebuild_is_refused_while_another_connection_holds_the_file_and_nothing_is_lost": "the file rebuild",
    "test_the_store_keeps_working_on_the_rebuilt_file_and_ids_are_not_reused": "the file rebuild",
}


# Cases of parametrised store tests that call what runs on DuckDB only so far: the clients' load figures.
# (The managers' Trends figures run on both: tests/test_trends_engines.py; so does the export.)
DUCKDB_ONLY_CASES = (
    "daily_load",
    "load_ratio",
    "weekly_load",
)


def _duckdb_only_case(node) -> str | None:
    callspec = getattr(node, "callspec", None)
    ids = callspec.id.split("-") if callspec else []
    if any(part.startswith(DUCKDB_ONLY_CASES) for part in ids):
        return "the clients' load figures run on DuckDB only so far"
    return None


@pytest.fixture
def engine(request) -> str:
    """The engine a `db` test runs on: "duckdb" unless the module is a store module (see STORE_TEST_MODULES)."""
    name = getattr(request, "param", "duckdb")
    if name == "postgresql":
        marker = request.node.get_closest_marker("duckdb_only")
        reason = (
            DUCKDB_ONLY.get(request.node.originalname)
            or _duckdb_only_case(request.node)
            or (marker and (marker.args or ["DuckDB only"])[0])
        )
        if reason:
            pytest.skip(reason)
    return name


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the session, started the first time a test asks for one."""
    from tests import pg_server as pg

    reason = pg.available()
    if reason:
        pytest.skip(reason)
    server = pg.PgServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    """A migrated database to copy: CREATE DATABASE ... TEMPLATE is much faster than migrating each time."""
    pg_server.admin("CREATE DATABASE backcare_template")
    store.open_database(pg_server.url("backcare_template")).close()
    return "backcare_template"


@pytest.fixture
def pg_url(pg_server, pg_template):
    """The URL of a fresh, migrated PostgreSQL database of this test's own; dropped after."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    pg_server.admin(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    yield pg_server.url(name)
    pg_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def empty_pg_url(pg_server):
    """A new PostgreSQL database with nothing in it (not even the schema)."""
    name = f"e_{uuid.uuid4().hex[:16]}"
    pg_server.admin(f"CREATE DATABASE {name}")
    yield pg_server.url(name)
    pg_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_reused(pg_server, pg_template):
    """The `db` of the store's tests on PostgreSQL: one database per test process, reset to its migrated state
    before each test (tests/pg_server.py, ReusedDatabase). A test that needs a database nobody else has used
    asks for `pg_url`."""
    from tests import pg_server as pg

    return pg.ReusedDatabase(pg_server, pg_template)


@pytest.fixture
def db(request, engine, tmp_path):
    # A test of the hand-counted history (the `history` below, not a module's own) gets a copy of it.
    if "history" in request.fixturenames and "history" not in vars(request.module):
        snapshot = request.getfixturevalue("history_snapshot")
        if engine == "postgresql":
            pg_server = request.getfixturevalue("pg_server")
            name = f"t_{uuid.uuid4().hex[:16]}"
            pg_server.admin(f"CREATE DATABASE {name} TEMPLATE {snapshot.source}")
            request.addfinalizer(lambda: pg_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            database = store.open_database(pg_server.url(name))
        else:
            shutil.copyfile(snapshot.source, tmp_path / "t.duckdb")
            database = store.open_database(tmp_path / "t.duckdb")
    elif engine == "postgresql":
        database = store.open_database(request.getfixturevalue("pg_reused").reset())
    else:
        database = fresh_database(tmp_path / "t.duckdb")
    yield database
    database.close()


@pytest.fixture
def gym(db):
    return store.create_gym(db, actor=SYSTEM, name="Riverside Strength")


@pytest.fixture
def trainer_user(db, gym):
    return store.create_user(
        db,
        actor=SYSTEM,
        username="tara",
        display_name="Tara Trainer",
        role=Role.TRAINER,
        gym_id=gym.id,
        contact="tara@example.test",
    )  # no password: hashing is slow


@pytest.fixture
def trainer_actor(trainer_user) -> Actor:
    return store.actor_for(trainer_user)


@pytest.fixture
def client(db, gym, trainer_actor):
    return store.create_client(
        db,
        actor=trainer_actor,
        gym_id=gym.id,
        name="Ada Lovelace",
        trainer_id=trainer_actor.user_id,
        consent_by=trainer_actor.username,
    )


# --- The hand-counted trends history (tests/test_analytics.py describes it; the trends page and the
# suppression tests read it too).

W1, W2 = date(2025, 3, 3), date(2025, 3, 10)
TUE = datetime(2025, 3, 4, 10, 0)
WED = datetime(2025, 3, 5, 10, 0)
MON = datetime(2025, 3, 10, 9, 0)
LATER = datetime(2025, 3, 12, 12, 0)
RANGE = {"start": date(2025, 3, 1), "end": date(2025, 3, 10)}
MANAGER = Actor(username="mia", role=Role.MANAGER)
SHORT_WARMUP = {"warmup_minutes": 2}
NO_COOLDOWN = {"cooldown_done": False}


def _client(db, trainer, name):
    return store.create_client(
        db, actor=trainer, gym_id=trainer.gym_id, name=name, trainer_id=trainer.user_id, consent_by=trainer.username
    )


def _report(db, trainer, client, at, **answers):
    return store.save_report(db, actor=trainer, client_id=client.id, report=report_payload(**answers), now=at)


@dataclass(frozen=True)
class Snapshot:
    source: str  # a DuckDB file to copy, or a PostgreSQL database to use as a template
    made: dict[str, Any]  # what the builder returned: the gyms, actors and clients the tests refer to


_SNAPSHOTS: dict[str, Snapshot] = {}


@pytest.fixture
def history_snapshot(request, engine, tmp_path_factory) -> Snapshot:
    """The hand-counted history, written through the store once per engine and test process, then copied for
    each test that asks for `history` (a file copy, or CREATE DATABASE ... TEMPLATE): each test still gets a
    database of its own, in a fraction of the time the ~40 writes take."""
    if engine not in _SNAPSHOTS:
        if engine == "postgresql":
            pg_server = request.getfixturevalue("pg_server")
            name = f"history_{uuid.uuid4().hex[:12]}"
            pg_server.admin(f"CREATE DATABASE {name} TEMPLATE {request.getfixturevalue('pg_template')}")
            database = store.open_database(pg_server.url(name))
            source = name
        else:
            path = tmp_path_factory.mktemp("history") / "history.duckdb"
            database = fresh_database(path)
            source = str(path)
        try:
            made = write_history(database)
        finally:
            database.close()
        _SNAPSHOTS[engine] = Snapshot(source, made)
    return _SNAPSHOTS[engine]


@pytest.fixture
def history(db, history_snapshot):
    """The hand-counted trends history (see write_history); `db` is a copy of it."""
    return history_snapshot.made


def write_history(db) -> dict[str, Any]:
    gym_a = store.create_gym(db, actor=SYSTEM, name="Gym A")
    gym_b = store.create_gym(db, actor=SYSTEM, name="Gym B")
    tara = store.actor_for(
        store.create_user(
            db, actor=SYSTEM, username="tara", display_name="Tara Trainer", role=Role.TRAINER, gym_id=gym_a.id
        )
    )
    ben = store.actor_for(
        store.create_user(
            db, actor=SYSTEM, username="ben", display_name="Ben Trainer", role=Role.TRAINER, gym_id=gym_b.id
        )
    )
    clinic = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="cleo", display_name="Cleo Clinic", role=Role.CLINIC)
    )
    a = [_client(db, tara, f"Alpha {i}") for i in range(1, 7)]
    b = [_client(db, ben, f"Beta {i}") for i in range(1, 3)]

    plans = []
    for client in a[:5]:
        saved = store.save_report(
            db,
            actor=tara,
            client_id=client.id,
            now=TUE,
            assign_plans=["warm_up"],
            report=report_payload(pain_score=3, context=SHORT_WARMUP),
        )
        assert saved.result.level == "normal" and len(saved.assignment_ids) == 1
        plans.append(saved.assignment_ids[0])
    a6 = _report(db, tara, a[5], WED, pain_quality="sharp", context=SHORT_WARMUP)
    _report(db, ben, b[0], TUE, pain_score=2, context=NO_COOLDOWN)
    b2 = _report(db, ben, b[1], TUE, fever_or_unwell=True, context=NO_COOLDOWN)
    assert (a6.result.level, b2.result.level) == ("refer", "urgent")

    week2 = []
    for client, pain in zip(a[:4], (1, 3, 4, 3), strict=True):
        week2.append(_report(db, tara, client, MON, pain_quality="sharp", pain_score=pain))
    a5 = _report(db, tara, a[4], MON, saddle_numbness=True, pain_score=5)
    b1 = _report(db, ben, b[0], MON, pain_score=1)
    assert [s.result.level for s in week2] == ["refer"] * 4
    assert (a5.result.level, b1.result.level) == ("emergency", "normal")

    end = datetime(2025, 3, 8, 12, 0)
    for assignment_id, status in zip(plans, ("completed", "completed", "completed", "stopped"), strict=False):
        store.set_assignment_status(db, actor=tara, assignment_id=assignment_id, status=status, now=end)

    for saved, hours in zip(week2, (2, 4, 10, 30), strict=True):
        store.update_referral(
            db, actor=clinic, referral_id=saved.referral_id, status="contacted", now=MON + timedelta(hours=hours)
        )
    store.update_referral(
        db, actor=clinic, referral_id=a6.referral_id, status="contacted", now=WED + timedelta(hours=6)
    )
    return {"gym_a": gym_a, "gym_b": gym_b, "tara": tara, "clinic": clinic, "clients": a + b}


# --- Two clients filled with every kind of row, one to erase and one to keep (the erasure tests).

ERASED = "Zebediah Quuxworth"
KEPT = "Ottoline Brackenbury"
CLIENT_TABLES = (
    "sessions",
    "reports",
    "report_findings",
    "report_causes",
    "report_submissions",
    "assignments",
    "referrals",
    "referral_events",
)


def fill(db, actor, client_id: int) -> None:
    """Sessions, a normal report with a cause and a plan, then a refer report with its referral and events."""
    store.log_session(
        db,
        actor=actor,
        client_id=client_id,
        session={"date": date(2025, 3, 8), "minutes": 60, "rpe": 7, "exercises": ["deadlift"]},
    )
    store.save_report(
        db,
        actor=actor,
        client_id=client_id,
        now=NOW - timedelta(days=1),
        report=report_payload(context={"warmup_minutes": 2}),
        assign_plans=["warm_up"],
        submission=f"form-of-client-{client_id}",
    )
    saved = store.save_report(
        db, actor=actor, client_id=client_id, now=NOW, report=report_payload(pain_score=8, hours_since_workout=30)
    )
    store.update_referral(db, actor=SYSTEM, referral_id=saved.referral_id, status="contacted", note="rang them")
    store.get_client(db, actor=actor, client_id=client_id)


@pytest.fixture
def two_clients(db, gym, trainer_actor):
    erased = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name=ERASED, consent_by="tara")
    kept = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name=KEPT, consent_by="tara")
    for client in (erased, kept):
        fill(db, trainer_actor, client.id)
    return erased, kept


@pytest.fixture
def exact(monkeypatch):
    """Manager figures counted by hand: the cell-key adjustment off (the small-group rule still applies)."""
    from backcare.store import privacy

    monkeypatch.setattr(privacy, "TABLE", privacy.EXACT)


@pytest.fixture
def database(tmp_path):
    """A small history written row by row (one gym, an admin with a hash, one client, 25 sessions): the
    export tests' database."""
    db = fresh_database(tmp_path / "export.duckdb")
    with db.write(SYSTEM, "test.seed") as cur:
        cur.execute("INSERT INTO gyms (name) VALUES ('North')")
        cur.execute(
            "INSERT INTO users (username, display_name, role, password_hash) "
            "VALUES ('ada', 'Ada', 'admin', '$argon2id$secret')"
        )
        cur.execute("INSERT INTO clients (external_id, gym_id, name, created_by) VALUES ('C-0001', 1, 'Ann', 't')")
        cur.execute(
            "INSERT INTO sessions (client_id, date, minutes, rpe, created_by) "
            "SELECT 1, DATE '2024-01-01' + i::INTEGER, 45, 6, 't' FROM range(25) t(i)"
        )
    yield db
    db.close()


@pytest.fixture
def chain_file(tmp_path) -> Path:
    """A DuckDB file to move to PostgreSQL, with every kind of row: sessions, reports, plans, a referral
    updated after it was made (an updated row moves in PostgreSQL's heap), an erased client whose id the copy
    must not hand out again, an empty string and NULLs."""
    path = tmp_path / "chain.duckdb"
    with store.open_database(path) as db:
        gym = store.create_gym(db, actor=SYSTEM, name="Riverside Strength")
        user = store.create_user(
            db, actor=SYSTEM, username="tara", display_name="Tara Trainer", role=Role.TRAINER, gym_id=gym.id
        )
        tara = store.actor_for(user)
        kept = store.create_client(db, actor=tara, gym_id=gym.id, name=KEPT, consent_by="tara")
        fill(db, tara, kept.id)
        other = store.create_client(db, actor=tara, gym_id=gym.id, name="Second Client", consent_by="tara")
        fill(db, tara, other.id)
        erased = store.create_client(db, actor=tara, gym_id=gym.id, name=ERASED, consent_by="tara")
        store.erase_client(db, actor=SYSTEM, client_id=erased.id)
        store.add_user(db, actor=SYSTEM, username="ada", display_name="Ada", role="admin", password="ada's password 1")
    return path
