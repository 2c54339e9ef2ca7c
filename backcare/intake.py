"""The triage form's questions and answers, without Streamlit.

The page asks the questions in this module's order and hands the answers back here: which are still
unanswered, the TriageReport they make, and what the client's logged sessions prefill.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError

from backcare import questions
from backcare.errors import InvalidInput, invalid_input
from backcare.models import TriageReport
from backcare.questions import Kind, Question

YES, NO = "Yes", "No"

# Training-context observations the trainer taps when they apply (false otherwise).
CONTEXT_FLAGS: dict[str, str] = {
    "form_breakdown_seen": "Form broke down during a lift",
    "load_increased": "Load went up recently",
    "volume_increased": "Volume went up recently",
    "new_exercise": "A new exercise was added",
    "posture_concern": "Posture concern",
    "glute_or_hamstring_weakness": "Weak or inactive glutes or hamstrings",
}

PAIN_SCORES: tuple[int, ...] = questions.PAIN_SCORES


@dataclass(frozen=True, slots=True)
class Step:
    """One screen of the triage form. Every question of a step that applies is answered before the next opens."""

    name: str
    title: str
    questions: tuple[Question, ...] = ()


# One short screen at a time on a tablet, emergency signs first: the question steps come from the registry.
# The training context has no required question (it is prefilled from the history and only helps find
# causes); the result comes last.
STEPS: tuple[Step, ...] = (
    *(Step(step.name, step.title, questions.on_step(step.name)) for step in questions.STEPS),
    Step("context", "Training context"),
    Step("result", "Result"),
)
CONTEXT_STEP = [step.name for step in STEPS].index("context")
RESULT_STEP = len(STEPS) - 1


def choices(question: Question) -> list[Any]:
    """The options a widget offers, as the form keeps them: "No"/"Yes" for a yes/no question, the
    choice values (strings) or the scores otherwise."""
    if question.kind is Kind.YES_NO:
        return [NO, YES]
    if question.kind is Kind.CHOICE:
        return [c.value.value for c in question.choices]
    return list(question.values)


def choice_label(question: Question, value: Any) -> str:
    return question.choice_label(value)


def typed(question: Question, value: Any) -> Any:
    """The report's value of a form answer (None: not answered); a value the form never offers is refused."""
    if value is None:
        return None
    if question.kind is Kind.YES_NO:
        if value in (YES, NO):
            return value == YES
        if value is True or value is False:
            return value
    elif question.kind is Kind.CHOICE:
        if value in choices(question):
            return value
    elif question.kind is Kind.SCORE:
        if value in PAIN_SCORES:
            return value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise InvalidInput(question.field, f"{value!r} is not one of the answers offered")


