"""Shared fixtures: a fresh database per test under tmp_path, a gym, a trainer, a consenting client.

Fixture names are stable: other test files use them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
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


@pytest.fixture
def db(tmp_path):
    database = store.open_database(tmp_path / "t.duckdb")
    yield database
    database.close()


@pytest.fixture
def gym(db):
    return store.create_gym(db, actor=SYSTEM, name="Riverside Strength")


@pytest.fixture
def trainer_user(db, gym):
    return store.create_user(db, actor=SYSTEM, username="tara", display_name="Tara Trainer", role=Role.TRAINER,
                             gym_id=gym.id, contact="tara@example.test")  # no password: hashing is slow


@pytest.fixture
def trainer_actor(trainer_user) -> Actor:
    return store.actor_for(trainer_user)


@pytest.fixture
def client(db, gym, trainer_actor):
    return store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Ada Lovelace",
                               trainer_id=trainer_actor.user_id, consent_by=trainer_actor.username)
