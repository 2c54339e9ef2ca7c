"""Properties of evaluate() over thousands of generated reports, for EVERY question of the registry (a new
question is covered without a new test).

TRIAGE.md's invariants:
1. Each question has a risk answer ("yes", except eases_with_movement: "no"; for a choice, its order of risk;
   for pain_score and hours_since_workout, more). Moving any answer toward its risk answer never lowers the
   level.
2. Not asked never looks safer than asked: with a question not asked, the level is at least the level with
   its mildest answer, and at least refer for the questions X1 names (monitor for X2's).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backcare import questions
from backcare.models import LegSymptoms, Level, PainQuality, SessionContext, Trend, TriageHistory, TriageReport
from backcare.questions import Family, Kind
from backcare.rules import evaluate

pytestmark = pytest.mark.slow

QUESTIONS = questions.QUESTIONS
YES_NO = tuple(q for q in QUESTIONS if q.kind is Kind.YES_NO)
MAX_HOURS = 24 * 365

# How hard each run searches: 1,200 generated reports per property in the everyday suite (about 30 per
# question); BACKCARE_PROPERTY_EXAMPLES=5000 (or more) for a deep run before a release. Hypothesis keeps every
# failing example it finds in .hypothesis/ and tries it first on the next run.
EXAMPLES = int(os.environ.get("BACKCARE_PROPERTY_EXAMPLES", "1200"))
PROPERTY_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Weighted towards mild reports (most real reports are mild, and a worse answer can only show a lower level
# being raised when the level is not already at the top); hours cluster on TRIAGE.md's boundaries so that both
# sides of each are visited often; ages on the age rules' boundaries.
hours = st.one_of(
    st.sampled_from([0, 12, 20, 23.99, 24, 30, 40, 47.99, 48, 48.01, 52, 60, 66, 72, 72.01, 96, 200]),
    st.floats(min_value=0, max_value=100, allow_nan=False),
    st.floats(min_value=0, max_value=72, allow_nan=False),
    st.floats(min_value=0, max_value=MAX_HOURS, allow_nan=False),
)
pain_scores = st.one_of(st.integers(0, 3), st.integers(0, 3), st.integers(0, 6), st.integers(0, 10))
ages = st.none() | st.sampled_from([10, 16, 17, 18, 30, 45, 64, 65, 80])
# Two reports in three give no risk answer to any yes/no question (hypothesis does not keep the weights of
# repeated values in sampled_from, so the weights are percentiles).
how_many_risky = st.integers(0, 99).map(lambda p: 0 if p < 65 else 1 if p < 85 else 2 if p < 95 else 3)
percent = st.integers(0, 99)


def choice_answers(question: questions.Question):
    """A choice question's answers, the mildest ten times as often as each other one."""
    mildest = [c.value for c in question.choices if c.rank == 0]
    others = [c.value for c in question.choices if c.rank > 0]
    return st.sampled_from(mildest * 10 + others)


def answers_of(question: questions.Question):
    if question.kind is Kind.CHOICE:
        return choice_answers(question)
    if question.kind is Kind.SCORE:
        return pain_scores
    if question.kind is Kind.HOURS:
        return hours
    return st.booleans()


full_contexts = st.builds(
    SessionContext,
    exercises=st.lists(
        st.sampled_from(
            ["deadlift", "back squat", "plank", "bench press", "ohp", "running", "Dead lift", "kettlebell swing"]
        ),
        max_size=3,
    ).map(tuple),
    form_breakdown_seen=st.booleans(),
    load_increased=st.booleans(),
    volume_increased=st.booleans(),
    new_exercise=st.booleans(),
    warmup_minutes=st.none() | st.sampled_from([0, 3, 5, 10]),
    cooldown_done=st.none() | st.booleans(),
    core_sessions_per_week=st.none() | st.integers(0, 4),
    rest_days_last_7=st.none() | st.integers(0, 7),
    sleep_hours=st.none() | st.sampled_from([5, 6.5, 7, 8]),
    sitting_hours_per_day=st.none() | st.sampled_from([2, 5.9, 6, 10]),
    posture_concern=st.booleans(),
    glute_or_hamstring_weakness=st.booleans(),
)
# The context never changes the level (only the causes), so the level properties draw from a few fixed
# ones: generating a whole context per example would triple their run time for nothing.
FEW_CONTEXTS = (
    None,
    SessionContext(),
    SessionContext(
        exercises=("deadlift",),
        load_increased=True,
        rest_days_last_7=0,
        warmup_minutes=2,
        cooldown_done=False,
        sleep_hours=6,
        core_sessions_per_week=1,
        sitting_hours_per_day=8,
        posture_concern=True,
        glute_or_hamstring_weakness=True,
    ),
)

