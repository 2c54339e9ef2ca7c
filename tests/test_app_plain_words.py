"""Issue 14, words: the triage result says its findings in plain words first, with rule ids, sources and the
rules version behind a *Details* toggle; counts are singular or plural as they should be; hours and dates are
written for people; the history's timeline names no rule id or cause code."""

from __future__ import annotations

import re
from datetime import date, datetime

from backcare import store
from backcare.ui import words
from tests.app_helpers import answer_triage, button, make_world, no_exception, texts

RULE_ID = re.compile(r"\b[A-Z]{1,2}\d{1,2}\b")  # e.g. M1, U3, X1


def outside_details(at) -> str:
    """The page's text except what sits inside an expander."""
    inside = {str(el.value) for exp in at.expander for el in exp.markdown}
    return "\n".join(str(el.value) for el in at.markdown if str(el.value) not in inside) + "\n".join(
        str(el.value) for el in at.caption
    )


def test_findings_come_in_plain_words_and_rule_ids_sources_and_version_sit_behind_details(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), pain_score=5, warmup=2)
    no_exception(at)
    assert "**Why**" in texts(at)
    shown = outside_details(at)
    assert not RULE_ID.findall(shown), RULE_ID.findall(shown)
    assert "Source:" not in shown and "rules-" not in shown and "Rules version" not in shown
    (details,) = [e for e in at.expander if e.label.startswith("Details")]
    folded = "\n".join(str(el.value) for el in details.markdown)
    assert RULE_ID.search(folded) and "Source:" in folded and "Rules version rules-" in folded


def test_the_save_button_counts_plans_in_words_and_hours_read_as_hours(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), warmup=2, hours=20)
    no_exception(at)
    assert [b.label for b in at.button if b.label.startswith("Save report")] == ["Save report and assign 1 plan"]
    assert "hours since the workout: 20 h" in texts(at) and "20.00" not in texts(at)
    button(at, "Save report").click().run()
    assert any("1 plan assigned." in s.value for s in at.success)


def test_the_history_timeline_names_findings_and_causes_in_words_and_dates_in_the_house_format(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), pain_score=5, warmup=2)
    button(at, "Save report").click().run()
    history = world.page("pages/history.py").run()
    no_exception(history)
    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    line = next(str(m.value) for m in history.markdown if "Report:" in str(m.value))
    assert "Why: " in line and not RULE_ID.findall(line.split("Why: ")[1])
    assert "warm_up" not in line and "likely causes: skipped warm-up" in line
    assert f"**{words.day(report.created_at)}**" in line


def test_numbers_counts_and_dates_for_people():
    assert words.hours(20.0) == "20 h" and words.hours(1.5) == "1.5 h" and words.hours(None) == "not known"
    assert words.count(1, "plan") == "1 plan" and words.count(2, "plan") == "2 plans"
    assert words.count(0, "question") == "0 questions"
    assert words.day(date(2026, 12, 7)) == "07 Dec 2026"
    assert words.moment(datetime(2026, 12, 7, 14, 5)) == "07 Dec 2026, 14:05"


def test_typed_numbers_show_as_people_write_them_not_with_two_decimals(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), stop_at="pain")
    assert at.number_input(key="q_hours_0").proto.format == "%g"
    store.delete_draft(world.db, actor=world.actor, client_id=world.client.id)  # a second walk from step 1
    at = answer_triage(world.page("pages/triage.py").run(), stop_at="context")
    for stem in ("warmup", "sleep", "sitting"):
        assert at.number_input(key=f"q_{stem}_0").proto.format == "%g", stem
