"""The triage rule registry and `evaluate()`: TRIAGE.md made executable. Pure, no I/O.

Rules are data: frozen records with an id, a level, the words the trainer sees, the source and a
pure condition over the report and the client's history. The evaluator collects the findings whose
condition holds; the result's level is the highest finding's level.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import operator
from collections.abc import Callable
from dataclasses import dataclass

from backcare import questions
from backcare.catalogue import FORM_PATTERNS, load_catalogue
from backcare.models import (
    NO_HISTORY,
    CauseFinding,
    CauseId,
    Finding,
    LegSymptoms,
    Level,
    PainQuality,
    SessionContext,
    Trend,
    TriageHistory,
    TriageReport,
    TriageResult,
)

# Short names of TRIAGE.md's sources; a rule may cite only these.
SOURCES: dict[str, str] = {
    "ARTICLE": "Back pain after a workout: normal soreness, red flags and seven common causes (reference article)",
    "NHS-999": "NHS back-pain guidance: when to call 999 or go to A&E",
    "NHS-URGENT": "NHS back-pain guidance: when to get an urgent GP appointment or call NHS 111",
    "NHS-ROUTINE": "NHS back-pain guidance: when to see a GP",
    "NHS-AAA": "NHS guidance on abdominal aortic aneurysm: sudden severe belly or back pain with fainting or "
    "collapse is a 999 call",
    "NHS-PREGNANCY": "NHS guidance on back pain in pregnancy: pain in waves, bleeding, fluid, fever or pain passing "
    "urine means calling the midwife or maternity unit now",
    "NICE-MSCC": "NICE guideline NG234: spinal metastases and metastatic spinal cord compression",
    "CES-CARD": "Cauda equina syndrome warning card used across NHS trusts",
    "CKS": "NICE Clinical Knowledge Summaries: red flags for serious spinal pathology",
    "NICE-NG59": "NICE guideline NG59: low back pain and sciatica in over 16s",
    "NPRS": "Numeric pain rating scale 0-10 (mild 1-3, moderate 4-6, severe 7-10; 2 points is a meaningful change)",
    "FOSTER": "Foster 2001 / 1998: session-RPE training load, monotony and strain",
    "GABBETT": "Gabbett 2016: acute:chronic workload ratio (a load-spike indicator, not an injury prediction)",
}

Condition = Callable[[TriageReport, TriageHistory], bool]


# What the screen says after "Call <number> now" for an emergency (TRIAGE.md's emergency actions).
NERVE_EMERGENCY = (
    "Suspected pressure on the spinal nerves. Take them to the emergency department now; they must "
    "not drive themselves. Give them the warning card to show when they arrive."
)
DO_NOT_MOVE = (
    "Do not move them if they are lying down or cannot move easily. Keep them still and warm until help arrives."
)
STAY_WITH_THEM = (
    "Sit or lie them down and stay with them. Nothing to eat or drink. They must not drive or walk to the hospital."
)
DEFAULT_EMERGENCY_NUMBER = "999"  # the deployment's number is a setting of the screen (112 and 911 are common)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    level: Level
    summary: str
    detail: str
    source: str
    condition: Condition
    action: str = ""  # emergency rules: what to do while help comes (TRIAGE.md's emergency actions)
    family: questions.Family | None = None  # X1 / X2: fires for the not-asked questions of this family

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.source.split(","))


# Not asked counts as no evidence in every rule, as its mildest answer would (a pain score or hours not asked
# reads as 0 through `or 0`, a yes/no as no); X1 and X2 catch it instead.
@dataclass(frozen=True)
class YesCondition:
    """A condition that fires when any of these yes/no questions is answered yes; a class (not a closure) so
    that evaluate() can read its fields."""

    yes_fields: tuple[str, ...]
    __name__ = "yes"  # what a plain condition function would show in the generated rules page

    def __call__(self, r: TriageReport, h: TriageHistory) -> bool:
        return any(getattr(r, field) for field in self.yes_fields)


def yes(*fields: str) -> YesCondition:
    """Fires when any of these yes/no questions is answered yes. Most rules are this; evaluate() checks them
    all at once, so a report with no yes answer costs one look, not one call per rule."""
    return YesCondition(fields)


def nerve_sign(r: TriageReport) -> bool:
    """A new nerve sign: symptoms down a leg, numbness, tingling or weakness."""
    return r.leg_symptoms in _LEGS_AFFECTED or bool(r.numbness or r.tingling or r.weakness)


_LEGS_AFFECTED = frozenset({LegSymptoms.ONE_LEG, LegSymptoms.BOTH_LEGS})


def not_asked_in(r: TriageReport, family: questions.Family) -> tuple[str, ...]:
    """The not-asked questions of one family (X1 or X2), in registry order."""
    return tuple(f for f in questions.not_asked(r.__dict__) if questions.BY_FIELD[f].family is family)


E, U, R, M = Level.EMERGENCY, Level.URGENT, Level.REFER, Level.MONITOR

RULES: tuple[Rule, ...] = (
    Rule(
        "E1",
        E,
        "Numbness or pins and needles in the saddle area",
        "Loss of feeling around the groin, genitals, inner thighs, buttocks or back passage can mean the "
        "nerves at the base of the spine are being squeezed (cauda equina syndrome).",
        "NHS-999, CES-CARD",
        yes("saddle_numbness"),
        NERVE_EMERGENCY,
    ),
    Rule(
        "E2",
        E,
        "New bladder or bowel trouble",
        "New difficulty passing or holding urine, leaking, not feeling a full bladder or losing bowel "
        "control can mean the nerves at the base of the spine are being squeezed.",
        "NHS-999, CES-CARD",
        yes("bladder_or_bowel_change"),
        NERVE_EMERGENCY,
    ),
    Rule(
        "E3",
        E,
        "New loss of genital feeling or sexual function",
        "A new change in genital sensation or sexual function is one of the cauda equina warning signs.",
        "CES-CARD",
        yes("sexual_dysfunction"),
        NERVE_EMERGENCY,
    ),
    Rule(
        "E4",
        E,
        "Pain, numbness, tingling or weakness in both legs",
        "Symptoms spreading into both legs at once point to pressure on several nerve roots.",
        "NHS-999",
        lambda r, h: r.leg_symptoms == LegSymptoms.BOTH_LEGS,
        NERVE_EMERGENCY,
    ),
    Rule(
        "E5",
        E,
        "Leg weakness that is getting worse",
        "Weakness that is progressing, such as a new foot drop, needs same-day assessment.",
        "CKS",
        yes("weakness_worsening"),
        NERVE_EMERGENCY,
    ),
    Rule(
        "E6",
        E,
        "Pain started with a serious fall, accident or impact",
        "Back pain that began with major trauma may mean a fracture and must be checked before any movement.",
        "NHS-999",
        yes("major_trauma"),
        DO_NOT_MOVE,
    ),
    Rule(
        "E7",
        E,
        "Chest pain",
        "Chest pain alongside back pain can come from the heart or a major blood vessel.",
        "NHS-999",
        yes("chest_pain"),
        STAY_WITH_THEM,
    ),
    Rule(
        "E8",
        E,
        "Collapse, or sudden tearing pain in the back and belly",
        "Fainting or collapsing, or a sudden severe tearing pain through the back and belly, can come from a "
        "major blood vessel (an aortic aneurysm) and needs an ambulance.",
        "NHS-AAA",
        yes("collapse_or_tearing_pain"),
        STAY_WITH_THEM,
    ),
    Rule(
        "E9",
        E,
        "Cancer or fever together with a new nerve sign",
        "Known cancer or a fever with a new nerve sign (symptoms down a leg, numbness, tingling or weakness) can "
        "mean pressure on the spinal cord or nerves and must be assessed the same day.",
        "NICE-MSCC, CKS",
        lambda r, h: bool(r.history_of_cancer or r.fever_or_unwell) and nerve_sign(r),
        NERVE_EMERGENCY,
    ),
    Rule(
        "U1",
        U,
        "Fever or feeling generally unwell",
        "A high temperature or feeling unwell with back pain can be a sign of infection.",
        "NHS-URGENT, CKS",
        yes("fever_or_unwell"),
    ),
    Rule(
        "U2",
        U,
        "Weight loss without a reason",
        "Losing weight without trying, alongside back pain, needs a doctor's check.",
        "NHS-URGENT, CKS",
        yes("unexplained_weight_loss"),
    ),
    Rule(
        "U3",
        U,
        "History of cancer",
        "New back pain in someone who has had cancer needs a doctor's check.",
        "CKS",
        yes("history_of_cancer"),
    ),
    Rule(
        "U4",
        U,
        "Pain at night or at rest",
        "Pain that rest does not ease, or that is worse at night, does not behave like muscle soreness.",
        "NHS-URGENT",
        yes("night_or_rest_pain"),
    ),
    Rule(
        "U5",
        U,
        "Worse when coughing or sneezing",
        "Pain that sharpens on coughing or sneezing can come from a nerve root rather than a muscle.",
        "NHS-URGENT",
        yes("worse_on_cough_or_sneeze"),
    ),
    Rule(
        "U6",
        U,
        "Osteoporosis or long-term steroids, with new pain after loading",
        "Weaker bones raise the chance that new pain after lifting is a fracture.",
        "CKS",
        yes("osteoporosis_or_steroids"),
    ),
    Rule(
        "U7",
        U,
        "Pain in the upper back",
        "Pain high in the back, between the shoulder blades, is less often muscular than low back pain and "
        "needs a doctor's check.",
        "NHS-URGENT, CKS",
        yes("upper_back_pain"),
    ),
    Rule(
        "U8",
        U,
        "A lump or a change in the shape of the back",
        "A new lump, swelling or change in the shape of the back needs a doctor's check.",
        "NHS-URGENT",
        yes("back_shape_change"),
    ),
    Rule(
        "U9",
        U,
        "Pregnancy warning signs",
        "Pain coming and going in waves may be labour; bleeding, leaking fluid, a fever or pain passing urine "
        "also mean calling the midwife or maternity unit now.",
        "NHS-PREGNANCY",
        lambda r, h: r.pregnant and r.pregnancy_warning_signs,
    ),
    Rule(
        "R1",
        R,
        "Sharp or stabbing pain",
        "Muscle soreness is dull; sharp or stabbing pain suggests a strain, an irritated nerve or a disc problem.",
        "ARTICLE",
        lambda r, h: r.pain_quality in (PainQuality.SHARP, PainQuality.STABBING),
    ),
    Rule(
        "R2",
        R,
        "Pain running down one leg",
        "Pain that travels down a leg suggests an irritated nerve rather than a tired muscle.",
        "ARTICLE",
        lambda r, h: r.leg_symptoms == LegSymptoms.ONE_LEG,
    ),
    Rule(
        "R3",
        R,
        "Numbness or tingling",
        "Numbness or tingling are nerve signs, not part of normal soreness.",
        "ARTICLE",
        yes("numbness", "tingling"),
    ),
    Rule("R4", R, "Weakness", "Weakness is a nerve sign, not part of normal soreness.", "ARTICLE", yes("weakness")),
    Rule(
        "R5",
        R,
        "Getting worse a day or more after training",
        "Soreness builds during the first day and then eases; pain that worsens from 24 hours on, or is 2 or "
        "more points above the lowest score of this episode (a slow creep counts), is not following that course.",
        "ARTICLE, NPRS",
        lambda r, h: (
            (r.hours_since_workout or 0) >= 24
            and (
                r.trend == Trend.WORSE
                or (h.episode_pain_scores != () and (r.pain_score or 0) - min(h.episode_pain_scores) >= 2)
            )
        ),
    ),
    Rule(
        "R6",
        R,
        "Still hurting more than three days after training",
        "Normal soreness fades within a couple of days; pain lasting beyond 72 hours needs a professional look.",
        "ARTICLE",
        lambda r, h: (r.hours_since_workout or 0) > 72 and (r.pain_score or 0) >= 1,
    ),
    Rule(
        "R7",
        R,
        "Pain gets in the way of everyday movement",
        "Pain that stops normal daily activities is more than training soreness.",
        "ARTICLE, NHS-ROUTINE",
        yes("limits_daily_activities"),
    ),
    Rule(
        "R8",
        R,
        "Severe pain (7 or more out of 10)",
        "Severe pain is not explained by ordinary post-workout soreness.",
        "NPRS, NHS-ROUTINE",
        lambda r, h: (r.pain_score or 0) >= 7,
    ),
    Rule(
        "R9",
        R,
        "Pregnant, or gave birth in the last 6 weeks",
        "The midwife or a physiotherapist agrees any loading first.",
        "NHS-PREGNANCY",
        yes("pregnant"),
    ),
    Rule(
        "R10",
        R,
        "Under 18, with moderate pain or pain lasting over two days",
        "The adult guidance does not cover young people, and back pain in young athletes can be a stress "
        "fracture of the spine.",
        "NICE-NG59, CKS",
        lambda r, h: (
            r.age is not None and r.age < 18 and ((r.pain_score or 0) >= 4 or (r.hours_since_workout or 0) > 48)
        ),
    ),
    Rule(
        "R11",
        R,
        "65 or over, with moderate or worse pain",
        "New pain after loading at this age needs a fracture ruled out.",
        "CKS",
        lambda r, h: r.age is not None and r.age >= 65 and (r.pain_score or 0) >= 4,
    ),
    Rule(
        "X1",
        R,
        "Not asked",
        "Questions that can point to a problem needing a professional were not asked. A professional asks them "
        "before any loading.",
        "NICE-NG59",
        lambda r, h: not_asked_in(r, questions.Family.X1) != (),
        family=questions.Family.X1,
    ),
    Rule(
        "M1",
        M,
        "Moderate pain (4 to 6 out of 10)",
        "Moderate pain is worth training around and checking again within two days.",
        "NPRS",
        lambda r, h: 4 <= (r.pain_score or 0) <= 6,
    ),
    Rule(
        "M2",
        M,
        "Not faded after two days",
        "Soreness usually fades within a couple of days; recheck before the next hard session.",
        "ARTICLE",
        lambda r, h: 48 < (r.hours_since_workout or 0) <= 72 and (r.pain_score or 0) >= 1,
    ),
    Rule(
        "M3",
        M,
        "Does not ease with movement",
        "Muscle stiffness usually loosens once the client moves; pain that does not is worth watching.",
        "ARTICLE",
        lambda r, h: r.eases_with_movement is False and (r.pain_score or 0) >= 1,
    ),
    Rule(
        "M4",
        M,
        "Third back-pain report in four weeks",
        "Soreness that keeps coming back points to a training pattern to change, not a one-off.",
        "ARTICLE",
        lambda r, h: (r.pain_score or 0) >= 1 and h.prior_reports_28d >= 2,
    ),
    Rule(
        "M5",
        M,
        "Ongoing fatigue or falling performance",
        "Lasting soreness, tiredness or dropping performance are signs the body needs a break.",
        "ARTICLE",
        yes("persistent_fatigue"),
    ),
    Rule(
        "X2",
        M,
        "Not asked",
        "Questions that tell ordinary soreness from a problem to watch were not asked; ask them at the recheck.",
        "ARTICLE",
        lambda r, h: not_asked_in(r, questions.Family.X2) != (),
        family=questions.Family.X2,
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
# The emergency action of each emergency rule, by rule id.
EMERGENCY_ACTIONS: dict[str, str] = {rule.id: rule.action for rule in RULES if rule.level is E}


# --- contributing causes ---------------------------------------------------------------------

LOAD_RATIO_SPIKE = 1.5  # GABBETT: shown as a load-spike indicator, never as a prediction

# The exercise catalogue decides what is a loaded hinge, squat or overhead press (read once: a change to
# data/exercises.toml changes the rules version, like a change to a rule).
CATALOGUE = load_catalogue()


def _compound_lifts(ctx: SessionContext) -> list[str]:
    """The session's exercises that are a loaded hinge, squat or overhead press, as the trainer named them."""
    found = []
    for name in ctx.exercises:
        exercise = CATALOGUE.find(name)
        if exercise is not None and exercise.counts_for_form:
            found.append(name)
    return found


