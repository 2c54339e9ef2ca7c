"""The rule registry against TRIAGE.md: every rule on its positive and nearest negative case, the level
boundaries, the cause detectors, plan recommendation and the registry itself."""

from __future__ import annotations

import dataclasses

import pytest

from backcare import rules
from backcare.models import CauseId, Level, TriageHistory
from backcare.plans import load_library
from tests.reports import make_report, rule_ids, triage

H = TriageHistory

# (rule id, case name, answers that differ from the normal baseline, history[, every rule that fires when
# the rule cannot fire alone]). The baseline answers every question; None below means not asked.
POSITIVE = [
    ("E1", "saddle numbness", {"saddle_numbness": True}, None),
    ("E2", "bladder or bowel change", {"bladder_or_bowel_change": True}, None),
    ("E3", "sexual dysfunction", {"sexual_dysfunction": True}, None),
    ("E4", "both legs", {"leg_symptoms": "both_legs"}, None),
    ("E5", "weakness getting worse", {"weakness_worsening": True}, None),
    ("E6", "major trauma", {"major_trauma": True}, None),
    ("E7", "chest pain", {"chest_pain": True}, None),
    ("E8", "collapse or tearing pain", {"collapse_or_tearing_pain": True}, None),
    ("E9", "cancer and numbness", {"history_of_cancer": True, "numbness": True}, None, ["E9", "U3", "R3"]),
    ("U1", "fever", {"fever_or_unwell": True}, None),
    ("U2", "weight loss", {"unexplained_weight_loss": True}, None),
    ("U3", "cancer history", {"history_of_cancer": True}, None),
    ("U4", "night pain", {"night_or_rest_pain": True}, None),
    ("U5", "cough or sneeze", {"worse_on_cough_or_sneeze": True}, None),
    ("U6", "osteoporosis or steroids", {"osteoporosis_or_steroids": True}, None),
    ("U7", "upper back pain", {"upper_back_pain": True}, None),
    ("U8", "lump or change of shape", {"back_shape_change": True}, None),
    ("U9", "pregnant with warning signs", {"pregnant": True, "pregnancy_warning_signs": True}, None, ["U9", "R9"]),
    ("R1", "sharp", {"pain_quality": "sharp"}, None),
    ("R1", "stabbing", {"pain_quality": "stabbing"}, None),
    ("R2", "one leg", {"leg_symptoms": "one_leg"}, None),
    ("R3", "numbness", {"numbness": True}, None),
    ("R3", "tingling", {"tingling": True}, None),
    ("R4", "weakness", {"weakness": True}, None),
    ("R5", "worse at 24 h", {"trend": "worse", "hours_since_workout": 24}, None),
    ("R5", "history: up 2 points at 30 h", {"pain_score": 3, "hours_since_workout": 30}, H(episode_pain_scores=(1,))),
    ("R6", "pain 1 after 72 h", {"pain_score": 1, "hours_since_workout": 72.5}, None),
    ("R7", "limits daily activities", {"limits_daily_activities": True}, None),
    ("R8", "pain 7", {"pain_score": 7}, None),
    ("R9", "pregnant, no warning signs", {"pregnant": True, "pregnancy_warning_signs": False}, None),
    ("R10", "age 17, pain over 48 h", {"age": 17, "hours_since_workout": 49, "pain_score": 0}, None),
    ("R10", "age 17, pain 4", {"age": 17, "pain_score": 4}, None, ["R10", "M1"]),
    ("R11", "age 65, pain 4", {"age": 65, "pain_score": 4}, None, ["R11", "M1"]),
    ("X1", "saddle numbness not asked", {"saddle_numbness": None}, None),
    ("X1", "pain score not asked", {"pain_score": None}, None),
    ("X1", "warning signs not asked when pregnant", {"pregnant": True}, None, ["R9", "X1"]),
    ("X2", "easing not asked", {"eases_with_movement": None}, None),
    ("X2", "fatigue not asked", {"persistent_fatigue": None}, None),
    ("M1", "pain 4", {"pain_score": 4}, None),
    ("M1", "pain 6", {"pain_score": 6}, None),
    ("M2", "pain 1 after 49 h", {"pain_score": 1, "hours_since_workout": 49}, None),
    ("M3", "does not ease, pain 1", {"eases_with_movement": False, "pain_score": 1}, None),
    ("M4", "third report in 28 days", {}, H(prior_reports_28d=2)),
    ("M5", "persistent fatigue", {"persistent_fatigue": True}, None),
]

