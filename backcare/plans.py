"""The corrective plan library: loads and validates data/plans.toml; per-client customisation.

One plan per contributing cause (the plan id is the cause id). The library is read-only at run time:
a trainer's changes for one client go through `customise()`, which returns a new Plan and leaves the
library as it was. Errors are `InvalidInput` whose field names the plan and the field, so whoever edits
the TOML file or fills the customisation form knows what to fix.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from backcare.errors import InvalidInput, NotFound
from backcare.models import CauseId

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "plans.toml"

LIBRARY_MIN_EXERCISES = 3
MAX_EXERCISES = 6

_FROZEN = ConfigDict(extra="forbid", frozen=True)

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Dose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
TimesPerWeek = Annotated[int, Field(strict=True, ge=1, le=7)]
ReviewDays = Annotated[int, Field(strict=True, ge=1, le=90)]


def _texts(min_length: int = 1, max_length: int = 8) -> Any:
    return Field(min_length=min_length, max_length=max_length)


class Exercise(BaseModel):
    model_config = _FROZEN

    name: Title
    dose: Dose = Field(description="sets x reps, or a time")
    times_per_week: TimesPerWeek
    cues: tuple[Text, ...] = _texts(1, 6)


class Plan(BaseModel):
    """A corrective plan. Library plans have 3-6 exercises; a customised plan keeps at least one."""

    model_config = _FROZEN

    id: CauseId
    title: Title
    goal: Text
    exercises: tuple[Exercise, ...] = Field(min_length=1, max_length=MAX_EXERCISES)
    cautions: tuple[Text, ...] = _texts(1, 8)
    review: Text
    review_after_days: ReviewDays = 14
    notes: tuple[Text, ...] = Field(default=(), max_length=10, description="per-client notes (customise)")

    @field_validator("exercises")
    @classmethod
    def _library_size_and_unique_names(cls, value: tuple[Exercise, ...], info: ValidationInfo):
        if info.context and info.context.get("library") and len(value) < LIBRARY_MIN_EXERCISES:
            raise ValueError(
                f"a library plan needs {LIBRARY_MIN_EXERCISES} to {MAX_EXERCISES} exercises, found {len(value)}"
            )
        seen: set[str] = set()
        for exercise in value:
            key = exercise.name.casefold()
            if key in seen:
                raise ValueError(f"exercise name {exercise.name!r} appears twice")
            seen.add(key)
        return value

    def exercise(self, name: str) -> Exercise:
        """The exercise of that name (case-insensitive)."""
        wanted = name.strip().casefold()
        for exercise in self.exercises:
            if exercise.name.casefold() == wanted:
                return exercise
        raise NotFound(f"plan '{self.id}' has no exercise named {name!r}")


class SignGroup(BaseModel):
    """One tier of the safety net: the signs and what to do when one appears."""

    model_config = _FROZEN

    heading: Title
    action: Text
    signs: tuple[Text, ...] = _texts(1, 12)


class SafetyNet(BaseModel):
    """When to stop and get help; printed on every handout, emergency tier first."""

    model_config = _FROZEN

    title: Title
    intro: Text
    emergency: SignGroup
    urgent: SignGroup
    refer: SignGroup

    @property
    def tiers(self) -> tuple[SignGroup, SignGroup, SignGroup]:
        """Most serious first: the order a handout or a screen shows them in."""
        return (self.emergency, self.urgent, self.refer)


class PlanLibrary(BaseModel):
    model_config = _FROZEN

    safety_net: SafetyNet
    plans: dict[CauseId, Plan]

    @model_validator(mode="before")
    @classmethod
    def _plan_id_from_key(cls, data: Any) -> Any:
        # In the TOML file the table key is the id; the Plan carries it too.
        if isinstance(data, Mapping) and isinstance(data.get("plans"), Mapping):
            plans = {
                key: ({"id": key, **body} if isinstance(body, Mapping) and "id" not in body else body)
                for key, body in data["plans"].items()
            }
            data = {**data, "plans": plans}
        return data

    @model_validator(mode="after")
    def _one_library_plan_per_cause(self) -> PlanLibrary:
        missing = [c.value for c in CauseId if c not in self.plans]
        if missing:
            raise ValueError(f"no plan for cause(s) {', '.join(missing)}")
        for key, plan in self.plans.items():
            if plan.id != key:
                raise ValueError(f"plan '{key}' carries id '{plan.id}'")
            if not LIBRARY_MIN_EXERCISES <= len(plan.exercises) <= MAX_EXERCISES:
                raise ValueError(f"plan '{key}' needs {LIBRARY_MIN_EXERCISES} to {MAX_EXERCISES} exercises")
            if plan.notes:
                raise ValueError(f"plan '{key}': notes belong to a client's copy, not the library")
        return self

    def plan(self, plan_id: CauseId | str) -> Plan:
        try:
            return self.plans[CauseId(plan_id)]
        except ValueError:
            raise NotFound(f"no plan with id {plan_id!r}; the ids are {', '.join(CauseId)}") from None

    def in_order(self) -> tuple[Plan, ...]:
        """Every plan, in the order of the causes in TRIAGE.md."""
        return tuple(self.plans[cause] for cause in CauseId)


def review_date_for(plan: Plan, start_date: date) -> date:
    """The review date a new assignment of `plan` starting on `start_date` is prefilled with."""
    return start_date + timedelta(days=plan.review_after_days)


# --- loading -----------------------------------------------------------------------------------


def load_library(path: str | Path | None = None) -> PlanLibrary:
    """The validated plan library, cached until the file changes (path + mtime + size)."""
    file = Path(path) if path is not None else DEFAULT_PATH
    try:
        stat = file.stat()
    except FileNotFoundError:
        raise NotFound(f"The plan library {file} does not exist.") from None
    return _load_cached(str(file.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, size: int) -> PlanLibrary:
    return parse_library(Path(path).read_text(encoding="utf-8"), name=Path(path).name)


def parse_library(text: str, *, name: str = "plans.toml") -> PlanLibrary:
    """Validate the text of a plan library; every error names the file, the plan and the field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"line (\d+)", str(error))
        where = f"{name}: line {line.group(1)}" if line else name
        raise InvalidInput(where, f"not valid TOML ({error})") from None

    plans = raw.get("plans")
    if not isinstance(plans, Mapping):
        raise InvalidInput(f"{name}: plans", "section missing; add a [plans.<id>] table per cause")
    known = {c.value for c in CauseId}
    for key in plans:
        if key not in known:
            raise InvalidInput(
                f"{name}: plan '{key}'", f"unknown plan id; the ids are the cause ids: {', '.join(CauseId)}"
            )
    for cause in CauseId:
        if cause.value not in plans:
            raise InvalidInput(f"{name}: plan '{cause}'", "missing; every cause needs a plan")

    try:
        return PlanLibrary.model_validate(raw, context={"library": True})
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(f"{name}: {_describe_location(first['loc'])}", _reason(first)) from None


