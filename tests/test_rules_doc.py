"""docs/RULES.md is generated from the registry, says everything a clinician needs, and is never stale."""

from __future__ import annotations

from backcare import rules
from backcare.cli.triage import default_rules_doc_path
from backcare.models import CauseId, Level
from backcare.rulesdoc import CAUSE_TRIGGERS, render_rules_markdown, rule_conditions
from tests.reports import run_cli


def test_committed_rules_doc_is_up_to_date():
    assert default_rules_doc_path().read_text(encoding="utf-8") == render_rules_markdown(), (
        "docs/RULES.md is stale: run `python -m backcare rules-doc`"
    )


def test_doc_shows_every_rule_with_its_level_words_condition_and_expanded_sources():
    page = render_rules_markdown()
    conditions = rule_conditions()
    for rule in rules.RULES:
        row = next(line for line in page.splitlines() if line.startswith(f"| {rule.id} | `"))
        assert f"`{rule.level.value}`" in row and rule.summary in row and rule.detail in row
        assert conditions[rule.id] in row
        for name in rule.sources:
            assert f"**{name}**: {rules.SOURCES[name]}" in page


def test_doc_shows_every_level_action_every_cause_and_the_rules_version():
    page = render_rules_markdown()
    assert rules.RULES_VERSION in page
    for level in Level:
        assert f"| `{level.value}` | {rules.ACTIONS[level].format(number='999')} |" in page
    for cause in CauseId:
        assert f"| `{cause.value}` | {rules.CAUSE_LABELS[cause]} |" in page
        assert all(trigger in page for trigger in CAUSE_TRIGGERS[cause])


def test_every_cause_detector_has_its_triggers_in_words():
    assert set(CAUSE_TRIGGERS) == set(rules.CAUSE_DETECTORS)


def test_conditions_are_read_for_every_rule():
    conditions = rule_conditions()
    assert set(conditions) == set(rules.RULES_BY_ID)
    assert conditions["R8"] == "(r.pain_score or 0) >= 7"
    assert conditions["E7"] == "yes('chest_pain')"  # the emergency action after the condition is not read as it
    assert conditions["R3"] == "yes('numbness', 'tingling')"


def test_doc_shows_the_emergency_actions_and_every_question_with_its_x_rule():
    page = render_rules_markdown()
    assert "| E1, E2, E3, E4, E5, E9 | " + rules.NERVE_EMERGENCY + " |" in page
    assert "| E6 | " + rules.DO_NOT_MOVE + " |" in page and "| E7, E8 | " + rules.STAY_WITH_THEM + " |" in page
    from backcare import questions

    for q in questions.QUESTIONS:
        assert f"| `{q.field}` | {q.step} |" in page


def test_rules_doc_check_fails_when_stale_and_passes_once_regenerated(tmp_path):
    path = tmp_path / "RULES.md"
    path.write_text(render_rules_markdown().replace("M5", "M6"), encoding="utf-8")
    stale = run_cli("rules-doc", "--check", "--output", str(path))
    assert stale.returncode == 1 and b"out of date" in stale.stderr

    assert run_cli("rules-doc", "--output", str(path)).returncode == 0
    assert path.read_text(encoding="utf-8") == render_rules_markdown()
    assert run_cli("rules-doc", "--check", "--output", str(path)).returncode == 0


def test_rules_doc_check_fails_when_the_file_is_missing(tmp_path):
    assert run_cli("rules-doc", "--check", "--output", str(tmp_path / "absent.md")).returncode == 1
