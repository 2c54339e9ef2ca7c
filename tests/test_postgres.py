"""BackCare on PostgreSQL: the engine choice, the copy from a DuckDB file, and two app processes on one
database. The store's own tests run on both engines (tests/conftest.py, STORE_TEST_MODULES); these are
about what only a server database has."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.cli import main as cli
from backcare.errors import Conflict, StoreError
from backcare.store.engine import POSTGRES, pg_sql
from backcare.store.importer import COLUMNS, import_sessions_csv
from tests.conftest import KEPT, NOW, report_payload

REPO = Path(__file__).resolve().parents[1]


def test_the_store_sql_markers_become_psycopg_markers_outside_literals():
    sql = "SELECT '?', '$x', a % 7, \"$y\" FROM t WHERE a = ? AND b = $name -- ?\n AND c LIKE '%' || ?"
    assert pg_sql(sql) == (
        "SELECT '?', '$x', a %% 7, \"$y\" FROM t WHERE a = %s AND b = %(name)s -- ?\n AND c LIKE '%' || %s"
    )


def test_database_url_selects_postgresql_and_the_file_default_is_unchanged(monkeypatch, pg_url, tmp_path):
    monkeypatch.setenv("BACKCARE_DATABASE_URL", pg_url)
    with store.open_database() as db:
        assert db.engine is POSTGRES and db.is_postgres
        gym = store.create_gym(db, actor=SYSTEM, name="Server Gym")
    with psycopg.connect(pg_url) as check:
        assert check.execute("SELECT name FROM gyms WHERE id = %s", [gym.id]).fetchone() == ("Server Gym",)
    with store.open_database(tmp_path / "file.duckdb") as file_db:  # a path given: always the file
        assert not file_db.is_postgres and store.list_gyms(file_db, actor=SYSTEM) == []
    monkeypatch.delenv("BACKCARE_DATABASE_URL")
    monkeypatch.setenv("BACKCARE_DB", str(tmp_path / "default.duckdb"))
    with store.open_database() as default_db:
        assert not default_db.is_postgres and default_db.path == tmp_path / "default.duckdb"


def test_the_migrations_run_on_postgresql_with_the_portable_variant_of_0007(empty_pg_url):
    with store.open_database(empty_pg_url) as db:
        applied = db.applied_migrations()
        with db.read() as cur:
            (secret,) = cur.execute("SELECT secret FROM privacy_key").fetchone()
    assert applied[0] == "0000_postgres_compat" and applied[-1] == "postgres_1_client_indexes"
    assert [n for n, _ in store.db.MIGRATIONS] == applied[1:-1]
    assert isinstance(secret, int) and 0 <= secret < 2**64  # the 64-bit secret, whole


def test_a_clients_rows_are_read_by_index_on_postgresql(pg_url):
    """client_history's reads of one client (sessions, plans, referrals) must not scan the whole table: a chain
    holds 2.9 M sessions, which PostgreSQL scans in ~150 ms (the target is 20 ms for the whole history).
    DuckDB needs no index for this (0002 dropped it); PostgreSQL gets them after the shipped migrations."""
    with psycopg.connect(pg_url, autocommit=True) as check:
        check.execute("SET enable_seqscan = off")  # an empty table: only a missing index makes it scan
        for sql in (
            "SELECT date FROM sessions WHERE client_id = 1 AND date >= '2025-01-01' ORDER BY date",
            "SELECT id FROM assignments WHERE client_id = 1",
            "SELECT id FROM referrals WHERE client_id = 1",
        ):
            plan = " ".join(row[0] for row in check.execute(f"EXPLAIN {sql}").fetchall())  # type: ignore[arg-type]
            assert "Seq Scan" not in plan and "Index" in plan, (sql, plan)


def test_a_server_that_cannot_be_reached_is_one_sentence(pg_server):
    url = f"postgresql://postgres@127.0.0.1:{pg_server.port}/no_such_database"
    with pytest.raises(StoreError, match="could not be reached"):
        store.open_database(url)


# --- migrate-to-postgres ------------------------------------------------------------------------------


def _counts(db) -> dict[str, int]:
    with db.read() as cur:
        tables = [
            t
            for (t,) in cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_name <> 'schema_migrations'"
            ).fetchall()
        ]
        return {t: int(cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}


@pytest.mark.parametrize(
    "slicing",
    [
        {"SLICE_ROWS": 2},  # every table of more than two rows goes in several slices
        {"FIRST_SLICE_ROWS": 3, "SLICE_BYTES": 1},  # slices by bytes: after the first, as few rows as allowed
    ],
)
def test_migrate_to_postgres_copies_every_row_and_counts_both_sides(
    chain_file, empty_pg_url, capsys, monkeypatch, slicing
):
    from backcare.store import transfer

    for name, value in slicing.items():
        monkeypatch.setattr(transfer, name, value)
    with store.open_database(chain_file, read_only=True) as source:
        expected = _counts(source)
        with source.read() as cur:
            (secret,) = cur.execute("SELECT secret FROM privacy_key").fetchone()
            (last_client,) = cur.execute("SELECT max(id) FROM clients").fetchone()
    assert cli(["migrate-to-postgres", "--from", str(chain_file), "--to", empty_pg_url]) == 0
    printed = capsys.readouterr().out
    for table, rows in expected.items():
        assert f"{table} " in printed and f"{rows:,}" in printed
    assert "every count matches" in printed
    with store.open_database(empty_pg_url) as target:
        copied = _counts(target)
        with target.read() as cur:
            assert cur.execute("SELECT secret FROM privacy_key").fetchone() == (secret,)
            (migrated,) = cur.execute("SELECT count(*) FROM audit_log WHERE action = 'database.migrate'").fetchone()
        gym = store.list_gyms(target, actor=SYSTEM)[0]
        new = store.create_client(target, actor=SYSTEM, gym_id=gym.id, name="After The Move", consent_by="x")
        kept = store.search_clients(target, actor=SYSTEM, query=KEPT)[0]
        assert len(store.list_reports(target, actor=SYSTEM, client_id=kept.id)) == 2
    assert copied == expected | {"audit_log": expected["audit_log"] + 1}  # + the migration's own audit row
    assert migrated == 1
    assert new.id > last_client + 1  # past the erased client's id too: the file's sequence had handed it out


def test_migrate_to_postgres_refuses_a_target_that_holds_data(chain_file, pg_url, capsys):
    with store.open_database(pg_url) as target:
        store.create_gym(target, actor=SYSTEM, name="Already Here")
        before = _counts(target)
    assert cli(["migrate-to-postgres", "--from", str(chain_file), "--to", pg_url]) == 2
    assert "already holds data (in audit_log, gyms)" in capsys.readouterr().err
    with store.open_database(pg_url) as target:
        assert _counts(target) == before


def test_migrate_to_postgres_never_truncates_a_row_written_after_its_first_check(chain_file, empty_pg_url, monkeypatch):
    """The copy empties the target's tables in its transaction (so COPY may FREEZE): a gym written by someone
    else after the first emptiness check is found again under the tables' lock, a Conflict, and kept."""
    from backcare.store import transfer

    columns = transfer._columns

    def then_a_gym_arrives(cur):  # runs in the copy's transaction, after the first check
        if getattr(cur, "_pool", None) is not None and not hasattr(then_a_gym_arrives, "done"):
            then_a_gym_arrives.done = True  # type: ignore[attr-defined]
            with psycopg.connect(empty_pg_url, autocommit=True) as other:
                other.execute("INSERT INTO gyms (name) VALUES ('Came Meanwhile')")
        return columns(cur)

    with store.open_database(empty_pg_url):
        pass  # migrated: the schema is there
    monkeypatch.setattr(transfer, "_columns", then_a_gym_arrives)
    with pytest.raises(Conflict, match=r"already holds data \(in gyms\)"):
        transfer.migrate_to_postgres(chain_file, empty_pg_url)
    with psycopg.connect(empty_pg_url) as check:
        assert check.execute("SELECT name FROM gyms").fetchall() == [("Came Meanwhile",)]