def _describe_location(loc: tuple) -> str:
    """('plans', 'core', 'exercises', 1, 'dose') -> "plan 'core', exercises[2].dose" (1-based, as read)."""
    parts = list(loc)
    head = ""
    if len(parts) >= 2 and parts[0] == "plans":
        head, parts = f"plan '{parts[1]}'", parts[2:]
    elif parts and parts[0] == "safety_net":
        head, parts = "safety_net", parts[1:]
    return ", ".join(p for p in (head, _dotted(parts)) if p) or "file"


def _dotted(parts: list) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _reason(error: Mapping) -> str:
    msg = str(error.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    if error.get("type") == "missing":
        return "field required"
    if error.get("type") == "extra_forbidden":
        return "unknown field"
    return msg[:1].lower() + msg[1:]


# --- per-client customisation ----------------------------------------------------------------


class Customisation(BaseModel):
    """A trainer's changes to one client's copy of a plan; stored as JSON with the assignment.

    Exercises are named as in the plan (case-insensitive). `doses` and `times_per_week` override
    an exercise's values; `drop` removes exercises (at least one must remain); `note` is added to the plan.
    """

    model_config = _FROZEN

    doses: dict[Title, Dose] = Field(default_factory=dict)
    times_per_week: dict[Title, TimesPerWeek] = Field(default_factory=dict)
    drop: tuple[Title, ...] = ()
    note: Text | None = None


def parse_customisation(changes: Mapping[str, Any] | str | None) -> Customisation:
    """Validate changes given as a mapping or as stored JSON; errors name the field (`changes.doses...`)."""
    if changes is None:
        return Customisation()
    try:
        if isinstance(changes, str):
            return Customisation.model_validate_json(changes)
        return Customisation.model_validate(dict(changes))
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(_change_field(first["loc"]), _reason(first)) from None


def _change_field(loc: tuple) -> str:
    parts = list(loc)
    # dict keys come through as the key itself; show them quoted: changes.doses['Dead bug']
    out = "changes"
    for i, part in enumerate(parts):
        if i == 1 and parts[0] in ("doses", "times_per_week") and part != "[key]":
            out += f"[{part!r}]"
        elif isinstance(part, int):
            out += f"[{part + 1}]"
        elif part != "[key]":
            out += f".{part}"
    return out


def customise(plan: Plan, changes: Mapping[str, Any] | Customisation | str | None) -> Plan:
    """A client's copy of `plan` with the changes applied. The plan passed in is never modified."""
    custom = changes if isinstance(changes, Customisation) else parse_customisation(changes)
    names = {e.name.casefold(): e.name for e in plan.exercises}

    def check_named(field: str, name: str) -> str:
        key = name.strip().casefold()
        if key not in names:
            raise InvalidInput(
                f"changes.{field}[{name!r}]",
                f"plan '{plan.id}' has no such exercise; it has {', '.join(names.values())}",
            )
        return key

    dropped = {check_named("drop", name) for name in custom.drop}
    doses = {check_named("doses", name): dose for name, dose in custom.doses.items()}
    times = {check_named("times_per_week", name): t for name, t in custom.times_per_week.items()}
    for field, overrides in (("doses", doses), ("times_per_week", times)):
        for key in overrides:
            if key in dropped:
                raise InvalidInput(f"changes.{field}[{names[key]!r}]", "this exercise is also dropped")
    if len(dropped) >= len(plan.exercises):
        raise InvalidInput("changes.drop", "at least one exercise must remain")

    exercises = []
    for exercise in plan.exercises:
        key = exercise.name.casefold()
        if key in dropped:
            continue
        update: dict[str, str | int] = {}
        if key in doses:
            update["dose"] = doses[key]
        if key in times:
            update["times_per_week"] = times[key]
        exercises.append(exercise.model_copy(update=update) if update else exercise)

    notes = plan.notes + ((custom.note,) if custom.note else ())
    try:
        return Plan.model_validate(
            {**plan.model_dump(), "exercises": [e.model_dump() for e in exercises], "notes": notes}
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(f"changes: plan '{plan.id}', {_dotted(list(first['loc']))}", _reason(first)) from None
