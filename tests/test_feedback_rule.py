"""The pain rule's suggestion from recorded feedback (progress, stay, step back), and the R5 rise that calls for
triage again. Pure functions: no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from backcare.feedback import (
    Done,
    Step,
    highest_stage,
    meets_r5,
    needs_triage,
    suggest_next_step,
    usual_pain,
)

D0 = date(2025, 3, 3)


@dataclass(frozen=True)
class E:
    pain_during: int
    pain_morning_after: int
    done: Done = Done.ALL
    entry_date: date = D0


def entries(*items: E) -> list[E]:
    """Oldest first, one day apart."""
    return [E(e.pain_during, e.pain_morning_after, e.done, D0 + timedelta(days=2 * i)) for i, e in enumerate(items)]


@pytest.mark.parametrize(
    ("history", "pre_plan", "stage", "step", "to_stage"),
    [
        # two entries within the rule, done: progress
        ((E(2, 1), E(3, 2, Done.SOME)), 4, 1, Step.PROGRESS, 2),
        ((E(0, 0), E(1, 3)), None, 2, Step.PROGRESS, 3),  # no pre-plan level: the morning after may reach 3
        ((E(0, 0), E(1, 1)), 2, 3, Step.PROGRESS, None),  # already at the last stage
        # within the rule but not done at one of the two: stay
        ((E(1, 1, Done.NONE), E(2, 1)), 2, 1, Step.STAY, None),
        ((E(1, 1), E(0, 0, Done.NONE)), 2, 2, Step.STAY, None),
        # only one entry so far: stay
        ((E(1, 1),), 2, 1, Step.STAY, None),
        # the entry before broke the rule: not two in a row yet
        ((E(5, 2), E(2, 2)), 2, 2, Step.STAY, None),
        # pain during above 3 at the last entry: step back
        ((E(1, 1), E(4, 1)), 2, 2, Step.STEP_BACK, 1),
        # morning after worse than usual (pre-plan 4): step back, even when done
        ((E(1, 1), E(2, 5)), 4, 3, Step.STEP_BACK, 2),
        # morning after 4 with no pre-plan level: above the floor of 3
        ((E(2, 4),), None, 2, Step.STEP_BACK, 1),
        # at stage 1 there is no stage below: the step is back, the stage stays
        ((E(6, 2),), 2, 1, Step.STEP_BACK, None),
    ],
)
def test_suggestion_follows_the_pain_rule(history, pre_plan, stage, step, to_stage):
    suggestion = suggest_next_step(entries(*history), pre_plan=pre_plan, stage=stage)
    assert suggestion is not None
    assert (suggestion.step, suggestion.to_stage) == (step, to_stage)


def test_no_entry_no_suggestion():
    assert suggest_next_step([], pre_plan=3, stage=1) is None


def test_the_words_name_the_stage_and_the_reason():
    suggestion = suggest_next_step(entries(E(1, 1), E(5, 6)), pre_plan=2, stage=2)
    assert suggestion is not None
    assert suggestion.headline == "Step back to stage 1"
    assert (
        "pain during was 5/10" in suggestion.reason and "morning after was 6/10, above the usual 3" in suggestion.reason
    )


def test_unknown_stage_still_suggests_but_names_no_stage():
    suggestion = suggest_next_step(entries(E(1, 1), E(1, 1)), pre_plan=None, stage=None)
    assert suggestion is not None
    assert (suggestion.step, suggestion.to_stage, suggestion.headline) == (
        Step.PROGRESS,
        None,
        "Progress to the next stage",
    )


@pytest.mark.parametrize(("pre_plan", "usual"), [(None, 3), (0, 3), (3, 3), (5, 5)])
def test_usual_is_the_pre_plan_level_never_below_3(pre_plan, usual):
    assert usual_pain(pre_plan) == usual


def test_entries_of_one_day_read_the_later_recorded_as_the_latest():
    same_day = [E(1, 1, entry_date=D0), E(5, 1, entry_date=D0)]
    suggestion = suggest_next_step(same_day, pre_plan=2, stage=2)
    assert suggestion is not None and suggestion.step == Step.STEP_BACK


@pytest.mark.parametrize(
    ("mornings", "expected"),
    [
        ((1, 2, 3), True),  # a slow creep: 3 is 2 above the lowest of the week
        ((2, 3), False),  # a 1-point rise
        ((3, 2, 2), False),  # easing
        ((5,), False),  # nothing earlier to compare with
    ],
)
def test_r5_reads_a_rise_of_two_over_the_weeks_lowest_morning_after(mornings, expected):
    history = [E(1, m, entry_date=D0 + timedelta(days=2 * i)) for i, m in enumerate(mornings)]
    assert meets_r5(history) is expected


def test_r5_forgets_scores_older_than_7_days():
    history = [E(1, 0, entry_date=D0), E(1, 2, entry_date=D0 + timedelta(days=8))]
    assert meets_r5(history) is False


def test_r5_counts_the_pre_plan_score_of_the_same_week():
    history = [E(1, 4, entry_date=D0 + timedelta(days=2))]
    assert meets_r5(history, pre_plan=2, pre_plan_day=D0) is True
    assert meets_r5(history, pre_plan=2, pre_plan_day=D0 - timedelta(days=10)) is False


def test_a_triage_on_or_after_the_latest_entry_answers_the_prompt():
    history = entries(E(1, 1), E(1, 3))  # a rise of 2 within the week
    latest = history[-1].entry_date
    assert needs_triage(history) is True
    assert needs_triage(history, last_report_day=latest - timedelta(days=1)) is True
    assert needs_triage(history, last_report_day=latest) is False


@pytest.mark.parametrize("stage", [1, None])
def test_at_monitor_only_stage_1_is_offered_so_the_rule_kept_means_stay(stage):
    top = highest_stage("monitor")
    suggestion = suggest_next_step(entries(E(1, 1), E(1, 1)), pre_plan=2, stage=stage, top=top)
    assert suggestion is not None
    assert (suggestion.step, suggestion.to_stage, suggestion.headline) == (Step.STAY, None, "Stay at stage 1")
    assert "monitor" in suggestion.reason


@pytest.mark.parametrize("level", ["normal", None])
def test_after_a_normal_triage_or_none_stage_3_may_be_reached(level):
    assert highest_stage(level) == 3
