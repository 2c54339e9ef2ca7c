"""A gym-scoped administrator manages the people of their own gym only (never a chain-wide account),
sees only their gym's people in the audit log, and store.refresh_actor notices account changes."""

from __future__ import annotations

import json

import pytest

from backcare import store
from backcare.auth import SYSTEM, Role
from backcare.errors import PermissionDenied
from tests.fast_hashing import fast_hashing  # noqa: F401  (autouse)

PASSWORD = "correct horse battery"


@pytest.fixture
def chain(db):
    """Gyms A and B; a chain-wide admin, clinic and manager; gym B's admin and trainer; gym A's trainer."""
    a = store.add_gym(db, actor=SYSTEM, name="A")
    b = store.add_gym(db, actor=SYSTEM, name="B")
    for username, role, gym in [
        ("adm", "admin", None),
        ("clinic", "clinic", None),
        ("mgr", "manager", None),
        ("admb", "admin", b.id),
        ("tb", "trainer", b.id),
        ("ta", "trainer", a.id),
    ]:
        store.add_user(
            db,
            actor=SYSTEM,
            username=username,
            display_name=username,
            role=role,
            gym_id=None if gym is None else gym,
            password=PASSWORD,
        )
    admb = store.authenticate(db, username="admb", password=PASSWORD)
    return db, a, b, admb


def users(db) -> dict[str, store.UserSummary]:
    return {u.username: u for u in store.list_users(db, actor=SYSTEM)}


def denied(db, actor) -> list[dict]:
    with db.read() as cur:
        rows = cur.execute(
            "SELECT action, entity, detail FROM audit_log WHERE actor = ? AND outcome = 'denied' ORDER BY id",
            [actor.username],
        ).fetchall()
    return [{"action": a, "entity": e, "detail": json.loads(d)} for a, e, d in rows]


@pytest.mark.parametrize("target", ["adm", "clinic", "mgr", "ta"])  # chain-wide accounts, and another gym's
@pytest.mark.parametrize(
    "change, kwargs, attempt",
    [
        (store.reset_password, {"password": "attacker chosen pw"}, "user.password_reset"),
        (store.disable_user, {}, "user.disable"),
        (store.enable_user, {}, "user.enable"),
        (store.unlock_user, {}, "user.unlock"),
        (store.set_role, {"role": "admin", "gym_id": None}, "user.role"),
    ],
)
def test_a_gym_admin_cannot_manage_chain_wide_or_other_gyms_accounts(chain, target, change, kwargs, attempt):
    db, _, b, admb = chain
    if change is store.set_role:
        kwargs = {**kwargs, "gym_id": b.id}  # even "into my gym" is refused
    before = users(db)[target]

    with pytest.raises(PermissionDenied):
        change(db, actor=admb, username=target, **kwargs)

    assert users(db)[target] == before
    assert denied(db, admb)[-1]["action"] == attempt
    if change is store.reset_password:  # the takeover of the reviewer's repro
        with pytest.raises(store.SignInRefused):
            store.authenticate(db, username=target, password="attacker chosen pw")


def test_a_gym_admin_still_manages_their_own_gyms_people(chain):
    db, _, b, admb = chain
    store.reset_password(db, actor=admb, username="tb", password="a fresh password")
    store.set_role(db, actor=admb, username="tb", role="clinic", gym_id=b.id)
    store.disable_user(db, actor=admb, username="tb")
    store.add_user(db, actor=admb, username="tb2", display_name="T", role="trainer", gym_id=b.id)

    assert users(db)["tb"].disabled and users(db)["tb2"].gym_id == b.id


@pytest.mark.parametrize("gym", ["chain", "other"])
def test_a_gym_admin_cannot_create_chain_wide_or_other_gyms_people(chain, gym):
    db, a, _, admb = chain
    gym_id = None if gym == "chain" else a.id
    with pytest.raises(PermissionDenied):
        store.add_user(
            db,
            actor=admb,
            username="evil",
            display_name="E",
            role="admin",
            gym_id=gym_id,
            password="attacker chosen pw",
        )
    assert "evil" not in users(db)
    assert denied(db, admb)[-1]["action"] == "user.create"


@pytest.mark.parametrize("to", ["chain", "other"])
def test_a_gym_admin_cannot_move_their_people_out_of_their_gym(chain, to):
    db, a, b, admb = chain
    with pytest.raises(PermissionDenied):
        store.set_role(db, actor=admb, username="tb", role="admin", gym_id=None if to == "chain" else a.id)
    assert users(db)["tb"].gym_id == b.id and users(db)["tb"].role == "trainer"


