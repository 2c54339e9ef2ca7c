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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from backcare.catalogue import STAGE_NAMES, STAGES, Catalogue, load_catalogue
from backcare.errors import InvalidInput, NotFound
from backcare.models import CauseId, Level

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "plans.toml"

LIBRARY_MIN_EXERCISES = 3
MAX_EXERCISES = 6

_FROZEN = ConfigDict(extra="forbid", frozen=True)

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Dose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
TimesPerWeek = Annotated[int, Field(strict=True, ge=1, le=7)]
ReviewDays = Annotated[int, Field(strict=True, ge=1, le=90)]
Stage = Annotated[int, Field(strict=True, ge=1, le=3)]
ExerciseId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=64)]


def _texts(min_length: int = 1, max_length: int = 8) -> Any:
    return Field(min_length=min_length, max_length=max_length)


def offered_stages(level: Level | str | None) -> tuple[int, ...]:
    """The stages a plan may be given at, by the latest report's level: all three when nothing is wrong (or
    no report yet), stage 1 only at `monitor`, none at refer and above (plans pause until clearance)."""
    if level is None:
        return STAGES
    level = Level(level)
    if level.needs_professional:
        return ()
    return (1,) if level is Level.MONITOR else STAGES


class Exercise(BaseModel):
    """An exercise as a client's plan lists it: the catalogue's exercise at the plan's stage."""

    model_config = _FROZEN

    name: Title
    dose: Dose = Field(description="sets x reps, or a time")
    times_per_week: TimesPerWeek
    cues: tuple[Text, ...] = _texts(1, 6)
    exercise_id: ExerciseId | None = None
    rest: Title | None = None
    effort: Title | None = None
    mistakes: tuple[Text, ...] = Field(default=(), max_length=6)


class Plan(BaseModel):
    """A client's plan at one stage: what the screen and the handout show. Built by `PlanLibrary.plan()`
    from the library's staged plan and the catalogue; a customised plan keeps at least one exercise."""

    model_config = _FROZEN

    id: CauseId
    title: Title
    goal: Text
    exercises: tuple[Exercise, ...] = Field(min_length=1, max_length=MAX_EXERCISES)
    cautions: tuple[Text, ...] = _texts(1, 8)
    review: Text
    review_after_days: ReviewDays = 14
    notes: tuple[Text, ...] = Field(default=(), max_length=10, description="per-client notes (customise)")
    stage: Stage = 1
    move_on: Text | None = None
    stop_rules: tuple[Text, ...] = Field(default=(), max_length=8)
    habits: tuple[Text, ...] = Field(default=(), max_length=6)
    pain_rule: Text | None = None

    @field_validator("exercises")
    @classmethod
    def _unique_names(cls, value: tuple[Exercise, ...]):
        seen: set[str] = set()
        for exercise in value:
            key = exercise.name.casefold()
            if key in seen:
                raise ValueError(f"exercise name {exercise.name!r} appears twice")
            seen.add(key)
        return value

    @property
    def stage_name(self) -> str:
        return STAGE_NAMES[self.stage]

    def exercise(self, name: str) -> Exercise:
        """The exercise of that name (case-insensitive)."""
        wanted = name.strip().casefold()
        for exercise in self.exercises:
            if exercise.name.casefold() == wanted:
                return exercise
        raise NotFound(f"plan '{self.id}' has no exercise named {name!r}")


class StageDef(BaseModel):
    """One stage of a library plan: which catalogue exercises, how often, and when to move on."""

    model_config = _FROZEN

    stage: Stage
    exercises: tuple[ExerciseId, ...] = Field(min_length=LIBRARY_MIN_EXERCISES, max_length=MAX_EXERCISES)
    times_per_week: TimesPerWeek
    move_on: Text

    @field_validator("exercises")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, exercise_id in enumerate(value):
            if exercise_id in value[:index]:
                raise ValueError(f"exercise '{exercise_id}' appears twice")
        return value


class PlanDef(BaseModel):
    """A library plan as data/plans.toml writes it: three stages over catalogue exercises."""

    model_config = _FROZEN

    id: CauseId
    title: Title
    goal: Text
    cautions: tuple[Text, ...] = _texts(1, 8)
    stop_rules: tuple[Text, ...] = _texts(1, 8)
    habits: tuple[Text, ...] = Field(default=(), max_length=6)
    review: Text
    review_after_days: ReviewDays = 14
    stages: tuple[StageDef, ...] = Field(min_length=3, max_length=3)

    @field_validator("stages")
    @classmethod
    def _stages_in_order(cls, value: tuple[StageDef, ...]) -> tuple[StageDef, ...]:
        numbers = tuple(s.stage for s in value)
        if numbers != STAGES:
            raise ValueError(f"the stages must be 1, 2 and 3 in that order, found {', '.join(map(str, numbers))}")
        return value


