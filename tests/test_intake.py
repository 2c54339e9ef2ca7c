"""The triage form's logic without Streamlit: steps from the registry, unanswered questions, report
building (unanswered is not asked, never "no"), the "where?" check, answer summaries and prefill."""

from datetime import date

import pytest

from backcare import intake, questions
from backcare.errors import InvalidInput
from backcare.intake import NO, YES, LoggedSession
from backcare.models import Level
from backcare.questions import Kind
from backcare.rules import evaluate

FORM_QUESTIONS = [q for step in intake.STEPS for q in step.questions]
YES_NO = [q for q in FORM_QUESTIONS if q.kind is Kind.YES_NO and q.asked_when is None]


def all_no(**overrides):
    """Every question that applies answered "no" (easing: "yes"), mild pain the day after training."""
    answers = {q.field: NO for q in YES_NO}
    answers.update(
        leg_symptoms="none",
        pain_score=2,
        pain_quality="dull_ache",
        trend="easing",
        hours_since_workout=20,
        eases_with_movement=YES,
    )
    answers.update(overrides)
    return answers


def on_step(name):
    return [q for q in questions.QUESTIONS if q.step == name]


def test_the_form_steps_follow_the_registry_emergency_signs_first():
    assert [s.name for s in intake.STEPS] == ["emergency", "urgent", "pain", "context", "result"]
    assert [q.field for q in FORM_QUESTIONS] == list(questions.FIELDS)
    assert intake.STEPS[0].questions == questions.on_step("emergency")
    assert intake.STEPS[intake.RESULT_STEP].name == "result" and intake.STEPS[intake.CONTEXT_STEP].questions == ()


def test_the_new_questions_are_asked_on_their_steps():
    assert "collapse_or_tearing_pain" in [q.field for q in intake.STEPS[0].questions]
    urgent = [q.field for q in intake.STEPS[1].questions]
    assert {"upper_back_pain", "back_shape_change", "pregnant", "pregnancy_warning_signs"} <= set(urgent)


def test_nothing_is_missing_when_every_question_is_answered():
    assert intake.unanswered(all_no()) == []


@pytest.mark.parametrize("question", [q for q in FORM_QUESTIONS if q.asked_when is None], ids=lambda q: q.field)
def test_each_unanswered_question_is_reported_and_keeps_the_result_closed(question):
    answers = all_no(**{question.field: None})
    assert [q.field for q in intake.unanswered(answers)] == [question.field]
    step = intake.furthest_step(answers)
    assert step < intake.RESULT_STEP and question in intake.step_unanswered(step, answers)


def test_the_pregnancy_follow_up_is_asked_only_when_pregnant():
    urgent = 1
    assert "pregnancy_warning_signs" not in [q.field for q in intake.asked(urgent, all_no())]
    answers = all_no(pregnant=YES)
    assert [q.field for q in intake.step_unanswered(urgent, answers)] == ["pregnancy_warning_signs"]
    assert intake.furthest_step(answers) == urgent
    assert intake.furthest_step(all_no(pregnant=YES, pregnancy_warning_signs=NO)) == intake.RESULT_STEP


def test_a_follow_up_answer_is_dropped_when_its_question_no_longer_applies():
    report = intake.build_report(all_no(pregnant=NO, pregnancy_warning_signs=YES))
    assert report.pregnancy_warning_signs is None and evaluate(report).level is Level.NORMAL


@pytest.mark.parametrize("question", on_step("emergency"), ids=lambda q: q.field)
def test_the_risk_answer_to_any_emergency_question_alone_gives_an_emergency(question):
    answer = "both_legs" if question.kind is Kind.CHOICE else YES
    assert evaluate(intake.build_report({question.field: answer})).level is Level.EMERGENCY


@pytest.mark.parametrize(
    "question",
    [q for q in on_step("urgent") if q.field not in ("pregnant", "pregnancy_warning_signs")],
    ids=lambda q: q.field,
)
def test_yes_to_any_urgent_question_gives_urgent(question):
    assert evaluate(intake.build_report(all_no(**{question.field: YES}))).level is Level.URGENT


def test_pregnant_with_warning_signs_is_urgent_and_without_them_refer():
    assert evaluate(intake.build_report(all_no(pregnant=YES, pregnancy_warning_signs=YES))).level is Level.URGENT
    assert evaluate(intake.build_report(all_no(pregnant=YES, pregnancy_warning_signs=NO))).level is Level.REFER


def test_all_no_with_mild_easing_pain_is_normal():
    assert evaluate(intake.build_report(all_no())).level is Level.NORMAL


