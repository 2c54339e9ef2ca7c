"""The database handle: migrations, audited transactions, rollback, domain errors, the locked file."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from backcare import store
from backcare.auth import SYSTEM
from backcare.errors import AlreadySaved, Conflict, StoreError
from backcare.store.migrations import MIGRATIONS


def audit_rows(db, action=None):
    sql = "SELECT actor, role, action, entity, entity_id, outcome, detail FROM audit_log"
    params = []
    if action:
        sql += " WHERE action = ?"
        params.append(action)
    return db.cursor().execute(sql + " ORDER BY id", params).fetchall()


def test_open_database_records_every_migration_once(tmp_path):
    path = tmp_path / "m.duckdb"
    with store.open_database(path) as db:
        assert db.applied_migrations() == [name for name, _ in MIGRATIONS]
    with store.open_database(path) as db:  # reopening applies nothing twice
        assert db.applied_migrations() == [name for name, _ in MIGRATIONS]


def test_default_db_path_follows_backcare_db(monkeypatch, tmp_path):
    monkeypatch.setenv("BACKCARE_DB", str(tmp_path / "x.duckdb"))
    assert store.default_db_path() == tmp_path / "x.duckdb"
    monkeypatch.delenv("BACKCARE_DB")
    assert store.default_db_path().parts[-2:] == ("data", "backcare.duckdb")


def test_write_commits_the_work_with_its_audit_row(db):
    with db.write(SYSTEM, "gym.create", "gyms", None, {"why": "test"}) as cur:
        cur.execute("INSERT INTO gyms (name) VALUES ('North')")
    assert db.cursor().execute("SELECT name FROM gyms").fetchall() == [("North",)]
    assert audit_rows(db) == [("system", "system", "gym.create", "gyms", None, "ok", '{"why": "test"}')]


def test_detail_completed_inside_the_write_is_what_gets_audited(db):
    detail = {}
    with db.write(SYSTEM, "demo.create", "database", None, detail):
        detail["counts"] = 3
    assert audit_rows(db)[0][-1] == '{"counts": 3}'


@pytest.mark.parametrize("failure", [ValueError("boom"), KeyboardInterrupt()])
def test_write_rolls_back_work_and_audit_on_any_exception(db, failure):
    with pytest.raises(type(failure)):
        with db.write(SYSTEM, "gym.create", "gyms") as cur:
            cur.execute("INSERT INTO gyms (name) VALUES ('South')")
            raise failure
    assert db.cursor().execute("SELECT count(*) FROM gyms").fetchone() == (0,)
    assert audit_rows(db) == []


@pytest.mark.parametrize(
    "sql, error",
    [
        ("INSERT INTO gyms (name) VALUES ('Same'), ('Same')", Conflict),
        ("SELECT * FROM no_such_table", StoreError),
    ],
)
def test_driver_errors_become_domain_errors(db, sql, error):
    with pytest.raises(error) as raised:
        with db.write(SYSTEM, "gym.create", "gyms") as cur:
            cur.execute(sql)
    assert "duckdb" not in type(raised.value).__module__
    assert audit_rows(db) == []


def test_audit_records_a_denied_attempt_on_its_own(db):
    db.audit(SYSTEM, "client.view", "clients", 7, outcome="denied", detail={"gym_id": 2})
    assert audit_rows(db) == [("system", "system", "client.view", "clients", "7", "denied", '{"gym_id": 2}')]


def test_read_only_database_refuses_writes(tmp_path):
    path = tmp_path / "ro.duckdb"
    store.open_database(path).close()
    with store.open_database(path, read_only=True) as db:
        with pytest.raises(StoreError, match="read-only"):
            with db.write(SYSTEM, "gym.create"):
                pass


def test_a_second_process_gets_database_locked_in_one_sentence(db):
    script = textwrap.dedent(f"""
        from backcare import store
        from backcare.errors import DatabaseLocked
        try:
            store.open_database({str(db.path)!r})
        except DatabaseLocked as error:
            print("LOCKED", error)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.startswith("LOCKED"), out.stderr
    assert str(db.path) in out.stdout and "Traceback" not in out.stderr


