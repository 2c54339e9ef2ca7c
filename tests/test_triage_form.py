"""The triage form's state across steps, without Streamlit: the session state is a plain dict here."""

from __future__ import annotations

from backcare import intake
from backcare.questions import Kind
from backcare.ui.triage_form import TriageForm

EMERGENCY_KEYS = [f"q_{q.field}_0" for q in intake.STEPS[0].questions]  # the legs question comes last
assert EMERGENCY_KEYS[-1] == "q_leg_symptoms_0"


def tapped_step_one(state: dict, **changes) -> None:
    """What Streamlit puts in the state when step 1's widgets were tapped (drawn on the last run)."""
    state.update({key: intake.NO for key in EMERGENCY_KEYS[:-1]}, q_leg_symptoms_0="none")
    state.update(changes)


def test_answers_tapped_in_the_same_rerun_as_next_are_kept_when_their_widgets_are_not_drawn_again():
    state: dict = {}
    form = TriageForm(state, client_id=7)
    assert form.open_step() == 0
    tapped_step_one(state)
    form.go(1)  # the Next callback sees the taps in the state
    assert state["triage_step_0"] == 1 and form.pop_flash() is None
    form = TriageForm(state, client_id=7)  # the rerun: keeps step 1's values before Streamlit drops them
    for key in EMERGENCY_KEYS:
        del state[key]  # Streamlit forgets widgets a run does not draw
    assert form.open_step() == 1
    assert form.answers()["chest_pain"] == intake.NO and form.answers()["leg_symptoms"] == "none"


def test_moving_past_a_step_with_a_question_left_is_refused_with_the_question_named():
    state: dict = {}
    form = TriageForm(state, client_id=7)
    form.open_step()
    tapped_step_one(state, q_chest_pain_0=None)
    form.go(intake.RESULT_STEP)
    assert state["triage_step_0"] == 0
    flash = form.pop_flash()
    assert flash.startswith("Answer every question of step 1 first") and "Any chest pain?" in flash
    assert form.pop_flash() is None  # shown once


def test_a_chosen_step_beyond_the_answers_is_clamped_and_going_back_is_always_allowed():
    state: dict = {"triage_step_0": intake.RESULT_STEP}
    form = TriageForm(state, client_id=7)
    assert form.open_step() == 0  # nothing answered: the result cannot open
    assert state["triage_nav_0"] == 0 and state["triage_opened_0"] == 0
    tapped_step_one(state)
    form.go(1)
    assert state["triage_step_0"] == 1
    form.go(0)  # back, with questions left on later steps
    assert state["triage_step_0"] == 0 and form.pop_flash() is None


def test_another_client_gets_a_new_form_with_new_keys_and_no_answers():
    state: dict = {}
    form = TriageForm(state, client_id=7)
    form.open_step()
    tapped_step_one(state, q_chest_pain_0=intake.YES)
    form = TriageForm(state, client_id=7)
    assert form.answers()["chest_pain"] == intake.YES
    other = TriageForm(state, client_id=8)
    assert other.id == 1 and other.key("chest_pain") == "q_chest_pain_1"
    assert all(value is None for value in other.answers().values())
    assert "triage_kept_0" not in state and "triage_step_0" not in state
    assert "previous client was not saved" in other.pop_flash()  # the trainer is told
    assert TriageForm(state, client_id=9).pop_flash() is None  # nothing had been answered for client 8


def test_finish_starts_a_blank_form_for_the_same_client():
    state: dict = {}
    form = TriageForm(state, client_id=7)
    form.open_step()
    tapped_step_one(state)
    form = TriageForm(state, client_id=7)
    form.finish()
    again = TriageForm(state, client_id=7)
    assert again.id == 1 and all(value is None for value in again.answers().values())


def test_history_seeds_the_context_but_never_overrides_what_the_trainer_set():
    state: dict = {}
    form = TriageForm(state, client_id=7)
    form.kept["q_warmup_0"] = 12.0  # the trainer's answer
    form.seed_context({"exercises": ["squat"], "warmup_minutes": 2.0, "cooldown_done": False, "rest_days_last_7": 1})
    ctx = form.context()
    assert ctx["exercises"] == ["squat"] and ctx["warmup_minutes"] == 12.0
    assert ctx["cooldown_done"] is False and ctx["rest_days_last_7"] == 1
    assert ctx["sleep_hours"] is None and ctx["load_increased"] is False


