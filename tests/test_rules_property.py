"""Properties of evaluate() over thousands of generated reports.

TRIAGE.md's invariant: answering "yes" to any question, raising pain_score or hours_since_workout, a
worse trend, more leg symptoms or a sharp/stabbing quality never lowers the level. eases_with_movement
is the one reassuring question: answering "no" to it never lowers the level.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backcare.models import Level, LegSymptoms, PainQuality, SessionContext, TriageHistory, TriageReport, Trend
from backcare.rules import evaluate

pytestmark = pytest.mark.slow

YES_NO_QUESTIONS = tuple(
    name for name, field in TriageReport.model_fields.items()
    if field.annotation is bool and name != "eases_with_movement"
)
TREND_ORDER = (Trend.EASING, Trend.SAME, Trend.WORSE)
LEG_ORDER = (LegSymptoms.NONE, LegSymptoms.ONE_LEG, LegSymptoms.BOTH_LEGS)
MAX_HOURS = 24 * 365

PROPERTY_SETTINGS = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Weighted towards mild reports (most real reports are mild, and a worse answer can only show a
# lower level being raised when the level is not already at the top); hours cluster on TRIAGE.md's
# boundaries so that both sides of each are visited often.
hours = st.one_of(
    st.sampled_from([0, 12, 20, 23.99, 24, 30, 40, 47.99, 48, 48.01, 52, 60, 66, 72, 72.01, 96, 200]),
    st.floats(min_value=0, max_value=100, allow_nan=False),
    st.floats(min_value=0, max_value=72, allow_nan=False),
    st.floats(min_value=0, max_value=MAX_HOURS, allow_nan=False),
)
pain_scores = st.one_of(st.integers(0, 3), st.integers(0, 3), st.integers(0, 6), st.integers(0, 10))
qualities = st.sampled_from([PainQuality.DULL_ACHE, PainQuality.STIFFNESS, PainQuality.TIGHTNESS] * 4
                            + [PainQuality.SHARP, PainQuality.STABBING])
legs = st.sampled_from([LegSymptoms.NONE] * 10 + [LegSymptoms.ONE_LEG, LegSymptoms.BOTH_LEGS])
# Two reports in three answer "no" to every question (hypothesis does not keep the weights of repeated
# values in sampled_from, so the weights are percentiles).
how_many_yes = st.integers(0, 99).map(lambda p: 0 if p < 65 else 1 if p < 85 else 2 if p < 95 else 3)

full_contexts = st.builds(
    SessionContext,
    exercises=st.lists(st.sampled_from(["deadlift", "back squat", "plank", "bench press", "ohp", "running"]),
                       max_size=3).map(tuple),
    form_breakdown_seen=st.booleans(), load_increased=st.booleans(), volume_increased=st.booleans(),
    new_exercise=st.booleans(),
    warmup_minutes=st.none() | st.sampled_from([0, 3, 5, 10]),
    cooldown_done=st.none() | st.booleans(),
    core_sessions_per_week=st.none() | st.integers(0, 4),
    rest_days_last_7=st.none() | st.integers(0, 7),
    sleep_hours=st.none() | st.sampled_from([5, 6.5, 7, 8]),
    sitting_hours_per_day=st.none() | st.sampled_from([2, 5.9, 6, 10]),
    posture_concern=st.booleans(), glute_or_hamstring_weakness=st.booleans(),
)
# The context never changes the level (only the causes), so the level properties draw from a few fixed
# ones: generating a whole context per example would triple their run time for nothing.
FEW_CONTEXTS = (
    None,
    SessionContext(),
    SessionContext(exercises=("deadlift",), load_increased=True, rest_days_last_7=0, warmup_minutes=2,
                   cooldown_done=False, sleep_hours=6, core_sessions_per_week=1, sitting_hours_per_day=8,
                   posture_concern=True, glute_or_hamstring_weakness=True),
)

histories = st.builds(
    TriageHistory,
    previous_pain_score=st.none() | st.integers(0, 10),
    prior_reports_28d=st.sampled_from([0, 0, 0, 1, 2, 3]),
    acute_chronic_ratio=st.none() | st.sampled_from([0.8, 1.2, 1.5, 2.0]),
)


@st.composite
def reports(draw, contexts=st.sampled_from(FEW_CONTEXTS)) -> TriageReport:
    count = draw(how_many_yes)
    answered_yes = draw(st.lists(st.sampled_from(YES_NO_QUESTIONS), min_size=count, max_size=count, unique=True))
    return TriageReport(
        hours_since_workout=draw(hours),
        pain_score=draw(pain_scores),
        pain_quality=draw(qualities),
        trend=draw(st.sampled_from(TREND_ORDER)),
        eases_with_movement=draw(st.booleans()),
        leg_symptoms=draw(legs),
        context=draw(contexts),
        **dict.fromkeys(answered_yes, True),
    )


def _later(order: tuple, current, steps: int):
    return order[min(len(order) - 1, order.index(current) + steps)]


# A worsening step: (what it changes, how) -> the changed report.
worsening_steps = st.one_of(
    st.tuples(st.just("yes"), st.sampled_from(YES_NO_QUESTIONS)),
    st.tuples(st.just("does not ease with movement"), st.none()),
    st.tuples(st.just("more pain"), st.integers(1, 10)),
    st.tuples(st.just("more hours"), st.one_of(st.sampled_from([0.01, 0.5, 2, 6, 12, 24, 48, 72]),
                                               st.floats(0.01, 100, allow_nan=False))),
    st.tuples(st.just("worse trend"), st.integers(1, 2)),
    st.tuples(st.just("more leg symptoms"), st.integers(1, 2)),
    st.tuples(st.just("sharp or stabbing"), st.sampled_from([PainQuality.SHARP, PainQuality.STABBING])),
)


def worsen(report: TriageReport, step: tuple) -> TriageReport:
    kind, how = step
    change = {
        "yes": lambda: {how: True},
        "does not ease with movement": lambda: {"eases_with_movement": False},
        "more pain": lambda: {"pain_score": min(10, report.pain_score + how)},
        "more hours": lambda: {"hours_since_workout": min(MAX_HOURS, report.hours_since_workout + how)},
        "worse trend": lambda: {"trend": _later(TREND_ORDER, report.trend, how)},
        "more leg symptoms": lambda: {"leg_symptoms": _later(LEG_ORDER, report.leg_symptoms, how)},
        "sharp or stabbing": lambda: {"pain_quality": how},
    }[kind]()
    return report.model_copy(update=change)


@PROPERTY_SETTINGS
@given(report=reports(), history=histories, step=worsening_steps)
def test_a_worse_answer_never_lowers_the_level(report, history, step):
    before = evaluate(report, history).level
    after = evaluate(worsen(report, step), history).level
    assert after.rank >= before.rank, f"{step} lowered {before} to {after}"


@settings(max_examples=1000, deadline=None)
@given(report=reports(), history=histories, steps=st.lists(worsening_steps, min_size=2, max_size=6))
def test_a_run_of_worse_answers_never_lowers_the_level(report, history, steps):
    level = evaluate(report, history).level
    for step in steps:
        report = worsen(report, step)
        worse = evaluate(report, history).level
        assert worse.rank >= level.rank, f"{step} lowered {level} to {worse}"
        level = worse


@settings(max_examples=1000, deadline=None)
@given(report=reports(), history=histories, more=st.integers(1, 3))
def test_more_prior_reports_never_lower_the_level(report, history, more):
    busier = history.model_copy(update={"prior_reports_28d": history.prior_reports_28d + more})
    assert evaluate(report, busier).level.rank >= evaluate(report, history).level.rank


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=reports(contexts=st.none() | full_contexts), history=histories)
def test_result_is_consistent_with_its_findings_and_causes(report, history):
    result = evaluate(report, history)
    assert result.level is Level.highest(f.level for f in result.findings)
    assert (result.level is Level.NORMAL) == (not result.findings)
    counts = [len(c.evidence) for c in result.causes]
    assert counts == sorted(counts, reverse=True) and all(counts)
    if result.level.needs_professional:
        assert result.plans == ()
    else:
        assert result.plans == tuple(c.cause for c in result.causes)


# --- exhaustive neighbours on a grid ---------------------------------------------------------

GRID_HOURS = (0, 12, 23.99, 24, 30, 47.99, 48, 48.01, 60, 71.99, 72, 72.01, 100, 1000)
GRID_HISTORIES = (TriageHistory(), TriageHistory(previous_pain_score=1), TriageHistory(prior_reports_28d=2))
NOT_SHARP = (PainQuality.DULL_ACHE, PainQuality.STIFFNESS, PainQuality.TIGHTNESS)


def test_level_never_drops_between_neighbouring_answers_on_a_grid():
    """Every combination of pain, hours (at TRIAGE.md's boundaries), trend, easing, quality and legs,
    for three histories, against its one-step-worse neighbours: a narrow window hypothesis could miss
    is still visited. Adjacent grid steps chain, so every pair of grid points is covered."""
    levels: dict[tuple, int] = {}

    def level(history_index, pain, hours_index, trend, eases, quality, legs) -> int:
        key = (history_index, pain, hours_index, trend, eases, quality, legs)
        if key not in levels:
            report = TriageReport(pain_score=pain, hours_since_workout=GRID_HOURS[hours_index], trend=trend,
                                  eases_with_movement=eases, pain_quality=quality, leg_symptoms=legs)
            levels[key] = evaluate(report, GRID_HISTORIES[history_index]).level.rank
        return levels[key]

    drops = []
    for h in range(len(GRID_HISTORIES)):
        for pain in range(11):
            for i in range(len(GRID_HOURS)):
                for trend in TREND_ORDER:
                    for eases in (True, False):
                        for quality in list(NOT_SHARP) + [PainQuality.SHARP]:
                            for legs in LEG_ORDER:
                                here = (h, pain, i, trend, eases, quality, legs)
                                neighbours = {
                                    "pain + 1": (h, pain + 1, i, trend, eases, quality, legs),
                                    "later": (h, pain, i + 1, trend, eases, quality, legs),
                                    "worse trend": (h, pain, i, _later(TREND_ORDER, trend, 1), eases, quality, legs),
                                    "does not ease": (h, pain, i, trend, False, quality, legs),
                                    "sharp": (h, pain, i, trend, eases, PainQuality.SHARP, legs),
                                    "more leg symptoms": (h, pain, i, trend, eases, quality, _later(LEG_ORDER, legs, 1)),
                                }
                                for name, there in neighbours.items():
                                    if there[1] > 10 or there[2] >= len(GRID_HOURS):
                                        continue
                                    if level(*there) < level(*here):
                                        drops.append((name, here))
    assert not drops, f"{len(drops)} worse answers lowered the level, e.g. {drops[:3]}"