NEAREST_NEGATIVE = [
    ("E1", "numbness elsewhere", {"numbness": True}, None),
    ("E2", "no bladder or bowel change", {"bladder_or_bowel_change": False}, None),
    ("E3", "no sexual dysfunction", {"sexual_dysfunction": False}, None),
    ("E4", "one leg", {"leg_symptoms": "one_leg"}, None),
    ("E5", "weakness not getting worse", {"weakness": True}, None),
    ("E6", "no trauma", {"major_trauma": False}, None),
    ("E7", "no chest pain", {"chest_pain": False}, None),
    ("E8", "no collapse", {"collapse_or_tearing_pain": False}, None),
    ("E9", "cancer, no nerve sign", {"history_of_cancer": True}, None),
    ("E9", "fever, no nerve sign", {"fever_or_unwell": True}, None),
    ("E9", "nerve signs, no cancer or fever", {"numbness": True, "leg_symptoms": "one_leg", "weakness": True}, None),
    ("E9", "cancer not asked, nerve sign", {"history_of_cancer": None, "tingling": True}, None),
    ("U1", "no fever", {"fever_or_unwell": False}, None),
    ("U2", "no weight loss", {"unexplained_weight_loss": False}, None),
    ("U3", "no cancer history", {"history_of_cancer": False}, None),
    ("U4", "no night pain", {"night_or_rest_pain": False}, None),
    ("U5", "no cough or sneeze pain", {"worse_on_cough_or_sneeze": False}, None),
    ("U6", "no osteoporosis or steroids", {"osteoporosis_or_steroids": False}, None),
    ("U7", "low back pain only", {"upper_back_pain": False}, None),
    ("U8", "no lump", {"back_shape_change": False}, None),
    ("U9", "pregnant, no warning signs", {"pregnant": True, "pregnancy_warning_signs": False}, None),
    ("U9", "pregnant, warning signs not asked", {"pregnant": True}, None),
    ("R1", "tightness", {"pain_quality": "tightness"}, None),
    ("R1", "stiffness", {"pain_quality": "stiffness"}, None),
    ("R2", "no leg symptoms", {"leg_symptoms": "none"}, None),
    ("R2", "both legs (an emergency, not R2)", {"leg_symptoms": "both_legs"}, None),
    ("R3", "saddle numbness (an emergency, not R3)", {"saddle_numbness": True}, None),
    ("R4", "weakness worsening only (E5)", {"weakness_worsening": True}, None),
    ("R5", "worse under 24 h", {"trend": "worse", "hours_since_workout": 23.9}, None),
    ("R5", "history: up only 1 point", {"pain_score": 2, "hours_since_workout": 30}, H(episode_pain_scores=(1,))),
    (
        "R5",
        "history: up 2 points under 24 h",
        {"pain_score": 3, "hours_since_workout": 23},
        H(episode_pain_scores=(1,)),
    ),
    ("R6", "pain 0 after 72 h", {"pain_score": 0, "hours_since_workout": 72.5}, None),
    ("R6", "pain 1 at exactly 72 h", {"pain_score": 1, "hours_since_workout": 72}, None),
    ("R7", "daily activities fine", {"limits_daily_activities": False}, None),
    ("R8", "pain 6", {"pain_score": 6}, None),
    ("R9", "not pregnant", {"pregnant": False}, None),
    ("R10", "age 18, pain 4", {"age": 18, "pain_score": 4}, None),
    ("R10", "age 17, pain 3 at 48 h", {"age": 17, "pain_score": 3, "hours_since_workout": 48}, None),
    ("R10", "age not known, pain 5", {"age": None, "pain_score": 5}, None),
    ("R11", "age 64, pain 4", {"age": 64, "pain_score": 4}, None),
    ("R11", "age 65, pain 3", {"age": 65, "pain_score": 3}, None),
    ("X1", "every question answered", {}, None),
    ("X1", "warning signs not asked when not pregnant", {"pregnant": False}, None),
    ("X1", "only the monitor questions not asked", {"eases_with_movement": None, "persistent_fatigue": None}, None),
    ("X2", "every question answered", {}, None),
    ("X2", "a refer question not asked", {"numbness": None}, None),
    ("M1", "pain 3", {"pain_score": 3}, None),
    ("M1", "pain 7 (R8 instead)", {"pain_score": 7}, None),
    ("M2", "pain 0 after 49 h", {"pain_score": 0, "hours_since_workout": 49}, None),
    ("M2", "pain 1 at exactly 48 h", {"pain_score": 1, "hours_since_workout": 48}, None),
    ("M3", "does not ease, pain 0", {"eases_with_movement": False, "pain_score": 0}, None),
    ("M4", "second report in 28 days", {}, H(prior_reports_28d=1)),
    ("M4", "third report but no pain now", {"pain_score": 0}, H(prior_reports_28d=2)),
    ("M5", "no fatigue", {"persistent_fatigue": False}, None),
]


