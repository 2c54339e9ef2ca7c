"""The exercise catalogue (data/exercises.toml): spellings the form cause must read, the picker's names, and a
broken file refused with one error naming the file, the entry and the field."""

from __future__ import annotations

import pytest

from backcare import catalogue
from backcare.catalogue import DEFAULT_PATH, MovementPattern, normalise, parse_catalogue
from backcare.errors import InvalidInput
from backcare.models import CauseId
from tests.reports import triage

COUNT_FOR_FORM = [
    "Dead lift",
    "back_squat",
    "RDL",
    "kettlebell swing",
    "thruster",
    "DEADLIFT",
    "dead-lift",
    "Back Squat",
    "romanian deadlift",
    "Single-leg RDL",
    "paused back squat",
    "sumo deadlift",
    "Overhead Press",
    "OHP",
    "push press",
    "power clean",
    "good morning",
    "bulgarian split squat",
    "goblet squat",
    "trap-bar deadlift",
    "Kettlebell_Swing",
]
DO_NOT_COUNT = [
    "hurdle hops",
    "plank",
    "bicep curl",
    "air squat",
    "bench press",
    "running",
    "leg press",
    "hip thrust",
    "barbell row",
    "something new",
]


@pytest.mark.parametrize("name", COUNT_FOR_FORM)
def test_spellings_of_a_loaded_hinge_squat_or_press_count_for_the_form_cause(name):
    exercise = catalogue.find_exercise(name)
    assert exercise is not None and exercise.counts_for_form, name
    result = triage(context={"exercises": [name], "load_increased": True})
    assert CauseId.FORM in [c.cause for c in result.causes]


@pytest.mark.parametrize("name", DO_NOT_COUNT)
def test_other_exercises_and_unknown_names_do_not_count(name):
    exercise = catalogue.find_exercise(name)
    assert exercise is None or not exercise.counts_for_form
    result = triage(context={"exercises": [name], "load_increased": True})
    assert CauseId.FORM not in [c.cause for c in result.causes]


@pytest.mark.parametrize("a, b", [("Dead lift", "deadlift"), ("back_squat", "Back Squat"), ("push-up", "pushup")])
def test_case_spaces_hyphens_and_underscores_do_not_matter(a, b):
    assert normalise(a) == normalise(b)
    assert catalogue.find_exercise(a) == catalogue.find_exercise(b)


def test_the_longest_listed_spelling_wins():
    assert catalogue.find_exercise("clean and jerk").id == "clean_and_jerk"
    assert catalogue.find_exercise("leg swings").id == "leg_swings"
    assert catalogue.find_exercise("hamstring curl").id == "hamstring_curl"


def test_the_picker_names_are_the_catalogue_names_sorted():
    names = catalogue.catalogue_names()
    assert names == sorted(names, key=str.lower) and "Deadlift" in names and "Kettlebell swing" in names
    assert len(names) == len(catalogue.load_catalogue().exercises)


def test_every_pattern_triage_md_names_is_available():
    used = {e.pattern for e in catalogue.load_catalogue().exercises}
    assert {"hinge", "squat", "overhead_press", "pull", "carry", "core", "mobility", "cardio"} <= used
    assert used <= set(MovementPattern)