histories = st.builds(
    TriageHistory,
    episode_pain_scores=st.lists(st.integers(0, 10), max_size=3).map(tuple),
    prior_reports_28d=st.sampled_from([0, 0, 0, 1, 2, 3]),
    acute_chronic_ratio=st.none() | st.sampled_from([0.8, 1.2, 1.5, 2.0]),
)


SOME_FEW_CONTEXTS = st.sampled_from(FEW_CONTEXTS)


@st.composite
def reports(draw, contexts=SOME_FEW_CONTEXTS) -> TriageReport:
    """A report over every registry question: each applicable question answered (mostly mildly) or, now and
    then, not asked; a follow-up whose question does not apply is not asked."""
    count = draw(how_many_risky)
    risky = set(draw(st.lists(st.sampled_from(YES_NO), min_size=count, max_size=count, unique=True)))
    values: dict = {}
    for q in QUESTIONS:
        if not q.applies(values) or draw(percent) < 4:
            values[q.field] = None
        elif q.kind is Kind.YES_NO:
            values[q.field] = q.risk_answer if q in risky else q.mildest
        else:
            values[q.field] = draw(answers_of(q))
    return TriageReport(**values, age=draw(ages), context=draw(contexts))


def toward_risk(question: questions.Question, current, data) -> object:
    """An answer at least as far toward the risk answer as `current` (drawn by `data`)."""
    if question.kind is Kind.YES_NO:
        return question.risk_answer
    if question.kind is Kind.CHOICE:
        rank = question.risk_rank(current)
        return data.draw(st.sampled_from([c.value for c in question.choices if c.rank >= rank]))
    if question.kind is Kind.SCORE:  # one point up half the time: the boundaries are one point apart
        return data.draw(st.one_of(st.just(min(10, current + 1)), st.integers(current, 10)))
    more = data.draw(st.one_of(st.sampled_from([0.01, 0.5, 2, 6, 12, 24, 48, 72]), st.floats(0, 100, allow_nan=False)))
    return min(MAX_HOURS, current + more)


def worsen(report: TriageReport, question: questions.Question, data) -> TriageReport:
    current = getattr(report, question.field)
    if current is None:  # not asked (or not applicable): invariant 2's business, not this one's
        return report
    return report.model_copy(update={question.field: toward_risk(question, current, data)})


@PROPERTY_SETTINGS
@given(report=reports(), history=histories, question=st.sampled_from(QUESTIONS), data=st.data())
def test_a_move_toward_the_risk_answer_of_any_question_never_lowers_the_level(report, history, question, data):
    before = evaluate(report, history).level
    worse = worsen(report, question, data)
    after = evaluate(worse, history).level
    assert after.rank >= before.rank, (
        f"{question.field}: {getattr(report, question.field)!r} -> "
        f"{getattr(worse, question.field)!r} lowered {before} to {after}"
    )


