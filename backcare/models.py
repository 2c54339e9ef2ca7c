"""Pydantic models: what forms and files send in, what triage returns.

The report models follow the JSON contract of TRIAGE.md. Stored rows have their own models in the
store; a form or file is validated here before anything reaches the database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from backcare import questions
from backcare.questions import Kind, LegSymptoms, PainQuality, Trend  # noqa: F401  (the report's choices)

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
    def highest(cls, levels) -> Level:
        best = cls.NORMAL
        for level in levels:
            if _LEVEL_RANK[level] > _LEVEL_RANK[best]:
                best = level
        return best

    @property
    def label(self) -> str:
        """The level in a word or two, as tables, charts and badges show it (one place for these words)."""
        return _LEVEL_LABELS[self]

    @property
    def needs_professional(self) -> bool:
        """refer and above: loading plans pause until a clinician records clearance."""
        return _LEVEL_RANK[self] >= _LEVEL_RANK[Level.REFER]


LEVELS: tuple[Level, ...] = tuple(Level)
_LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
_LEVEL_LABELS = {
    Level.NORMAL: "Normal soreness",
    Level.MONITOR: "Monitor",
    Level.REFER: "Refer",
    Level.URGENT: "Urgent",
    Level.EMERGENCY: "Emergency",
}


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
        raise PydanticCustomError(
            "hidden_character", "may not hold the invisible character U+{code}", {"code": f"{ord(found.group()):04X}"}
        )


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
ExerciseName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_EXERCISE_NAME), OneLine
]

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


Age = Annotated[int, Field(strict=True, ge=0, le=130, description="years, from the client's year of birth")]


def _answer_type(question: questions.Question):
    """The model type of one registry question; None (not asked) is always allowed."""
    if question.kind is Kind.YES_NO:
        return StrictBool | None
    if question.kind is Kind.CHOICE:
        return type(question.choices[0].value) | None
    if question.kind is Kind.SCORE:
        return PainScore | None
    return HoursSinceWorkout | None


class _ReportBase(BaseModel):
    model_config = _CONTRACT

    client_id: ClientRef | None = None

    @model_validator(mode="after")
    def _asked_only_when_it_applies(self):
        for question in _CONDITIONAL_QUESTIONS:
            if getattr(self, question.field) is not None and not question.applies(self.__dict__):
                when, value = question.asked_when
                raise ValueError(f"{question.field}: only asked when {when} is {str(value).lower()}")
        return self


_CONDITIONAL_QUESTIONS = tuple(q for q in questions.QUESTIONS if q.asked_when is not None)

# One back-pain report: TRIAGE.md's JSON contract. Its answer fields follow from the question registry:
# every question is answered or None, which means *not asked* (never "no"). `age` comes from the
# client's year of birth when the store has it.
_ANSWER_FIELDS: dict[str, Any] = {
    q.field: (_answer_type(q), Field(default=None, description=q.text)) for q in questions.QUESTIONS
}

if TYPE_CHECKING:

    class TriageReport(_ReportBase):
        """What the type checker sees of the model built below: the answer fields exist only once the
        registry has been read, so they read as Any."""

        age: int | None
        context: SessionContext | None

        def __getattr__(self, name: str) -> Any: ...
else:
    TriageReport = create_model(
        "TriageReport",
        __base__=_ReportBase,
        __module__=__name__,
        __doc__="One back-pain report (TRIAGE.md's JSON contract); a question left out or null is not asked.",
        **_ANSWER_FIELDS,
        age=(Age | None, None),
        context=(SessionContext | None, None),
    )


class TriageHistory(BaseModel):
    """What the client's history adds to one report; built by the store, empty for the CLI."""

    model_config = _CONTRACT

    episode_pain_scores: tuple[PainScore, ...] = Field(
        default=(),
        max_length=1000,
        description="pain scores of the client's earlier reports of the same episode (within 7 days), oldest first",
    )
    prior_reports_28d: int = Field(
        default=0, ge=0, description="earlier back-pain reports (pain >= 1) of the client in the last 28 days"
    )
    acute_chronic_ratio: float | None = Field(default=None, ge=0)

    @property
    def previous_pain_score(self) -> int | None:
        """The pain score of the latest earlier report of the episode."""
        return self.episode_pain_scores[-1] if self.episode_pain_scores else None

    @property
    def lowest_pain_score(self) -> int | None:
        """The lowest earlier score of the episode: R5 compares with it, so a slow creep counts."""
        return min(self.episode_pain_scores) if self.episode_pain_scores else None


NO_HISTORY = TriageHistory()


class TriageInput(TriageReport):
    """What the command line reads: a report, and optionally the history the store would add (so that
    batch screening and tests can exercise R5 and M4 without a database)."""

    history: TriageHistory | None = None


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
    not_asked: tuple[str, ...] = ()  # questions recorded as not asked, in registry order (empty in old records)
    findings: tuple[Finding, ...]
    causes: tuple[CauseFinding, ...]
    plans: tuple[CauseId, ...]
    advice: str


# --- errors ----------------------------------------------------------------------------------


# One wording for validation errors, in backcare.errors (kept importable from here).
# --- what forms and files send to the store --------------------------------------------------
from datetime import date as _date  # noqa: E402  (kept beside its only users)
from datetime import timedelta as _timedelta  # noqa: E402

from backcare.errors import describe_validation_error, invalid_input  # noqa: E402,F401

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


def _phone(value: str) -> str:
    # Digits with the usual separators; 6 to 15 digits (E.164's most), so a typo of a few digits or a name
    # typed into the wrong box is caught while any national format passes.
    if not re.fullmatch(r"\+?[0-9 ()./-]+", value) or not 6 <= sum(c.isdigit() for c in value) <= 15:
        raise ValueError(
            "a phone number has 6 to 15 digits, optionally a leading + and spaces, dashes or "
            "brackets, e.g. +44 7700 900123"
        )
    return value


def _email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s.]+", value):
        raise ValueError("an e-mail address looks like name@example.org")
    return value


def _blank_is_none(value):
    return None if isinstance(value, str) and not value.strip() else value


# An empty box is "not given" (None), never an invalid number or address.
Phone = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(_phone)] | None,
    BeforeValidator(_blank_is_none),
]
Email = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), OneLine, AfterValidator(_email)] | None,
    BeforeValidator(_blank_is_none),
]


class ClientIn(BaseModel):
    """A new client as the form sends it; `external_id` None lets the store number it (C-00042)."""

    model_config = _CONTRACT

    gym_id: int
    name: PersonName
    external_id: ClientRef | None = None
    trainer_id: int | None = None
    consent_by: PersonName | None = None
    phone: Phone = None
    email: Email = None

    @model_validator(mode="after")
    def _contact_needs_consent(self) -> ClientIn:
        # The contact is personal data kept under the same consent as the health data.
        if (self.phone or self.email) and not self.consent_by:
            raise ValueError("a phone number or e-mail can only be kept with the client's consent")
        return self


class ClientContactIn(BaseModel):
    """How to reach a client (either, both or neither); kept only under the client's consent."""

    model_config = _CONTRACT

    phone: Phone = None
    email: Email = None


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
    def _review_after_start(self) -> AssignmentIn:
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
    if value is None:
        return None
    try:
        return _text_adapter(kind).validate_python(value)
    except ValidationError as error:
        raise invalid_input(error, field) from None


_ADAPTERS: dict = {}


def _text_adapter(kind):
    from pydantic import TypeAdapter  # noqa: PLC0415

    if id(kind) not in _ADAPTERS:
        _ADAPTERS[id(kind)] = TypeAdapter(kind)
    return _ADAPTERS[id(kind)]