def _form(r: TriageReport, ctx: SessionContext | None, h: TriageHistory) -> list[str]:
    if ctx is None or not (ctx.form_breakdown_seen or ctx.load_increased or ctx.new_exercise):
        return []
    lifts = _compound_lifts(ctx)
    if not lifts:
        return []
    named = ", ".join(lifts)
    evidence = []
    if ctx.form_breakdown_seen:
        evidence.append(f"Form broke down during a compound lift ({named})")
    if ctx.load_increased:
        evidence.append(f"Load went up on a compound lift ({named})")
    if ctx.new_exercise:
        evidence.append(f"A new exercise alongside a compound lift ({named})")
    return evidence


def _core(r: TriageReport, ctx: SessionContext | None, h: TriageHistory) -> list[str]:
    if ctx is None or ctx.core_sessions_per_week is None or ctx.core_sessions_per_week >= 2:
        return []
    return [f"Core training {ctx.core_sessions_per_week}x a week (fewer than 2)"]


def _posterior_chain(r: TriageReport, ctx: SessionContext | None, h: TriageHistory) -> list[str]:
    if ctx is None:
        return []
    evidence = []
    if ctx.glute_or_hamstring_weakness:
        evidence.append("Weak or inactive glutes or hamstrings noticed")
    if ctx.sitting_hours_per_day is not None and ctx.sitting_hours_per_day >= 6:
        evidence.append(f"Sits {ctx.sitting_hours_per_day:g} h a day (6 or more)")
    return evidence


