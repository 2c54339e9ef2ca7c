"""The triage page driven by AppTest: smoke, the steps and what they keep, a saved normal report with
plans, the emergency path, and the save blocked by an unanswered red-flag question."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backcare import intake, rules, store
from backcare.auth import SYSTEM
from backcare.models import Level
from backcare.questions import Kind
from backcare.ui.style import SCOPE_STATEMENT
from tests.app_helpers import (
    answer_triage,
    banner_levels,
    button,
    make_world,
    no_exception,
    set_widget,
    tap_next,
    texts,
    watching,
)


def test_triage_page_without_a_client_asks_to_find_one(tmp_path):
    world = make_world(tmp_path, client_name=None)
    at = world.page("pages/triage.py").run()
    no_exception(at)
    assert "Triage a back-pain report" in texts(at)
    assert SCOPE_STATEMENT in texts(at)
    assert "find the client" in texts(at)
    assert at.text_input(key="client_query") is not None


def test_triage_page_opens_on_the_emergency_questions_alone_each_an_unanswered_yes_no(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    no_exception(at)
    assert SCOPE_STATEMENT in texts(at)
    assert "1 · Emergency signs" in texts(at)
    questions = [control.key for control in at.segmented_control if control.key.startswith("q_")]
    assert questions == [f"q_{q.field}_0" for q in intake.STEPS[0].questions]
    assert questions[-1] == "q_leg_symptoms_0" and "q_collapse_or_tearing_pain_0" in questions
    for q in intake.STEPS[0].questions[:-1]:
        control = at.segmented_control(key=f"q_{q.field}_0")
        assert control.value is None  # nothing answered for the trainer
        assert control.options == [intake.NO, intake.YES]
    assert not [b for b in at.button if b.label.startswith("Save report")]
    assert watching(at) and banner_levels(at) == []  # the place the red banner would take, held


def test_normal_report_is_saved_with_its_plans_assigned_and_a_blank_form_follows(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), warmup=2, hours=20, pain_score=2)
    no_exception(at)
    assert "5 · Result" in texts(at)
    assert banner_levels(at) == ["normal"] and not watching(at)
    assert "The pain: pain score: 2/10; what the pain feels like: dull ache; hours since the workout: 20 h" in texts(at)
    assert at.pills(key="q_plans_0").value == ["warm_up"]

    button(at, "Save report").click().run()
    no_exception(at)

    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    assert report.level == Level.NORMAL
    assert report.answers["hours_since_workout"] == 20 and report.context.warmup_minutes == 2
    assert [
        a.plan_id.value for a in store.list_assignments(world.db, actor=world.actor, client_id=world.client.id)
    ] == ["warm_up"]
    assert any("Report saved: Normal soreness" in s.value for s in at.success)
    assert "1 · Emergency signs" in texts(at)  # the next report starts blank, on step 1
    assert "triage_kept_0" not in at.session_state and "triage_kept_1" in at.session_state
    assert all(c.value is None for c in at.segmented_control if c.key.startswith("q_"))


@pytest.mark.parametrize(
    "field, value",
    [
        ("saddle_numbness", intake.YES),
        ("chest_pain", intake.YES),
        ("leg_symptoms", "both_legs"),
    ],
    ids=["saddle-numbness", "chest-pain", "both-legs"],
)
def test_emergency_answer_shows_the_emergency_banner_first_and_no_plans(tmp_path, field, value):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    at.segmented_control(key=f"q_{field}_0").set_value(value).run()
    no_exception(at)
    assert banner_levels(at) == ["emergency"]  # the top alert, above the form
    assert not [p for p in at.pills if p.key == "q_plans_0"]  # no plan offered
    button(at, "Save now").click().run()
    no_exception(at)
    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    assert report.level == Level.EMERGENCY
    assert store.list_assignments(world.db, actor=world.actor, client_id=world.client.id) == []


def test_emergency_banner_shows_at_once_and_stays_on_top_of_every_later_step(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    at.segmented_control(key="q_major_trauma_0").set_value(intake.YES).run()
    no_exception(at)
    assert banner_levels(at) == ["emergency"]  # the top alert, before the other questions are answered
    assert not watching(at)  # the red banner took the neutral strip's place
    assert [t.value for t in at.toast] == [
        "**:red[EMERGENCY: stop the session]**  \nStop the session now. The client needs emergency care: call 999 "
        f"now. {rules.DO_NOT_MOVE}"
    ]  # floats over the page, wherever the trainer has scrolled
    button(at, "Save now").click().run()
    assert banner_levels(at) == ["emergency"] and len(at.toast) == 0  # raised once, not on every tap
    at.segmented_control(key="q_chest_pain_0").set_value(intake.NO).run()
    assert banner_levels(at) == ["emergency"] and len(at.toast) == 0
    for q in intake.STEPS[0].questions:
        if q.field not in ("major_trauma", "chest_pain"):
            set_widget(at, f"q_{q.field}_0", "none" if q.field == "leg_symptoms" else intake.NO)
    at = tap_next(at)
    assert "2 · Urgent signs" in texts(at)
    assert banner_levels(at) == ["emergency"]


def test_urgent_banner_also_shows_at_once(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), stop_at="urgent")
    at.segmented_control(key="q_history_of_cancer_0").set_value(intake.YES).run()
    no_exception(at)
    assert banner_levels(at) == ["urgent"]


@pytest.mark.parametrize(
    "skipped",
    [
        "saddle_numbness",
        "chest_pain",
        "leg_symptoms",
        "history_of_cancer",
        "pain_score",
        "hours_since_workout",
        "numbness",
    ],
)
def test_an_unanswered_question_stops_the_form_at_its_step_and_nothing_can_be_saved(tmp_path, skipped):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), skip=(skipped,), warmup=2)
    no_exception(at)
    (question,) = [q for s in intake.STEPS for q in s.questions if q.field == skipped]
    (step,) = [i for i, s in enumerate(intake.STEPS) if question in s.questions]
    assert f"{step + 1} · {intake.STEPS[step].title}" in texts(at)  # Next refused: still on its step
    assert any("Still to answer" in w.value and question.text in w.value for w in at.warning)
    assert not [b for b in at.button if b.label.startswith("Save report")]

    at.segmented_control(key="triage_nav_0").set_value(intake.RESULT_STEP).run()  # jumping ahead: refused too
    no_exception(at)
    assert f"{step + 1} · {intake.STEPS[step].title}" in texts(at)
    assert not [b for b in at.button if b.label.startswith("Save report")]
    assert store.list_reports(world.db, actor=world.actor, client_id=world.client.id) == []
    assert store.list_assignments(world.db, actor=world.actor, client_id=world.client.id) == []


def test_answers_are_kept_when_the_trainer_goes_back_and_forth(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(
        world.page("pages/triage.py").run(), yes=("night_or_rest_pain",), pain_score=6, stop_at="context"
    )
    set_widget(at, "q_sleep_0", 5.5)
    at = tap_next(at)
    assert "5 · Result" in texts(at)
    at.segmented_control(key="triage_nav_0").set_value(0).run()  # back to step 1
    no_exception(at)
    yes_no = [q for q in intake.STEPS[0].questions if q.kind is Kind.YES_NO]
    assert [at.segmented_control(key=f"q_{q.field}_0").value for q in yes_no] == [intake.NO] * len(yes_no)
    button(at, "Next:").click().run()
    assert at.segmented_control(key="q_night_or_rest_pain_0").value == intake.YES
    at.segmented_control(key="triage_nav_0").set_value(3).run()
    assert at.number_input(key="q_sleep_0").value == 5.5
    at.segmented_control(key="triage_nav_0").set_value(intake.RESULT_STEP).run()
    assert banner_levels(at) == ["urgent", "urgent"]
    button(at, "Save report").click().run()
    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    assert (report.answers["pain_score"], report.answers["night_or_rest_pain"]) == (6, True)
    assert report.context.sleep_hours == 5.5


def test_another_client_gets_a_blank_form_not_the_answers_given_for_the_first(tmp_path):
    world = make_world(tmp_path)
    other = store.create_client(
        world.db,
        actor=world.actor,
        gym_id=world.client.gym_id,
        name="Grace Hopper",
        trainer_id=world.actor.user_id,
        consent_by=world.actor.username,
    )
    at = answer_triage(world.page("pages/triage.py").run(), yes=("history_of_cancer",), stop_at="pain")
    button(at, "Change client").click().run()
    at.selectbox(key="client_choice").set_value(other.id)
    button(at, "Use this client").click().run()
    no_exception(at)
    assert "Report for Grace Hopper" in texts(at)
    assert "1 · Emergency signs" in texts(at)
    assert banner_levels(at) == []
    assert all(c.value is None for c in at.segmented_control if c.key.startswith("q_"))


def test_a_client_paused_by_a_referral_is_offered_no_plans(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), quality="sharp")  # refer (R1): a referral opens
    button(at, "Save report").click().run()
    at = answer_triage(at, form_id=1, warmup=2)
    no_exception(at)
    assert banner_levels(at) == ["normal"]
    assert not [p for p in at.pills if p.key == "q_plans_1"]
    assert any("no loading plans until clearance" in w.value for w in at.warning)


def test_tapped_context_observations_and_counts_become_cause_evidence(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(
        world.page("pages/triage.py").run(),
        hours=20,
        pain_score=2,
        exercises=["deadlift"],
        flags=["load_increased", "posture_concern"],
        core=1,
        rest=0,
    )
    no_exception(at)
    assert banner_levels(at) == ["normal"]
    # form (deadlift + more load), load (more load with no rest day), core (1 a week), posture (noted): all four
    # offered; at most two preselected (issue 15): each has one piece of evidence, so the result's first two
    assert len(at.pills(key="q_plans_0").options) == 4
    assert set(at.pills(key="q_plans_0").value) == {"form", "core"}
    assert "Core training 1x a week (fewer than 2)" in texts(at)


def test_context_is_prefilled_from_the_latest_logged_session_and_the_history_line_names_it(tmp_path):
    world = make_world(tmp_path)
    yesterday = date.today() - timedelta(days=1)
    store.log_session(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        session={
            "date": yesterday,
            "minutes": 50,
            "rpe": 8,
            "exercises": ["deadlift", "row"],
            "warmup_minutes": 3,
            "cooldown_done": False,
        },
    )
    at = world.page("pages/triage.py").run()
    no_exception(at)
    assert f"Last logged session {yesterday:%d %b %Y} (yesterday), 50 min, RPE 8: deadlift, row" in texts(at)
    at = answer_triage(at, stop_at="context")
    assert at.multiselect(key="q_exercises_0").value == ["deadlift", "row"]
    assert at.number_input(key="q_warmup_0").value == 3
    assert at.segmented_control(key="q_cooldown_0").value == intake.NO
    at = tap_next(at)
    assert "Skipped recovery" in texts(at) and "Skipped warm-up" in texts(at)


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
    store.create_client(
        world.db, actor=SYSTEM, gym_id=world.client.gym_id, name="Not Mine", consent_by="system"
    )  # same gym, no trainer: not in "Your clients"
    at = world.page("pages/triage.py", with_client=False).run()
    no_exception(at)
    chooser = at.selectbox(key="client_choice")
    assert chooser.label == "Your clients"
    assert chooser.options == [f"{world.client.name} · {world.client.external_id}"]
    assert chooser.value is None  # nobody preselected (issue 14): the first tap chooses
    chooser.set_value(world.client.id).run()
    assert "Status: Cleared" in texts(at)
    button(at, "Use this client").click().run()
    no_exception(at)
    assert f"Report for {world.client.name}" in texts(at)


def test_a_bad_context_value_is_named_on_the_context_step_and_never_hides_the_red_banner(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), yes=("history_of_cancer",), stop_at="context")
    set_widget(at, "q_exercises_0", ["x" * 81])
    at = tap_next(at)
    no_exception(at)
    assert banner_levels(at) == ["urgent"]
    assert "4 · Training context" in texts(at)  # held there: the result cannot open
    assert any("Please correct the training context" in e.value and "exercises" in e.value for e in at.error)
    set_widget(at, "q_exercises_0", ["deadlift"])
    at = tap_next(at)
    assert "5 · Result" in texts(at) and not at.error


def test_an_unreadable_history_leaves_the_questions_and_the_banner_in_place(tmp_path, monkeypatch):
    from backcare.errors import StoreError

    def unreadable(*args, **kwargs):
        raise StoreError("Reading the client's history failed in the database; nothing was changed.")

    world = make_world(tmp_path)
    monkeypatch.setattr(store, "triage_history", unreadable)
    at = world.page("pages/triage.py").run()
    at.segmented_control(key="q_chest_pain_0").set_value(intake.NO).run()
    no_exception(at)
    assert any("leaves out the client's history" in e.value for e in at.error)
    assert at.segmented_control(key="q_saddle_numbness_0") is not None
    at.segmented_control(key="q_chest_pain_0").set_value(intake.YES).run()
    assert banner_levels(at) == ["emergency"] and button(at, "Save now")


def test_plan_choices_and_dates_are_kept_when_the_trainer_goes_back(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), warmup=2, cooldown=intake.NO)
    assert set(at.pills(key="q_plans_0").value) == {"warm_up", "recovery"}
    at.pills(key="q_plans_0").set_value(["recovery"])
    review = date.today() + timedelta(days=21)
    at.date_input(key="q_review_0").set_value(review).run()
    at.segmented_control(key="triage_nav_0").set_value(2).run()
    at.segmented_control(key="triage_nav_0").set_value(intake.RESULT_STEP).run()
    assert at.pills(key="q_plans_0").value == ["recovery"]
    assert at.date_input(key="q_review_0").value == review
    button(at, "Save report and assign 1 plan").click().run()
    (assignment,) = store.list_assignments(world.db, actor=world.actor, client_id=world.client.id)
    assert (assignment.plan_id.value, assignment.review_date) == ("recovery", review)


def test_step_buttons_have_a_key_of_their_own_on_each_step_so_a_double_tap_cannot_skip_one(tmp_path):
    world = make_world(tmp_path)
    keys = []
    for step in intake.STEPS[: intake.RESULT_STEP]:
        store.delete_draft(world.db, actor=world.actor, client_id=world.client.id)  # each walk from step 1
        at = answer_triage(world.page("pages/triage.py").run(), stop_at=step.name)
        assert f"· {step.title}" in texts(at)
        keys.append((button(at, "Next:").key, button(at, "Back").key))
    assert len({next_key for next_key, _ in keys}) == len({back_key for _, back_key in keys}) == intake.RESULT_STEP


def test_a_prefilled_context_value_the_trainer_clears_is_saved_as_not_known(tmp_path):
    world = make_world(tmp_path)
    store.log_session(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        session={"date": date.today(), "minutes": 50, "rpe": 8, "warmup_minutes": 150},
    )
    at = answer_triage(world.page("pages/triage.py").run(), stop_at="context")
    assert at.number_input(key="q_warmup_0").value == 150  # a long warm-up is shown, not dropped
    set_widget(at, "q_warmup_0", None)
    at = tap_next(at)
    assert "warm-up" not in texts(at).split("Training context:")[1].split("\n")[0]
    button(at, "Save report").click().run()
    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    assert report.context.warmup_minutes is None


def test_an_urgent_answer_also_floats_a_notice_once(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), stop_at="urgent")
    at.segmented_control(key="q_history_of_cancer_0").set_value(intake.YES).run()
    assert [t.value.split("]")[0] for t in at.toast] == ["**:red[Urgent: see a doctor within 24 hours"]
    at.segmented_control(key="q_fever_or_unwell_0").set_value(intake.YES).run()
    assert len(at.toast) == 0 and banner_levels(at) == ["urgent"]


def test_a_save_that_already_reached_the_database_is_not_stored_again(tmp_path):
    from tests.conftest import report_payload

    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), yes=("history_of_cancer",))
    token = at.session_state["triage_token_0"]
    # The first tap's save committed, then the next tap cut the page short before it could say so.
    store.save_report(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        submission=token,
        report=report_payload(history_of_cancer=True),
    )
    button(at, "Save report").click().run()
    no_exception(at)
    assert any("saved already" in s.value for s in at.success)
    assert len(store.list_reports(world.db, actor=world.actor, client_id=world.client.id)) == 1
    assert "1 · Emergency signs" in texts(at)  # and the next report starts blank
    assert at.session_state["triage_token_1"] != token


def test_a_logged_session_with_more_exercises_than_a_report_takes_is_named_not_a_crash(tmp_path):
    world = make_world(tmp_path)
    with world.db.write(SYSTEM, "test.seed") as cur:  # as an import made before the importer checked this
        cur.execute(
            "INSERT INTO sessions (client_id, date, minutes, rpe, exercises, source, created_at, "
            "created_by) VALUES (?, current_date, 60, 7, ?, 'import', now(), 'system')",
            [world.client.id, ";".join(f"move {i}" for i in range(60))],
        )
    at = answer_triage(world.page("pages/triage.py").run(), stop_at="context")
    no_exception(at)
    assert any("exercises" in e.value and "50" in e.value for e in at.error)
    set_widget(at, "q_exercises_0", ["move 1", "move 2"])
    at = tap_next(at)
    no_exception(at)
    assert "5 · Result" in texts(at)


def test_switching_client_warns_only_when_the_unfinished_form_had_answers(tmp_path):
    world = make_world(tmp_path)
    other = store.create_client(
        world.db,
        actor=world.actor,
        gym_id=world.client.gym_id,
        name="Grace Hopper",
        trainer_id=world.actor.user_id,
        consent_by=world.actor.username,
    )

    def switch(at, client_id):
        button(at, "Change client").click().run()
        at.selectbox(key="client_choice").set_value(client_id)
        return button(at, "Use this client").click().run()

    at = switch(world.page("pages/triage.py").run(), other.id)  # nothing answered: nothing to warn about
    assert not any("not saved" in w.value for w in at.warning)
    at = answer_triage(at, form_id=1, warmup=2)
    button(at, "Save report").click().run()
    at = switch(at, world.client.id)  # just saved: nothing was lost
    assert not any("not saved" in w.value for w in at.warning)
    at.segmented_control(key="q_chest_pain_3").set_value(intake.NO).run()
    at = switch(at, other.id)
    assert any("previous client was not saved" in w.value for w in at.warning)


def test_a_plan_taken_off_in_the_same_tap_as_back_stays_off(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), warmup=2, cooldown=intake.NO)
    at.pills(key="q_plans_0").set_value(["recovery"])
    button(at, "Back").click().run()  # one rerun carries both
    assert "4 · Training context" in texts(at)
    at = tap_next(at)
    assert at.pills(key="q_plans_0").value == ["recovery"]


def test_the_floating_notice_comes_back_when_a_corrected_red_flag_is_followed_by_another(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), stop_at="urgent")
    at.segmented_control(key="q_history_of_cancer_0").set_value(intake.YES).run()
    assert len(at.toast) == 1
    at.segmented_control(key="q_history_of_cancer_0").set_value(intake.NO).run()
    assert len(at.toast) == 0 and banner_levels(at) == []
    at.segmented_control(key="q_fever_or_unwell_0").set_value(intake.YES).run()
    assert len(at.toast) == 1 and banner_levels(at) == ["urgent"]


def test_the_new_questions_appear_on_their_steps_and_the_pregnancy_follow_up_only_when_pregnant(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    assert at.segmented_control(key="q_collapse_or_tearing_pain_0") is not None
    at = answer_triage(at, stop_at="urgent")
    keys = [c.key for c in at.segmented_control]
    assert {"q_upper_back_pain_0", "q_back_shape_change_0", "q_pregnant_0"} <= set(keys)
    assert "q_pregnancy_warning_signs_0" not in keys
    at.segmented_control(key="q_pregnant_0").set_value(intake.YES).run()
    no_exception(at)
    assert "q_pregnancy_warning_signs_0" in [c.key for c in at.segmented_control]
    at.segmented_control(key="q_pregnancy_warning_signs_0").set_value(intake.YES).run()
    assert banner_levels(at) == ["urgent"]


def test_the_age_comes_from_the_clients_year_of_birth(tmp_path):
    world = make_world(tmp_path)
    store.set_year_of_birth(
        world.db, actor=world.actor, client_id=world.client.id, year_of_birth=date.today().year - 72
    )
    at = answer_triage(world.page("pages/triage.py").run(), pain_score=5)
    no_exception(at)
    assert banner_levels(at) == ["refer"]
    assert "R11" in texts(at)


def test_an_unknown_year_of_birth_is_asked_on_the_pain_step_stored_once_and_then_not_asked(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), stop_at="pain")
    year = at.number_input(key="q_yob_0")
    assert year.label == "Year of birth (optional)" and year.value is None  # "not known" is allowed
    year.set_value(date.today().year - 70).run()
    no_exception(at)
    assert (
        store.get_client(world.db, actor=world.actor, client_id=world.client.id).year_of_birth == date.today().year - 70
    )
    assert not [n for n in at.number_input if n.key == "q_yob_0"]  # on record now: not asked again
    assert "Age 70 (born" in texts(at)
    store.delete_draft(world.db, actor=world.actor, client_id=world.client.id)  # a new report, from step 1
    at = world.page("pages/triage.py").run()
    at = answer_triage(at, stop_at="pain")
    assert not [n for n in at.number_input if n.key == "q_yob_0"]


def test_the_year_of_birth_is_optional_and_the_form_goes_on_without_it(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), pain_score=5)
    no_exception(at)
    assert "5 · Result" in texts(at) and banner_levels(at) == ["monitor"]  # no age rule without an age
    assert store.get_client(world.db, actor=world.actor, client_id=world.client.id).year_of_birth is None


def test_the_year_of_birth_is_edited_on_the_history_page_and_can_go_back_to_not_known(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/history.py").run()
    no_exception(at)
    year = at.number_input(key=f"client-{world.client.id}-year_of_birth")
    assert year.value is None
    year.set_value(1990)
    button(at, "Save year of birth").click().run()
    no_exception(at)
    assert store.get_client(world.db, actor=world.actor, client_id=world.client.id).year_of_birth == 1990
    at.number_input(key=f"client-{world.client.id}-year_of_birth").set_value(None)  # back to "not known"
    button(at, "Save year of birth").click().run()
    assert store.get_client(world.db, actor=world.actor, client_id=world.client.id).year_of_birth is None


def test_the_exercise_picker_offers_catalogue_names_first_and_takes_free_text(tmp_path):
    from backcare.catalogue import catalogue_names

    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), stop_at="context")
    picker = at.multiselect(key="q_exercises_0")
    assert picker.options[: len(catalogue_names())] == catalogue_names()
    store.delete_draft(world.db, actor=world.actor, client_id=world.client.id)  # a new report, from step 1
    at = answer_triage(
        world.page("pages/triage.py").run(), exercises=["Dead lift", "my own drill"], flags=["load_increased"]
    )
    no_exception(at)
    assert "Exercise form" in texts(at)  # "Dead lift" is the catalogue's deadlift
    assert "Dead lift" in texts(at) and "my own drill" in texts(at)
