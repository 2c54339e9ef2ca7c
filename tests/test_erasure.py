"""Erasure: an admin deletes a client and everything about them in one transaction; the file is rebuilt
so the raw bytes no longer hold their name; the audit log keeps only that an erasure happened."""

from __future__ import annotations

import json

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import PermissionDenied, StoreError
from backcare.store import erasure
from tests.conftest import CLIENT_TABLES, ERASED, KEPT, NOW


@pytest.fixture
def admin():
    return Actor(username="ivan", role=Role.ADMIN)


OF_CLIENT = {
    "report_findings": "report_id IN (SELECT id FROM reports WHERE client_id = ?)",
    "report_causes": "report_id IN (SELECT id FROM reports WHERE client_id = ?)",
    "referral_events": "referral_id IN (SELECT id FROM referrals WHERE client_id = ?)",
}


def rows_of(db, client_id: int) -> dict[str, int]:
    with db.read() as cur:
        return {
            t: cur.execute(
                f"SELECT count(*) FROM {t} WHERE {OF_CLIENT.get(t, 'client_id = ?')}", [client_id]
            ).fetchone()[0]
            for t in CLIENT_TABLES
        }


def test_before_erasure_the_file_does_hold_the_names(db, two_clients):
    db.close()  # checkpoints: the names are in the file itself, not only in its journal
    raw = db.path.read_bytes()
    assert ERASED.encode() in raw and KEPT.encode() in raw


def test_after_erasure_the_raw_bytes_of_the_file_no_longer_hold_the_name(db, two_clients, admin):
    erased, _ = two_clients
    store.erase_client(db, actor=admin, client_id=erased.id, now=NOW)
    path = db.path
    db.close()

    raw = path.read_bytes()
    assert ERASED.encode() not in raw and erased.external_id.encode() not in raw
    assert KEPT.encode() in raw  # the check can see names: the other client is still there
    assert not list(path.parent.glob(f"{path.name}.compact-*"))


def test_erasure_deletes_every_row_about_the_client_and_nothing_else(db, two_clients, admin):
    erased, kept = two_clients
    assert all(rows_of(db, erased.id).values()) and all(rows_of(db, kept.id).values())
    before_kept = rows_of(db, kept.id)

    receipt = store.erase_client(db, actor=admin, client_id=erased.id, now=NOW)

    assert set(rows_of(db, erased.id).values()) == {0}
    assert rows_of(db, kept.id) == before_kept
    assert [c.name for c in store.list_clients(db, actor=SYSTEM)] == [KEPT]
    assert receipt.rows_deleted["clients"] == 1 and receipt.rows_deleted["reports"] == 2
    assert receipt.erased_by == "ivan" and receipt.compacted


def test_the_audit_log_keeps_only_that_an_erasure_happened_when_and_by_whom(db, two_clients, admin):
    erased, kept = two_clients
    store.erase_client(db, actor=admin, client_id=erased.id, now=NOW)

    with db.read() as cur:
        rows = cur.execute("SELECT event_at, actor, action, entity, entity_id, detail FROM audit_log").fetchall()
    (erase,) = [r for r in rows if r[2] == "client.erase"]
    assert erase[:2] == (NOW, "ivan") and erase[4] is None
    text = json.dumps([r[3:] for r in rows], default=str)
    assert ERASED not in text and erased.external_id not in text
    assert not [r for r in rows if r[3] == "clients" and r[4] == str(erased.id)]
    assert not [r for r in rows if r[5] and f'"client_id": {erased.id},' in r[5]]
    assert [r for r in rows if r[3] == "clients" and r[4] == str(kept.id)]  # the other client's trail stays


def test_the_store_keeps_working_on_the_rebuilt_file_and_ids_are_not_reused(db, gym, two_clients, admin, trainer_actor):
    erased, kept = two_clients
    store.erase_client(db, actor=admin, client_id=erased.id)

    newcomer = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="New Person", consent_by="tara")
    assert newcomer.id > kept.id
    assert len(store.list_reports(db, actor=trainer_actor, client_id=kept.id)) == 2


@pytest.mark.parametrize(
    "actor",
    [
        Actor("tara", Role.TRAINER, gym_id=1),
        Actor("cleo", Role.CLINIC),
        Actor("max", Role.MANAGER),
        Actor("other.admin", Role.ADMIN, gym_id=99),  # an admin of another gym
    ],
)
def test_only_an_admin_of_the_clients_gym_may_erase_and_a_refusal_is_audited(db, two_clients, actor):
    erased, _ = two_clients
    with pytest.raises(PermissionDenied):
        store.erase_client(db, actor=actor, client_id=erased.id)
    if actor.role != Role.ADMIN:  # a gym-scoped admin may search, within their own gym only
        with pytest.raises(PermissionDenied):
            store.find_clients_to_erase(db, actor=actor, query="zeb")
    else:
        assert store.find_clients_to_erase(db, actor=actor, query="zeb") == []
    assert rows_of(db, erased.id)["reports"] == 2
    with db.read() as cur:
        assert cur.execute("SELECT outcome FROM audit_log WHERE action = 'client.erase'").fetchall() == [("denied",)]


def test_find_clients_to_erase_shows_counts_and_does_not_audit_the_query(db, two_clients, admin):
    (found,) = store.find_clients_to_erase(db, actor=admin, query="QUUX")

    assert (found.name, found.reports, found.referrals, found.assignments, found.sessions) == (ERASED, 2, 1, 1, 1)
    with db.read() as cur:
        (detail,) = cur.execute("SELECT detail FROM audit_log WHERE action = 'client.erase_search'").fetchone()
    assert "quux" not in detail.lower()


def test_rebuild_is_refused_while_another_connection_holds_the_file_and_nothing_is_lost(
    db, two_clients, admin, monkeypatch
):
    monkeypatch.setattr(erasure, "SWAP_WAIT_ATTEMPTS", 2)
    erased, kept = two_clients
    other = store.open_database(db.path)  # a second handle in this process (as a test or a script might hold)
    try:
        with pytest.raises(StoreError, match="erasure itself is saved"):
            store.erase_client(db, actor=admin, client_id=erased.id)
        assert [c.name for c in store.list_clients(db, actor=SYSTEM)] == [KEPT]
        assert [c.name for c in store.list_clients(other, actor=SYSTEM)] == [KEPT]
    finally:
        other.close()
    store.compact_database(db)
    path = db.path
    db.close()
    assert ERASED.encode() not in path.read_bytes()
