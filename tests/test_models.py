"""The report models of TRIAGE.md's JSON contract: what is refused, and how the refusal names the field."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from backcare import questions
from backcare.models import Level, SessionContext, TriageHistory, TriageReport, describe_validation_error
from tests.reports import NORMAL_REPORT, report_input


def refusal(data: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        TriageReport.model_validate(data)
    return describe_validation_error(caught.value)


def refusal_from_json(data: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        TriageReport.model_validate_json(json.dumps(data))
    return describe_validation_error(caught.value)


def test_the_baseline_report_validates():
    assert TriageReport.model_validate(NORMAL_REPORT).pain_score == 2


@pytest.mark.parametrize(
    "data, field",
    [
        (report_input(painscore=3), "painscore"),
        (report_input(context={"warmup_mins": 3}), "context.warmup_mins"),
    ],
    ids=["top-level", "context"],
)
def test_unknown_field_is_refused_naming_the_field(data, field):
    assert refusal(data) == f"{field}: Extra inputs are not permitted"


@pytest.mark.parametrize("field", questions.FIELDS)
def test_a_question_left_out_or_null_is_not_asked_never_no(field):
    left_out = {k: v for k, v in NORMAL_REPORT.items() if k != field}
    for data in (left_out, {**left_out, field: None}):
        report = TriageReport.model_validate(data)
        assert getattr(report, field) is None


def test_pregnancy_warning_signs_are_only_asked_when_pregnant():
    assert TriageReport.model_validate(report_input(pregnant=True, pregnancy_warning_signs=True)).pregnant is True
    for pregnant in (False, None):
        message = refusal(report_input(pregnant=pregnant, pregnancy_warning_signs=False))
        assert message == "pregnancy_warning_signs: only asked when pregnant is true"


def test_the_report_fields_follow_the_question_registry():
    assert [f for f in TriageReport.model_fields if f not in ("client_id", "age", "context")] == list(questions.FIELDS)


@pytest.mark.parametrize("age, ok", [(0, True), (130, True), (-1, False), (131, False), (30.5, False), ("30", False)])
def test_age_is_a_whole_number_of_years(age, ok):
    if ok:
        assert TriageReport.model_validate(report_input(age=age)).age == age
    else:
        assert refusal_from_json(report_input(age=age)).startswith("age: ")


@pytest.mark.parametrize(
    "field, value",
    [
        ("pain_score", -1),
        ("pain_score", 11),
        ("pain_score", 4.5),
        ("pain_score", "4"),
        ("hours_since_workout", -0.5),
        ("hours_since_workout", 24 * 365 + 1),
        ("pain_quality", "burning"),
        ("trend", "better"),
        ("leg_symptoms", "left_leg"),
        ("numbness", "yes"),
        ("saddle_numbness", 1),
        ("eases_with_movement", "no"),
        ("pregnant", 0),
        ("client_id", ""),
        ("client_id", "C" * 65),
        ("context.warmup_minutes", -1),
        ("context.warmup_minutes", 601),
        ("context.core_sessions_per_week", 22),
        ("context.core_sessions_per_week", 1.5),
        ("context.rest_days_last_7", 8),
        ("context.sleep_hours", 25),
        ("context.sitting_hours_per_day", -1),
        ("context.cooldown_done", "no"),
        ("context.exercises", ["deadlift"] * 51),
        ("context.exercises", "deadlift"),
    ],
)
def test_each_range_and_choice_is_refused_with_a_message_naming_the_field(field, value):
    if field.startswith("context."):
        data = report_input(context={field.removeprefix("context."): value})
    else:
        data = report_input(**{field: value})
    message = refusal_from_json(data)
    assert re.match(rf"{re.escape(field)}(\.\d+)?: \S", message), message  # the field, or one item of it


@pytest.mark.parametrize("value", [0, 10])
def test_pain_score_ends_of_the_scale_are_accepted(value):
    assert TriageReport.model_validate(report_input(pain_score=value)).pain_score == value


def test_questions_not_given_are_not_asked_and_context_numbers_not_given_are_unknown():
    report = TriageReport.model_validate({"pain_score": 3, "context": {}})
    assert report.saddle_numbness is None and report.persistent_fatigue is None and report.trend is None
    assert report.context == SessionContext()
    assert report.context.cooldown_done is None and report.context.warmup_minutes is None


def test_exercise_names_are_compared_in_lower_case():
    report = TriageReport.model_validate(report_input(context={"exercises": ["  Romanian Deadlift "]}))
    assert report.context.exercises == ("romanian deadlift",)


def test_several_problems_are_all_named_in_one_line():
    message = refusal(report_input(pain_score=12, trend="up"))
    assert "pain_score: " in message and "trend: " in message and "\n" not in message


def test_reports_are_immutable():
    report = TriageReport.model_validate(NORMAL_REPORT)
    with pytest.raises(ValidationError):
        report.pain_score = 9


def test_history_episode_scores_are_pain_scores_and_the_lowest_and_latest_are_read_from_them():
    history = TriageHistory(episode_pain_scores=(2, 3, 1, 4))
    assert (history.lowest_pain_score, history.previous_pain_score) == (1, 4)
    assert (TriageHistory().lowest_pain_score, TriageHistory().previous_pain_score) == (None, None)
    with pytest.raises(ValidationError) as caught:
        TriageHistory(episode_pain_scores=(2, 11))
    assert describe_validation_error(caught.value).startswith("episode_pain_scores.1: ")


def test_history_refuses_a_negative_report_count():
    with pytest.raises(ValidationError) as caught:
        TriageHistory(prior_reports_28d=-1)
    assert describe_validation_error(caught.value).startswith("prior_reports_28d: ")


@pytest.mark.parametrize(
    "levels, highest",
    [
        ([], Level.NORMAL),
        ([Level.MONITOR, Level.NORMAL], Level.MONITOR),
        ([Level.REFER, Level.EMERGENCY, Level.URGENT], Level.EMERGENCY),
    ],
)
def test_highest_level_is_the_most_serious(levels, highest):
    assert Level.highest(levels) is highest


@pytest.mark.parametrize(
    "level, needs",
    [
        (Level.NORMAL, False),
        (Level.MONITOR, False),
        (Level.REFER, True),
        (Level.URGENT, True),
        (Level.EMERGENCY, True),
    ],
)
def test_refer_and_above_need_a_professional(level, needs):
    assert level.needs_professional is needs
