"""Pydantic models: what forms and files send in, what triage returns.

The report models follow the JSON contract of TRIAGE.md. Stored rows have their own models in the
store; a form or file is validated here before anything reaches the database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import (
    model_validator,
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

# --- choices ---------------------------------------------------------------------------------


class Level(StrEnum):
    NORMAL = "normal"
    MONITOR = "monitor"
    REFER = "refer"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]

    @classmethod
    def highest(cls, levels) -> "Level":
        best = cls.NORMAL
        for level in levels:
            if _LEVEL_RANK[level] > _LEVEL_RANK[best]:
                best = level
        return best

    @property
    def needs_professional(self) -> bool:
        """refer and above: loading plans pause until a clinician records clearance."""
        return _LEVEL_RANK[self] >= _LEVEL_RANK[Level.REFER]


LEVELS: tuple[Level, ...] = tuple(Level)
_LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}


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


class CauseId(StrEnum):
    FORM = "form"
    CORE = "core"
    POSTERIOR_CHAIN = "posterior_chain"
    WARM_UP = "warm_up"
    LOAD = "load"
    RECOVERY = "recovery"
    POSTURE = "posture"


# --- reused constraints ----------------------------------------------------------------------

def _not_a_boolean(value):
    # JSON true/false would otherwise pass as 1 and 0 (pydantic's lax floats take booleans)
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "Input should be a number, not true or false")
    return value


Number = BeforeValidator(_not_a_boolean)

# Characters no text of ours needs: NUL and other control characters (a tab or newline is allowed in notes),
# and the bidirectional embeddings, overrides and isolates that make text display in another order than it
# is stored (a name that reads differently in the audit log than on screen).
_HIDDEN_IN_LINE = re.compile("[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_HIDDEN_IN_NOTE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _hidden_character_error(text: str, pattern: re.Pattern) -> None:
    found = pattern.search(text)
    if found:
        raise PydanticCustomError("hidden_character", "may not hold the invisible character U+{code}",
                                  {"code": f"{ord(found.group()):04X}"})


def _one_line(text: str) -> str:
    _hidden_character_error(text, _HIDDEN_IN_LINE)
    return text


def _note_text(text: str) -> str:
    _hidden_character_error(text, _HIDDEN_IN_NOTE)
    return text


OneLine = AfterValidator(_one_line)
NoteText = AfterValidator(_note_text)
PainScore = Annotated[int, Field(strict=True, ge=0, le=10, description="NPRS 0-10")]
HoursSinceWorkout = Annotated[float, Number, Field(ge=0, le=24 * 365, description="hours, 0 to one year")]
Minutes = Annotated[float, Number, Field(ge=0, le=600)]
HoursPerDay = Annotated[float, Number, Field(ge=0, le=24)]
PerWeek = Annotated[int, Field(strict=True, ge=0, le=21)]
DaysOfSeven = Annotated[int, Field(strict=True, ge=0, le=7)]
ClientRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), OneLine]
MAX_EXERCISES, MAX_EXERCISE_NAME = 50, 80  # per session; the CSV importer checks the same limits
ExerciseName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_EXERCISE_NAME),
                         OneLine]

_CONTRACT = ConfigDict(extra="forbid", frozen=True)


class SessionContext(BaseModel):
    """What the trainer knows about the training around the report.

    Numbers left out are unknown and give no evidence; so is `cooldown_done` (None = not asked).
    """

    model_config = _CONTRACT

    exercises: tuple[ExerciseName, ...] = Field(default=(), max_length=MAX_EXERCISES)
    form_breakdown_seen: StrictBool = False
    load_increased: StrictBool = False
    volume_increased: StrictBool = False
    new_exercise: StrictBool = False
    warmup_minutes: Minutes | None = None
    cooldown_done: StrictBool | None = None
    core_sessions_per_week: PerWeek | None = None
    rest_days_last_7: DaysOfSeven | None = None
    sleep_hours: HoursPerDay | None = None
    sitting_hours_per_day: HoursPerDay | None = None
    posture_concern: StrictBool = False
    glute_or_hamstring_weakness: StrictBool = False

    @field_validator("exercises")
    @classmethod
    def _lower_case_exercises(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name.lower() for name in value)


# Emergency questions first: the UI asks each as its own yes/no, in this order.
EMERGENCY_QUESTIONS: tuple[str, ...] = (
    "saddle_numbness",
    "bladder_or_bowel_change",
    "sexual_dysfunction",
    "major_trauma",
    "chest_pain",
    "weakness_worsening",
)
URGENT_QUESTIONS: tuple[str, ...] = (
    "fever_or_unwell",
    "unexplained_weight_loss",
    "history_of_cancer",
    "night_or_rest_pain",
    "worse_on_cough_or_sneeze",
    "osteoporosis_or_steroids",
)
SYMPTOM_QUESTIONS: tuple[str, ...] = (
    "numbness",
    "tingling",
    "weakness",
    "limits_daily_activities",
    "persistent_fatigue",
)


class TriageReport(BaseModel):
    """One back-pain report: TRIAGE.md's JSON contract. Booleans not given are false."""

    model_config = _CONTRACT

    client_id: ClientRef | None = None
    hours_since_workout: HoursSinceWorkout
    pain_score: PainScore
    pain_quality: PainQuality
    trend: Trend
    eases_with_movement: StrictBool = False
    leg_symptoms: LegSymptoms
    numbness: StrictBool = False
    tingling: StrictBool = False
    weakness: StrictBool = False
    weakness_worsening: StrictBool = False
    limits_daily_activities: StrictBool = False
    saddle_numbness: StrictBool = False
    bladder_or_bowel_change: StrictBool = False
    sexual_dysfunction: StrictBool = False
    major_trauma: StrictBool = False
    chest_pain: StrictBool = False
    fever_or_unwell: StrictBool = False
    unexplained_weight_loss: StrictBool = False
    history_of_cancer: StrictBool = False
    night_or_rest_pain: StrictBool = False
    worse_on_cough_or_sneeze: StrictBool = False
    osteoporosis_or_steroids: StrictBool = False
    persistent_fatigue: StrictBool = False
    context: SessionContext | None = None


