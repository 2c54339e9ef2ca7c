"""The plan library: the shipped file validates, malformed files are named precisely, customise() copies."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta

import pytest

from backcare.errors import InvalidInput, NotFound
from backcare.models import CauseId
from backcare.plans import (
    DEFAULT_PATH,
    Customisation,
    Plan,
    customise,
    load_library,
    parse_customisation,
    parse_library,
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


@pytest.mark.parametrize("cause", list(CauseId))
def test_every_plan_validates_with_three_to_six_exercises(library, cause):
    plan = library.plan(cause)
    assert Plan.model_validate(plan.model_dump(), context={"library": True}) == plan
    assert 3 <= len(plan.exercises) <= 6
    assert plan.goal and plan.review and plan.cautions
    assert all(e.cues and e.dose and 1 <= e.times_per_week <= 7 for e in plan.exercises)


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


def _core_dead_bug_without_dose(text: str) -> str:
    return text.replace('name = "Dead bug"\ndose = "3 x 8 each side"\n', 'name = "Dead bug"\n')


def _core_with_two_exercises(text: str) -> str:
    for name in ("Front plank", "Dead bug", "Bird-dog"):
        text = _without_block(text, f'[[plans.core.exercises]]\nname = "{name}"')
    return text


def _seven_exercises_for_load(text: str) -> str:
    extra = '\n[[plans.load.exercises]]\nname = "Extra {n}"\ndose = "1 x 1"\ntimes_per_week = 1\ncues = ["x"]\n'
    anchor = "# --- recovery"
    return text.replace(anchor, "".join(extra.format(n=n) for n in range(3)) + "\n" + anchor)


MALFORMED = [
    # (what is wrong, change to the shipped text, expected field, expected reason)
    ("missing dose", _core_dead_bug_without_dose, "plan 'core', exercises[2].dose", "field required"),
    ("unknown plan id", lambda t: t + '\n[plans.yoga]\ntitle = "Yoga"\n', "plan 'yoga'", "unknown plan id"),
    (
        "renamed plan",
        lambda t: t.replace("[plans.posture]", "[plans.posture_x]", 1),
        "plan 'posture_x'",
        "unknown plan id",
    ),
    ("too few exercises", _core_with_two_exercises, "plan 'core', exercises", "needs 3 to 6 exercises, found 2"),
    ("too many exercises", _seven_exercises_for_load, "plan 'load', exercises", "at most 6"),
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
        "plan 'form', exercises[1].times_per_week",
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
            "times_per_week": {"Front plank": 2},
            "drop": ["Side plank from the knees"],
            "note": "Keep the range small.",
        },
    )
    assert [e.name for e in mine.exercises] == ["Front plank", "Dead bug", "Bird-dog", "Glute bridge"]
    assert mine.exercise("Dead bug").dose == "2 x 5 each side"
    assert mine.exercise("Front plank").times_per_week == 2
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
        {"drop": ["Front plank", "Dead bug", "Bird-dog", "Glute bridge", "Side plank from the knees"]},
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