def test_a_drawn_widget_shows_the_kept_answer_and_no_starting_value_of_its_own():
    state: dict = {}
    form = TriageForm(state, client_id=7)
    form.kept["q_trend_0"] = "worse"
    drawn = []

    def fake_widget(label, options, *, key):
        drawn.append((label, key, state.get(key)))
        return state.get(key)

    assert form.widget(fake_widget, "Trend", "trend", ["easing", "worse"]) == "worse"
    assert form.widget(fake_widget, "Sleep", "sleep", [6, 7]) is None
    assert drawn == [("Trend", "q_trend_0", "worse"), ("Sleep", "q_sleep_0", None)]


def test_an_alert_is_raised_when_the_result_rises_to_urgent_or_emergency_and_again_after_a_drop():
    from backcare.models import Level

    state: dict = {}
    form = TriageForm(state, client_id=7)

    def raised(level: Level) -> bool:
        if form.needs_alert(level):
            form.alerted(level)
            return True
        return False

    levels = (
        Level.NORMAL,
        Level.REFER,
        Level.URGENT,
        Level.URGENT,
        Level.EMERGENCY,
        Level.URGENT,
        Level.EMERGENCY,
        Level.MONITOR,
        Level.URGENT,
    )
    assert [raised(level) for level in levels] == [False, False, True, False, True, False, False, False, True]
    fresh = TriageForm(state, client_id=8)
    assert fresh.needs_alert(Level.URGENT) and fresh.needs_alert(Level.URGENT)  # until alerted() records it


def test_a_tap_on_a_step_only_partly_drawn_before_the_next_tap_is_kept():
    state: dict = {}
    form = TriageForm(state, client_id=7)
    form.open_step()
    tapped_step_one(state)
    form.mark_drawn(0)
    form.go(1)
    form = TriageForm(state, client_id=7)
    assert form.open_step() == 1  # this run is cut short by the next tap: step 2 is never marked drawn
    state["q_fever_or_unwell_0"] = intake.YES  # a tap on step 2 as it was drawn
    form = TriageForm(state, client_id=7)
    assert form.answers(in_callback=False)["fever_or_unwell"] == intake.YES


def test_plans_the_trainer_took_off_stay_off_across_steps_and_new_ones_come_in_chosen():
    state: dict = {}
    form = TriageForm(state, client_id=7)

    def pills(label, options, *, key):
        return state[key]

    assert form.plans(pills, "Plans", ["warm_up", "core"]) == ["warm_up", "core"]
    state["q_plans_0"] = ["core"]  # the trainer takes warm-up off
    assert form.plans(pills, "Plans", ["warm_up", "core"]) == ["core"]
    del state["q_plans_0"]  # another step was drawn: Streamlit forgot the widget
    assert form.plans(pills, "Plans", ["warm_up", "core", "posture"]) == ["core", "posture"]
    # the result changes while it is open (the widget still holds the old choice): a new plan comes in
    # chosen, a declined one stays off
    assert form.plans(pills, "Plans", ["warm_up", "core", "posture", "load"]) == ["core", "posture", "load"]


def test_a_context_error_holds_the_form_at_the_context_step():
    state: dict = {"triage_step_0": intake.RESULT_STEP}
    form = TriageForm(state, client_id=7)
    form.kept.update(
        {
            f"q_{q.field}_0": intake.NO
            for step in intake.STEPS
            for q in step.questions
            if q.kind is Kind.YES_NO and q.asked_when is None
        }
    )
    form.kept.update(
        q_leg_symptoms_0="none",
        q_pain_score_0=2,
        q_pain_quality_0="dull_ache",
        q_hours_0=20.0,
        q_trend_0="easing",
        q_eases_with_movement_0=intake.YES,
    )
    assert form.open_step() == intake.RESULT_STEP
    assert form.open_step(reach=intake.CONTEXT_STEP) == intake.CONTEXT_STEP