def _warm_up(r: TriageReport, ctx: SessionContext | None, h: TriageHistory) -> list[str]:
    if ctx is None or ctx.warmup_minutes is None or ctx.warmup_minutes >= 5:
        return []
    return [f"Warm-up of {ctx.warmup_minutes:g} min (under 5)"]


def _load(r: TriageReport, ctx: SessionContext | None, h: TriageHistory) -> list[str]:
    evidence = []
    if ctx is not None and ctx.rest_days_last_7 == 0:
        changes = [
            label
            for flag, label in (
                (ctx.load_increased, "load"),
                (ctx.volume_increased, "volume"),
                (ctx.new_exercise, "a new exercise"),
            )
            if flag
        ]
        if changes:
            evidence.append(f"More {' and '.join(changes)} with no rest day in the last 7 days")
    if r.persistent_fatigue:
        evidence.append("Ongoing soreness, fatigue or falling performance")
    if h.acute_chronic_ratio is not None and h.acute_chronic_ratio >= LOAD_RATIO_SPIKE:
        evidence.append(f"Last 7 days' training load is {h.acute_chronic_ratio:.2f}x the 28-day average (a load spike)")
    return evidence


def _recovery(r: TriageReport, ctx: SessionContext | None, h: TriageHistory) -> list[str]:
    if ctx is None:
        return []
    evidence = []
    if ctx.cooldown_done is False:
        evidence.append("No cool-down after the session")
    if ctx.sleep_hours is not None and ctx.sleep_hours < 7:
        evidence.append(f"Sleeping {ctx.sleep_hours:g} h a night (under 7)")
    return evidence