def _broken(old: str, new: str) -> str:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    "old, new, where, reason",
    [
        (
            'pattern = "hinge"\nloads_spine = true\ncues',
            'pattern = "twist"\nloads_spine = true\ncues',
            "exercises.toml: exercise 'deadlift' (entry 1), pattern",
            "Input should be",
        ),
        (
            'id = "sumo_deadlift"\nname = "Sumo deadlift"\n'
            'spellings = ["sumo dead lift", "sumo dl"]\npattern = "hinge"\n'
            "loads_spine = true",
            'id = "sumo_deadlift"\nname = "Sumo deadlift"\nspellings = ["sumo dead lift", "sumo dl"]\n'
            'pattern = "hinge"',
            "exercises.toml: exercise 'sumo_deadlift' (entry 2), loads_spine",
            "Field required",
        ),
        (
            'spellings = ["sumo dead lift", "sumo dl"]',
            'spellings = ["sumo dead lift", "sumo dl"]\ncolour = "red"',
            "exercises.toml: exercise 'sumo_deadlift' (entry 2), colour",
            "Extra inputs are not permitted",
        ),
        (
            'spellings = ["sumo dead lift", "sumo dl"]',
            'spellings = ["sumo dead lift", "Dead-Lift"]',
            "exercises.toml: exercise 'sumo_deadlift' (entry 2), spellings",
            "already a spelling of 'deadlift'",
        ),
        (
            'id = "sumo_deadlift"',
            'id = "deadlift"',
            "exercises.toml: exercise 'deadlift' (entry 2), id",
            "used by an earlier entry",
        ),
        ('id = "sumo_deadlift"', "id = sumo", "exercises.toml", "not valid TOML"),
        # issue 15: doses per stage and the pose a picture is drawn from
        (
            "doses.stage1 = { sets = 2, reps = 10, rest_seconds = 45",
            "doses.stage1 = { sets = 2, reps = 10, seconds = 30, rest_seconds = 45",
            "exercises.toml: exercise 'glute_bridge' (entry 13), doses.stage1",
            "give exactly one of reps, seconds or minutes",
        ),
        (
            "doses.stage1 = { sets = 2, reps = 10, rest_seconds = 45",
            "doses.stage1 = { sets = 2, reps = 10, rest_seconds = 900",
            "exercises.toml: exercise 'glute_bridge' (entry 13), doses.stage1.rest_seconds",
            "less than or equal to 300",
        ),
        (
            "doses.stage1 = { sets = 2, reps = 10, rest_seconds = 45, effort = ",
            "doses.stage4 = { sets = 2, reps = 10, rest_seconds = 45, effort = ",
            "exercises.toml: exercise 'glute_bridge' (entry 13), doses.stage4",
            "Extra inputs are not permitted",
        ),
        (
            "pose.start = { trunk = -90, hip = 45, knee = 90, shoulder = 0 }",
            "pose.start = { trunk = -90, hip = 45, knee = 200, shoulder = 0 }",
            "exercises.toml: exercise 'glute_bridge' (entry 13), pose.start.knee",
            "less than or equal to 160",
        ),
        (
            "pose.start = { trunk = -90, hip = 45, knee = 90, shoulder = 0 }",
            "pose.start = { hip = 45, knee = 90, shoulder = 0 }",
            "exercises.toml: exercise 'glute_bridge' (entry 13), pose.start.trunk",
            "Field required",
        ),
        (
            "pose.start = { trunk = -90, hip = 45, knee = 90, shoulder = 0 }",
            'pose.start = { trunk = -90, hip = 45, knee = 90, shoulder = 0, prop = "kettle" }',
            "exercises.toml: exercise 'glute_bridge' (entry 13), pose.start.prop",
            "Input should be",
        ),
    ],
)
def test_a_broken_file_gives_one_error_naming_the_file_the_entry_and_the_field(old, new, where, reason):
    with pytest.raises(InvalidInput) as raised:
        parse_catalogue(_broken(old, new))
    assert raised.value.field == where and reason in raised.value.reason


def test_optional_cues_keep_the_schema_open_for_the_plans_work():
    deadlift = catalogue.load_catalogue().get("deadlift")
    assert deadlift.cues and catalogue.load_catalogue().get("sumo_deadlift").cues == ()


def test_every_exercise_has_one_entry_with_cues_mistakes_doses_and_a_pose_when_a_plan_uses_it():
    from backcare.plans import load_library  # noqa: PLC0415

    cat = catalogue.load_catalogue()
    ids = [e.id for e in cat.exercises]
    assert len(ids) == len(set(ids))
    library = load_library()
    for stage in (1, 2, 3):
        for plan in library.in_order(stage):
            for exercise in plan.exercises:
                entry = cat.get(exercise.exercise_id)
                assert entry.cues and entry.mistakes and entry.pose is not None and entry.dose(stage) is not None


@pytest.mark.parametrize(
    "dose, text",
    [
        ({"sets": 3, "reps": 10, "rest_seconds": 60, "effort": "easy"}, "3 × 10, rest 1 min, easy"),
        ({"sets": 2, "seconds": 30, "each_side": True, "rest_seconds": 15, "effort": "gentle"}, None),
        ({"minutes": 10, "rest_seconds": 0, "effort": "easy"}, "10 min, no rest needed, easy"),
    ],
)
def test_a_dose_reads_as_amount_rest_and_effort(dose, text):
    parsed = catalogue.Dose(**dose)
    if text is None:
        assert parsed.text() == "2 × 30 s hold each side, rest 15 s, gentle"
    else:
        assert parsed.text() == text