def case_id(case) -> str:
    return f"{case[0]}-{case[1]}"


@pytest.mark.parametrize(
    "rule_id, _name, answers, history, fired", [(*c, None)[:5] for c in POSITIVE], ids=map(case_id, POSITIVE)
)
def test_rule_fires_on_its_own_positive_case(rule_id, _name, answers, history, fired):
    result = triage(history, **answers)
    assert rule_ids(result) == (fired or [rule_id])
    assert result.level is rules.RULES_BY_ID[rule_id].level


@pytest.mark.parametrize("rule_id, _name, answers, history", NEAREST_NEGATIVE, ids=map(case_id, NEAREST_NEGATIVE))
def test_rule_stays_silent_on_its_nearest_negative_case(rule_id, _name, answers, history):
    assert rule_id not in rule_ids(triage(history, **answers))


def test_every_rule_has_a_positive_and_a_negative_case():
    ids = {rule.id for rule in rules.RULES}
    assert {case[0] for case in POSITIVE} == ids
    assert {case[0] for case in NEAREST_NEGATIVE} == ids


def test_the_normal_baseline_fires_nothing():
    result = triage()
    assert (result.level, result.findings, result.causes, result.plans) == (Level.NORMAL, (), (), ())


# --- level boundaries ------------------------------------------------------------------------

BOUNDARIES = [
    ("pain 3 is mild", {"pain_score": 3}, Level.NORMAL),
    ("pain 4 is moderate", {"pain_score": 4}, Level.MONITOR),
    ("pain 6 is moderate", {"pain_score": 6}, Level.MONITOR),
    ("pain 7 is severe", {"pain_score": 7}, Level.REFER),
    ("worse just under 24 h", {"trend": "worse", "hours_since_workout": 23.99}, Level.NORMAL),
    ("worse at 24 h", {"trend": "worse", "hours_since_workout": 24}, Level.REFER),
    ("sore at 48 h", {"hours_since_workout": 48}, Level.NORMAL),
    ("sore just over 48 h", {"hours_since_workout": 48.01}, Level.MONITOR),
    ("sore at 72 h", {"hours_since_workout": 72}, Level.MONITOR),
    ("sore just over 72 h", {"hours_since_workout": 72.01}, Level.REFER),
    ("pain-free just over 72 h", {"hours_since_workout": 100, "pain_score": 0}, Level.NORMAL),
    ("age 17, pain 3", {"age": 17, "pain_score": 3}, Level.NORMAL),
    ("age 17, pain 4", {"age": 17, "pain_score": 4}, Level.REFER),
    ("age 18, pain 4", {"age": 18, "pain_score": 4}, Level.MONITOR),
    ("age 17, sore at 48 h", {"age": 17, "hours_since_workout": 48}, Level.NORMAL),
    ("age 17, sore just over 48 h", {"age": 17, "hours_since_workout": 48.01}, Level.REFER),
    ("age 18, sore just over 48 h", {"age": 18, "hours_since_workout": 48.01}, Level.MONITOR),
    ("age 64, pain 4", {"age": 64, "pain_score": 4}, Level.MONITOR),
    ("age 65, pain 3", {"age": 65, "pain_score": 3}, Level.NORMAL),
    ("age 65, pain 4", {"age": 65, "pain_score": 4}, Level.REFER),
    ("age 72, pain 5 (the reviewer's case)", {"age": 72, "pain_score": 5}, Level.REFER),
]