def _posture(r: TriageReport, ctx: SessionContext | None, h: TriageHistory) -> list[str]:
    if ctx is None:
        return []
    evidence = []
    if ctx.posture_concern:
        evidence.append("Posture concern noted")
    if ctx.sitting_hours_per_day is not None and ctx.sitting_hours_per_day >= 6:
        evidence.append(f"Sits {ctx.sitting_hours_per_day:g} h a day (6 or more)")
    return evidence


CauseDetector = Callable[[TriageReport, SessionContext | None, TriageHistory], list[str]]

CAUSE_DETECTORS: dict[CauseId, CauseDetector] = {
    CauseId.FORM: _form,
    CauseId.CORE: _core,
    CauseId.POSTERIOR_CHAIN: _posterior_chain,
    CauseId.WARM_UP: _warm_up,
    CauseId.LOAD: _load,
    CauseId.RECOVERY: _recovery,
    CauseId.POSTURE: _posture,
}

CAUSE_LABELS: dict[CauseId, str] = {
    CauseId.FORM: "Exercise form",
    CauseId.CORE: "Weak core",
    CauseId.POSTERIOR_CHAIN: "Posterior chain (glutes, hamstrings, hips)",
    CauseId.WARM_UP: "Skipped warm-up",
    CauseId.LOAD: "Too much load too soon",
    CauseId.RECOVERY: "Skipped recovery",
    CauseId.POSTURE: "Posture",
}