# --- two app processes on one database ----------------------------------------------------------------


def test_two_processes_save_at_once_every_report_once_audit_complete_no_lost_referral_update(db, engine):
    if engine != "postgresql":
        pytest.skip("two processes on one database: what PostgreSQL is for (DuckDB refuses a second process)")
    gym = store.create_gym(db, actor=SYSTEM, name="Busy Gym")
    trainers = []
    for name in ("tara", "theo"):
        user = store.create_user(
            db, actor=SYSTEM, username=name, display_name=name.title(), role=Role.TRAINER, gym_id=gym.id
        )
        trainers.append(store.actor_for(user))
    client = store.create_client(db, actor=trainers[0], gym_id=gym.id, name="Shared Client", consent_by="tara")
    referral_id = store.save_report(
        db, actor=trainers[0], client_id=client.id, report=report_payload(pain_score=8, hours_since_workout=30), now=NOW
    ).referral_id
    n = 30
    start_at = time.time() + 3  # both interpreters imported and connected by then
    env = {k: v for k, v in os.environ.items() if k not in ("BACKCARE_DB", "BACKCARE_DATABASE_URL")}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.pg_worker",
                str(db.path),
                t.username,
                str(client.id),
                str(referral_id),
                str(start_at),
                str(n),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for t in trainers
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))

    forms = {f"{t.username}-{i}" for t in trainers for i in range(0, n, 2)} | {f"shared-{i}" for i in range(1, n, 2)}
    saved = [token for r in results for token, _ in r["saved"]]
    with db.read() as cur:
        stored = dict(cur.execute("SELECT token, report_id FROM report_submissions").fetchall())
        (reports,) = cur.execute("SELECT count(*) FROM reports WHERE client_id = ?", [client.id]).fetchone()
        audit_ids = {
            int(e)
            for (e,) in cur.execute(
                "SELECT entity_id FROM audit_log WHERE action = 'report.save' AND outcome = 'ok'"
            ).fetchall()
        }
        (report_ids,) = cur.execute("SELECT array_agg(id) FROM reports").fetchone()
        events = cur.execute(
            "SELECT status, note FROM referral_events WHERE referral_id = ? ORDER BY id", [referral_id]
        ).fetchall()
        (status,) = cur.execute("SELECT status FROM referrals WHERE id = ?", [referral_id]).fetchone()
        (status_audits,) = cur.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'referral.status' AND outcome = 'ok'"
        ).fetchone()

    # every form stored exactly once: each shared form saved by one process, found saved by the other
    assert sorted(saved) == sorted(forms) and set(stored) == forms
    assert reports == len(forms) + 1  # + the report that opened the referral
    for token in (f"shared-{i}" for i in range(1, n, 2)):
        assert sum(token in r["already"] for r in results) == 1
    # audit rows complete: one report.save row per stored report, none for a report that is not there
    assert audit_ids == set(report_ids)
    # the referral changed from both at once: one change recorded, the other refused, nothing lost
    assert sorted(r["referral"][0] == "changed" for r in results) == [False, True]
    assert status == "contacted" and status_audits == 1
    assert [e[0] for e in events] == ["new", "contacted"]
    with pytest.raises(Conflict):
        store.update_referral(db, actor=SYSTEM, referral_id=referral_id, status="contacted", expected_status="new")