@pytest.mark.parametrize("_name, answers, level", BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_level_boundaries_on_both_sides(_name, answers, level):
    assert triage(**answers).level is level


def test_without_history_a_rise_in_pain_cannot_be_seen():
    assert "R5" not in rule_ids(triage(pain_score=3, hours_since_workout=30))


# --- result shape ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers, history, level",
    [
        ({"pain_score": 5, "pain_quality": "sharp", "chest_pain": True}, None, Level.EMERGENCY),
        ({"pain_score": 5, "fever_or_unwell": True}, None, Level.URGENT),
        ({"pain_score": 5, "leg_symptoms": "one_leg"}, H(prior_reports_28d=3), Level.REFER),
        ({"hours_since_workout": 60, "persistent_fatigue": True}, None, Level.MONITOR),
    ],
)
def test_level_is_the_highest_finding_level(answers, history, level):
    result = triage(history, **answers)
    assert len(result.findings) >= 2
    assert result.level is level is Level.highest(f.level for f in result.findings)


def test_findings_carry_their_rule_id_level_summary_and_source():
    finding = triage(pain_score=7).findings[0]
    rule = rules.RULES_BY_ID["R8"]
    assert (finding.rule_id, finding.level, finding.summary, finding.source) == (
        rule.id,
        rule.level,
        rule.summary,
        rule.source,
    )


@pytest.mark.parametrize("level", list(Level))
def test_advice_is_the_action_of_the_level(level):
    answers = {
        Level.NORMAL: {},
        Level.MONITOR: {"pain_score": 5},
        Level.REFER: {"pain_score": 8},
        Level.URGENT: {"history_of_cancer": True},
        Level.EMERGENCY: {"saddle_numbness": True},
    }[level]
    result = triage(**answers)
    assert result.level is level
    assert result.advice.startswith(rules.ACTIONS[level].format(number=rules.DEFAULT_EMERGENCY_NUMBER))


def test_result_carries_client_id_and_rules_version():
    result = triage(client_id="C-0042")
    assert (result.client_id, result.rules_version) == ("C-0042", rules.RULES_VERSION)


# --- causes ----------------------------------------------------------------------------------

# (cause, case name, context, other answers, history, detected?)
CAUSE_CASES = [
    ("form", "deadlift with more load", {"exercises": ["Deadlift"], "load_increased": True}, {}, None, True),
    ("form", "squat with form breakdown", {"exercises": ["back squat"], "form_breakdown_seen": True}, {}, None, True),
    ("form", "overhead press that is new", {"exercises": ["overhead press"], "new_exercise": True}, {}, None, True),
    ("form", "curl with more load", {"exercises": ["bicep curl"], "load_increased": True}, {}, None, False),
    ("form", "deadlift with nothing changed", {"exercises": ["deadlift"]}, {}, None, False),
    (
        "form",
        "single-leg RDL with more load",
        {"exercises": ["Single-leg RDL"], "load_increased": True},
        {},
        None,
        True,
    ),
    ("form", "hurdle hops are not an RDL", {"exercises": ["hurdle hops"], "load_increased": True}, {}, None, False),
    ("form", "a plank is not a loaded lift", {"exercises": ["plank"], "load_increased": True}, {}, None, False),
    (
        "form",
        "a bodyweight squat does not load the spine",
        {"exercises": ["air squat"], "load_increased": True},
        {},
        None,
        False,
    ),
    ("core", "1 core session a week", {"core_sessions_per_week": 1}, {}, None, True),
    ("core", "2 core sessions a week", {"core_sessions_per_week": 2}, {}, None, False),
    ("core", "core sessions unknown", {}, {}, None, False),
    ("posterior_chain", "weak glutes", {"glute_or_hamstring_weakness": True}, {}, None, True),
    ("posterior_chain", "sits 6 h", {"sitting_hours_per_day": 6}, {}, None, True),
    ("posterior_chain", "sits 5.5 h", {"sitting_hours_per_day": 5.5}, {}, None, False),
    ("warm_up", "4.5 min warm-up", {"warmup_minutes": 4.5}, {}, None, True),
    ("warm_up", "5 min warm-up", {"warmup_minutes": 5}, {}, None, False),
    ("warm_up", "warm-up unknown", {}, {}, None, False),
    ("load", "more volume, no rest day", {"volume_increased": True, "rest_days_last_7": 0}, {}, None, True),
    ("load", "more volume, one rest day", {"volume_increased": True, "rest_days_last_7": 1}, {}, None, False),
    ("load", "no rest day, nothing increased", {"rest_days_last_7": 0}, {}, None, False),
    ("load", "persistent fatigue", {}, {"persistent_fatigue": True}, None, True),
    ("load", "load ratio 1.5", {}, {}, H(acute_chronic_ratio=1.5), True),
    ("load", "load ratio 1.49", {}, {}, H(acute_chronic_ratio=1.49), False),
    ("recovery", "no cool-down", {"cooldown_done": False}, {}, None, True),
    ("recovery", "cool-down not asked", {"cooldown_done": None}, {}, None, False),
    ("recovery", "cool-down done", {"cooldown_done": True}, {}, None, False),
    ("recovery", "sleeps 6.9 h", {"sleep_hours": 6.9}, {}, None, True),
    ("recovery", "sleeps 7 h", {"sleep_hours": 7}, {}, None, False),
    ("posture", "posture concern", {"posture_concern": True}, {}, None, True),
    ("posture", "sits 8 h", {"sitting_hours_per_day": 8}, {}, None, True),
    ("posture", "sits 5.9 h", {"sitting_hours_per_day": 5.9}, {}, None, False),
]


