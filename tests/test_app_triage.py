"""The triage page driven by AppTest: smoke, a saved normal report with plans, the emergency path, the
save blocked by an unanswered red-flag question."""

from __future__ import annotations

import pytest

from backcare import intake, store
from backcare.auth import SYSTEM
from backcare.models import Level
from backcare.ui.style import SCOPE_STATEMENT
from tests.app_helpers import answer_triage, banner_levels, button, make_world, no_exception, texts


def test_triage_page_without_a_client_asks_to_find_one(tmp_path):
    world = make_world(tmp_path, client_name=None)
    at = world.page("pages/triage.py").run()
    no_exception(at)
    assert "Triage a back-pain report" in texts(at)
    assert SCOPE_STATEMENT in texts(at)
    assert "find the client" in texts(at)
    assert at.text_input(key="client_query") is not None


def test_triage_page_asks_every_emergency_question_first_as_yes_no(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    no_exception(at)
    keys = [control.key for control in at.segmented_control]
    emergency_keys = [f"q_{q.field}_0" for q in intake.EMERGENCY]
    assert keys[:len(emergency_keys)] == emergency_keys
    for key in emergency_keys:
        assert at.segmented_control(key=key).value is None  # nothing answered for the trainer
        assert at.segmented_control(key=key).options == [intake.NO, intake.YES]
    assert "1 · Emergency signs" in texts(at)


def test_normal_report_is_saved_with_its_plans_assigned(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), warmup=2, hours=20, pain_score=2)
    no_exception(at)
    assert banner_levels(at) == ["normal"]
    assert at.pills(key="q_plans_0").value == ["warm_up"]

    button(at, "Save report").click().run()
    no_exception(at)

    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    assert report.level == Level.NORMAL
    assert [a.plan_id.value for a in store.list_assignments(world.db, actor=world.actor,
                                                            client_id=world.client.id)] == ["warm_up"]
    assert any("Report saved: Normal soreness" in s.value for s in at.success)


@pytest.mark.parametrize("answers", [
    {"yes": ("saddle_numbness",)},
    {"yes": ("chest_pain",)},
    {"legs": "both_legs"},
], ids=["saddle-numbness", "chest-pain", "both-legs"])
def test_emergency_answer_shows_the_emergency_banner_first_and_no_plans(tmp_path, answers):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), warmup=2, **answers)
    no_exception(at)
    levels = banner_levels(at)
    assert levels[0] == "emergency"  # the top alert, above the form
    assert set(levels) == {"emergency"}
    assert not [p for p in at.pills if p.key == "q_plans_0"]  # no plan offered
    button(at, "Save report").click().run()
    no_exception(at)
    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    assert report.level == Level.EMERGENCY
    assert store.list_assignments(world.db, actor=world.actor, client_id=world.client.id) == []


def test_emergency_banner_shows_before_the_pain_questions_are_done(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    at.segmented_control(key="q_major_trauma_0").set_value(intake.YES).run()
    no_exception(at)
    assert banner_levels(at) == ["emergency", "emergency"]  # at the top, and in the (provisional) result
    assert any(w.value.startswith("Provisional") for w in at.warning)


def test_urgent_banner_also_shows_first_before_the_form_is_done(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    at.segmented_control(key="q_history_of_cancer_0").set_value(intake.YES).run()
    no_exception(at)
    assert banner_levels(at) == ["urgent", "urgent"]


@pytest.mark.parametrize("skipped", ["pain_score", "hours_since_workout", "numbness"])
def test_pain_score_hours_and_symptoms_must_be_answered_before_saving(tmp_path, skipped):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), skip=(skipped,))
    button(at, "Save report").click().run()
    no_exception(at)
    assert any("Not saved" in e.value and skipped in e.value for e in at.error)
    assert store.list_reports(world.db, actor=world.actor, client_id=world.client.id) == []


def test_a_client_paused_by_a_referral_is_offered_no_plans(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), yes=("saddle_numbness",))
    button(at, "Save report").click().run()
    at = answer_triage(at, form_id=1, warmup=2)
    no_exception(at)
    assert banner_levels(at) == ["normal"]
    assert not [p for p in at.pills if p.key == "q_plans_1"]
    assert any("no loading plans until clearance" in w.value for w in at.warning)


@pytest.mark.parametrize("skipped", ["saddle_numbness", "chest_pain", "leg_symptoms", "history_of_cancer"])
def test_unanswered_red_flag_question_blocks_the_save_and_stores_nothing(tmp_path, skipped):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), skip=(skipped,), warmup=2)
    no_exception(at)
    assert any("Still to answer before saving" in w.value for w in at.warning)

    button(at, "Save report").click().run()
    no_exception(at)
    assert any("Not saved" in e.value and skipped in e.value for e in at.error)
    assert store.list_reports(world.db, actor=world.actor, client_id=world.client.id) == []
    assert store.list_assignments(world.db, actor=world.actor, client_id=world.client.id) == []


def test_tapped_context_observations_and_counts_become_cause_evidence(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    at.multiselect(key="q_exercises_0").set_value(["deadlift"])
    at.pills(key="q_flags_0").set_value(["load_increased", "posture_concern"])
    at.segmented_control(key="q_core_0").set_value(1)
    at.segmented_control(key="q_rest_0").set_value(0)
    at = answer_triage(at, hours=20, pain_score=2)
    no_exception(at)
    assert banner_levels(at) == ["normal"]
    # form (deadlift + more load), load (more load with no rest day), core (1 a week), posture (noted)
    assert set(at.pills(key="q_plans_0").value) == {"form", "load", "core", "posture"}
    assert "Core training 1x a week (fewer than 2)" in texts(at)


def test_chosen_client_folds_the_search_away_until_change_client_is_pressed(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    no_exception(at)
    assert not [w for w in at.text_input if w.key == "client_query"]
    assert f"Report for {world.client.name}" in texts(at)
    button(at, "Change client").click().run()
    no_exception(at)
    at.text_input(key="client_query").set_value(world.client.name[:3]).run()
    assert at.selectbox(key="client_choice").value == world.client.id


def test_before_typing_the_trainer_sees_their_own_clients_and_picks_one_in_two_taps(tmp_path):
    world = make_world(tmp_path)
    store.create_client(world.db, actor=SYSTEM, gym_id=world.client.gym_id, name="Not Mine",
                        consent_by="system")  # same gym, no trainer: not in "Your clients"
    at = world.page("pages/triage.py", with_client=False).run()
    no_exception(at)
    chooser = at.selectbox(key="client_choice")
    assert chooser.label == "Your clients"
    assert chooser.options == [f"{world.client.name} · {world.client.external_id} · Cleared"]
    button(at, "Use this client").click().run()
    no_exception(at)
    assert f"Report for {world.client.name}" in texts(at)