def typed_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Every registry question's typed answer (None where unanswered); an answer to a question that no
    longer applies (pregnancy warning signs after "pregnant" went back to no) is dropped."""
    values = {q.field: typed(q, answers.get(q.field)) for q in questions.QUESTIONS}
    for q in questions.QUESTIONS:
        if not q.applies(values):
            values[q.field] = None
    return values


def _answered(question: Question, value: Any) -> bool:
    try:
        return typed(question, value) is not None
    except InvalidInput:
        return False


def asked(step: int, answers: Mapping[str, Any]) -> list[Question]:
    """The questions STEPS[step] shows for these answers: a follow-up only when its question applies."""
    values = _lenient_values(answers)
    return [q for q in STEPS[step].questions if q.applies(values)]


def _lenient_values(answers: Mapping[str, Any]) -> dict[str, Any]:
    values = {}
    for q in questions.QUESTIONS:
        try:
            values[q.field] = typed(q, answers.get(q.field))
        except InvalidInput:
            values[q.field] = None
    return values


def unanswered(answers: Mapping[str, Any]) -> list[Question]:
    """Every question that applies and has no answer yet, in the order asked. A report is saved from the
    result step only when none is left (the emergency stop saves the rest as not asked)."""
    return [q for index in range(len(STEPS)) for q in step_unanswered(index, answers)]


def step_unanswered(step: int, answers: Mapping[str, Any]) -> list[Question]:
    """The questions of STEPS[step] that apply and are still without an answer."""
    return [q for q in asked(step, answers) if not _answered(q, answers.get(q.field))]


def furthest_step(answers: Mapping[str, Any]) -> int:
    """The furthest step the form may show: the first with a question unanswered, or the result once
    every question is answered. So the result (and its save) is never shown for an incomplete form."""
    for index in range(len(STEPS)):
        if step_unanswered(index, answers):
            return index
    return RESULT_STEP


def needs_where(answers: Mapping[str, Any]) -> bool:
    """TRIAGE.md's consistency check: a nerve sign answered yes while the legs question says "none"; the
    form then asks where (the back only, one leg, both legs) and sets `leg_symptoms` from the answer."""
    values = _lenient_values(answers)
    return values.get("leg_symptoms") == "none" and any(values.get(f) for f in questions.NERVE_SIGNS)


def answer_summary(answers: Mapping[str, Any]) -> list[str]:
    """The answers in one plain line per step, to check at a glance: the other answers, the yes/no
    answers that point to risk, and the questions without an answer ("not asked")."""
    values = _lenient_values(answers)
    lines = []
    for step in STEPS:
        if not step.questions:
            continue
        shown = [q for q in step.questions if q.applies(values)]
        parts = [
            f"{q.label}: {q.describe(values[q.field])}"
            for q in shown
            if q.kind is not Kind.YES_NO and values[q.field] is not None
        ]
        for word, risk in (("YES", True), ("NO", False)):
            named = [
                q.label for q in shown if q.kind is Kind.YES_NO and q.risk_answer is risk and values[q.field] is risk
            ]
            if named:
                parts.append(f"{word} to {', '.join(named)}")
        missing = [q.label for q in shown if values[q.field] is None]
        if missing:
            parts.append(f"{questions.NOT_ASKED}: {', '.join(missing)}")
        lines.append(f"{step.title}: {'; '.join(parts) or 'no to all'}")
    return lines


def context_summary(context: Mapping[str, Any]) -> str:
    """The training context in one line, as the report will store it; what is not known is left out."""
    value = context.get
    shown = {
        "warmup_minutes": "warm-up {:g} min",
        "sleep_hours": "sleep {:g} h",
        "sitting_hours_per_day": "sitting {:g} h a day",
        "core_sessions_per_week": "core {}x a week",
        "rest_days_last_7": "rest days in the last 7: {}",
    }
    parts = [", ".join(value("exercises") or []) or "no exercises named"]
    parts += [text.format(value(field)) for field, text in shown.items() if value(field) is not None]
    if value("cooldown_done") is not None:
        parts.append("cool-down done" if value("cooldown_done") else "no cool-down")
    parts += [label.lower() for field, label in CONTEXT_FLAGS.items() if value(field)]
    return "Training context: " + "; ".join(parts)


def build_report(
    answers: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
    client_id: str | None = None,
    age: int | None = None,
) -> TriageReport:
    """Turn the form's answers into a validated report. An unanswered question is *not asked* (None),
    never "no": a partly answered form already shows an emergency or urgent level for certain (answering
    the rest can only keep or raise it), and X1/X2 name what is left."""
    payload: dict[str, Any] = {"client_id": client_id, "age": age, **typed_answers(answers)}
    if context:
        payload["context"] = {k: v for k, v in context.items() if v is not None}
    try:
        return TriageReport.model_validate(payload)
    except ValidationError as error:
        raise invalid_input(error, "report") from None


@dataclass(frozen=True, slots=True)
class LoggedSession:
    """What prefill needs of a logged session (the store's rows have these attributes)."""

    date: date
    exercises: tuple[str, ...]
    warmup_minutes: float | None
    cooldown_done: bool | None


def prefill_context(sessions: Iterable[Any], today: date) -> dict[str, Any]:
    """Context answers the history already holds: the latest session's exercises, warm-up and cool-down,
    and rest days in the last 7 days. Anything the history lacks is left out (the trainer asks)."""
    recent = sorted(sessions, key=lambda s: s.date, reverse=True)
    if not recent:
        return {}
    latest = recent[0]
    prefill: dict[str, Any] = {"exercises": [e for e in _exercise_list(latest.exercises)]}
    if latest.warmup_minutes is not None:
        prefill["warmup_minutes"] = float(latest.warmup_minutes)
    if latest.cooldown_done is not None:
        prefill["cooldown_done"] = bool(latest.cooldown_done)
    week_start = today - timedelta(days=6)
    trained_days = {s.date for s in recent if week_start <= s.date <= today}
    if recent[-1].date <= week_start:  # only count rest days when the history covers the whole week
        prefill["rest_days_last_7"] = 7 - len(trained_days)
    return prefill


def _exercise_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return [str(part).strip() for part in value if str(part).strip()]