@pytest.mark.parametrize(
    "cause, _name, context, answers, history, detected", CAUSE_CASES, ids=map(case_id, CAUSE_CASES)
)
def test_cause_detector_on_positive_and_negative_cases(cause, _name, context, answers, history, detected):
    result = triage(history, context=context, **answers)
    found = {c.cause: c.evidence for c in result.causes}
    assert (CauseId(cause) in found) is detected
    if detected:
        assert all(isinstance(e, str) and e for e in found[CauseId(cause)])


def test_every_cause_has_positive_and_negative_cases():
    assert {(c[0], c[-1]) for c in CAUSE_CASES} == {(cause.value, d) for cause in CauseId for d in (True, False)}


def test_no_context_gives_no_context_evidence():
    assert triage().causes == ()


def test_causes_are_ranked_by_evidence_count_ties_in_triage_order():
    context = {
        "warmup_minutes": 2,
        "cooldown_done": False,
        "sleep_hours": 5,
        "core_sessions_per_week": 0,
        "sitting_hours_per_day": 9,
        "posture_concern": True,
    }
    result = triage(context=context)
    assert [(c.cause.value, len(c.evidence)) for c in result.causes] == [
        ("recovery", 2),
        ("posture", 2),
        ("core", 1),
        ("posterior_chain", 1),
        ("warm_up", 1),
    ]
    assert result.plans == tuple(c.cause for c in result.causes)


@pytest.mark.parametrize(
    "answers, plans_expected",
    [
        ({}, True),
        ({"pain_score": 5}, True),
        ({"pain_score": 8}, False),
        ({"fever_or_unwell": True}, False),
        ({"chest_pain": True}, False),
    ],
)
def test_plans_follow_causes_below_refer_and_are_empty_at_refer_and_above(answers, plans_expected):
    result = triage(context={"warmup_minutes": 0, "cooldown_done": False}, **answers)
    assert result.causes, "the causes are listed at every level"
    assert result.plans == (tuple(c.cause for c in result.causes) if plans_expected else ())


# --- registry --------------------------------------------------------------------------------

# TRIAGE.md's rules table: id -> (level, sources).
TRIAGE_TABLE = {
    "E1": ("emergency", {"NHS-999", "CES-CARD"}),
    "E2": ("emergency", {"NHS-999", "CES-CARD"}),
    "E3": ("emergency", {"CES-CARD"}),
    "E4": ("emergency", {"NHS-999"}),
    "E5": ("emergency", {"CKS"}),
    "E6": ("emergency", {"NHS-999"}),
    "E7": ("emergency", {"NHS-999"}),
    "E8": ("emergency", {"NHS-AAA"}),
    "E9": ("emergency", {"NICE-MSCC", "CKS"}),
    "U1": ("urgent", {"NHS-URGENT", "CKS"}),
    "U2": ("urgent", {"NHS-URGENT", "CKS"}),
    "U3": ("urgent", {"CKS"}),
    "U4": ("urgent", {"NHS-URGENT"}),
    "U5": ("urgent", {"NHS-URGENT"}),
    "U6": ("urgent", {"CKS"}),
    "U7": ("urgent", {"NHS-URGENT", "CKS"}),
    "U8": ("urgent", {"NHS-URGENT"}),
    "U9": ("urgent", {"NHS-PREGNANCY"}),
    "R1": ("refer", {"ARTICLE"}),
    "R2": ("refer", {"ARTICLE"}),
    "R3": ("refer", {"ARTICLE"}),
    "R4": ("refer", {"ARTICLE"}),
    "R5": ("refer", {"ARTICLE", "NPRS"}),
    "R6": ("refer", {"ARTICLE"}),
    "R7": ("refer", {"ARTICLE", "NHS-ROUTINE"}),
    "R8": ("refer", {"NPRS", "NHS-ROUTINE"}),
    "R9": ("refer", {"NHS-PREGNANCY"}),
    "R10": ("refer", {"NICE-NG59", "CKS"}),
    "R11": ("refer", {"CKS"}),
    "X1": ("refer", {"NICE-NG59"}),
    "M1": ("monitor", {"NPRS"}),
    "M2": ("monitor", {"ARTICLE"}),
    "M3": ("monitor", {"ARTICLE"}),
    "M4": ("monitor", {"ARTICLE"}),
    "M5": ("monitor", {"ARTICLE"}),
    "X2": ("monitor", {"ARTICLE"}),
}
TRIAGE_SOURCES = {
    "ARTICLE",
    "NHS-999",
    "NHS-URGENT",
    "NHS-ROUTINE",
    "NHS-AAA",
    "NHS-PREGNANCY",
    "NICE-MSCC",
    "CES-CARD",
    "CKS",
    "NICE-NG59",
    "NPRS",
    "FOSTER",
    "GABBETT",
}
# TRIAGE.md's emergency actions table: the rules that share each action.
EMERGENCY_ACTION_GROUPS = ({"E1", "E2", "E3", "E4", "E5", "E9"}, {"E6"}, {"E7", "E8"})