class TriageHistory(BaseModel):
    """What the client's history adds to one report; built by the store, empty for the CLI."""

    model_config = _CONTRACT

    previous_pain_score: PainScore | None = Field(
        default=None, description="pain score of the previous report of the same episode (within 7 days)"
    )
    prior_reports_28d: int = Field(
        default=0, ge=0, description="earlier back-pain reports (pain >= 1) of the client in the last 28 days"
    )
    acute_chronic_ratio: float | None = Field(default=None, ge=0)


NO_HISTORY = TriageHistory()


# --- what triage returns ---------------------------------------------------------------------


class Finding(BaseModel):
    model_config = _CONTRACT

    rule_id: str
    level: Level
    summary: str
    source: str


@dataclass(frozen=True, slots=True)
class CauseFinding:
    """A detected cause and its evidence. A plain frozen dataclass: triage builds several per report
    and pydantic still validates and serialises it inside TriageResult."""

    cause: CauseId
    evidence: tuple[str, ...]


class TriageResult(BaseModel):
    model_config = _CONTRACT

    client_id: str | None = None
    level: Level
    rules_version: str
    findings: tuple[Finding, ...]
    causes: tuple[CauseFinding, ...]
    plans: tuple[CauseId, ...]
    advice: str


# --- errors ----------------------------------------------------------------------------------