# --- what the trainer does next --------------------------------------------------------------

ACTIONS: dict[Level, str] = {
    Level.NORMAL: "Expected post-workout soreness. Keep training, give recovery advice and work on any causes below.",
    Level.MONITOR: "Train with changes: keep load off the sore area and check again within 24 to 48 hours.",
    Level.REFER: "Pause exercises that load the back and refer the client to a physiotherapist or doctor. "
    "Loading plans stay paused until a clinician records clearance.",
    Level.URGENT: "Stop back training today. The client should see a doctor within 24 hours "
    "(GP, urgent care or NHS 111).",
    Level.EMERGENCY: "Stop the session now. The client needs emergency care: call {number} now.",
}


def emergency_actions(result: TriageResult) -> tuple[str, ...]:
    """What to do while help comes, for each emergency finding (distinct, in registry order)."""
    actions = [EMERGENCY_ACTIONS[f.rule_id] for f in result.findings if f.rule_id in EMERGENCY_ACTIONS]
    return tuple(dict.fromkeys(a for a in actions if a))


def advice_for(level: Level, findings=(), number: str = DEFAULT_EMERGENCY_NUMBER) -> str:
    """The level's action in words, with the deployment's emergency number and, for an emergency, what
    to do while help comes (so a result never invites the client to get to hospital on their own)."""
    text = ACTIONS[level].format(number=number)
    if level is Level.EMERGENCY:
        actions = dict.fromkeys(EMERGENCY_ACTIONS[f.rule_id] for f in findings if f.rule_id in EMERGENCY_ACTIONS)
        text = " ".join([text, *(a for a in actions if a)])
    return text