def test_a_failing_migration_is_rolled_back_and_not_recorded(tmp_path, monkeypatch):
    broken = ("0099_broken", "CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;")
    monkeypatch.setattr("backcare.store.db.MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(StoreError):
        store.open_database(tmp_path / "mig.duckdb")
    monkeypatch.setattr("backcare.store.db.MIGRATIONS", MIGRATIONS)
    with store.open_database(tmp_path / "mig.duckdb") as db:
        assert "0099_broken" not in db.applied_migrations()
        tables = {t for (t,) in db.cursor().execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert "half_done" not in tables and "reports" in tables


def test_a_file_that_is_not_a_database_gives_one_sentence(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("this is not a database file\n" * 100)
    with pytest.raises(StoreError, match="could not be opened"):
        store.open_database(path)


def test_a_file_from_before_a_migration_is_brought_up_to_date_with_its_data(tmp_path, monkeypatch):
    import duckdb

    from backcare.store.db import apply_migrations
    from tests.conftest import report_payload

    path = tmp_path / "old.duckdb"
    monkeypatch.setattr("backcare.store.db.MIGRATIONS", MIGRATIONS[:2])  # as the app was before 0003
    with duckdb.connect(str(path)) as connection:  # its rows as that app wrote them (today's code writes more)
        apply_migrations(connection)
        connection.execute("INSERT INTO gyms (name) VALUES ('Old Gym')")
        connection.execute(
            "INSERT INTO clients (external_id, gym_id, name, consent_at, consent_by, created_by) "
            "VALUES ('C-00001', 1, 'Ann', now(), 'system', 'system')"
        )
        old_answers = {
            k: v
            for k, v in report_payload().items()
            if k
            in (
                "hours_since_workout",
                "pain_score",
                "pain_quality",
                "trend",
                "eases_with_movement",
                "leg_symptoms",
                "numbness",
                "tingling",
                "weakness",
                "weakness_worsening",
                "limits_daily_activities",
                "saddle_numbness",
                "bladder_or_bowel_change",
                "sexual_dysfunction",
                "major_trauma",
                "chest_pain",
                "fever_or_unwell",
                "unexplained_weight_loss",
                "history_of_cancer",
                "night_or_rest_pain",
                "worse_on_cough_or_sneeze",
                "osteoporosis_or_steroids",
                "persistent_fatigue",
            )
        }
        result = (
            '{"client_id": "C-00001", "level": "normal", "rules_version": "old", "findings": [], '
            '"causes": [], "plans": [], "advice": "Keep training."}'
        )
        connection.execute(
            f"INSERT INTO reports (client_id, gym_id, author, created_at, {', '.join(old_answers)}, history_json, "
            f"level, rules_version, result_json) VALUES (1, 1, 'system', now(), {', '.join('?' * len(old_answers))}, "
            '\'{"previous_pain_score": null, "prior_reports_28d": 0, "acute_chronic_ratio": null}\', '
            "'normal', 'old', ?)",
            [*old_answers.values(), result],
        )
        assert [n for (n,) in connection.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()] == [
            name for name, _ in MIGRATIONS[:2]
        ]
    monkeypatch.setattr("backcare.store.db.MIGRATIONS", MIGRATIONS)
    with store.open_database(path) as new:
        assert new.applied_migrations() == [name for name, _ in MIGRATIONS]
        (client,) = store.list_clients(new, actor=SYSTEM)
        (old,) = store.list_reports(new, actor=SYSTEM, client_id=client.id)
        assert {k: old.answers[k] for k in old_answers} == old_answers and old.result.rules_version == "old"
        store.save_report(new, actor=SYSTEM, client_id=client.id, report=report_payload(), submission="t-1")
        with pytest.raises(AlreadySaved):
            store.save_report(new, actor=SYSTEM, client_id=client.id, report=report_payload(), submission="t-1")
        assert len(store.list_reports(new, actor=SYSTEM, client_id=client.id)) == 2