def answered_to_the_pain_step(state: dict, **pain) -> TriageForm:
    """A form with steps 1 and 2 answered "no" (legs: none) and the pain step as given."""
    form = TriageForm(state, client_id=7)
    form.kept.update(
        {
            f"q_{q.field}_0": intake.NO
            for step in intake.STEPS[:2]
            for q in step.questions
            if q.kind is Kind.YES_NO and q.asked_when is None
        }
    )
    form.kept.update(
        q_leg_symptoms_0="none",
        q_pain_score_0=2,
        q_pain_quality_0="dull_ache",
        q_hours_0=20.0,
        q_trend_0="easing",
        q_eases_with_movement_0=intake.YES,
        q_numbness_0=intake.NO,
        q_tingling_0=intake.NO,
        q_weakness_0=intake.NO,
        q_limits_daily_activities_0=intake.NO,
        q_persistent_fatigue_0=intake.NO,
    )
    form.kept.update(pain)
    return form


def test_a_nerve_sign_with_legs_none_holds_the_form_at_where_until_it_is_answered():
    from backcare.ui.triage_form import WHERE_STEP, WHERE_TEXT

    state: dict = {}
    form = answered_to_the_pain_step(state, q_weakness_0=intake.YES)
    assert form.where_missing() and form.shows_where()
    assert form.furthest() == WHERE_STEP  # intake alone would open the context step
    form.go(intake.CONTEXT_STEP)
    assert WHERE_TEXT in form.pop_flash()
    state["q_where_0"] = "both_legs"  # the trainer taps "Both legs"
    form.on_where()
    assert form.answers()["leg_symptoms"] == "both_legs"  # step 1's answer follows
    assert not form.where_missing() and form.shows_where()  # still shown, with the answer given
    assert form.furthest() == intake.RESULT_STEP


def test_where_the_back_only_answers_it_and_keeps_legs_none():
    state: dict = {}
    form = answered_to_the_pain_step(state, q_tingling_0=intake.YES)
    state["q_where_0"] = "back"
    form.on_where()
    assert form.answers()["leg_symptoms"] == "none" and not form.where_missing()
    assert form.furthest() == intake.RESULT_STEP


def test_no_nerve_sign_or_a_leg_already_named_asks_no_where():
    assert not answered_to_the_pain_step({}).shows_where()
    form = answered_to_the_pain_step({}, q_numbness_0=intake.YES, q_leg_symptoms_0="one_leg")
    assert not form.shows_where() and not form.where_missing()


def test_after_a_save_at_the_stop_only_the_questions_left_open_are_shown_and_added():
    state: dict = {}
    form = TriageForm(state, client_id=7)
    form.kept.update(q_saddle_numbness_0=intake.YES)
    form.correcting = True
    form.mark_saved(41, ["saddle_numbness"])
    assert form.saved_report == 41 and not form.correcting
    step_one = form.remaining(intake.STEPS[0].questions)
    assert [q.field for q in step_one] == [q.field for q in intake.STEPS[0].questions[1:]]
    assert form.added_answers() == {}
    form.kept.update(q_chest_pain_0=intake.NO, q_leg_symptoms_0="both_legs")
    assert form.added_answers() == {"chest_pain": False, "leg_symptoms": "both_legs"}
    form.mark_saved(41, ["chest_pain", "leg_symptoms"])
    assert form.added_answers() == {} and form.answered_at_save == {"saddle_numbness", "chest_pain", "leg_symptoms"}
    form.finish()
    again = TriageForm(state, client_id=7)
    assert again.saved_report is None and again.answered_at_save == frozenset()


def test_a_screened_person_adopted_as_a_client_keeps_the_answers_any_other_switch_blanks_them():
    from backcare.ui.triage_form import SCREENING

    state: dict = {}
    form = TriageForm(state, client_id=SCREENING)
    form.kept["q_chest_pain_0"] = intake.YES
    form.kept["q_yob_0"] = 1950
    TriageForm.adopt(state, 12)
    adopted = TriageForm(state, client_id=12)
    assert adopted.id == 0 and adopted.answers()["chest_pain"] == intake.YES and adopted.year_of_birth() == 1950
    assert TriageForm(state, client_id=13).answers()["chest_pain"] is None