def test_rule_ids_are_unique():
    ids = [rule.id for rule in rules.RULES]
    assert len(ids) == len(set(ids)) == len(TRIAGE_TABLE)


def test_every_rule_source_is_one_of_triage_md_short_names():
    assert set(rules.SOURCES) <= TRIAGE_SOURCES
    for rule in rules.RULES:
        assert set(rule.sources) <= set(rules.SOURCES), rule.id


def test_every_rule_level_and_source_matches_triage_md_table():
    assert {rule.id: (rule.level.value, set(rule.sources)) for rule in rules.RULES} == TRIAGE_TABLE


def test_every_rule_has_words_for_the_trainer():
    for rule in rules.RULES:
        assert rule.summary.strip() and rule.detail.strip(), rule.id


def test_every_level_has_an_action_and_every_cause_a_detector_and_label():
    assert set(rules.ACTIONS) == set(Level)
    assert list(rules.CAUSE_DETECTORS) == list(CauseId)
    assert set(rules.CAUSE_LABELS) == set(CauseId)


def test_every_cause_has_a_plan_in_the_library():
    library = load_library()
    assert set(library.plans) == set(CauseId)


def test_rules_version_is_stable_for_the_same_registry():
    assert rules._registry_fingerprint() == rules.RULES_VERSION


def _changed(rule_id: str, **change) -> tuple[rules.Rule, ...]:
    return tuple(dataclasses.replace(r, **change) if r.id == rule_id else r for r in rules.RULES)


@pytest.mark.parametrize(
    "name, registry",
    [
        ("summary", lambda: _changed("M1", summary="Moderate pain")),
        ("level", lambda: _changed("M5", level=Level.REFER)),
        ("source", lambda: _changed("R8", source="NPRS")),
        ("condition", lambda: _changed("R8", condition=lambda r, h: r.pain_score >= 8)),
        ("a rule removed", lambda: rules.RULES[:-1]),
    ],
)
def test_rules_version_changes_when_a_rule_changes(monkeypatch, name, registry):
    monkeypatch.setattr(rules, "RULES", registry())
    assert rules._registry_fingerprint() != rules.RULES_VERSION


def _catalogue_with_lunges_as_squats():
    from backcare.catalogue import DEFAULT_PATH, parse_catalogue

    changed = DEFAULT_PATH.read_text(encoding="utf-8").replace(
        'name = "Lunge"\nspellings = ["lunges", "walking lunge", "reverse lunge", "forward lunge"]\npattern = "lunge"\n'
        "loads_spine = false",
        'name = "Lunge"\nspellings = ["lunges", "walking lunge", "reverse lunge", "forward lunge"]\npattern = "squat"\n'
        "loads_spine = true",
    )
    assert changed != DEFAULT_PATH.read_text(encoding="utf-8")
    return parse_catalogue(changed)


