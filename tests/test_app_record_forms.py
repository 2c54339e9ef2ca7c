"""Forms that edit a chosen record never carry what was typed for one record onto another, and are empty
after a save (issue 11): the plans page's assign form, the history page's session form, the admin page's
account forms."""

from __future__ import annotations

import pytest

from backcare import store
from backcare.auth import SYSTEM, Role
from tests.app_helpers import button, make_world, no_exception
from tests.fast_hashing import fast_hashing  # noqa: F401  (autouse)


def by_label(widgets, label: str):
    (found,) = [w for w in widgets if w.label == label]
    return found


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path)
    w.other = store.create_client(
        w.db, actor=w.actor, gym_id=w.client.gym_id, name="Bea Other", trainer_id=w.actor.user_id, consent_by="tara"
    )
    yield w
    w.db.close()


def test_a_note_typed_for_one_clients_plan_is_not_assigned_to_the_next_client(world):
    at = world.page("pages/plans.py").run()
    at.selectbox(key="library_plan").set_value("core").run()
    by_label(at.text_area, "Note for the client").set_value("Ada: keep the plank short").run()
    at.session_state["client_id"] = world.other.id  # the trainer changes client
    at.run()
    no_exception(at)
    assert by_label(at.text_area, "Note for the client").value == ""
    button(at, "Assign Core stability").click().run()
    no_exception(at)
    (assignment,) = store.list_assignments(world.db, actor=world.actor, client_id=world.other.id)
    assert assignment.customisation is None


def test_after_assigning_the_plan_form_is_empty(world):
    at = world.page("pages/plans.py").run()
    at.selectbox(key="library_plan").set_value("core").run()
    by_label(at.text_area, "Note for the client").set_value("Keep it easy").run()
    button(at, "Assign Core stability").click().run()
    no_exception(at)
    assert by_label(at.text_area, "Note for the client").value == ""


def test_a_session_typed_for_one_client_is_not_logged_for_the_next(world):
    at = world.page("pages/history.py").run()
    by_label(at.pills, "Minutes").set_value(45)  # minutes and RPE are taps (issue 14)
    by_label(at.text_input, "Exercises").set_value("Ada's deadlifts")
    button(at, "Log session").click().run()  # refused: no RPE; the values stay in the form
    assert [e.value for e in at.error] == ["RPE (0-10): please fill this in"]
    at.session_state["client_id"] = world.other.id
    at.run()
    no_exception(at)
    assert by_label(at.pills, "Minutes").value is None
    assert by_label(at.text_input, "Exercises").value == ""


def test_the_role_box_shows_the_chosen_persons_role_not_the_one_chosen_before(world):
    admin = store.actor_for(
        store.create_user(world.db, actor=SYSTEM, username="ivan", display_name="Ivan Admin", role=Role.ADMIN)
    )
    people = {u.username: u for u in store.list_users(world.db, actor=SYSTEM)}
    at = world.page("pages/admin.py")
    at.session_state["actor"] = admin
    at.run()
    at.selectbox(key="change_user").set_value(people["tara"].id).run()  # the person is held by id
    roles = [s for s in at.selectbox if s.label == "Role" and s.key != "new_role"]
    assert [r.value for r in roles] == ["trainer"]
    at.selectbox(key="change_user").set_value(people["ivan"].id).run()
    no_exception(at)
    roles = [s for s in at.selectbox if s.label == "Role" and s.key != "new_role"]
    assert [r.value for r in roles] == ["admin"]  # not Tara's role, which a save would have given Ivan


def test_a_client_chosen_in_the_picker_stays_chosen_when_their_status_changes_meanwhile(world):
    """A browser keeps a chosen option by the text it showed: the picker's texts must not change when the
    client's status does (here a clinic clears Bea's referral while the trainer is choosing her)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    from tests.conftest import report_payload

    referral_id = store.save_report(
        world.db, actor=world.actor, client_id=world.other.id, report=report_payload(pain_quality="sharp")
    ).referral_id
    at = world.page("pages/triage.py", with_client=False).run()
    chooser = at.selectbox(key="client_choice")
    chooser.set_value(world.other.id)
    shown = chooser.options[chooser.index]  # the text the browser keeps for the choice
    at.run()
    clinic = store.actor_for(
        store.create_user(world.db, actor=SYSTEM, username="cleo", display_name="Cleo", role=Role.CLINIC)
    )
    for status in ("seen", "cleared"):
        store.update_referral(world.db, actor=clinic, referral_id=referral_id, status=status, note="Fit")
    at.run()  # the picker is drawn again with Bea's new status

    chooser = at.selectbox(key="client_choice")

    class Shown(type(chooser)):
        @property
        def _widget_state(self):
            state = WidgetState()
            state.id = self.id
            state.string_value = shown
            return state

    chooser.__class__ = Shown
    button(at, "Use this client").click().run()
    no_exception(at)
    assert at.session_state["client_id"] == world.other.id