def describe_validation_error(error: ValidationError) -> str:
    """One line naming the field and the reason: `pain_score: Input should be less than or equal to 10`."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ())) or "input"
        parts.append(f"{where}: {item.get('msg', 'invalid value')}")
    return "; ".join(parts)


# --- what forms and files send to the store --------------------------------------------------

from datetime import date as _date  # noqa: E402  (kept beside its only users)
from datetime import timedelta as _timedelta  # noqa: E402

# No date a form or file gives (a session, a plan, a range) is older than this: a year-0 date is a typo
# that used to break every page showing the client.
EARLIEST_DATE = _date(1900, 1, 1)
PLAN_HORIZON = _timedelta(days=2 * 365)  # plan dates are the only dates that may lie ahead

PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), OneLine]
GymName = PersonName
MAX_NOTE = 2000  # a clinic's note, a clearance's restrictions, why a plan ended
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_NOTE), NoteText]
MAX_CUSTOMISATION_BYTES = 16 * 1024  # a plan's changes for one client, as JSON
SessionRPE = Annotated[float, Number, Field(ge=0, le=10, allow_inf_nan=False, description="session RPE 0-10 (FOSTER)")]
SessionMinutes = Annotated[float, Number, Field(ge=0, le=600, allow_inf_nan=False)]


class ClientIn(BaseModel):
    """A new client as the form sends it; `external_id` None lets the store number it (C-00042)."""

    model_config = _CONTRACT

    gym_id: int
    name: PersonName
    external_id: ClientRef | None = None
    trainer_id: int | None = None
    consent_by: PersonName | None = None


class SessionIn(BaseModel):
    """One logged training session; its load is RPE x minutes (FOSTER)."""

    model_config = _CONTRACT

    date: _date
    minutes: SessionMinutes
    rpe: SessionRPE
    exercises: tuple[ExerciseName, ...] = Field(default=(), max_length=MAX_EXERCISES)
    warmup_minutes: SessionMinutes | None = None
    cooldown_done: StrictBool | None = None

    @field_validator("date")
    @classmethod
    def _not_in_the_future(cls, value: _date) -> _date:
        # a day of slack for time zones: the store's clock is UTC, a gym's evening may already be tomorrow
        if value > _date.today() + _timedelta(days=1):
            raise ValueError("a session cannot be logged for a day in the future")
        if value < EARLIEST_DATE:
            raise ValueError(f"a session cannot be dated before {EARLIEST_DATE:%Y}")
        return value

    @field_validator("exercises")
    @classmethod
    def _lower_case_exercises(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(";" in name for name in value):
            raise ValueError("an exercise name may not contain ';'")
        return tuple(name.lower() for name in value)


class AssignmentIn(BaseModel):
    """A corrective plan assigned to a client, as a form or caller sends it."""

    model_config = _CONTRACT

    plan_id: CauseId
    start_date: _date
    review_date: _date
    customisation: dict | None = None
    report_id: int | None = None

    @field_validator("start_date", "review_date")
    @classmethod
    def _a_plausible_day(cls, value: _date) -> _date:
        # a plan starts and is reviewed soon: a far-off year is a typo, and one before 1900 breaks the pages
        if value < EARLIEST_DATE:
            raise ValueError(f"a plan date cannot be before {EARLIEST_DATE:%Y}")
        if value > _date.today() + PLAN_HORIZON:
            raise ValueError(f"a plan date can be at most {PLAN_HORIZON.days // 365} years ahead")
        return value

    @field_validator("customisation")
    @classmethod
    def _small_plain_changes(cls, value: dict | None) -> dict | None:
        if value is None:
            return value
        if len(json.dumps(value, default=str)) > MAX_CUSTOMISATION_BYTES:
            raise ValueError(f"the changes are too large (at most {MAX_CUSTOMISATION_BYTES // 1024} KB)")
        for text in _strings_in(value):
            _hidden_character_error(text, _HIDDEN_IN_NOTE)
        return value

    @model_validator(mode="after")
    def _review_after_start(self) -> "AssignmentIn":
        if self.review_date < self.start_date:
            raise ValueError("review_date: the review date cannot be before the start date")
        return self


def _strings_in(value):
    """Every string in a JSON-like value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings_in(key)
            yield from _strings_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings_in(item)


def checked_text(field: str, value, kind) -> str | None:
    """`value` validated as one of the text types above (PersonName, GymName, Note...), for store functions
    that take text outside a model; InvalidInput names `field`. None stays None."""
    from backcare.errors import InvalidInput  # noqa: PLC0415  (models stays free of the store's imports)

    if value is None:
        return None
    try:
        return _text_adapter(kind).validate_python(value)
    except ValidationError as error:
        raise InvalidInput(field, str(error.errors()[0].get("msg", "invalid value")).removeprefix("Value error, ")
                           ) from None


_ADAPTERS: dict = {}


def _text_adapter(kind):
    from pydantic import TypeAdapter  # noqa: PLC0415

    if id(kind) not in _ADAPTERS:
        _ADAPTERS[id(kind)] = TypeAdapter(kind)
    return _ADAPTERS[id(kind)]
