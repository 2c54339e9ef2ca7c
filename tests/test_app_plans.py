"""The plans page driven by AppTest: browsing, assigning with per-client changes that leave the library
as it is, the pause while a referral is open, ending a plan, the handout download."""

from __future__ import annotations

from datetime import date

import pytest

from backcare import store
from backcare.models import TriageReport
from backcare.plans import load_library
from backcare.ui import views
from tests.app_helpers import assign_core, button, make_world, no_exception, texts
from tests.conftest import report_payload


def test_plans_page_without_a_client_browses_the_library(tmp_path):
    world = make_world(tmp_path, client_name=None)
    at = world.page("pages/plans.py").run()
    no_exception(at)
    library = load_library()
    options = at.selectbox(key="library_plan").options
    assert [option.split(" (")[0] for option in options] == [plan.title for plan in library.in_order()]
    assert "choose a client first" in texts(at)
    assert not [b for b in at.button if b.label.startswith("Assign")]


@pytest.mark.parametrize("plan_id", ["form", "core", "posture"])
def test_library_plan_shows_exercises_doses_cues_and_cautions(tmp_path, plan_id):
    world = make_world(tmp_path)
    at = world.page("pages/plans.py").run()
    at.selectbox(key="library_plan").set_value(plan_id).run()
    no_exception(at)
    plan = load_library().plan(plan_id)
    page = texts(at)
    for exercise in plan.exercises:
        assert f"**{exercise.name}** · {exercise.dose}" in page
        assert exercise.cues[0] in page
    assert plan.cautions[0] in page


def test_assigning_with_changes_stores_them_and_leaves_the_library_untouched(tmp_path):
    world = make_world(tmp_path)
    before = load_library().plan("core")
    at = world.page("pages/plans.py").run()
    at.selectbox(key="library_plan").set_value("core").run()
    form = f"client-{world.client.id}-assign0_core"  # keyed by the client and the form's round
    at.text_input(key=f"{form}_dose_0").set_value("2 x 15 seconds")
    at.multiselect(key=f"{form}_drop").set_value([before.exercises[1].name])
    at.text_area(key=f"{form}_note").set_value("Keep it easy this week")
    button(at, "Assign Core stability").click().run()
    no_exception(at)

    (assignment,) = store.list_assignments(world.db, actor=world.actor, client_id=world.client.id)
    assert assignment.plan_id.value == "core"
    assert assignment.customisation == {
        "doses": {before.exercises[0].name: "2 x 15 seconds"},
        "drop": [before.exercises[1].name],
        "note": "Keep it easy this week",
    }
    assert load_library().plan("core") == before
    assert "Core stability assigned to Ada Lovelace with your changes" in texts(at)
    assert at.download_button(key=f"client-{world.client.id}-handout") is not None


def test_paused_client_gets_a_clear_message_and_no_plan(tmp_path):
    world = make_world(tmp_path)
    store.save_report(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        report=TriageReport.model_validate(report_payload(leg_symptoms="one_leg")),
    )
    at = world.page("pages/plans.py").run()
    assert any("Loading plans are paused" in w.value for w in at.warning)
    button(at, "Assign").click().run()
    no_exception(at)
    assert any("not cleared yet" in e.value for e in at.error)
    assert store.list_assignments(world.db, actor=world.actor, client_id=world.client.id) == []


@pytest.mark.parametrize("label, status", [("Mark completed", "completed"), ("Stop plan", "stopped")])
def test_active_plan_can_be_completed_or_stopped(tmp_path, label, status):
    world = make_world(tmp_path)
    store.assign_plan(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        plan_id="warm_up",
        start_date=date(2025, 3, 1),
        review_date=date(2025, 3, 15),
    )
    at = world.page("pages/plans.py").run()
    button(at, label).click().run()
    if status == "stopped":  # stopping asks first (issue 14)
        button(at, "Yes, stop the plan").click().run()
    no_exception(at)
    (assignment,) = store.list_assignments(world.db, actor=world.actor, client_id=world.client.id)
    assert assignment.status.value == status
    assert not [b for b in at.button if b.label == label]


def test_handout_download_is_a_pdf_with_the_clients_plan(tmp_path):
    world = make_world(tmp_path)
    assign_core(world)
    at = world.page("pages/plans.py").run()
    no_exception(at)
    download = at.download_button(key=f"client-{world.client.id}-handout")
    assert download.label.startswith("Download the printable handout")
    pdf = at.session_state["handout_maker"]()  # what the button hands the browser when tapped
    assert pdf.startswith(b"%PDF")


def test_the_handout_is_made_when_its_button_is_tapped_not_on_every_visit(tmp_path, monkeypatch):
    """Issue 13: making the PDF on each visit of the page was an eighth of the server's CPU under load."""
    from backcare import handout

    made = []
    real = handout.render_handout
    monkeypatch.setattr(handout, "render_handout", lambda **kwargs: made.append(kwargs) or real(**kwargs))
    world = make_world(tmp_path)
    assign_core(world)
    at = world.page("pages/plans.py").run()
    no_exception(at)
    assert at.download_button(key=f"client-{world.client.id}-handout") is not None
    assert made == []
    assert at.session_state["handout_maker"]().startswith(b"%PDF")
    (call,) = made
    assert call["client_name"] == "Ada Lovelace" and [p.id.value for p in call["plans"]] == ["core"]
    assert call["trainer"] == "Tara Trainer"


def test_a_handout_whose_pdf_fails_on_the_tap_says_so_in_one_sentence(tmp_path, monkeypatch):
    from backcare import handout

    def broken(**kwargs):
        raise RuntimeError("no room on the page")

    world = make_world(tmp_path)
    at = world.page("pages/plans.py").run()
    monkeypatch.setattr(handout, "render_handout", broken)
    with pytest.raises(RuntimeError):  # Streamlit's download thread gets the error: the browser gets no file
        at.session_state["handout_maker"]()
    at.run()
    no_exception(at)
    assert "The handout could not be made (no room on the page); nothing was downloaded." in texts(at)
    at.run()
    assert "The handout could not be made" not in texts(at)  # said once


def test_plans_of_a_client_paused_by_a_referral_are_on_hold_and_off_the_handout(tmp_path):
    from backcare.models import CauseId

    world = make_world(tmp_path)
    store.save_report(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        report=report_payload(context={"warmup_minutes": 2}),
        assign_plans=[CauseId.WARM_UP],
    )
    store.save_report(
        world.db, actor=world.actor, client_id=world.client.id, report=report_payload(saddle_numbness=True)
    )
    at = world.page("pages/plans.py").run()
    no_exception(at)
    assert "Plans on hold until clearance" in texts(at)
    assert "Plans are on hold: the handout holds the safety-net advice only." in texts(at)
    library = load_library()
    sheet = views.handout_input(
        store.list_assignments(world.db, actor=world.actor, client_id=world.client.id),
        library,
        date.today(),
        paused=True,
    )
    assert sheet.plans == ()