def test_a_row_changed_by_another_handle_inside_a_transaction_is_a_clash_not_a_lost_update(db, client, trainer_actor):
    """The engines' write isolation, made deterministic: handle A reads a referral's status in its transaction,
    handle B (another process, on PostgreSQL) changes it and commits, then A writes: A is refused."""
    referral_id = store.save_report(
        db, actor=trainer_actor, client_id=client.id, report=report_payload(pain_score=8, hours_since_workout=30)
    ).referral_id
    other = store.open_database(db.path)
    try:
        with pytest.raises(Conflict, match="clashed with another change"):
            with db.transaction(SYSTEM, "referral.status", "referrals", referral_id) as txn:
                (seen,) = txn.cursor.execute("SELECT status FROM referrals WHERE id = ?", [referral_id]).fetchone()
                assert seen == "new"
                store.update_referral(other, actor=SYSTEM, referral_id=referral_id, status="seen")
                txn.cursor.execute("UPDATE referrals SET status = 'contacted' WHERE id = ?", [referral_id])
    finally:
        other.close()
    assert store.get_referral(db, actor=SYSTEM, referral_id=referral_id).status == "seen"


def test_the_pages_run_on_postgresql_a_report_saved_on_triage_shows_in_the_history(monkeypatch, pg_url, tmp_path):
    """The same app on the server database (BACKCARE_DATABASE_URL): one page flow end to end through AppTest."""
    from tests.app_helpers import AppWorld, answer_triage, button, no_exception, texts

    monkeypatch.setenv("BACKCARE_DATABASE_URL", pg_url)
    db = store.open_database()
    try:
        gym = store.create_gym(db, actor=SYSTEM, name="Riverside Strength")
        user = store.create_user(
            db, actor=SYSTEM, username="tara", display_name="Tara Trainer", role=Role.TRAINER, gym_id=gym.id
        )
        actor = store.actor_for(user)
        client = store.create_client(
            db, actor=actor, gym_id=gym.id, name="Ada Lovelace", trainer_id=actor.user_id, consent_by="tara"
        )
        world = AppWorld(path=tmp_path / "not-used.duckdb", db=db, actor=actor, client=client)
        triage = answer_triage(world.page("pages/triage.py").run(), warmup=2, pain_score=3)
        button(triage, "Save report").click().run()
        no_exception(triage)
        at = world.page("pages/history.py").run()
        no_exception(at)
        assert "Report: pain 3/10 · Normal soreness" in texts(at)
        assert not (tmp_path / "not-used.duckdb").exists()  # the file was never the system of record
        assert len(store.list_reports(db, actor=SYSTEM, client_id=client.id)) == 1
    finally:
        db.close()


