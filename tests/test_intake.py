"""The triage form's logic without Streamlit: unanswered red flags, report building, prefill."""

from datetime import date

import pytest

from backcare import intake
from backcare.errors import InvalidInput
from backcare.intake import NO, YES, LoggedSession
from backcare.models import Level
from backcare.rules import evaluate


def all_no(**overrides):
    answers = {q.field: NO for q in intake.REQUIRED_YES_NO}
    answers.update(leg_symptoms="none", pain_score=2, pain_quality="dull_ache", trend="easing",
                   hours_since_workout=20, eases_with_movement=YES)
    answers.update(overrides)
    return answers


def test_nothing_is_missing_when_every_red_flag_is_answered():
    assert intake.unanswered(all_no()) == []


@pytest.mark.parametrize("question", intake.REQUIRED_YES_NO, ids=lambda q: q.field)
def test_each_unanswered_red_flag_question_is_reported(question):
    answers = all_no()
    answers[question.field] = None
    assert [q.field for q in intake.unanswered(answers)] == [question.field]


def test_unanswered_legs_question_is_reported_after_the_emergency_questions():
    answers = all_no(leg_symptoms=None, chest_pain=None)
    assert [q.field for q in intake.unanswered(answers)] == ["chest_pain", "leg_symptoms"]


@pytest.mark.parametrize("question", intake.EMERGENCY, ids=lambda q: q.field)
def test_yes_to_any_emergency_question_gives_an_emergency(question):
    answers = all_no(**{question.field: YES})
    assert evaluate(intake.build_report(answers)).level is Level.EMERGENCY


def test_both_legs_counts_as_an_emergency_answer():
    answers = all_no(leg_symptoms="both_legs")
    assert evaluate(intake.build_report(answers)).level is Level.EMERGENCY


@pytest.mark.parametrize("question", intake.URGENT, ids=lambda q: q.field)
def test_yes_to_any_urgent_question_gives_urgent(question):
    assert evaluate(intake.build_report(all_no(**{question.field: YES}))).level is Level.URGENT


def test_all_no_with_mild_easing_pain_is_normal():
    assert evaluate(intake.build_report(all_no())).level is Level.NORMAL


def test_context_none_values_are_left_out_and_known_values_give_evidence():
    report = intake.build_report(all_no(), {"warmup_minutes": 2.0, "sleep_hours": None, "exercises": []})
    assert report.context.warmup_minutes == 2.0 and report.context.sleep_hours is None
    assert [c.cause for c in evaluate(report).causes] == ["warm_up"]


def test_bad_answer_names_the_field():
    with pytest.raises(InvalidInput) as raised:
        intake.build_report(all_no(pain_score=11))
    assert raised.value.field == "pain_score"


def session(day, exercises="deadlift;plank", warmup=3.0, cooldown=False):
    return LoggedSession(date=day, exercises=exercises, warmup_minutes=warmup, cooldown_done=cooldown)


def test_prefill_takes_the_latest_session_and_counts_rest_days():
    today = date(2026, 11, 20)
    sessions = [session(date(2026, 11, 19), "squat;row", 8.0, True), session(date(2026, 11, 17)),
                session(date(2026, 11, 10))]
    prefill = intake.prefill_context(sessions, today)
    assert prefill == {"exercises": ["squat", "row"], "warmup_minutes": 8.0, "cooldown_done": True,
                       "rest_days_last_7": 5}


def test_prefill_leaves_rest_days_out_when_history_is_shorter_than_a_week():
    prefill = intake.prefill_context([session(date(2026, 11, 19))], date(2026, 11, 20))
    assert "rest_days_last_7" not in prefill
    assert prefill["warmup_minutes"] == 3.0


def test_prefill_of_no_history_is_empty():
    assert intake.prefill_context([], date(2026, 11, 20)) == {}


@pytest.mark.parametrize("question", intake.PAIN_QUESTIONS + intake.SYMPTOMS, ids=lambda q: q.field)
def test_each_unanswered_pain_or_symptom_question_blocks_saving(question):
    answers = all_no()
    answers[question.field] = None
    assert [q.field for q in intake.unanswered(answers)] == [question.field]


def test_pain_score_and_hours_have_no_reassuring_start_value():
    answers = all_no()
    del answers["pain_score"], answers["hours_since_workout"]
    assert [q.field for q in intake.unanswered(answers)] == ["pain_score", "hours_since_workout"]


@pytest.mark.parametrize("full", [
    {"pain_score": 8},
    {"hours_since_workout": 80, "pain_score": 3},
    {"trend": "worse", "hours_since_workout": 30},
    {"numbness": YES},
    {"eases_with_movement": NO, "pain_score": 2},
    {"pain_quality": "stabbing"},
])
def test_a_provisional_result_never_shows_a_higher_level_than_the_full_answers(full):
    answers = all_no(**full)
    complete = evaluate(intake.build_report(answers)).level
    for field in full:  # leave each answered question out in turn: the floor is at most the real level
        partial = {k: v for k, v in answers.items() if k != field}
        partial[field] = None
        assert evaluate(intake.build_report(partial)).level.rank <= complete.rank


def test_an_answer_that_is_not_offered_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as raised:
        intake.build_report(all_no(chest_pain="maybe"))
    assert raised.value.field == "chest_pain"


def test_steps_ask_every_required_question_once_emergency_signs_first():
    asked = [q.field for step in intake.STEPS for q in step.questions]
    assert sorted(asked) == sorted([q.field for q in intake.REQUIRED_YES_NO] + list(intake.LEAST_ALARMING))
    assert len(asked) == len(set(asked))
    assert intake.STEPS[0].questions == intake.EMERGENCY + (intake.LEGS_QUESTION,)
    assert intake.STEPS[intake.RESULT_STEP].name == "result"
    assert intake.STEPS[intake.CONTEXT_STEP].questions == ()


def test_the_form_reaches_the_result_only_when_every_question_is_answered():
    assert intake.furthest_step({}) == 0
    assert intake.furthest_step(all_no()) == intake.RESULT_STEP
    assert intake.furthest_step(all_no(fever_or_unwell=None)) == 1
    assert intake.furthest_step(all_no(tingling=None, chest_pain=None)) == 0  # the earliest gap wins
    assert [q.field for q in intake.step_unanswered(2, all_no(hours_since_workout=None, tingling=None))] == [
        "hours_since_workout", "tingling"]


@pytest.mark.parametrize("question", intake.REQUIRED_YES_NO, ids=lambda q: q.field)
def test_any_single_unanswered_question_keeps_the_result_closed(question):
    answers = all_no(**{question.field: None})
    step = intake.furthest_step(answers)
    assert step < intake.RESULT_STEP
    assert question in intake.step_unanswered(step, answers)


def test_answer_summary_names_every_yes_and_marks_gaps():
    lines = intake.answer_summary(all_no(chest_pain=YES, history_of_cancer=YES, numbness=YES,
                                         leg_symptoms="one_leg", pain_score=7, pain_quality="sharp", trend="worse",
                                         hours_since_workout=52.5, eases_with_movement=NO))
    assert lines == [
        "Emergency signs: YES to chest pain",
        "Down the legs: one leg",
        "Urgent signs: YES to history of cancer",
        "Pain: 7/10, sharp, 52.5 h after the workout, getting worse, does not ease with movement",
        "Other signs: YES to numbness",
    ]
    gaps = intake.answer_summary({})
    assert gaps[0] == "Emergency signs: none" and gaps[1] == "Down the legs: ?"
    assert gaps[3].startswith("Pain: ?/10, ?, ? h")
