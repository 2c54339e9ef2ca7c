"""The exercise catalogue (data/exercises.toml): every exercise's names and common spellings, its movement
pattern and whether it loads the spine. The one place where an exercise is described.

Names are matched after normalising case, spaces, hyphens, underscores and other punctuation, so
"Dead lift", "dead-lift" and "DEADLIFT" are one name. A free-text name that is not listed is matched by
the longest listed spelling it contains as whole words ("paused back squat" is a back squat).
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError, model_validator

from backcare.errors import InvalidInput, NotFound

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "exercises.toml"


class MovementPattern(StrEnum):
    HINGE = "hinge"
    SQUAT = "squat"
    LUNGE = "lunge"
    PUSH = "push"
    OVERHEAD_PRESS = "overhead_press"
    PULL = "pull"
    CARRY = "carry"
    CORE = "core"
    MOBILITY = "mobility"
    CARDIO = "cardio"
    ISOLATION = "isolation"


# TRIAGE.md's form cause: a loaded hinge, squat or overhead press.
FORM_PATTERNS: frozenset[MovementPattern] = frozenset(
    {MovementPattern.HINGE, MovementPattern.SQUAT, MovementPattern.OVERHEAD_PRESS}
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
STAGES: tuple[int, ...] = (1, 2, 3)
STAGE_NAMES: dict[int, str] = {1: "Stage 1: unloaded", 2: "Stage 2: light load", 3: "Stage 3: back to full training"}

_Count = Annotated[int, Field(strict=True, ge=1, le=60)]
_Angle = Annotated[float, Field(ge=-360, le=360)]


class Dose(BaseModel):
    """How much of an exercise at one stage: sets of reps, of a hold in seconds, or minutes of steady work;
    the rest between sets and the effort (a plain word, with an RPE where it helps)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sets: Annotated[int, Field(strict=True, ge=1, le=10)] = 1
    reps: _Count | None = None
    seconds: Annotated[int, Field(strict=True, ge=5, le=300)] | None = None
    minutes: _Count | None = None
    each_side: StrictBool = False
    rest_seconds: Annotated[int, Field(strict=True, ge=0, le=300)]
    effort: Text

    @model_validator(mode="after")
    def _one_amount(self) -> Dose:
        given = [name for name in ("reps", "seconds", "minutes") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of reps, seconds or minutes")
        return self

    @property
    def amount(self) -> str:
        """'3 × 10', '2 × 20 s each side', '10 min'."""
        if self.minutes is not None:
            one = f"{self.minutes} min"
        elif self.seconds is not None:
            one = f"{self.seconds} s hold" if self.seconds < 60 else f"{self.seconds // 60} min {self.seconds % 60} s"
            one = one.replace(" 0 s", "")
        else:
            one = f"{self.reps}"
        text = one if self.sets == 1 and self.reps is None else f"{self.sets} × {one}"
        return text + (" each side" if self.each_side else "")

    @property
    def rest(self) -> str:
        if self.rest_seconds == 0:
            return "no rest needed"
        if self.rest_seconds >= 60 and self.rest_seconds % 60 == 0:
            return f"rest {self.rest_seconds // 60} min"
        return f"rest {self.rest_seconds} s"

    def text(self) -> str:
        """One line: amount, rest, effort."""
        return f"{self.amount}, {self.rest}, {self.effort}"


class StageDoses(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stage1: Dose | None = None
    stage2: Dose | None = None
    stage3: Dose | None = None

    def at(self, stage: int) -> Dose | None:
        return {1: self.stage1, 2: self.stage2, 3: self.stage3}.get(stage)


class Prop(StrEnum):
    NONE = "none"
    WEIGHT = "weight"  # a dumbbell, kettlebell or bar in the hands
    DOWEL = "dowel"  # a broomstick along the back
    BOX = "box"  # a box the hips sit back onto (squat to a box)
    BENCH = "bench"  # a bench under the shoulders (hip thrust)
    STEP = "step"  # a knee-height box under the near foot (step-up)


class Position(BaseModel):
    """One position of the side-view line figure, facing right, as joint angles in degrees.

    trunk: the trunk's lean from upright (0 standing, 90 on hands and knees or face down, -90 lying on
    the back); hip and shoulder: flexion from the trunk's line (0 leg or arm along the body, 90 forward
    at a right angle, 180 arm overhead); knee and elbow: bend (0 straight). The far-side limb (hip2,
    knee2, shoulder2, elbow2) copies the near one unless given; neck tilts the head forward.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    trunk: _Angle
    hip: _Angle = 0
    knee: Annotated[float, Field(ge=0, le=160)] = 0
    shoulder: _Angle = 0
    elbow: Annotated[float, Field(ge=0, le=160)] = 0
    hip2: _Angle | None = None
    knee2: Annotated[float, Field(ge=0, le=160)] | None = None
    shoulder2: _Angle | None = None
    elbow2: Annotated[float, Field(ge=0, le=160)] | None = None
    neck: Annotated[float, Field(ge=-60, le=60)] = 0
    prop: Prop = Prop.NONE


class Pose(BaseModel):
    """The start and end positions an exercise's picture shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Position
    end: Position


class Exercise(BaseModel):
    """One exercise. The optional fields (cues, mistakes, doses, pose) keep the picker's plain entries short; an
    exercise that a plan uses needs a dose for each stage it is used at and a pose (checked with the plans)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=64)]
    name: Text
    spellings: tuple[Text, ...] = ()
    pattern: MovementPattern
    loads_spine: StrictBool
    cues: tuple[Sentence, ...] = Field(default=(), max_length=6)
    mistakes: tuple[Sentence, ...] = Field(default=(), max_length=6)
    doses: StageDoses = StageDoses()
    pose: Pose | None = None

    def dose(self, stage: int) -> Dose | None:
        """The dose at `stage` (1-3), or None when the exercise is not used at that stage."""
        return self.doses.at(stage)

    @property
    def counts_for_form(self) -> bool:
        """A loaded hinge, squat or overhead press (TRIAGE.md's form cause)."""
        return self.loads_spine and self.pattern in FORM_PATTERNS


class CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    exercises: tuple[Exercise, ...] = Field(min_length=1)


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", name.lower().replace("'", "").replace("’", "")) if w]


def normalise(name: str) -> str:
    """The key a name is compared by: lower case, without spaces, hyphens, underscores or punctuation."""
    return "".join(_words(name))


class Catalogue:
    """The validated exercises with an index of every spelling."""

    def __init__(self, exercises: tuple[Exercise, ...], fingerprint: str):
        self.exercises = exercises
        self.fingerprint = fingerprint
        self._by_key: dict[str, Exercise] = {}
        for exercise in exercises:
            for spelling in (exercise.name, *exercise.spellings):
                self._by_key[normalise(spelling)] = exercise
        self._longest = max(len(_words(s)) for e in exercises for s in (e.name, *e.spellings))
        self.find = functools.lru_cache(maxsize=4096)(self._find)

    def _find(self, name: str) -> Exercise | None:
        """The exercise a name means: an exact spelling, else the longest listed spelling it contains."""
        words = _words(name)
        exact = self._by_key.get("".join(words))
        if exact is not None:
            return exact
        for size in range(min(len(words), self._longest), 0, -1):
            for start in range(len(words) - size + 1):
                found = self._by_key.get("".join(words[start : start + size]))
                if found is not None:
                    return found
        return None

    def names(self) -> list[str]:
        """The name of every exercise, sorted: what the triage picker offers first."""
        return sorted((e.name for e in self.exercises), key=str.lower)

    def get(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise NotFound(f"There is no exercise {exercise_id!r} in the catalogue.")


def parse_catalogue(text: str, *, name: str = "exercises.toml") -> Catalogue:
    """Validate the text of a catalogue; an error names the file, the entry and the field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(name, f"not valid TOML ({error})") from None
    try:
        parsed = CatalogueFile.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        reason = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise InvalidInput(_where(name, raw, first["loc"]), reason) from None
    seen: dict[str, tuple[int, str]] = {}
    for index, exercise in enumerate(parsed.exercises):
        if exercise.id in {e.id for e in parsed.exercises[:index]}:
            raise InvalidInput(f"{name}: exercise '{exercise.id}' (entry {index + 1}), id", "used by an earlier entry")
        for spelling in (exercise.name, *exercise.spellings):
            key = normalise(spelling)
            if not key:
                raise InvalidInput(
                    f"{name}: exercise '{exercise.id}' (entry {index + 1}), spellings",
                    f"{spelling!r} has no letters or digits",
                )
            if key in seen and seen[key][1] != exercise.id:
                raise InvalidInput(
                    f"{name}: exercise '{exercise.id}' (entry {index + 1}), spellings",
                    f"{spelling!r} is already a spelling of '{seen[key][1]}'",
                )
            seen[key] = (index, exercise.id)
    # The rules version includes this fingerprint: only what triage reads (names, spellings, pattern, spinal
    # load), so that editing a cue, a dose or a picture does not make a new rules version.
    triage_fields = {"id", "name", "spellings", "pattern", "loads_spine"}
    fingerprint = hashlib.sha256(
        "".join(e.model_dump_json(include=triage_fields) for e in parsed.exercises).encode()
    ).hexdigest()[:12]
    return Catalogue(parsed.exercises, fingerprint)


def _where(name: str, raw: dict, loc: tuple) -> str:
    """("exercises", 3, "pattern") -> "exercises.toml: exercise 'deadlift' (entry 4), pattern"."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "exercises" and isinstance(parts[1], int):
        index = parts[1]
        entries = raw.get("exercises") or []
        entry_id = entries[index].get("id") if index < len(entries) and isinstance(entries[index], dict) else None
        label = f"exercise '{entry_id}' (entry {index + 1})" if entry_id else f"exercise entry {index + 1}"
        field = ".".join(str(p) if not isinstance(p, int) else f"[{p + 1}]" for p in parts[2:]).replace(".[", "[")
        return f"{name}: {label}" + (f", {field}" if field else "")
    return f"{name}: {'.'.join(str(p) for p in parts) or 'file'}"


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """The validated catalogue, cached until the file changes (path + mtime + size)."""
    file = Path(path) if path is not None else DEFAULT_PATH
    try:
        stat = file.stat()
    except FileNotFoundError:
        raise NotFound(f"The exercise catalogue {file} does not exist.") from None
    return _load_cached(str(file.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, size: int) -> Catalogue:
    return parse_catalogue(Path(path).read_text(encoding="utf-8"), name=Path(path).name)


def catalogue_names() -> list[str]:
    """Catalogue names for the triage picker, sorted (the picker still accepts free text)."""
    return load_catalogue().names()


def find_exercise(name: str) -> Exercise | None:
    """The catalogue exercise a (free-text) name means, or None."""
    return load_catalogue().find(name)
