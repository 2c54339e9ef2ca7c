"""The Admin and Audit pages with AppTest: people and gyms, erasure with a typed confirmation, the audit
view with filters and its CSV, and what a non-admin gets if they reach the page anyway."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from tests.fast_hashing import fast_hashing  # noqa: F401  (autouse)

ROOT = Path(__file__).resolve().parents[1]
ADMIN = Actor(username="ivan", role=Role.ADMIN)
CLIENT_NAME = "Ignatius Erasable"


@pytest.fixture
def app_db(tmp_path, monkeypatch) -> Path:
    """A gym, an admin, a trainer and one client with a report; the test's own handle is closed, so the
    page's connection is the only one (the erasure's file swap needs that)."""
    path = tmp_path / "admin.duckdb"
    with store.open_database(path) as db:
        gym = store.add_gym(db, actor=SYSTEM, name="Riverside")
        store.add_user(db, actor=SYSTEM, username="ivan", display_name="Ivan Admin", role="admin")
        store.add_user(
            db,
            actor=SYSTEM,
            username="tara",
            display_name="Tara Trainer",
            role="trainer",
            gym_id=gym.id,
            password="tablet passw0rd",
        )
        client = store.create_client(db, actor=SYSTEM, gym_id=gym.id, name=CLIENT_NAME, consent_by="tara")
        store.save_report(
            db,
            actor=SYSTEM,
            client_id=client.id,
            report={
                "hours_since_workout": 20,
                "pain_score": 2,
                "pain_quality": "dull_ache",
                "trend": "easing",
                "eases_with_movement": True,
                "leg_symptoms": "none",
            },
        )
    monkeypatch.setenv("BACKCARE_DB", str(path))
    return path


def page(script: str, actor: Actor = ADMIN) -> AppTest:
    at = AppTest.from_file(str(ROOT / script), default_timeout=30)
    at.session_state["actor"] = actor
    return at.run()


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def button(at: AppTest, label: str):
    (found,) = [b for b in at.button if b.label == label]
    return found


def users_in(path: Path) -> dict[str, store.UserSummary]:
    with store.open_database(path) as db:
        return {u.username: u for u in store.list_users(db, actor=SYSTEM)}


def test_admin_page_lists_people_and_gyms(app_db):
    at = page("pages/admin.py")

    no_exception(at)
    people, gyms = at.dataframe[0].value, at.dataframe[1].value
    assert set(people["Username"]) == {"ivan", "tara"} and "Password" not in people.columns
    assert list(gyms["Gym"]) == ["Riverside"] and list(gyms["Clients"]) == [1]


def test_adding_a_person_through_the_form_creates_the_account(app_db):
    at = page("pages/admin.py")
    at.text_input(key="new_username").input("Cleo")
    at.text_input(key="new_display_name").input("Cleo Clinic")
    at.selectbox(key="new_role").select("clinic")
    at.text_input(key="new_password").input("a good first password")
    button(at, "Add person").click().run()

    no_exception(at)
    assert any("Added cleo as clinic" in s.value for s in at.success)
    cleo = users_in(app_db)["cleo"]
    assert (cleo.role, cleo.gym_id, cleo.has_password) == ("clinic", None, True)


def test_a_refused_change_shows_one_sentence(app_db):
    at = page("pages/admin.py")
    at.text_input(key="new_username").input("tom")
    at.text_input(key="new_display_name").input("Tom")
    at.selectbox(key="new_role").select("trainer")  # without a gym
    button(at, "Add person").click().run()

    no_exception(at)
    assert [e.value for e in at.error] == ["gym: a trainer belongs to one gym"]
    assert "tom" not in users_in(app_db)


def test_disabling_a_person(app_db):
    at = page("pages/admin.py")
    at.selectbox(key="change_user").select(users_in(app_db)["tara"].id).run()  # held by id
    button(at, "Disable").click().run()

    no_exception(at)
    assert users_in(app_db)["tara"].disabled


def test_adding_a_gym(app_db):
    at = page("pages/admin.py")
    at.text_input(key="new_gym_name").input("Hillside")
    button(at, "Add gym").click().run()

    no_exception(at)
    assert "Hillside" in list(at.dataframe[1].value["Gym"])


def test_erasure_needs_the_typed_reference_then_removes_the_client(app_db):
    at = page("pages/admin.py")
    at.text_input(key="erase_query").input("erasable").run()
    (candidate,) = at.radio(key="erase_target").options
    assert CLIENT_NAME in candidate and "1 reports" in candidate
    with store.open_database(app_db) as db:
        (found,) = store.find_clients_to_erase(db, actor=SYSTEM, query="erasable")
    at.radio(key="erase_target").set_value(found.id).run()  # held by id
    assert button(at, "Erase this client permanently").disabled

    at.text_input(key=f"client-{found.id}-erase_confirm").input("C-00001").run()
    button(at, "Erase this client permanently").click().run()

    no_exception(at)
    assert any("C-00001 erased" in s.value for s in at.success)
    with store.open_database(app_db) as db:
        assert store.find_clients_to_erase(db, actor=SYSTEM, query="erasable") == []
        assert store.list_audit(db, actor=SYSTEM, filters=store.AuditFilter(action="client.erase"))[1] == 1


def test_audit_page_filters_and_prepares_an_audited_csv(app_db):
    at = page("pages/audit.py")
    no_exception(at)
    at.selectbox(key="audit_action").select("user.create").run()

    table = at.dataframe[0].value
    assert set(table["Action"]) == {"user.create"} and len(table) == 2
    button(at, "Prepare CSV of these entries").click().run()
    no_exception(at)
    assert at.session_state["audit_csv"].decode().count("user.create") == 2
    with store.open_database(app_db) as db:
        assert store.list_audit(db, actor=SYSTEM, filters=store.AuditFilter(action="audit.export"))[1] == 1


@pytest.mark.parametrize("script", ["pages/admin.py", "pages/audit.py"])
def test_a_trainer_who_reaches_an_admin_page_gets_a_refusal_and_no_data(app_db, script):
    at = page(script, Actor(username="tara", role=Role.TRAINER, gym_id=1))

    no_exception(at)
    assert any("may not" in e.value for e in at.error)
    assert not at.dataframe