def emergency_advice(result: TriageResult, number: str = DEFAULT_EMERGENCY_NUMBER) -> str:
    """A saved or computed result's advice again, with this deployment's emergency number."""
    return advice_for(result.level, result.findings, number)


# --- version ---------------------------------------------------------------------------------


def _registry_fingerprint() -> str:
    def code_of(fn: Callable) -> str:
        if hasattr(fn, "yes_fields"):
            return f"yes{fn.yes_fields}"
        try:
            return inspect.getsource(fn).strip()
        except (OSError, TypeError):  # source not available (frozen build): fall back to bytecode
            return fn.__code__.co_code.hex()

    payload = {
        "rules": [[r.id, r.level.value, r.summary, r.detail, r.source, code_of(r.condition)] for r in RULES],
        "actions_of_rules": [[r.id, r.action, r.family] for r in RULES],
        "questions": [[q.field, q.kind.value, q.family.value, q.asked_when] for q in questions.QUESTIONS],
        "causes": {c.value: code_of(fn) for c, fn in CAUSE_DETECTORS.items()},
        "catalogue": CATALOGUE.fingerprint,
        "form_patterns": sorted(FORM_PATTERNS),
        "ratio": LOAD_RATIO_SPIKE,
        "actions": {k.value: v for k, v in ACTIONS.items()},
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return f"rules-{digest[:12]}"


RULES_VERSION: str = _registry_fingerprint()


# --- evaluation ------------------------------------------------------------------------------


def findings_for(report: TriageReport, history: TriageHistory = NO_HISTORY) -> list[Rule]:
    return [rule for rule in RULES if rule.condition(report, history)]


# Findings are the same for every report a rule fires on: build each once (they are frozen). The X rules'
# findings name the questions not asked, so evaluate() builds those per report. The yes() rules are read
# together: one C-level look at their fields, and a rule is only visited when one of them is yes.
_ENTRIES = tuple(
    (
        index,
        rule.condition,
        rule.level.rank,
        rule.level,
        Finding(rule_id=rule.id, level=rule.level, summary=rule.summary, source=rule.source),
    )
    for index, rule in enumerate(RULES)
    if rule.family is None
)
_COMPILED: tuple[tuple[int, Condition, int, Level, Finding], ...] = tuple(
    entry for entry in _ENTRIES if not isinstance(entry[1], YesCondition)
)
_YES_RULES: tuple[tuple[tuple[str, ...], tuple[int, Condition, int, Level, Finding]], ...] = tuple(
    (entry[1].yes_fields, entry) for entry in _ENTRIES if isinstance(entry[1], YesCondition)
)
_YES_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(f for fields, _ in _YES_RULES for f in fields))
_YES_VALUES = operator.itemgetter(*_YES_FIELDS)
_NOT_ASKED_RULES: tuple[Rule, ...] = tuple(rule for rule in RULES if rule.family is not None)
_FAMILY_OF: dict[str, questions.Family] = {q.field: q.family for q in questions.QUESTIONS}
_ORDER = {rule.id: index for index, rule in enumerate(RULES)}


