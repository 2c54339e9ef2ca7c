"""The plan library: the shipped file validates, malformed files are named precisely, customise() copies."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta

import pytest

from backcare.catalogue import Catalogue, load_catalogue
from backcare.errors import InvalidInput, NotFound
from backcare.models import CauseFinding, CauseId, Level
from backcare.plans import (
    DEFAULT_PATH,
    Customisation,
    Plan,
    combined_exercises,
    customise,
    load_library,
    offered_stages,
    parse_customisation,
    parse_library,
    preselected_plans,
    review_date_for,
)

SHIPPED = DEFAULT_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def library():
    return load_library()


# --- the shipped library -------------------------------------------------------------------


def test_every_cause_has_exactly_one_plan_with_its_id(library):
    assert set(library.plans) == set(CauseId)
    assert all(plan.id == cause for cause, plan in library.plans.items())


@pytest.mark.parametrize("stage", [1, 2, 3])
@pytest.mark.parametrize("cause", list(CauseId))
def test_every_plan_at_every_stage_has_three_to_six_dosed_exercises(library, cause, stage):
    plan = library.plan(cause, stage)
    assert Plan.model_validate(plan.model_dump()) == plan
    assert plan.stage == stage and 3 <= len(plan.exercises) <= 6
    assert plan.goal and plan.review and plan.cautions and plan.move_on
    # dose, rest and effort per exercise, and how often
    assert all(e.cues and e.mistakes and e.dose and e.rest and e.effort for e in plan.exercises)
    assert all(1 <= e.times_per_week <= 7 for e in plan.exercises)


def test_safety_net_has_the_emergency_urgent_and_refer_tiers_with_their_actions(library):
    net = library.safety_net
    assert "999" in net.emergency.action and "A&E" in net.emergency.action
    assert "24 hours" in net.urgent.action and "111" in net.urgent.action
    assert len(net.emergency.signs) == 7  # E1-E7 of TRIAGE.md
    assert len(net.urgent.signs) == 6  # U1-U6
    assert net.tiers[0] is net.emergency


def test_plan_by_id_accepts_the_string_and_refuses_an_unknown_id(library):
    assert library.plan("core").id is CauseId.CORE
    with pytest.raises(NotFound, match="no plan with id 'yoga'"):
        library.plan("yoga")


@pytest.mark.parametrize("cause, days", [("form", 14), ("core", 21), ("posture", 21)])
def test_review_date_is_prefilled_from_the_plans_review_interval(library, cause, days):
    assert review_date_for(library.plan(cause), date(2025, 1, 30)) == date(2025, 1, 30) + timedelta(days=days)


def test_library_is_cached_until_the_file_changes(tmp_path):
    path = tmp_path / "plans.toml"
    path.write_text(SHIPPED, encoding="utf-8")
    first = load_library(path)
    assert load_library(path) is first
    path.write_text(SHIPPED.replace('title = "Core stability"', 'title = "Trunk control"'), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_library(path).plan("core").title == "Trunk control"


def test_a_missing_library_file_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="does not exist"):
        load_library(tmp_path / "nowhere.toml")


# --- malformed files ---------------------------------------------------------------------


def _without_block(text: str, header: str) -> str:
    """The text with the TOML block starting at `header` removed (up to the next blank line)."""
    start = text.index(header)
    end = text.index("\n\n", start)
    return text[:start] + text[end + 2 :]


CORE_STAGE_1 = 'exercises = ["dead_bug", "bird_dog", "glute_bridge", "side_plank"]'


def _core_stage_2_without_move_on(text: str) -> str:
    start = text.index("[[plans.core.stages]]\nstage = 2")
    end = text.index("move_on = ", start)
    line_end = text.index("\n", end)
    return text[:end] + text[line_end + 1 :]


MALFORMED = [
    # (what is wrong, change to the shipped text, expected field, expected reason)
    ("missing move-on criteria", _core_stage_2_without_move_on, "plan 'core', stages[2].move_on", "field required"),
    ("unknown plan id", lambda t: t + '\n[plans.yoga]\ntitle = "Yoga"\n', "plan 'yoga'", "unknown plan id"),
    (
        "renamed plan",
        lambda t: t.replace("[plans.posture]", "[plans.posture_x]", 1),
        "plan 'posture_x'",
        "unknown plan id",
    ),
    (
        "too few exercises",
        lambda t: t.replace(CORE_STAGE_1, 'exercises = ["dead_bug", "bird_dog"]'),
        "plan 'core', stages[1].exercises",
        "at least 3",
    ),
    (
        "too many exercises",
        lambda t: t.replace(CORE_STAGE_1, CORE_STAGE_1[:-1] + ', "cat_cow", "plank", "walking"]'),
        "plan 'core', stages[1].exercises",
        "at most 6",
    ),
    (
        "an exercise twice in a stage",
        lambda t: t.replace(CORE_STAGE_1, 'exercises = ["dead_bug", "bird_dog", "dead_bug"]'),
        "plan 'core', stages[1].exercises",
        "'dead_bug' appears twice",
    ),
    (
        "stages out of order",
        lambda t: t.replace("[[plans.core.stages]]\nstage = 2", "[[plans.core.stages]]\nstage = 3", 1),
        "plan 'core', stages",
        "must be 1, 2 and 3",
    ),
    (
        "no stop rules",
        lambda t: re.sub(r"(\[plans\.core\].*?)stop_rules = \[.*?\n\]", r"\1stop_rules = []", t, count=1, flags=re.S),
        "plan 'core', stop_rules",
        "at least 1 item",
    ),
    (
        "no pain rule",
        lambda t: re.sub(r"\[pain_rule\]\n.*?\n\n", "", t, count=1, flags=re.S),
        "pain_rule",
        "field required",
    ),
    (
        "empty goal",
        lambda t: t.replace('goal = "Train the trunk', 'goal = "  "\nx_goal = "', 1),
        "plan 'core', goal",
        "at least 1 character",
    ),
    (
        "unknown field",
        lambda t: t.replace("review_after_days = 14\n", 'review_after_days = 14\ncolour = "red"\n', 1),
        "plan 'form', colour",
        "unknown field",
    ),
    (
        "times per week as text",
        lambda t: t.replace("times_per_week = 3", 'times_per_week = "3"', 1),
        "plan 'form', stages[1].times_per_week",
        "valid integer",
    ),
    (
        "empty safety-net signs",
        lambda t: re.sub(r"(\[safety_net\.urgent\].*?)signs = \[.*?\n\]", r"\1signs = []", t, count=1, flags=re.S),
        "safety_net, urgent.signs",
        "at least 1 item",
    ),
]


@pytest.mark.parametrize("what, change, field, reason", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_library_raises_invalid_input_naming_plan_and_field(what, change, field, reason):
    text = change(SHIPPED)
    assert text != SHIPPED
    with pytest.raises(InvalidInput) as caught:
        parse_library(text)
    assert str(caught.value).startswith("plans.toml: ")
    assert caught.value.field == f"plans.toml: {field}"
    assert reason in caught.value.reason


CATALOGUE_MISMATCH = [
    # (what is wrong, change to the shipped plans, expected field, expected reason)
    (
        "unknown exercise",
        lambda t: t.replace(CORE_STAGE_1, CORE_STAGE_1.replace("bird_dog", "bird_dgo")),
        "plans.toml: plan 'core', stages[1].exercises[2]",
        "no exercise 'bird_dgo' in the exercise catalogue",
    ),
    (
        "no dose at the stage used",
        lambda t: t.replace(CORE_STAGE_1, CORE_STAGE_1.replace("side_plank", "hip_thrust")),
        "exercises.toml: exercise 'hip_thrust', doses.stage1",
        "missing: plan 'core' uses it at stage 1",
    ),
    (
        "a spine-loading exercise at stage 1",
        lambda t: t.replace(CORE_STAGE_1, CORE_STAGE_1.replace("side_plank", "deadlift")),
        "exercises.toml: exercise 'deadlift', doses.stage1",
        "missing",
    ),
    (
        "an exercise without a picture",
        lambda t: t.replace(CORE_STAGE_1, CORE_STAGE_1.replace("side_plank", "yoga")),
        "exercises.toml: exercise 'yoga', doses.stage1",
        "missing",
    ),
]


@pytest.mark.parametrize("what, change, field, reason", CATALOGUE_MISMATCH, ids=[m[0] for m in CATALOGUE_MISMATCH])
def test_plans_are_checked_against_the_catalogue(what, change, field, reason):
    with pytest.raises(InvalidInput) as caught:
        parse_library(change(SHIPPED))
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_stage_1_may_not_load_the_spine():
    catalogue = load_catalogue()
    deadlift = catalogue.get("deadlift")
    dosed = deadlift.model_copy(update={"doses": deadlift.doses.model_copy(update={"stage1": deadlift.dose(3)})})
    patched = Catalogue(
        tuple(dosed if e.id == "deadlift" else e for e in catalogue.exercises), catalogue.fingerprint + "x"
    )
    text = SHIPPED.replace(CORE_STAGE_1, CORE_STAGE_1.replace("side_plank", "deadlift"))
    with pytest.raises(InvalidInput) as caught:
        parse_library(text, catalogue=patched)
    assert caught.value.field == "plans.toml: plan 'core', stages[1].exercises[4]"
    assert "loads the spine; stage 1 is unloaded" in caught.value.reason


def test_missing_plan_is_named():
    text = re.sub(r"\[plans\.warm_up\]\n.*?(?=# --- load)", "", SHIPPED, flags=re.S)
    with pytest.raises(InvalidInput) as caught:
        parse_library(text)
    assert caught.value.field == "plans.toml: plan 'warm_up'"
    assert "missing" in caught.value.reason


def test_toml_syntax_error_names_the_line():
    lines = SHIPPED.splitlines()
    broken_at = lines.index("[plans.core]") + 2  # 1-based line number of the line after the header
    lines[broken_at - 1] = 'goal = "an unterminated string'
    with pytest.raises(InvalidInput) as caught:
        parse_library("\n".join(lines))
    assert caught.value.field == f"plans.toml: line {broken_at}"
    assert "not valid TOML" in caught.value.reason


def test_a_file_that_is_not_a_library_names_the_missing_section(tmp_path):
    path = tmp_path / "other.toml"
    path.write_text('title = "not plans"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"^other\.toml: plans: section missing"):
        load_library(path)


# --- per-client customisation --------------------------------------------------------------


def test_customise_overrides_dose_drops_and_notes_without_touching_the_library(library):
    original = library.plan("core")
    before = original.model_dump()
    mine = customise(
        original,
        {
            "doses": {"dead bug": "2 x 5 each side"},
            "times_per_week": {"Bird-dog": 2},
            "drop": ["Side plank"],
            "note": "Keep the range small.",
        },
    )
    assert [e.name for e in mine.exercises] == ["Dead bug", "Bird-dog", "Glute bridge"]
    assert mine.exercise("Dead bug").dose == "2 x 5 each side"
    assert mine.exercise("Bird-dog").times_per_week == 2
    assert mine.notes == ("Keep the range small.",)
    assert original.model_dump() == before
    assert load_library().plan("core") == original


def test_customise_with_no_changes_gives_an_equal_plan(library):
    assert customise(library.plan("load"), {}) == library.plan("load")
    assert customise(library.plan("load"), None) == library.plan("load")


def test_customisation_round_trips_through_stored_json(library):
    changes = Customisation(doses={"Dead bug": "2 x 6"}, drop=("Bird-dog",), note="Go slowly.")
    stored = changes.model_dump_json()
    assert parse_customisation(stored) == changes
    assert customise(library.plan("core"), stored) == customise(library.plan("core"), changes)


BAD_CHANGES = [
    ({"drop": ["Sit-up"]}, "changes.drop['Sit-up']", "has no such exercise"),
    ({"doses": {"Hip thrust": "3 x 10"}}, "changes.doses['Hip thrust']", "has no such exercise"),
    ({"doses": {"Dead bug": " "}}, "changes.doses['Dead bug']", "at least 1 character"),
    ({"times_per_week": {"Dead bug": 9}}, "changes.times_per_week['Dead bug']", "less than or equal to 7"),
    ({"drop": ["Dead bug"], "doses": {"Dead bug": "1 x 5"}}, "changes.doses['Dead bug']", "also dropped"),
    (
        {"drop": ["Dead bug", "Bird-dog", "Glute bridge", "Side plank"]},
        "changes.drop",
        "at least one exercise must remain",
    ),
    ({"note": ""}, "changes.note", "at least 1 character"),
    ({"sets": 3}, "changes.sets", "unknown field"),
]


@pytest.mark.parametrize("changes, field, reason", BAD_CHANGES, ids=[b[1] + "-" + b[2] for b in BAD_CHANGES])
def test_invalid_changes_raise_invalid_input_naming_the_field(library, changes, field, reason):
    with pytest.raises(InvalidInput) as caught:
        customise(library.plan("core"), changes)
    assert caught.value.field == field
    assert reason in caught.value.reason


# --- stages, the pain rule and stop rules (issue 15) ---------------------------------------------


@pytest.mark.parametrize(
    "level, stages",
    [(None, (1, 2, 3)), (Level.NORMAL, (1, 2, 3)), (Level.MONITOR, (1,)), (Level.REFER, ()), ("emergency", ())],
)
def test_the_stages_offered_at_each_level(level, stages):
    assert offered_stages(level) == stages


def test_stage_1_of_every_plan_is_unloaded_so_monitor_never_offers_a_loaded_lift(library):
    catalogue = load_catalogue()
    stage_1 = {e.exercise_id for plan in library.in_order(1) for e in plan.exercises}
    assert not [i for i in stage_1 if i is not None and catalogue.get(i).loads_spine]
    assert not stage_1 & {"deadlift", "romanian_deadlift", "back_extension", "back_squat"}


@pytest.mark.parametrize("cause", list(CauseId))
def test_every_plan_carries_the_pain_rule_and_its_own_stop_rules(library, cause):
    plan = library.plan(cause)
    assert plan.pain_rule and "3 out of 10" in plan.pain_rule and "next morning" in plan.pain_rule
    assert "back one stage" in plan.pain_rule
    assert library.pain_rule.max_during == 3
    assert plan.stop_rules  # core, warm-up and posture included


def test_the_posterior_chain_plan_has_hamstring_and_hip_flexor_mobility_at_every_stage(library):
    for stage in (1, 2, 3):
        ids = {e.exercise_id for e in library.plan("posterior_chain", stage).exercises}
        assert {"hamstring_stretch", "hip_flexor_stretch"} <= ids


def test_doses_come_from_the_catalogue_and_change_with_the_stage(library):
    first, second = library.plan("core", 1), library.plan("core", 2)
    assert first.exercise("Glute bridge").dose == "2 × 10" and second.exercise("Glute bridge").dose == "3 × 12"
    assert first.exercise("Glute bridge").rest == "rest 45 s"
    assert first.exercise("Glute bridge").effort.startswith("easy")


def test_an_exercise_in_two_chosen_plans_appears_once_at_the_higher_stages_dose(library):
    core, chain = library.plan("core", 2), library.plan("posterior_chain", 1)
    combined = combined_exercises([chain, core])
    bridges = [c for c in combined if c.exercise.exercise_id == "glute_bridge"]
    assert len(bridges) == 1
    assert bridges[0].stage == 2 and bridges[0].exercise.dose == core.exercise("Glute bridge").dose
    assert bridges[0].plan_titles == (chain.title, core.title)
    assert len(combined) == len({e.exercise_id for p in (core, chain) for e in p.exercises})


def test_the_same_stage_keeps_the_first_plans_copy_with_the_clients_change(library):
    mine = customise(library.plan("core", 1), {"doses": {"Glute bridge": "1 x 8"}})
    combined = combined_exercises([mine, library.plan("posterior_chain", 1)])
    assert [c.exercise.dose for c in combined if c.exercise.name == "Glute bridge"] == ["1 x 8"]


def _cause(cause: str, evidence: int) -> CauseFinding:
    return CauseFinding(CauseId(cause), tuple(f"sign {n}" for n in range(evidence)))


def test_the_two_causes_with_the_most_evidence_are_preselected():
    causes = [_cause("form", 1), _cause("core", 3), _cause("load", 2), _cause("posture", 2)]
    offered = ["core", "load", "form", "posture"]
    assert preselected_plans(causes, offered) == [CauseId.CORE, CauseId.LOAD]
    assert preselected_plans(causes, ["form"]) == [CauseId.FORM]


def test_a_clients_copy_after_a_stage_change_leaves_out_changes_to_exercises_it_no_longer_has(library):
    changes = {"doses": {"Dead bug": "1 x 4 each side", "Side plank": "1 x 10 s"}, "drop": ["Bird-dog"]}
    at_three = library.client_copy("core", 3, changes)
    assert at_three.stage == 3 and at_three.exercise("Dead bug").dose == "1 x 4 each side"
    assert at_three.exercise("Side plank").dose == "1 x 10 s"
    assert "Bird-dog" not in [e.name for e in at_three.exercises]