class PainRule(BaseModel):
    """The pain-monitoring rule printed with every plan; `max_during` is the highest pain (0-10) allowed while
    exercising (the feedback work suggests stepping back a stage above it)."""

    model_config = _FROZEN

    max_during: Annotated[int, Field(strict=True, ge=0, le=10)]
    text: Text


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
    pain_rule: PainRule
    plans: dict[CauseId, PlanDef]
    _catalogue: Catalogue | None = PrivateAttr(default=None)
    _resolved: dict = PrivateAttr(default_factory=dict)

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
        return self

    def use_catalogue(self, catalogue: Catalogue) -> None:
        """The catalogue the plans were checked against: the one they resolve their exercises from."""
        self._catalogue = catalogue
        self._resolved.clear()

    @property
    def catalogue(self) -> Catalogue:
        if self._catalogue is None:
            self._catalogue = load_catalogue()
        return self._catalogue

    def definition(self, plan_id: CauseId | str) -> PlanDef:
        try:
            return self.plans[CauseId(plan_id)]
        except ValueError:
            raise NotFound(f"no plan with id {plan_id!r}; the ids are {', '.join(CauseId)}") from None

    def plan(self, plan_id: CauseId | str, stage: int = 1) -> Plan:
        """The plan at `stage` (1-3) as a client follows it: each exercise with its dose at that stage."""
        definition = self.definition(plan_id)
        if stage not in STAGES:
            raise InvalidInput("stage", "must be 1, 2 or 3")
        key = (definition.id, stage)
        if key not in self._resolved:
            self._resolved[key] = _resolve(definition, stage, self.catalogue, self.pain_rule)
        return self._resolved[key]

    def in_order(self, stage: int = 1) -> tuple[Plan, ...]:
        """Every plan at `stage`, in the order of the causes in TRIAGE.md."""
        return tuple(self.plan(cause, stage) for cause in CauseId)

    def client_copy(self, plan_id: CauseId | str, stage: int, changes: Mapping[str, Any] | str | None) -> Plan:
        """A client's copy of an assigned plan at its stage with the stored changes. Changes naming an exercise
        that the stage no longer has (the plan moved on a stage since) are left out, not an error."""
        plan = self.plan(plan_id, stage)
        if not changes:
            return plan
        custom = parse_customisation(changes)
        names = {e.name.casefold() for e in plan.exercises}
        kept = Customisation(
            doses={k: v for k, v in custom.doses.items() if k.strip().casefold() in names},
            times_per_week={k: v for k, v in custom.times_per_week.items() if k.strip().casefold() in names},
            drop=tuple(n for n in custom.drop if n.strip().casefold() in names),
            note=custom.note,
        )
        if len({n.strip().casefold() for n in kept.drop}) >= len(plan.exercises):
            kept = kept.model_copy(update={"drop": ()})
        return customise(plan, kept)


def _resolve(definition: PlanDef, stage: int, catalogue: Catalogue, pain_rule: PainRule) -> Plan:
    stage_def = definition.stages[stage - 1]
    exercises = []
    for exercise_id in stage_def.exercises:
        entry = catalogue.get(exercise_id)
        dose = entry.dose(stage)
        if dose is None:  # parse_library checks this; a catalogue swapped underneath is still caught
            raise InvalidInput(f"exercises.toml: exercise '{exercise_id}', doses.stage{stage}", "missing")
        exercises.append(
            Exercise(
                name=entry.name,
                dose=dose.amount,
                times_per_week=stage_def.times_per_week,
                cues=entry.cues,
                exercise_id=entry.id,
                rest=dose.rest,
                effort=dose.effort,
                mistakes=entry.mistakes,
            )
        )
    return Plan(
        id=definition.id,
        title=definition.title,
        goal=definition.goal,
        exercises=tuple(exercises),
        cautions=definition.cautions,
        review=definition.review,
        review_after_days=definition.review_after_days,
        stage=stage,
        move_on=stage_def.move_on,
        stop_rules=definition.stop_rules,
        habits=definition.habits,
        pain_rule=pain_rule.text,
    )


@dataclass(frozen=True)
class CombinedExercise:
    """One exercise of the client's combined list: at the highest stage among the plans that hold it."""

    exercise: Exercise
    stage: int
    plan_titles: tuple[str, ...]


