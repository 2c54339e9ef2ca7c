"""Shared set-up of the differencing attacks: gyms, trainers and clients built through the store with a fixed
clock, and the deployment secret set by hand so that each attack can be run under many secrets."""

from __future__ import annotations

from datetime import date, datetime

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.store import rollups
from tests.conftest import report_payload

MANAGER = Actor(username="mia", role=Role.MANAGER)
TUE = datetime(2025, 3, 4, 10, 0)  # the small gym's day
WED = datetime(2025, 3, 5, 10, 0)  # the big gym's day
SECRETS = [0x5EC0_0000_0000_0001 * (i + 1) % (1 << 64) for i in range(24)]
RARE = {"context": {"warmup_minutes": 2}}  # a report whose cause is "Skipped warm-up"
RARE_LABEL = "Skipped warm-up"


def gym_with_trainers(db, name: str, *trainers: str):
    gym = store.create_gym(db, actor=SYSTEM, name=name)
    actors = [
        store.actor_for(
            store.create_user(
                db, actor=SYSTEM, username=t.lower().replace(" ", "."), display_name=t, role=Role.TRAINER, gym_id=gym.id
            )
        )
        for t in trainers
    ]
    return gym, actors


def clients(db, trainer, n: int, prefix: str):
    return [
        store.create_client(
            db,
            actor=trainer,
            gym_id=trainer.gym_id,
            name=f"{prefix} {i}",
            trainer_id=trainer.user_id,
            consent_by=trainer.username,
        )
        for i in range(n)
    ]


def report_each(db, trainer, people, at: datetime, **answers) -> None:
    for client in people:
        store.save_report(db, actor=trainer, client_id=client.id, report=report_payload(**answers), now=at)


def set_secret(db, secret: int) -> None:
    """A deployment with another secret (every figure redrawn): what a test needs to try many deployments.
    The trends' rollups hold key sums made with the secret: recounted with the new one (as a new deployment
    would have them)."""
    with db.write(SYSTEM, "test.privacy_key") as cur:
        cur.execute("UPDATE privacy_key SET secret = ? WHERE id = 1", [secret])
        rollups.rebuild(cur)


def day(at: datetime) -> date:
    return at.date()
