"""The triage draft kept on the server (issue 14, store part): one per trainer and client, replaced on each
save, gone when deleted or too old, never shown to another trainer, and erased with the client."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from tests.conftest import NOW

ANSWERS = {"chest_pain": "No", "pain_score": 4, "hours_since_training": 20.0}


@pytest.fixture
def setting(db, gym):
    tara = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="tara", display_name="Tara", role=Role.TRAINER, gym_id=gym.id)
    )
    theo = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="theo", display_name="Theo", role=Role.TRAINER, gym_id=gym.id)
    )
    client = store.create_client(
        db, actor=tara, gym_id=gym.id, name="Ada Draft", trainer_id=tara.user_id, consent_by="tara"
    )
    return tara, theo, client


def test_a_draft_is_kept_replaced_and_read_back(db, setting):
    tara, _, client = setting
    assert store.load_draft(db, actor=tara, client_id=client.id, now=NOW) is None
    store.save_draft(db, actor=tara, client_id=client.id, answers={"chest_pain": "No"}, now=NOW)
    store.save_draft(db, actor=tara, client_id=client.id, answers=ANSWERS, now=NOW + timedelta(minutes=1))
    assert store.load_draft(db, actor=tara, client_id=client.id, now=NOW + timedelta(minutes=2)) == ANSWERS


def test_a_draft_belongs_to_the_person_who_typed_it(db, setting):
    tara, theo, client = setting
    store.save_draft(db, actor=tara, client_id=client.id, answers=ANSWERS, now=NOW)
    assert store.load_draft(db, actor=theo, client_id=client.id, now=NOW) is None


def test_a_deleted_or_old_draft_is_not_offered(db, setting):
    tara, _, client = setting
    store.save_draft(db, actor=tara, client_id=client.id, answers=ANSWERS, now=NOW)
    assert store.load_draft(db, actor=tara, client_id=client.id, now=NOW + timedelta(hours=13)) is None
    store.delete_draft(db, actor=tara, client_id=client.id)
    assert store.load_draft(db, actor=tara, client_id=client.id, now=NOW) is None


def test_a_draft_is_erased_with_the_client(db, setting):
    tara, _, client = setting
    store.save_draft(db, actor=tara, client_id=client.id, answers=ANSWERS, now=NOW)
    store.erase_client(db, actor=Actor(username="ivan", role=Role.ADMIN), client_id=client.id, compact=False, now=NOW)
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM triage_drafts").fetchone()[0] == 0
