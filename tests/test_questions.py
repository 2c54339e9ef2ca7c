"""The question registry: its records are whole, and each question's X1/X2 family follows from the rules."""

from __future__ import annotations

import pytest

from backcare import questions
from backcare.models import Level, TriageReport
from backcare.questions import Family, Kind
from backcare.rules import evaluate
from tests.reports import NORMAL_REPORT

STEP_NAMES = [step.name for step in questions.STEPS]


def test_fields_are_unique_and_every_question_is_on_a_known_step_in_step_order():
    assert len(questions.FIELDS) == len(set(questions.FIELDS))
    assert all(q.step in STEP_NAMES for q in questions.QUESTIONS)
    steps = [STEP_NAMES.index(q.step) for q in questions.QUESTIONS]
    assert steps == sorted(steps)


@pytest.mark.parametrize("question", questions.QUESTIONS, ids=lambda q: q.field)
def test_each_record_is_whole(question):
    assert question.text.strip() and question.label.strip()
    assert (question.kind is Kind.CHOICE) == bool(question.choices)
    assert question.risk_rank(question.mildest) == min(question.risk_rank(v) for v in question.values or (0.0,))
    assert question.describe(None) == "not asked"
    if question.asked_when is not None:
        assert question.asked_when[0] in questions.BY_FIELD
        assert questions.FIELDS.index(question.asked_when[0]) < questions.FIELDS.index(question.field)


def _answers_to_try(question):
    return question.values or (0.0, 49.0, 100.0)


@pytest.mark.parametrize("question", questions.QUESTIONS, ids=lambda q: q.field)
def test_a_question_is_in_x1_exactly_when_one_of_its_answers_can_reach_refer(question):
    """TRIAGE.md: X1 names every question whose answers can reach refer or above; the others are X2's."""
    highest = Level.NORMAL
    for hours in (20, 30):  # R5's trend needs a day
        base = {**NORMAL_REPORT, "hours_since_workout": hours}
        if question.asked_when is not None:
            base[question.asked_when[0]] = question.asked_when[1]
        for value in _answers_to_try(question):
            report = TriageReport.model_validate({**base, question.field: value})
            highest = Level.highest([highest, evaluate(report).level])
    assert (question.family is Family.X1) == highest.needs_professional


def test_answer_lines_say_not_asked_and_leave_out_what_does_not_apply():
    lines = questions.answer_lines({"chest_pain": True, "pain_score": 4, "pregnant": False})
    assert "Chest pain: yes" in lines and "Pain score: 4/10" in lines
    assert "Numbness in the saddle area: not asked" in lines
    assert not any(line.startswith("Pregnancy warning signs") for line in lines)
    assert "Pregnancy warning signs: not asked" in questions.answer_lines({"pregnant": True})