def test_an_unanswered_question_is_not_asked_never_no():
    report = intake.build_report(all_no(saddle_numbness=None))
    assert report.saddle_numbness is None
    result = evaluate(report)
    assert result.level is Level.REFER and result.not_asked == ("saddle_numbness",)


def test_an_emergency_on_a_partly_answered_form_is_certain_already():
    partial = {"chest_pain": YES}
    assert evaluate(intake.build_report(partial)).level is Level.EMERGENCY
    for full in (all_no(chest_pain=YES), all_no(chest_pain=YES, pain_score=9)):
        assert evaluate(intake.build_report(full)).level is Level.EMERGENCY


def test_the_age_goes_into_the_report():
    assert evaluate(intake.build_report(all_no(pain_score=5), age=72)).level is Level.REFER
    assert evaluate(intake.build_report(all_no(pain_score=5))).level is Level.MONITOR


def test_context_none_values_are_left_out_and_known_values_give_evidence():
    report = intake.build_report(all_no(), {"warmup_minutes": 2.0, "sleep_hours": None, "exercises": []})
    assert report.context.warmup_minutes == 2.0 and report.context.sleep_hours is None
    assert [c.cause for c in evaluate(report).causes] == ["warm_up"]


def test_bad_answer_names_the_field():
    with pytest.raises(InvalidInput) as raised:
        intake.build_report(all_no(pain_score=11))
    assert raised.value.field == "pain_score"


def test_an_answer_that_is_not_offered_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as raised:
        intake.build_report(all_no(chest_pain="maybe"))
    assert raised.value.field == "chest_pain"


@pytest.mark.parametrize(
    "answers, needed",
    [
        ({"numbness": YES, "leg_symptoms": "none"}, True),
        ({"weakness": YES, "leg_symptoms": "none"}, True),
        ({"tingling": YES, "leg_symptoms": "one_leg"}, False),
        ({"tingling": YES}, False),  # the legs question not answered yet: it is asked in its place
        ({"numbness": NO, "tingling": NO, "weakness": NO, "leg_symptoms": "none"}, False),
    ],
)
def test_where_is_asked_when_a_nerve_sign_is_yes_and_the_legs_answer_is_none(answers, needed):
    assert intake.needs_where(answers) is needed


def test_the_form_reaches_the_result_only_when_every_question_is_answered():
    assert intake.furthest_step({}) == 0
    assert intake.furthest_step(all_no()) == intake.RESULT_STEP
    assert intake.furthest_step(all_no(fever_or_unwell=None)) == 1
    assert intake.furthest_step(all_no(tingling=None, chest_pain=None)) == 0  # the earliest gap wins
    assert [q.field for q in intake.step_unanswered(2, all_no(hours_since_workout=None, tingling=None))] == [
        "hours_since_workout",
        "tingling",
    ]


def test_answer_summary_names_every_risk_answer_and_what_is_not_asked():
    lines = intake.answer_summary(
        all_no(
            chest_pain=YES,
            history_of_cancer=YES,
            numbness=YES,
            leg_symptoms="one_leg",
            pain_score=7,
            pain_quality="sharp",
            trend="worse",
            hours_since_workout=52.5,
            eases_with_movement=NO,
            tingling=None,
        )
    )
    assert lines == [
        "Emergency signs: symptoms down the legs: one leg; YES to chest pain",
        "Urgent signs: YES to a history of cancer",
        "The pain: pain score: 7/10; what the pain feels like: sharp; "
        "hours since the workout: 52.5 h (about 2.2 days); how the pain is changing: getting worse; "
        "YES to numbness; NO to easing with movement; not asked: tingling",
    ]
    assert intake.answer_summary(all_no())[1] == "Urgent signs: no to all"


def session(day, exercises="deadlift;plank", warmup=3.0, cooldown=False):
    return LoggedSession(date=day, exercises=exercises, warmup_minutes=warmup, cooldown_done=cooldown)


def test_prefill_takes_the_latest_session_and_counts_rest_days():
    today = date(2026, 11, 20)
    sessions = [
        session(date(2026, 11, 19), "squat;row", 8.0, True),
        session(date(2026, 11, 17)),
        session(date(2026, 11, 10)),
    ]
    prefill = intake.prefill_context(sessions, today)
    assert prefill == {
        "exercises": ["squat", "row"],
        "warmup_minutes": 8.0,
        "cooldown_done": True,
        "rest_days_last_7": 5,
    }


def test_prefill_leaves_rest_days_out_when_history_is_shorter_than_a_week():
    prefill = intake.prefill_context([session(date(2026, 11, 19))], date(2026, 11, 20))
    assert "rest_days_last_7" not in prefill
    assert prefill["warmup_minutes"] == 3.0


def test_prefill_of_no_history_is_empty():
    assert intake.prefill_context([], date(2026, 11, 20)) == {}
