"""Issue 13: reads of one client kept in the process between writes (DuckDB only: store.db.ReadCache).

The cache side: a second read with nothing written in between runs no SQL, and a refusal is still audited. The
reads-see-every-write side: after each kind of write, the next read shows it (the values served equal a fresh
read from the database), including writes that declare nothing (they outdate everything) and raw SQL through a
cursor."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import Unavailable
from backcare.store import _base, clients, reports, sessions
from backcare.store.db import ReadCache
from backcare.store.importer import COLUMNS, import_sessions_csv
from tests.conftest import report_payload

CLINIC = Actor(username="cleo", role=Role.CLINIC, gym_id=None)
ADMIN = Actor(username="ivan", role=Role.ADMIN)


class CountingCursor:
    """A cursor that counts the SELECTs it runs (an audit row's INSERT is not a read)."""

    def __init__(self, cur, counts: list[str]):
        self._cur = cur
        self._counts = counts

    def execute(self, sql, *args, **kwargs):
        if not sql.lstrip().upper().startswith(("INSERT", "BEGIN", "COMMIT", "ROLLBACK")):
            self._counts.append(sql)
        self._cur.execute(sql, *args, **kwargs)
        return self

    def __getattr__(self, name):
        return getattr(self._cur, name)


@pytest.fixture
def cached(db):
    assert db.enable_read_cache()
    return db


@pytest.fixture
def queries(cached, monkeypatch) -> list[str]:
    """The SQL reads the store runs from now on."""
    counts: list[str] = []
    real = cached._cursor
    monkeypatch.setattr(cached, "_cursor", lambda: CountingCursor(real(), counts))
    return counts


def served(db, actor, client_id):
    """What the cached reads give now."""
    return (
        store.get_client(db, actor=actor, client_id=client_id, audit=False),
        store.list_sessions(db, actor=actor, client_id=client_id, limit=40),
        store.triage_history(db, actor=actor, client_id=client_id),
        _base.client_gym(db, client_id),
    )


def fresh(db, client_id):
    """The same reads straight from the database, past the cache."""
    return (
        clients._read_client(db, client_id, None),
        list(sessions._read_sessions(db, client_id, 40)),
        reports._read_triage_history(db, client_id, None),
        _base._read_client_gym(db, client_id),
    )


def test_a_second_read_with_no_write_in_between_runs_no_sql(cached, queries, client, trainer_actor):
    first = served(cached, trainer_actor, client.id)
    assert queries  # the first reads ran their SQL
    queries.clear()
    assert served(cached, trainer_actor, client.id) == first
    assert queries == []


def test_the_view_audit_row_is_still_written_on_a_cached_read(cached, queries, client, trainer_actor):
    store.get_client(cached, actor=trainer_actor, client_id=client.id)
    store.get_client(cached, actor=trainer_actor, client_id=client.id)
    with cached.read() as cur:
        (views,) = cur.execute("SELECT count(*) FROM audit_log WHERE action = 'client.view'").fetchone()
    assert views == 2


def test_a_refusal_is_still_checked_and_audited_on_a_cached_read(cached, gym, client, trainer_actor):
    served(cached, trainer_actor, client.id)  # everything of this client in the cache
    stranger = Actor(username="otto", role=Role.TRAINER, gym_id=gym.id + 1000, user_id=999)
    for read in (
        lambda: store.get_client(cached, actor=stranger, client_id=client.id, audit=False),
        lambda: store.list_sessions(cached, actor=stranger, client_id=client.id, limit=40),
        lambda: store.triage_history(cached, actor=stranger, client_id=client.id),
    ):
        with pytest.raises(Unavailable):
            read()
    with cached.read() as cur:
        denied = cur.execute(
            "SELECT action FROM audit_log WHERE outcome = 'denied' AND actor = 'otto' ORDER BY id"
        ).fetchall()
    assert [a for (a,) in denied] == ["client.view", "session.list", "client.history"]


def test_the_cache_is_off_until_the_app_turns_it_on(db, client, trainer_actor, monkeypatch):
    counts: list[str] = []
    real = db._cursor
    monkeypatch.setattr(db, "_cursor", lambda: CountingCursor(real(), counts))
    store.get_client(db, actor=trainer_actor, client_id=client.id, audit=False)
    first = len(counts)
    store.get_client(db, actor=trainer_actor, client_id=client.id, audit=False)
    assert len(counts) == 2 * first


def test_the_app_turns_the_cache_on_where_it_opens_the_database(tmp_path):
    from backcare.ui import context

    db = context._open_database.__wrapped__(str(tmp_path / "app.duckdb"))  # the function st.cache_resource wraps
    try:
        assert db.read_cache is not None and db.read_cache.enabled
    finally:
        db.close()


def test_the_cache_is_off_on_postgresql(pg_url):
    db = store.open_database(pg_url)
    try:
        assert db.read_cache is None
        assert db.enable_read_cache() is False
        gym = store.create_gym(db, actor=SYSTEM, name="North")
        client = store.create_client(db, actor=SYSTEM, gym_id=gym.id, name="Ann", consent_by="admin")
        counts: list[str] = []
        real = db._cursor
        db._cursor = lambda: CountingCursor(real(), counts)  # type: ignore[method-assign]
        store.get_client(db, actor=SYSTEM, client_id=client.id, audit=False)
        first = len(counts)
        store.get_client(db, actor=SYSTEM, client_id=client.id, audit=False)
        assert first and len(counts) == 2 * first
    finally:
        db.close()


def test_an_entry_lasts_a_minute_at_most(cached, queries, client, trainer_actor):
    now = [1000.0]
    assert cached.read_cache is not None
    cached.read_cache._clock = lambda: now[0]
    store.get_client(cached, actor=trainer_actor, client_id=client.id, audit=False)
    now[0] += 59
    queries.clear()
    store.get_client(cached, actor=trainer_actor, client_id=client.id, audit=False)
    assert queries == []
    now[0] += 2  # 61 s after the SQL ran
    store.get_client(cached, actor=trainer_actor, client_id=client.id, audit=False)
    assert queries


def test_the_cache_is_bounded():
    cache = ReadCache(entries=3)
    for client_id in range(5):
        cache.put(("client", client_id), cache.generation(client_id), client_id)
    assert len(cache) == 3


def test_a_write_of_one_client_leaves_the_other_clients_cached(cached, queries, gym, client, trainer_actor):
    other = store.create_client(cached, actor=trainer_actor, gym_id=gym.id, name="Bo", consent_by="tara")
    served(cached, trainer_actor, client.id)
    served(cached, trainer_actor, other.id)
    store.log_session(
        cached, actor=trainer_actor, client_id=other.id, session={"date": date.today(), "minutes": 30, "rpe": 5}
    )
    queries.clear()
    served(cached, trainer_actor, client.id)
    assert queries == []  # Ada untouched
    assert len(served(cached, trainer_actor, other.id)[1]) == 1


def test_a_draft_kept_outdates_nothing(cached, queries, client, trainer_actor):
    served(cached, trainer_actor, client.id)
    store.save_draft(cached, actor=trainer_actor, client_id=client.id, answers={"pain_score": 3})
    store.save_draft(cached, actor=trainer_actor, client_id=client.id, answers={"pain_score": 4})
    queries.clear()
    served(cached, trainer_actor, client.id)
    assert queries == []


def test_two_handles_on_one_file_share_the_generations(cached, tmp_path, client, trainer_actor):
    """The pages' handle and a test's (or a CLI's) own handle on the same file in one process."""
    second = store.open_database(cached.file)
    try:
        served(cached, trainer_actor, client.id)
        store.set_year_of_birth(second, actor=trainer_actor, client_id=client.id, year_of_birth=1980)
        assert store.get_client(cached, actor=trainer_actor, client_id=client.id, audit=False).year_of_birth == 1980
    finally:
        second.close()


# --- every kind of write, then the next read shows it -------------------------------------------------
# Each write first reads the client through the cache (so a stale entry would be served), writes, and returns
# the client whose reads must show it, with what they gave just before the write.


def _save(db, actor, client, **answers):
    return store.save_report(db, actor=actor, client_id=client.id, report=report_payload(**answers))


def _warm_then(db, actor, client_id, write):
    before = served(db, actor, client_id)
    write()
    return client_id, before


def _write_save_report(db, actor, client, gym, tmp_path):
    return _warm_then(db, actor, client.id, lambda: _save(db, actor, client, pain_score=4))


def _write_complete_report(db, actor, client, gym, tmp_path):
    saved = store.save_report(
        db, actor=actor, client_id=client.id, report={"saddle_numbness": True, "chest_pain": False}
    )
    return _warm_then(
        db,
        actor,
        client.id,
        lambda: store.complete_report(db, actor=actor, report_id=saved.report_id, answers={"pain_score": 5}),
    )


def _write_log_session(db, actor, client, gym, tmp_path):
    session = {"date": date.today(), "minutes": 45, "rpe": 7}
    return _warm_then(
        db, actor, client.id, lambda: store.log_session(db, actor=actor, client_id=client.id, session=session)
    )


def _write_csv_import(db, actor, client, gym, tmp_path):
    path = tmp_path / "sessions.csv"
    day = (date.today() - timedelta(days=1)).isoformat()
    path.write_text(",".join(COLUMNS) + f"\n{client.external_id},{day},60,7,squat,5,yes\n")
    return _warm_then(db, actor, client.id, lambda: import_sessions_csv(db, actor=SYSTEM, path=path))


def _write_referral_status(db, actor, client, gym, tmp_path):
    saved = _save(db, actor, client, saddle_numbness=True)
    return _warm_then(
        db,
        actor,
        client.id,
        lambda: store.update_referral(db, actor=CLINIC, referral_id=saved.referral_id, status="seen"),
    )


def _write_clearance(db, actor, client, gym, tmp_path):
    saved = _save(db, actor, client, saddle_numbness=True)
    store.update_referral(db, actor=CLINIC, referral_id=saved.referral_id, status="seen")
    return _warm_then(
        db,
        actor,
        client.id,
        lambda: store.update_referral(
            db, actor=CLINIC, referral_id=saved.referral_id, status="cleared", note="Assessed: fine"
        ),
    )


def _write_assignment_status(db, actor, client, gym, tmp_path):
    assignment = store.assign_plan(
        db,
        actor=actor,
        client_id=client.id,
        plan_id="core",
        start_date=date.today(),
        review_date=date.today() + timedelta(days=14),
    )
    return _warm_then(
        db,
        actor,
        client.id,
        lambda: store.set_assignment_status(db, actor=actor, assignment_id=assignment.id, status="stopped"),
    )


def _write_consent(db, actor, client, gym, tmp_path):
    unconsented = store.create_client(db, actor=actor, gym_id=gym.id, name="Cy")
    return _warm_then(
        db, actor, unconsented.id, lambda: store.record_consent(db, actor=actor, client_id=unconsented.id)
    )


def _write_year_of_birth(db, actor, client, gym, tmp_path):
    return _warm_then(
        db, actor, client.id, lambda: store.set_year_of_birth(db, actor=actor, client_id=client.id, year_of_birth=1975)
    )


def _write_contact(db, actor, client, gym, tmp_path):
    return _warm_then(
        db,
        actor,
        client.id,
        lambda: store.set_client_contact(db, actor=actor, client_id=client.id, phone="+44 7700 900123"),
    )


def _write_raw_sql(db, actor, client, gym, tmp_path):
    return _warm_then(
        db,
        actor,
        client.id,
        lambda: db.cursor().execute("UPDATE clients SET name = 'Ada King' WHERE id = ?", [client.id]),
    )


# (the write, what its client's reads show after it, compared with what they showed before)
WRITES = {
    "save_report": (
        _write_save_report,
        lambda before, after: after[2].prior_reports_28d == before[2].prior_reports_28d + 1,
    ),
    "complete_report": (_write_complete_report, lambda before, after: after[2] != before[2]),
    "log_session": (_write_log_session, lambda before, after: len(after[1]) == len(before[1]) + 1),
    "csv_import": (_write_csv_import, lambda before, after: len(after[1]) == len(before[1]) + 1),
    "referral_status": (_write_referral_status, lambda before, after: after[0].status == before[0].status),
    "clearance": (_write_clearance, lambda before, after: after[0].status != before[0].status),
    "assignment_status": (
        _write_assignment_status,
        lambda before, after: (before[0].status, after[0].status) == ("modified", "cleared"),
    ),
    "consent": (_write_consent, lambda before, after: after[0].has_consent and not before[0].has_consent),
    "year_of_birth": (_write_year_of_birth, lambda before, after: after[0].year_of_birth == 1975),
    "contact": (_write_contact, lambda before, after: after[0].phone == "+44 7700 900123"),
    "raw_sql": (_write_raw_sql, lambda before, after: after[0].name == "Ada King"),
}


@pytest.mark.parametrize("kind", list(WRITES))
def test_after_each_kind_of_write_the_next_read_shows_it(kind, cached, gym, client, trainer_actor, tmp_path):
    write, shows = WRITES[kind]
    subject_id, before = write(cached, trainer_actor, client, gym, tmp_path)
    after = served(cached, trainer_actor, subject_id)
    assert after == fresh(cached, subject_id)
    assert shows(before, after)


def test_after_an_erasure_the_client_reads_as_gone(cached, client, trainer_actor):
    served(cached, trainer_actor, client.id)
    store.erase_client(cached, actor=ADMIN, client_id=client.id, compact=False)
    with pytest.raises(Unavailable):
        store.get_client(cached, actor=trainer_actor, client_id=client.id, audit=False)
    with pytest.raises(Unavailable):
        store.list_sessions(cached, actor=trainer_actor, client_id=client.id)


def test_a_file_put_again_at_the_same_path_is_not_served_from_the_old_files_entries(tmp_path):
    """A restore (another file copied over this one between two opens) writes nothing through the store."""
    import shutil

    def make(path, name):
        db = store.open_database(path)
        gym = store.create_gym(db, actor=SYSTEM, name="North")
        client = store.create_client(db, actor=SYSTEM, gym_id=gym.id, name=name, consent_by="admin")
        db.close()
        return client.id

    path, other = tmp_path / "live.duckdb", tmp_path / "backup.duckdb"
    client_id = make(path, "Ann")
    assert make(other, "Bo") == client_id
    db = store.open_database(path)
    db.enable_read_cache()
    assert store.get_client(db, actor=SYSTEM, client_id=client_id, audit=False).name == "Ann"
    db.close()
    shutil.copyfile(other, path)
    db = store.open_database(path)
    try:
        assert store.get_client(db, actor=SYSTEM, client_id=client_id, audit=False).name == "Bo"
    finally:
        db.close()