def test_csv_import_on_postgresql_checks_like_duckdb_stores_good_rows_once_and_names_bad_ones(
    db, engine, trainer_actor, client, tmp_path
):
    if engine != "postgresql":
        pytest.skip("the DuckDB import is tested in tests/test_import.py")
    csv = tmp_path / "sessions.csv"
    csv.write_text(
        "client_id,date,minutes,rpe,exercises,warmup_minutes,cooldown_done\n"
        f"{client.external_id},2025-03-08,60,7,Deadlift; squat,5,yes\n"
        f"{client.external_id},2025-03-09,45,6,,,\n"
        "C-9999,2025-03-09,45,6,row,,\n"
        f"{client.external_id},2025-02-30,45,6,row,,\n"
    )
    refused = import_sessions_csv(db, actor=trainer_actor, path=csv)
    assert not refused.stored and refused.bad_count == 2
    assert [(b.line, b.reason) for b in refused.bad_rows] == [
        (4, "client_id C-9999 is not a known client"),
        (5, "date 2025-02-30 is not a real date in the form YYYY-MM-DD"),
    ]
    assert store.list_sessions(db, actor=SYSTEM, client_id=client.id) == []

    first = import_sessions_csv(db, actor=trainer_actor, path=csv, skip_bad=True)
    again = import_sessions_csv(db, actor=trainer_actor, path=csv, skip_bad=True)
    assert (first.inserted, first.duplicates, again.inserted, again.duplicates) == (2, 0, 0, 2)
    sessions = store.list_sessions(db, actor=SYSTEM, client_id=client.id)
    assert sorted(
        (s.date.isoformat(), s.minutes, s.exercises, s.warmup_minutes, s.cooldown_done) for s in sessions
    ) == [
        ("2025-03-08", 60.0, ("deadlift", "squat"), 5.0, True),
        ("2025-03-09", 45.0, (), None, None),
    ]
    with db.read() as cur:
        (audited,) = cur.execute("SELECT count(*) FROM audit_log WHERE action = 'session.import'").fetchone()
    assert audited == 3


def test_a_default_current_timestamp_is_utc_like_the_stores_clock(pg_url, pg_server):
    pg_server.admin("ALTER SYSTEM SET timezone = 'America/New_York'")  # a server set to a local zone
    pg_server.admin("SELECT pg_reload_conf()")
    try:
        with store.open_database(pg_url) as db:
            store.create_gym(db, actor=SYSTEM, name="Clock Gym")
            with db.read() as cur:
                (created,) = cur.execute("SELECT created_at FROM gyms WHERE name = 'Clock Gym'").fetchone()
        assert abs((created - store.db.utcnow()).total_seconds()) < 60
    finally:
        pg_server.admin("ALTER SYSTEM RESET timezone")
        pg_server.admin("SELECT pg_reload_conf()")


def test_a_server_restart_costs_one_failed_call_in_plain_words_then_the_store_reconnects(pg_url, pg_server):
    with store.open_database(pg_url) as db:
        for _ in range(3):  # several idle connections in the process's pool
            store.list_gyms(db, actor=SYSTEM)
        name = pg_url.rsplit("/", 1)[1]
        pg_server.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        with pytest.raises(StoreError, match="the database server did not answer; nothing was changed"):
            store.create_gym(db, actor=SYSTEM, name="During The Restart")
        gym = store.create_gym(db, actor=SYSTEM, name="After The Restart")
        assert [g.name for g in store.list_gyms(db, actor=SYSTEM)] == [gym.name]


