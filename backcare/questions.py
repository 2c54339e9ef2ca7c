"""The question registry: one frozen record per triage question, in the order the form asks them.

Everything that names a question follows from this registry: the report model's answer fields
(backcare.models), the form's steps and widgets (backcare.intake, pages/triage.py), the CSV columns
(backcare.cli.triage), the stored columns (backcare.store.reports), answer summaries, the handoff and
the demo. Adding a question is one record here plus, where it decides a level, one rule in rules.py.

Every question is answered or *not asked* (None), never "no" by default (TRIAGE.md). Its `family`
names the rule that catches it not asked: X1 (refer) for every question whose answers can reach refer
or above, X2 (monitor) for the others.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    YES_NO = "yes_no"
    CHOICE = "choice"
    SCORE = "score"  # pain score 0-10 (NPRS)
    HOURS = "hours"  # hours since the workout


class Family(StrEnum):
    """The not-asked rule a question belongs to."""

    X1 = "X1"  # refer: a professional asks it before any loading
    X2 = "X2"  # monitor


class PainQuality(StrEnum):
    DULL_ACHE = "dull_ache"
    STIFFNESS = "stiffness"
    TIGHTNESS = "tightness"
    SHARP = "sharp"
    STABBING = "stabbing"


class Trend(StrEnum):
    EASING = "easing"
    SAME = "same"
    WORSE = "worse"


class LegSymptoms(StrEnum):
    NONE = "none"
    ONE_LEG = "one_leg"
    BOTH_LEGS = "both_legs"


@dataclass(frozen=True, slots=True)
class Choice:
    value: StrEnum
    label: str
    rank: int  # toward the risk answer: a higher rank never lowers the level (TRIAGE.md invariant 1)


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    title: str


# The question steps of the form, in order (the form adds its training-context and result steps).
STEPS: tuple[Step, ...] = (
    Step("emergency", "Emergency signs"),
    Step("urgent", "Urgent signs"),
    Step("pain", "The pain"),
)

PAIN_SCORES: tuple[int, ...] = tuple(range(11))


@dataclass(frozen=True, slots=True)
class Question:
    field: str
    step: str
    kind: Kind
    text: str  # as the form asks it
    label: str  # a short noun phrase for summaries, findings and the handoff
    help: str = ""
    choices: tuple[Choice, ...] = ()
    risk_answer: bool = True  # yes/no questions: the answer that points to risk ("no" for easing)
    family: Family = Family.X1
    asked_when: tuple[str, Any] | None = None  # (field, value): asked only when that answer was given

    @property
    def values(self) -> tuple[Any, ...]:
        """Every answer the question accepts (hours: any number from 0, so none listed)."""
        if self.kind is Kind.YES_NO:
            return (False, True)
        if self.kind is Kind.CHOICE:
            return tuple(c.value for c in self.choices)
        if self.kind is Kind.SCORE:
            return PAIN_SCORES
        return ()

    @property
    def mildest(self) -> Any:
        """The least alarming answer."""
        if self.kind is Kind.YES_NO:
            return not self.risk_answer
        if self.kind is Kind.CHOICE:
            return min(self.choices, key=lambda c: c.rank).value
        return 0 if self.kind is Kind.SCORE else 0.0

    def risk_rank(self, value: Any) -> float:
        """Where an answer stands toward the risk answer; moving up this order never lowers the level."""
        if self.kind is Kind.YES_NO:
            return float(value == self.risk_answer)
        if self.kind is Kind.CHOICE:
            return float(next(c.rank for c in self.choices if c.value == value))
        return float(value)

    def applies(self, answers: Mapping[str, Any]) -> bool:
        """Whether the question is asked at all, given the other answers (typed values, not form labels)."""
        return self.asked_when is None or answers.get(self.asked_when[0]) == self.asked_when[1]

    def choice_label(self, value: Any) -> str:
        return next((c.label for c in self.choices if c.value == value), str(value))

    def describe(self, value: Any) -> str:
        """An answer in plain words; None is "not asked"."""
        if value is None:
            return NOT_ASKED
        if self.kind is Kind.YES_NO:
            return "yes" if value else "no"
        if self.kind is Kind.CHOICE:
            return self.choice_label(value).lower()
        if self.kind is Kind.SCORE:
            return f"{value}/10"
        hours = float(value)
        return f"{hours:g} h" if hours < 48 else f"{hours:g} h (about {hours / 24:.1f} days)"


NOT_ASKED = "not asked"

E, U, P = "emergency", "urgent", "pain"
YN = Kind.YES_NO

QUESTIONS: tuple[Question, ...] = (
    # --- emergency signs: asked first, each as its own yes/no -----------------------------------
    Question(
        "saddle_numbness",
        E,
        YN,
        "Numbness or pins and needles between the legs or around the bottom?",
        "numbness in the saddle area",
        "Groin, genitals, inner thighs, buttocks or back passage.",
    ),
    Question(
        "bladder_or_bowel_change",
        E,
        YN,
        "Any new trouble passing or holding urine, leaking, or bowel control?",
        "new bladder or bowel trouble",
    ),
    Question(
        "sexual_dysfunction",
        E,
        YN,
        "Any new loss of feeling in the genitals or of sexual function?",
        "new loss of genital feeling or sexual function",
    ),
    Question(
        "weakness_worsening",
        E,
        YN,
        "Leg weakness that is getting worse (for example the foot dragging)?",
        "leg weakness getting worse",
    ),
    Question(
        "major_trauma",
        E,
        YN,
        "Did the pain start with a serious fall, accident or blow?",
        "a serious fall, accident or blow",
    ),
    Question("chest_pain", E, YN, "Any chest pain?", "chest pain"),
    Question(
        "collapse_or_tearing_pain",
        E,
        YN,
        "Have they fainted or collapsed, or is there a sudden, severe tearing pain in the back and belly?",
        "collapse or sudden tearing pain",
    ),
    Question(
        "leg_symptoms",
        E,
        Kind.CHOICE,
        "Pain, numbness, tingling or weakness going down the legs?",
        "symptoms down the legs",
        "Both legs at once is an emergency sign; one leg needs a professional.",
        choices=(
            Choice(LegSymptoms.NONE, "No", 0),
            Choice(LegSymptoms.ONE_LEG, "One leg", 1),
            Choice(LegSymptoms.BOTH_LEGS, "Both legs", 2),
        ),
    ),
    # --- urgent signs ------------------------------------------------------------------------------
    Question("fever_or_unwell", U, YN, "Fever, or feeling generally unwell?", "fever or feeling unwell"),
    Question("unexplained_weight_loss", U, YN, "Losing weight without trying?", "weight loss without trying"),
    Question("history_of_cancer", U, YN, "Has the client ever had cancer?", "a history of cancer"),
    Question(
        "night_or_rest_pain", U, YN, "Pain at night, or pain that rest does not ease?", "pain at night or at rest"
    ),
    Question("worse_on_cough_or_sneeze", U, YN, "Worse when coughing or sneezing?", "worse on coughing or sneezing"),
    Question(
        "osteoporosis_or_steroids",
        U,
        YN,
        "Osteoporosis, or long-term steroid tablets?",
        "osteoporosis or long-term steroids",
    ),
    Question(
        "upper_back_pain",
        U,
        YN,
        "Is the pain high up, between the shoulder blades, rather than low down?",
        "pain in the upper back",
    ),
    Question(
        "back_shape_change",
        U,
        YN,
        "Any new lump or swelling on the back, or a change in its shape?",
        "a lump or change in the shape of the back",
    ),
    Question("pregnant", U, YN, "Pregnant, or gave birth in the last 6 weeks?", "pregnant or recently gave birth"),
    Question(
        "pregnancy_warning_signs",
        U,
        YN,
        "Does the pain come and go in waves, or is there bleeding, leaking fluid, a fever or pain passing urine?",
        "pregnancy warning signs",
        "Any of these means calling the midwife or maternity unit now.",
        asked_when=("pregnant", True),
    ),
    # --- the pain and the other signs --------------------------------------------------------------
    Question("pain_score", P, Kind.SCORE, "Pain now, 0 (none) to 10 (worst imaginable)", "pain score"),
    Question(
        "pain_quality",
        P,
        Kind.CHOICE,
        "What does it feel like?",
        "what the pain feels like",
        choices=(
            Choice(PainQuality.DULL_ACHE, "Dull ache", 0),
            Choice(PainQuality.STIFFNESS, "Stiffness", 0),
            Choice(PainQuality.TIGHTNESS, "Tightness", 0),
            Choice(PainQuality.SHARP, "Sharp", 1),
            Choice(PainQuality.STABBING, "Stabbing", 1),
        ),
    ),
    Question("hours_since_workout", P, Kind.HOURS, "Hours since the workout", "hours since the workout"),
    Question(
        "trend",
        P,
        Kind.CHOICE,
        "Since it started, the pain is…",
        "how the pain is changing",
        choices=(
            Choice(Trend.EASING, "Easing", 0),
            Choice(Trend.SAME, "Same", 1),
            Choice(Trend.WORSE, "Getting worse", 2),
        ),
    ),
    Question(
        "eases_with_movement",
        P,
        YN,
        "Does it ease once they move around?",
        "easing with movement",
        risk_answer=False,
        family=Family.X2,
    ),
    Question("numbness", P, YN, "Numbness anywhere in the back or legs?", "numbness"),
    Question("tingling", P, YN, "Tingling or pins and needles?", "tingling"),
    Question("weakness", P, YN, "Any weakness in the legs?", "weakness in the legs"),
    Question(
        "limits_daily_activities",
        P,
        YN,
        "Does the pain get in the way of everyday movement?",
        "pain limiting everyday movement",
    ),
    Question(
        "persistent_fatigue",
        P,
        YN,
        "Ongoing soreness, tiredness or falling performance lately?",
        "ongoing soreness, tiredness or falling performance",
        family=Family.X2,
    ),
)

BY_FIELD: dict[str, Question] = {q.field: q for q in QUESTIONS}
FIELDS: tuple[str, ...] = tuple(q.field for q in QUESTIONS)
# Nerve signs for E9 and the form's "where?" follow-up.
NERVE_SIGNS: tuple[str, ...] = ("numbness", "tingling", "weakness")


def on_step(step: str) -> tuple[Question, ...]:
    """The questions of one step, in the order asked."""
    return tuple(q for q in QUESTIONS if q.step == step)


def in_family(family: Family) -> tuple[Question, ...]:
    return tuple(q for q in QUESTIONS if q.family is family)


# evaluate() asks this for every report: the plain questions are read in one C-level call and the common
# case (all answered) returns at once; the few conditional ones are checked one by one.
_PLAIN = tuple(q.field for q in QUESTIONS if q.asked_when is None)
_PLAIN_VALUES = operator.itemgetter(*_PLAIN)
_CONDITIONAL = tuple((q.field, *q.asked_when) for q in QUESTIONS if q.asked_when is not None)
_ORDER = {field: index for index, field in enumerate(FIELDS)}


def not_asked(values: Mapping[str, Any]) -> tuple[str, ...]:
    """The questions that apply but have no answer (None), in registry order. `values` maps field to
    typed answer (a report's __dict__ will do). A question that does not apply (pregnancy warning signs
    when not pregnant) is not "not asked": it is not a question for this client."""
    try:
        plain = _PLAIN_VALUES(values)
    except KeyError:  # a partial mapping (a form's answers so far): a missing key is not asked
        plain = tuple(values.get(f) for f in _PLAIN)
    missing = [f for f, v in zip(_PLAIN, plain, strict=True) if v is None] if None in plain else []
    for field, when, value in _CONDITIONAL:
        if values.get(field) is None and values.get(when) == value:
            missing.append(field)
            missing.sort(key=_ORDER.__getitem__)
    return tuple(missing)


def labels(fields) -> str:
    """Questions named in plain words, for a summary line: "chest pain, pain score"."""
    return ", ".join(BY_FIELD[f].label for f in fields)


def answer_lines(answers: Mapping[str, Any]) -> list[str]:
    """Every question and its answer in plain words, in the order asked ("not asked" for None);
    questions that did not apply are left out."""
    return [
        f"{q.label[:1].upper()}{q.label[1:]}: {q.describe(answers.get(q.field))}"
        for q in QUESTIONS
        if q.applies(answers)
    ]
