"""The triage form's questions and answers, without Streamlit.

The page asks the questions in this module's order and hands the answers back here: which are still
unanswered, the TriageReport they make, and what the client's logged sessions prefill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from pydantic import ValidationError

from backcare.errors import InvalidInput
from backcare.models import SessionContext, TriageReport, describe_validation_error

YES, NO = "Yes", "No"


@dataclass(frozen=True, slots=True)
class Question:
    field: str
    text: str
    help: str = ""


# Asked first, each as its own yes/no; a report cannot be saved until every one is answered.
EMERGENCY: tuple[Question, ...] = (
    Question("saddle_numbness", "Numbness or pins and needles between the legs or around the bottom?",
             "Groin, genitals, inner thighs, buttocks or back passage."),
    Question("bladder_or_bowel_change", "Any new trouble passing or holding urine, leaking, or bowel control?"),
    Question("sexual_dysfunction", "Any new loss of feeling in the genitals or of sexual function?"),
    Question("weakness_worsening", "Leg weakness that is getting worse (for example the foot dragging)?"),
    Question("major_trauma", "Did the pain start with a serious fall, accident or blow?"),
    Question("chest_pain", "Any chest pain?"),
)
LEGS_QUESTION = Question(
    "leg_symptoms", "Pain, numbness, tingling or weakness going down the legs?",
    "Both legs at once is an emergency sign; one leg needs a professional.")
LEG_CHOICES: dict[str, str] = {"none": "No", "one_leg": "One leg", "both_legs": "Both legs"}

URGENT: tuple[Question, ...] = (
    Question("fever_or_unwell", "Fever, or feeling generally unwell?"),
    Question("unexplained_weight_loss", "Losing weight without trying?"),
    Question("history_of_cancer", "Has the client ever had cancer?"),
    Question("night_or_rest_pain", "Pain at night, or pain that rest does not ease?"),
    Question("worse_on_cough_or_sneeze", "Worse when coughing or sneezing?"),
    Question("osteoporosis_or_steroids", "Osteoporosis, or long-term steroid tablets?"),
)

SYMPTOMS: tuple[Question, ...] = (
    Question("numbness", "Numbness anywhere in the back or legs?"),
    Question("tingling", "Tingling or pins and needles?"),
    Question("weakness", "Any weakness in the legs?"),
    Question("limits_daily_activities", "Does the pain get in the way of everyday movement?"),
    Question("persistent_fatigue", "Ongoing soreness, tiredness or falling performance lately?"),
)

# Training-context observations the trainer taps when they apply (false otherwise).
CONTEXT_FLAGS: dict[str, str] = {
    "form_breakdown_seen": "Form broke down during a lift",
    "load_increased": "Load went up recently",
    "volume_increased": "Volume went up recently",
    "new_exercise": "A new exercise was added",
    "posture_concern": "Posture concern",
    "glute_or_hamstring_weakness": "Weak or inactive glutes or hamstrings",
}

REQUIRED_YES_NO: tuple[Question, ...] = EMERGENCY + URGENT + SYMPTOMS
PAIN_QUALITIES: dict[str, str] = {
    "dull_ache": "Dull ache", "stiffness": "Stiffness", "tightness": "Tightness",
    "sharp": "Sharp", "stabbing": "Stabbing",
}
TRENDS: dict[str, str] = {"easing": "Easing", "same": "Same", "worse": "Getting worse"}
PAIN_SCORES: tuple[int, ...] = tuple(range(11))

# The pain questions, each answered on purpose: none starts on a value that would read as reassuring.
PAIN_QUESTIONS: tuple[Question, ...] = (
    Question("pain_score", "Pain now, 0 (none) to 10 (worst imaginable)"),
    Question("pain_quality", "What does it feel like?"),
    Question("hours_since_workout", "Hours since the workout"),
    Question("trend", "Since it started, the pain is…"),
    Question("eases_with_movement", "Does it ease once they move around?"),
)

# What an unanswered question counts as in the live, provisional result: its least alarming answer.
# By TRIAGE.md's monotonicity invariant the real level can then only be the same or higher, so the
# provisional result is a floor, never an under-call dressed up as an answer.
LEAST_ALARMING: dict[str, Any] = {
    "leg_symptoms": "none", "pain_score": 0, "pain_quality": "dull_ache", "hours_since_workout": 0.0,
    "trend": "easing", "eases_with_movement": YES,
}


@dataclass(frozen=True, slots=True)
class Step:
    """One screen of the triage form. Every question of a step is answered before the next opens."""

    name: str
    title: str
    questions: tuple[Question, ...] = ()


# One short screen at a time on a tablet, emergency signs first. The training context has no required
# question (it is prefilled from the history and only helps find causes); the result comes last.
STEPS: tuple[Step, ...] = (
    Step("emergency", "Emergency signs", EMERGENCY + (LEGS_QUESTION,)),
    Step("urgent", "Urgent signs", URGENT),
    Step("pain", "The pain", PAIN_QUESTIONS + SYMPTOMS),
    Step("context", "Training context"),
    Step("result", "Result"),
)
CONTEXT_STEP = [step.name for step in STEPS].index("context")
RESULT_STEP = len(STEPS) - 1


def _answered(field: str, value: Any) -> bool:
    if field == "leg_symptoms":
        return value in LEG_CHOICES
    if field == "pain_score":
        return value in PAIN_SCORES
    if field == "pain_quality":
        return value in PAIN_QUALITIES
    if field == "trend":
        return value in TRENDS
    if field == "hours_since_workout":
        return value is not None
    return value is True or value is False or value in (YES, NO)


def unanswered(answers: Mapping[str, Any]) -> list[Question]:
    """Every question still without an answer, in the order asked: emergency signs and the legs question,
    urgent signs, the pain questions, then the other symptoms. A report is saved only when none is left."""
    return [q for step in STEPS for q in step.questions if not _answered(q.field, answers.get(q.field))]


def step_unanswered(step: int, answers: Mapping[str, Any]) -> list[Question]:
    """The questions of STEPS[step] still without an answer."""
    return [q for q in STEPS[step].questions if not _answered(q.field, answers.get(q.field))]


def furthest_step(answers: Mapping[str, Any]) -> int:
    """The furthest step the form may show: the first with a question unanswered, or the result once
    every question is answered. So the result (and its save) is never shown for an incomplete form."""
    for index, step in enumerate(STEPS):
        if step_unanswered(index, answers):
            return index
    return RESULT_STEP


LEG_SUMMARY: dict[str, str] = {"none": "nothing", "one_leg": "one leg", "both_legs": "BOTH legs"}


def _named(fields: Iterable[str]) -> str:
    return ", ".join(field.replace("_", " ") for field in fields) or "none"


def answer_summary(answers: Mapping[str, Any]) -> list[str]:
    """The answers in a few plain lines, to check at a glance before saving. Unanswered shows as "?"."""
    def yes(questions: Iterable[Question]) -> str:
        said_yes = [q.field for q in questions if answers.get(q.field) == YES]
        return f"YES to {_named(said_yes)}" if said_yes else "none"

    hours = answers.get("hours_since_workout")
    eases = {YES: "eases with movement", NO: "does not ease with movement"}.get(answers.get("eases_with_movement"),
                                                                              "easing with movement ?")
    pain = answers.get("pain_score")
    return [
        f"Emergency signs: {yes(EMERGENCY)}",
        f"Down the legs: {LEG_SUMMARY.get(answers.get('leg_symptoms'), '?')}",
        f"Urgent signs: {yes(URGENT)}",
        f"Pain: {'?' if pain is None else pain}/10, "
        f"{PAIN_QUALITIES.get(answers.get('pain_quality'), '?').lower()}, "
        f"{'?' if hours is None else f'{hours:g}'} h after the workout, "
        f"{TRENDS.get(answers.get('trend'), '?').lower()}, {eases}",
        f"Other signs: {yes(SYMPTOMS)}",
    ]


def context_summary(context: Mapping[str, Any]) -> str:
    """The training context in one line, as the report will store it; what is not known is left out."""
    value = context.get
    shown = {
        "warmup_minutes": "warm-up {:g} min", "sleep_hours": "sleep {:g} h",
        "sitting_hours_per_day": "sitting {:g} h a day", "core_sessions_per_week": "core {}x a week",
        "rest_days_last_7": "{} rest day(s) in 7",
    }
    parts = [", ".join(value("exercises") or []) or "no exercises named"]
    parts += [text.format(value(field)) for field, text in shown.items() if value(field) is not None]
    if value("cooldown_done") is not None:
        parts.append("cool-down done" if value("cooldown_done") else "no cool-down")
    parts += [label.lower() for field, label in CONTEXT_FLAGS.items() if value(field)]
    return "Training context: " + "; ".join(parts)


def build_report(answers: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 client_id: str | None = None) -> TriageReport:
    """Turn the form's answers into a validated report. An unanswered question counts as its least
    alarming answer (LEAST_ALARMING, "no" for yes/no questions), so a partly answered form gives a
    provisional floor; the page opens its result step, and so its save, only when `furthest_step()` (the
    first step with a question in `unanswered()`) is the result."""
    payload: dict[str, Any] = {"client_id": client_id}
    for field in [q.field for q in REQUIRED_YES_NO] + list(LEAST_ALARMING):
        value = answers.get(field)
        if value is None:  # unanswered, and only that, counts as the least alarming answer
            value = LEAST_ALARMING.get(field, NO)
        elif not _answered(field, value):
            raise InvalidInput(field, f"{value!r} is not one of the answers offered")
        payload[field] = {YES: True, NO: False}.get(value, value) if isinstance(value, str) else value
    if context:
        payload["context"] = {k: v for k, v in context.items() if v is not None}
    try:
        return TriageReport.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(".".join(str(p) for p in first["loc"]), first["msg"]) from None


def validate_context(context: Mapping[str, Any]) -> SessionContext:
    try:
        return SessionContext.model_validate({k: v for k, v in context.items() if v is not None})
    except ValidationError as error:
        raise InvalidInput("context", describe_validation_error(error)) from None


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