@pytest.mark.parametrize(
    "name, value",
    [
        ("LOAD_RATIO_SPIKE", lambda: 1.3),
        ("FORM_PATTERNS", lambda: frozenset({"hinge"})),
        ("CATALOGUE", _catalogue_with_lunges_as_squats),
    ],
)
def test_rules_version_changes_when_a_cause_threshold_or_the_catalogue_changes(monkeypatch, name, value):
    monkeypatch.setattr(rules, name, value())
    assert rules._registry_fingerprint() != rules.RULES_VERSION


def test_every_emergency_rule_has_the_action_of_triage_md_table():
    assert set(rules.EMERGENCY_ACTIONS) == set().union(*EMERGENCY_ACTION_GROUPS)
    for group in EMERGENCY_ACTION_GROUPS:
        assert len({rules.EMERGENCY_ACTIONS[rule_id] for rule_id in group}) == 1, group
    assert len({rules.EMERGENCY_ACTIONS[min(group)] for group in EMERGENCY_ACTION_GROUPS}) == 3
    assert all(rules.EMERGENCY_ACTIONS.values())


@pytest.mark.parametrize(
    "answers, number, expected",
    [
        ({"saddle_numbness": True}, "999", [rules.NERVE_EMERGENCY]),
        ({"major_trauma": True}, "112", [rules.DO_NOT_MOVE]),
        ({"chest_pain": True, "collapse_or_tearing_pain": True}, "911", [rules.STAY_WITH_THEM]),
        ({"chest_pain": True, "saddle_numbness": True}, "999", [rules.NERVE_EMERGENCY, rules.STAY_WITH_THEM]),
    ],
)
def test_an_emergency_result_carries_its_rules_own_actions_and_the_number_is_a_setting(answers, number, expected):
    result = triage(**answers)
    assert list(rules.emergency_actions(result)) == expected
    advice = rules.emergency_advice(result, number)
    assert f"call {number} now" in advice and all(action in advice for action in expected)
    assert "999" in result.advice  # the stored advice uses the default number
    assert "go to A&E" not in result.advice  # never an invitation to get there on their own


def test_the_creep_2_3_4_fires_r5_by_the_lowest_score_of_the_episode():
    assert "R5" not in rule_ids(triage(H(episode_pain_scores=(2,)), pain_score=3, hours_since_workout=30))
    assert "R5" in rule_ids(triage(H(episode_pain_scores=(2, 3)), pain_score=4, hours_since_workout=30))
    assert "R5" not in rule_ids(triage(H(episode_pain_scores=(3,)), pain_score=4, hours_since_workout=30))
    assert "R5" not in rule_ids(triage(H(episode_pain_scores=(2, 3)), pain_score=4, hours_since_workout=23))


def test_x1_and_x2_name_what_was_not_asked_and_the_result_lists_it_in_registry_order():
    result = triage(pain_score=None, saddle_numbness=None, persistent_fatigue=None)
    assert result.not_asked == ("saddle_numbness", "pain_score", "persistent_fatigue")
    x1, x2 = (f for f in result.findings if f.rule_id in ("X1", "X2"))
    assert x1.summary == "Not asked: numbness in the saddle area, pain score"
    assert x2.summary == "Not asked: ongoing soreness, tiredness or falling performance"
    assert result.level is Level.REFER and result.plans == ()


def test_a_report_with_nothing_asked_is_refer_and_names_every_question():
    from backcare import questions
    from backcare.models import TriageReport

    result = rules.evaluate(TriageReport())
    assert result.level is Level.REFER
    assert result.not_asked == tuple(q.field for q in questions.QUESTIONS if q.asked_when is None)


def test_findings_for_lists_the_rules_that_fire():
    assert [r.id for r in rules.findings_for(make_report(pain_score=8, numbness=True))] == ["R3", "R8"]


@pytest.mark.parametrize(
    "answers, history",
    [
        ({}, None),
        (
            {"pain_score": 5, "context": {"exercises": ["deadlift"], "load_increased": True, "sleep_hours": 6}},
            H(acute_chronic_ratio=1.8),
        ),
        ({"chest_pain": True, "pain_quality": "sharp", "context": {"warmup_minutes": 0}}, None),
    ],
)
def test_results_equal_their_validated_copy(answers, history):
    from backcare.models import TriageResult

    result = triage(history, **answers)
    copy = TriageResult.model_validate(result.model_dump())
    assert copy == result and copy.model_dump_json() == result.model_dump_json()
    assert result.model_fields_set == copy.model_fields_set