def not_asked_finding(rule: Rule, fields: tuple[str, ...]) -> Finding:
    """An X rule's finding, naming the questions not asked."""
    return Finding(
        rule_id=rule.id, level=rule.level, summary=f"{rule.summary}: {questions.labels(fields)}", source=rule.source
    )


def detect_causes(report: TriageReport, history: TriageHistory = NO_HISTORY) -> tuple[CauseFinding, ...]:
    """Causes with at least one piece of evidence, most evidence first (ties in TRIAGE.md's order)."""
    found = []
    for cause, detector in CAUSE_DETECTORS.items():
        evidence = detector(report, report.context, history)
        if evidence:
            found.append(CauseFinding(cause, tuple(evidence)))
    found.sort(key=lambda c: -len(c.evidence))  # stable: keeps TRIAGE.md's order on ties
    return tuple(found)


_RESULT_FIELDS = frozenset(TriageResult.model_fields)
_set_attribute = object.__setattr__


def _new_result(**values) -> TriageResult:
    """A TriageResult from values evaluate() built itself: what model_construct() does, without its
    per-call field bookkeeping (a third of evaluate()'s time). A test checks it equals a validated result."""
    result = object.__new__(TriageResult)
    _set_attribute(result, "__dict__", values)
    _set_attribute(result, "__pydantic_fields_set__", _RESULT_FIELDS)
    _set_attribute(result, "__pydantic_extra__", None)
    _set_attribute(result, "__pydantic_private__", None)
    return result


def evaluate(report: TriageReport, history: TriageHistory | None = None) -> TriageResult:
    """Triage one validated report, with the client's history where the caller has it."""
    history = history or NO_HISTORY
    fired = [entry for entry in _COMPILED if entry[1](report, history)]
    values = _YES_VALUES(report.__dict__)
    if True in values:
        said_yes = {field for field, value in zip(_YES_FIELDS, values, strict=True) if value}
        fired += [entry for fields, entry in _YES_RULES if not said_yes.isdisjoint(fields)]
        fired.sort()  # registry order
    findings = [entry[4] for entry in fired]
    rank, level = 0, Level.NORMAL
    for entry in fired:
        if entry[2] > rank:
            rank, level = entry[2], entry[3]
    not_asked = questions.not_asked(report.__dict__)
    if not_asked:
        for rule in _NOT_ASKED_RULES:
            named = tuple(f for f in not_asked if _FAMILY_OF[f] is rule.family)
            if named:
                findings.append(not_asked_finding(rule, named))
                if rule.level.rank > rank:
                    rank, level = rule.level.rank, rule.level
        findings.sort(key=lambda f: _ORDER[f.rule_id])  # registry order, as for every other result
    causes = detect_causes(report, history)
    plans = () if level.needs_professional else tuple(c.cause for c in causes)
    return _new_result(
        client_id=report.client_id,
        level=level,
        rules_version=RULES_VERSION,
        not_asked=not_asked,
        findings=tuple(findings),
        causes=causes,
        plans=plans,
        advice=_ADVICE[level] if level is not Level.EMERGENCY else advice_for(level, findings),
    )


_ADVICE: dict[Level, str] = {level: advice_for(level) for level in Level}