@settings(max_examples=max(100, EXAMPLES // 3), deadline=None)
@given(
    report=reports(),
    history=histories,
    steps=st.lists(st.sampled_from(QUESTIONS), min_size=2, max_size=6),
    data=st.data(),
)
def test_a_run_of_moves_toward_risk_never_lowers_the_level(report, history, steps, data):
    level = evaluate(report, history).level
    for question in steps:
        report = worsen(report, question, data)
        worse = evaluate(report, history).level
        assert worse.rank >= level.rank, f"{question.field} lowered {level} to {worse}"
        level = worse


@PROPERTY_SETTINGS
@given(report=reports(), history=histories, question=st.sampled_from(QUESTIONS))
def test_not_asked_never_looks_safer_than_the_mildest_answer(report, history, question):
    if question.asked_when is not None:  # make the follow-up apply: only then is it a question at all
        report = report.model_copy(update={question.asked_when[0]: question.asked_when[1]})
    mildest = evaluate(report.model_copy(update={question.field: question.mildest}), history).level
    not_asked = evaluate(report.model_copy(update={question.field: None}), history)
    assert not_asked.level.rank >= mildest.rank, f"{question.field} not asked: {not_asked.level} < {mildest}"
    floor = Level.REFER if question.family is Family.X1 else Level.MONITOR
    assert not_asked.level.rank >= floor.rank, f"{question.field} not asked gave {not_asked.level}"
    assert question.field in not_asked.not_asked


@settings(max_examples=max(100, EXAMPLES // 3), deadline=None)
@given(report=reports(), history=histories, more=st.integers(1, 3), lower=st.integers(0, 10))
def test_more_history_never_lowers_the_level(report, history, more, lower):
    busier = history.model_copy(update={"prior_reports_28d": history.prior_reports_28d + more})
    assert evaluate(report, busier).level.rank >= evaluate(report, history).level.rank
    if history.episode_pain_scores and lower < min(history.episode_pain_scores):  # a lower earlier score
        crept = history.model_copy(update={"episode_pain_scores": (lower, *history.episode_pain_scores)})
        assert evaluate(report, crept).level.rank >= evaluate(report, history).level.rank


@settings(max_examples=max(100, EXAMPLES // 2), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=reports(contexts=st.none() | full_contexts), history=histories)
def test_result_is_consistent_with_its_findings_causes_and_not_asked(report, history):
    result = evaluate(report, history)
    assert result.level is Level.highest(f.level for f in result.findings)
    assert (result.level is Level.NORMAL) == (not result.findings)
    counts = [len(c.evidence) for c in result.causes]
    assert counts == sorted(counts, reverse=True) and all(counts)
    if result.level.needs_professional:
        assert result.plans == ()
    else:
        assert result.plans == tuple(c.cause for c in result.causes)
    values = report.__dict__
    assert result.not_asked == tuple(q.field for q in QUESTIONS if values[q.field] is None and q.applies(values))
    assert ("X1" in [f.rule_id for f in result.findings]) == any(
        questions.BY_FIELD[f].family is Family.X1 for f in result.not_asked
    )


# --- exhaustive neighbours on a grid ---------------------------------------------------------

GRID_HOURS = (0, 12, 23.99, 24, 30, 47.99, 48, 48.01, 60, 71.99, 72, 72.01, 100, 1000)
GRID_HISTORIES = (TriageHistory(), TriageHistory(episode_pain_scores=(1,)), TriageHistory(prior_reports_28d=2))
GRID_AGES = (None, 17, 65)
TREND_ORDER = (Trend.EASING, Trend.SAME, Trend.WORSE)
LEG_ORDER = (LegSymptoms.NONE, LegSymptoms.ONE_LEG, LegSymptoms.BOTH_LEGS)
NOT_SHARP = (PainQuality.DULL_ACHE, PainQuality.STIFFNESS, PainQuality.TIGHTNESS)
BASELINE = {q.field: q.mildest for q in QUESTIONS if q.asked_when is None}


def _later(order: tuple, current, steps: int):
    return order[min(len(order) - 1, order.index(current) + steps)]


def test_level_never_drops_between_neighbouring_answers_on_a_grid():
    """Every combination of pain, hours (at TRIAGE.md's boundaries), trend, easing, quality and legs, for
    three histories and three ages, against its one-step-worse neighbours: a narrow window hypothesis could
    miss is still visited. Adjacent grid steps chain, so every pair of grid points is covered."""
    levels: dict[tuple, int] = {}

    def level(history_index, age, pain, hours_index, trend, eases, quality, legs) -> int:
        key = (history_index, age, pain, hours_index, trend, eases, quality, legs)
        if key not in levels:
            report = TriageReport(
                **{
                    **BASELINE,
                    "pain_score": pain,
                    "hours_since_workout": GRID_HOURS[hours_index],
                    "trend": trend,
                    "eases_with_movement": eases,
                    "pain_quality": quality,
                    "leg_symptoms": legs,
                },
                age=age,
            )
            levels[key] = evaluate(report, GRID_HISTORIES[history_index]).level.rank
        return levels[key]

    drops = []
    for h in range(len(GRID_HISTORIES)):
        for age in GRID_AGES:
            for pain in range(11):
                for i in range(len(GRID_HOURS)):
                    for trend in TREND_ORDER:
                        for eases in (True, False):
                            for quality in list(NOT_SHARP) + [PainQuality.SHARP]:
                                for legs in LEG_ORDER:
                                    here = (h, age, pain, i, trend, eases, quality, legs)
                                    neighbours = {
                                        "pain + 1": (h, age, pain + 1, i, trend, eases, quality, legs),
                                        "later": (h, age, pain, i + 1, trend, eases, quality, legs),
                                        "worse trend": (
                                            h,
                                            age,
                                            pain,
                                            i,
                                            _later(TREND_ORDER, trend, 1),
                                            eases,
                                            quality,
                                            legs,
                                        ),
                                        "does not ease": (h, age, pain, i, trend, False, quality, legs),
                                        "sharp": (h, age, pain, i, trend, eases, PainQuality.SHARP, legs),
                                        "more leg symptoms": (
                                            h,
                                            age,
                                            pain,
                                            i,
                                            trend,
                                            eases,
                                            quality,
                                            _later(LEG_ORDER, legs, 1),
                                        ),
                                    }
                                    for name, there in neighbours.items():
                                        if there[2] > 10 or there[3] >= len(GRID_HOURS):
                                            continue
                                        if level(*there) < level(*here):
                                            drops.append((name, here))
    assert not drops, f"{len(drops)} worse answers lowered the level, e.g. {drops[:3]}"