def test_a_url_is_never_shown_with_its_password(pg_server):
    url = f"postgresql://postgres:s3cret-pw@127.0.0.1:{pg_server.port}/no_such_database"
    assert store.db.redacted(url) == f"postgresql://postgres:***@127.0.0.1:{pg_server.port}/no_such_database"
    with pytest.raises(StoreError) as refused:
        store.open_database(url)
    assert "s3cret-pw" not in str(refused.value) and "postgres:***@" in str(refused.value)


def test_two_processes_starting_on_a_new_database_at_once_migrate_it_once(empty_pg_url):
    """Two app processes started together on an empty database: one migrates (an advisory lock), the other
    finds the work done; one privacy key."""
    code = (
        "import sys, time; from backcare import store; time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
        "store.open_database(sys.argv[1]).close()"
    )
    start_at = str(time.time() + 2)
    env = {k: v for k, v in os.environ.items() if k not in ("BACKCARE_DB", "BACKCARE_DATABASE_URL")}
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", code, empty_pg_url, start_at], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for process in starts:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    with store.open_database(empty_pg_url) as db, db.read() as cur:
        names = [n for (n,) in cur.execute("SELECT name FROM schema_migrations").fetchall()]
        (keys,) = cur.execute("SELECT count(*) FROM privacy_key").fetchone()
    assert sorted(names) == sorted(n for n, _ in store.db.migrations_for(POSTGRES)) and keys == 1


# --- CSV import on both engines: what the PostgreSQL path's COPY in (client, day) order keeps -------------------
# Each client's sessions of one day get ids in the file's order, duplicates of stored rows are found also where
# a value is NULL or an empty string, and the importing account's name is stored as given.


def _import_file(tmp_path, rows: list[str], name: str = "sessions.csv"):
    path = tmp_path / name
    path.write_text("\n".join([",".join(COLUMNS), *rows]) + "\n")
    return path


def _stored_sessions(db) -> list[tuple]:
    with db.read() as cur:
        return cur.execute(
            "SELECT client_id, CAST(date AS VARCHAR), minutes, exercises, created_by FROM sessions ORDER BY id"
        ).fetchall()


def test_each_clients_sessions_keep_the_files_order_and_duplicates_are_skipped(db, gym, trainer_actor, tmp_path):
    ann = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Ann Smith")
    bo = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Bo Jones")
    rows = [
        f"{bo.external_id},2025-03-02,30,5,row,,",
        f"{ann.external_id},2025-03-02,50,5,b,,",
        f"{ann.external_id},2025-03-01,40,5,,,",  # empty exercises, no warm-up, no cool-down answer
        f"{ann.external_id},2025-03-02,20,5,a,,",
        f"{bo.external_id},2025-03-01,10,5,,3,no",
    ]
    first = import_sessions_csv(db, actor=SYSTEM, path=_import_file(tmp_path, rows))
    assert (first.inserted, first.duplicates) == (5, 0)
    by_client = {}
    for client_id, day, minutes, _, _ in _stored_sessions(db):
        by_client.setdefault((client_id, day), []).append(minutes)
    assert by_client[(ann.id, "2025-03-02")] == [50.0, 20.0]  # the file's order within the client and day

    again = import_sessions_csv(
        db, actor=SYSTEM, path=_import_file(tmp_path, [*rows, f"{ann.external_id},2025-03-01,40,5,,0,"])
    )
    assert (again.inserted, again.duplicates) == (1, 5)  # a warm-up of 0 is not "no warm-up"
    assert len(_stored_sessions(db)) == 6


def test_the_importing_accounts_name_is_stored_as_given(db, gym, trainer_actor, tmp_path):
    owner = Actor(username="o'brien", role=Role.SYSTEM)
    client = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Cy Young")
    import_sessions_csv(db, actor=owner, path=_import_file(tmp_path, [f"{client.external_id},2025-03-01,40,5,squat,,"]))
    assert [(row[3], row[4]) for row in _stored_sessions(db)] == [("squat", "o'brien")]