def combined_exercises(plans: Sequence[Plan]) -> list[CombinedExercise]:
    """Every exercise of the chosen plans once. An exercise in two plans keeps the dose of the plan at the
    higher stage (the first plan on a tie) and names both plans; the order is the order first met."""
    order: list[str] = []
    best: dict[str, tuple[Exercise, int]] = {}
    titles: dict[str, list[str]] = {}
    for plan in plans:
        for exercise in plan.exercises:
            key = exercise.exercise_id or exercise.name.casefold()
            if key not in best:
                order.append(key)
                best[key] = (exercise, plan.stage)
                titles[key] = []
            elif plan.stage > best[key][1]:
                best[key] = (exercise, plan.stage)
            if plan.title not in titles[key]:
                titles[key].append(plan.title)
    return [CombinedExercise(best[k][0], best[k][1], tuple(titles[k])) for k in order]


def preselected_plans(causes: Sequence[Any], offered: Sequence[CauseId | str], limit: int = 2) -> list[CauseId]:
    """The plans the chooser ticks at first: the (at most) two offered causes with the most evidence (ties in
    the order the result lists them); the rest stay one tap away."""
    offered_ids = [CauseId(p) for p in offered]
    found = [c for c in causes if CauseId(c.cause) in offered_ids]
    ranked = sorted(enumerate(found), key=lambda pair: (-len(pair[1].evidence), pair[0]))
    chosen = [CauseId(c.cause) for _, c in ranked][:limit]
    return chosen or offered_ids[:limit]


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
    catalogue = load_catalogue()  # cached by its own file; a changed catalogue re-checks the plans
    return _load_cached(str(file.resolve()), stat.st_mtime_ns, stat.st_size, catalogue.fingerprint)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, size: int, catalogue_fingerprint: str) -> PlanLibrary:
    return parse_library(Path(path).read_text(encoding="utf-8"), name=Path(path).name, catalogue=load_catalogue())


def check_data_files() -> PlanLibrary:
    """Load and check the exercise catalogue and the plan library; the app does not start on a broken file
    (the error names the file, the entry and the field)."""
    load_catalogue()
    return load_library()


def parse_library(text: str, *, name: str = "plans.toml", catalogue: Catalogue | None = None) -> PlanLibrary:
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
        library = PlanLibrary.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(f"{name}: {_describe_location(first['loc'])}", _reason(first)) from None
    catalogue = catalogue if catalogue is not None else load_catalogue()
    check_against_catalogue(library, catalogue, name=name)
    library.use_catalogue(catalogue)
    return library


def check_against_catalogue(library: PlanLibrary, catalogue: Catalogue, *, name: str = "plans.toml") -> None:
    """Every exercise a plan names is in the catalogue with its cues, common mistakes, a picture and a dose for
    each stage it is used at; stage 1 loads nothing onto the spine (it is what `monitor` offers)."""
    known = {e.id: e for e in catalogue.exercises}
    for plan_id, definition in library.plans.items():
        for stage in definition.stages:
            for index, exercise_id in enumerate(stage.exercises):
                where = f"{name}: plan '{plan_id}', stages[{stage.stage}].exercises[{index + 1}]"
                entry = known.get(exercise_id)
                if entry is None:
                    raise InvalidInput(where, f"no exercise '{exercise_id}' in the exercise catalogue")
                owner = f"exercises.toml: exercise '{exercise_id}'"
                used = f"plan '{plan_id}' uses it at stage {stage.stage}"
                if entry.dose(stage.stage) is None:
                    raise InvalidInput(f"{owner}, doses.stage{stage.stage}", f"missing: {used}")
                if not entry.cues:
                    raise InvalidInput(f"{owner}, cues", f"missing: {used}")
                if not entry.mistakes:
                    raise InvalidInput(f"{owner}, mistakes", f"missing: {used}")
                if entry.pose is None:
                    raise InvalidInput(f"{owner}, pose", f"missing: {used} and the handout shows its picture")
                if stage.stage == 1 and entry.loads_spine:
                    raise InvalidInput(where, f"'{exercise_id}' loads the spine; stage 1 is unloaded")


def _describe_location(loc: tuple) -> str:
    """('plans', 'core', 'exercises', 1, 'dose') -> "plan 'core', exercises[2].dose" (1-based, as read)."""
    parts = list(loc)
    head = ""
    if len(parts) >= 2 and parts[0] == "plans":
        head, parts = f"plan '{parts[1]}'", parts[2:]
    elif parts and parts[0] in ("safety_net", "pain_rule"):
        head, parts = str(parts[0]), parts[1:]
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