def test_only_a_chain_wide_admin_adds_gyms(chain):
    db, _, _, admb = chain
    with pytest.raises(PermissionDenied):
        store.add_gym(db, actor=admb, name="C")
    assert denied(db, admb)[-1]["action"] == "gym.create"
    adm = store.authenticate(db, username="adm", password=PASSWORD)
    assert store.add_gym(db, actor=adm, name="C").name == "C"


def test_a_chain_wide_admin_manages_everyone(chain):
    db, a, _, _ = chain
    adm = store.authenticate(db, username="adm", password=PASSWORD)
    store.set_role(db, actor=adm, username="clinic", role="clinic", gym_id=a.id)
    store.disable_user(db, actor=adm, username="admb")
    assert users(db)["clinic"].gym_id == a.id and users(db)["admb"].disabled


# --- the audit log ---------------------------------------------------------------------------


def test_a_gym_admin_reads_only_their_gyms_people_in_the_audit_log(chain):
    db, _, _, admb = chain
    store.authenticate(db, username="ta", password=PASSWORD)
    store.authenticate(db, username="tb", password=PASSWORD)

    rows, total = store.list_audit(db, actor=admb, limit=5000)
    assert {r.actor for r in rows} == {"admb", "tb"} and total == len(rows)
    actors, _ = store.audit_choices(db, actor=admb)
    assert set(actors) == {"admb", "tb"}
    csv = store.export_audit_csv(db, actor=admb).decode()
    assert {line.split(",")[2] for line in csv.splitlines()[1:]} == {"admb", "tb"}
    assert store.list_audit(db, actor=admb, filters=store.AuditFilter(actor="ta"))[1] == 0

    adm = store.authenticate(db, username="adm", password=PASSWORD)
    assert {"ta", "tb", "adm", "admb", "system"} <= {r.actor for r in store.list_audit(db, actor=adm)[0]}
    assert "ta" in store.audit_choices(db, actor=adm)[0]


# --- open sessions ---------------------------------------------------------------------------


def test_refresh_actor_is_the_same_actor_until_the_account_changes(chain):
    db, a, b, admb = chain
    tb = store.authenticate(db, username="tb", password=PASSWORD)
    assert tb.session_token and PASSWORD not in tb.session_token
    assert store.refresh_actor(db, actor=tb) == tb

    store.reset_password(db, actor=admb, username="tb", password="a fresh password")
    assert store.refresh_actor(db, actor=tb) != tb
    tb = store.authenticate(db, username="tb", password="a fresh password")
    assert store.refresh_actor(db, actor=tb) == tb

    store.set_role(db, actor=admb, username="tb", role="clinic", gym_id=b.id)
    assert store.refresh_actor(db, actor=tb).role == Role.CLINIC

    store.disable_user(db, actor=admb, username="tb")
    assert store.refresh_actor(db, actor=tb) is None


def test_refresh_actor_follows_a_move_to_another_gym(chain):
    db, a, _, _ = chain
    ta = store.authenticate(db, username="ta", password=PASSWORD)
    store.set_role(db, actor=SYSTEM, username="ta", role="trainer", gym_id=store.add_gym(db, actor=SYSTEM, name="C").id)
    assert store.refresh_actor(db, actor=ta).gym_id != a.id


def test_store_level_create_user_and_create_gym_refuse_a_gym_admin_outside_their_gym(tmp_path):
    from backcare import store
    from backcare.auth import SYSTEM, Actor, Role
    from backcare.errors import PermissionDenied

    db = store.open_database(tmp_path / "p.duckdb")
    north = store.create_gym(db, actor=SYSTEM, name="North")
    south = store.create_gym(db, actor=SYSTEM, name="South")
    gym_admin = Actor(username="nadia", role=Role.ADMIN, gym_id=north.id)
    for call in (
        lambda: store.create_user(
            db, actor=gym_admin, username="chain", display_name="C", role=Role.CLINIC, gym_id=None
        ),
        lambda: store.create_user(
            db, actor=gym_admin, username="south", display_name="S", role=Role.TRAINER, gym_id=south.id
        ),
        lambda: store.create_gym(db, actor=gym_admin, name="West"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    mine = store.create_user(
        db, actor=gym_admin, username="north.t", display_name="N", role=Role.TRAINER, gym_id=north.id
    )
    assert mine.gym_id == north.id
    denied = db.cursor().execute("SELECT count(*) FROM audit_log WHERE outcome = 'denied'").fetchone()[0]
    assert denied == 3
    db.close()
