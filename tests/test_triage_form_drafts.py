"""TriageForm's draft (issue 14): what is kept on the server and what a restore takes back. A prefilled
context alone is no draft; a restore takes only answers the form still asks, with values it still offers."""

from __future__ import annotations

from backcare import intake
from backcare.ui.triage_form import TriageForm

FIRST = intake.STEPS[0].questions[0].field


def test_a_blank_or_only_prefilled_form_keeps_no_draft():
    form = TriageForm({}, 7)
    assert form.draft() == {}
    form.seed_context({"warmup_minutes": 5, "exercises": ["deadlift"]})
    assert form.draft() == {} and not form.started


def test_a_draft_holds_the_answers_by_stem_and_the_open_step():
    state: dict = {}
    form = TriageForm(state, 7)
    form.kept[form.key(FIRST)] = intake.NO
    form.kept[form.key("warmup")] = 5.0
    state[form.step_key] = 1
    assert form.draft() == {"answers": {FIRST: intake.NO, "warmup": 5.0}, "step": 1}


def test_a_restore_takes_only_questions_still_asked_with_values_still_offered():
    form = TriageForm({}, 7)
    restored = form.restore(
        {
            "answers": {FIRST: intake.NO, "pain_score": 99, "gone_question": "Yes", "where": "moon", "hours": 20.0},
            "step": 2,
        }
    )
    assert restored and form.restored
    assert form.value(FIRST) == intake.NO and form.value("hours") == 20.0
    assert form.value("pain_score") is None and form.value("where") is None
    assert form.state[form.step_key] == 2
    assert not form.draft_changed(form.draft())  # the server holds it already: no write follows


def test_a_restore_of_nothing_usable_leaves_the_form_blank():
    form = TriageForm({}, 7)
    assert not form.restore({"answers": {"gone_question": "Yes"}, "step": 3})
    assert not form.restore({"answers": "not a dict"})
    assert form.draft() == {} and not form.restored
