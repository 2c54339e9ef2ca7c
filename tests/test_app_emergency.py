"""The triage page at an emergency (AppTest): the questions stop, the rule's action, the call link and Save now;
what Save now stores; answers added after the stop; the "where?" follow-up; screening without saving; causes
hidden under urgent and emergency results; the deployment's emergency number."""

from __future__ import annotations

import re

import pytest

from backcare import intake, questions, rules, store
from backcare.models import Level
from backcare.store.records import ClientStatus
from backcare.ui.triage_form import WHERE_TEXT
from tests.app_helpers import (
    answer_triage,
    banner_levels,
    button,
    make_world,
    no_exception,
    set_widget,
    tap_next,
    texts,
)


def html_of(at) -> str:
    return "\n".join(str(el.value) for el in at.html)


def question_widgets(at) -> list[str]:
    return [c.key for c in at.segmented_control if c.key.startswith("q_")]


def buttons(at, starts_with: str) -> list:
    return [b for b in at.button if b.label.startswith(starts_with)]


def answer_remaining(at):
    """After a save at the stop: answer what each step still shows (mild answers) and go on to the context."""
    mild = {
        "q_leg_symptoms_0": "none",
        "q_pain_score_0": 2,
        "q_pain_quality_0": "dull_ache",
        "q_hours_0": 20.0,
        "q_trend_0": "easing",
        "q_eases_with_movement_0": intake.YES,
    }
    for _ in range(intake.CONTEXT_STEP):
        for key in question_widgets(at) + [n.key for n in at.number_input if n.key.startswith("q_hours")]:
            set_widget(at, key, mild.get(key, intake.NO))
        at = tap_next(at)
    assert "4 · Training context" in texts(at)
    return at


def stop_at_saddle_numbness(world):
    at = world.page("pages/triage.py").run()
    at.segmented_control(key="q_saddle_numbness_0").set_value(intake.YES).run()
    no_exception(at)
    return at


# --- the stop ---------------------------------------------------------------------------------------


def test_an_emergency_answer_stops_the_questions_with_the_action_the_call_link_and_save_now(tmp_path, monkeypatch):
    monkeypatch.delenv("BACKCARE_EMERGENCY_NUMBER", raising=False)
    world = make_world(tmp_path)
    at = stop_at_saddle_numbness(world)
    page = html_of(at)
    assert banner_levels(at) == ["emergency"]
    assert 'href="tel:999"' in page and "Call 999 now" in page
    assert rules.NERVE_EMERGENCY in page  # E1's own action, not one line for every emergency
    assert rules.STAY_WITH_THEM not in page
    assert buttons(at, "Save now")
    assert question_widgets(at) == []  # the questions stopped
    assert not buttons(at, "Next:") and not buttons(at, "Save report")
    assert store.list_reports(world.db, actor=world.actor, client_id=world.client.id) == []  # nothing yet


@pytest.mark.parametrize(
    "field, action",
    [
        ("chest_pain", rules.STAY_WITH_THEM),
        ("major_trauma", rules.DO_NOT_MOVE),
        ("collapse_or_tearing_pain", rules.STAY_WITH_THEM),
        ("bladder_or_bowel_change", rules.NERVE_EMERGENCY),
    ],
)
def test_each_emergency_shows_its_own_rules_action(tmp_path, field, action):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    at.segmented_control(key=f"q_{field}_0").set_value(intake.YES).run()
    no_exception(at)
    assert action in html_of(at)
    assert [a for a in (rules.NERVE_EMERGENCY, rules.DO_NOT_MOVE, rules.STAY_WITH_THEM) if a in html_of(at)] == [action]


def test_save_now_stores_the_report_with_every_other_question_not_asked_an_emergency_referral_and_the_pause(tmp_path):
    world = make_world(tmp_path)
    at = stop_at_saddle_numbness(world)
    button(at, "Save now").click().run()  # one tap
    no_exception(at)

    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    assert report.level is Level.EMERGENCY
    assert report.answers["saddle_numbness"] is True
    others = [f for f in questions.FIELDS if f != "saddle_numbness"]
    assert {f: report.answers[f] for f in others} == dict.fromkeys(others)  # not asked, never "no"
    applicable = [f for f in others if questions.BY_FIELD[f].asked_when is None]
    assert list(report.result.not_asked) == applicable
    assert report.context is None  # nothing the trainer had not checked
    (referral,) = store.client_referrals(world.db, actor=world.actor, client_id=world.client.id)
    assert (referral.level, referral.status.value, referral.report_id) == (Level.EMERGENCY, "new", report.id)
    client = store.get_client(world.db, actor=world.actor, client_id=world.client.id)
    assert client.status == ClientStatus.EMERGENCY_REFERRAL_OPEN
    assert any("Emergency report saved" in s.value for s in at.success)
    assert not buttons(at, "Save now")  # saved: not offered twice


def test_a_second_save_now_with_the_same_form_stores_nothing_twice(tmp_path):
    world = make_world(tmp_path)
    at = stop_at_saddle_numbness(world)
    token = at.session_state["triage_token_0"]
    # The first tap's save committed, then the next tap cut the page short before it could say so.
    first = store.save_report(
        world.db, actor=world.actor, client_id=world.client.id, submission=token, report={"saddle_numbness": True}
    )
    button(at, "Save now").click().run()
    no_exception(at)
    assert [r.id for r in store.list_reports(world.db, actor=world.actor, client_id=world.client.id)] == [
        first.report_id
    ]
    assert at.session_state["triage_report_0"] == first.report_id  # what follows goes to that report


def test_answers_added_after_the_stop_go_to_the_saved_report_as_given_after_the_stop(tmp_path):
    world = make_world(tmp_path)
    at = stop_at_saddle_numbness(world)
    button(at, "Save now").click().run()
    shown = question_widgets(at)
    assert "q_saddle_numbness_0" not in shown  # answered at the stop: not asked again
    assert shown == [f"q_{q.field}_0" for q in intake.STEPS[0].questions if q.field != "saddle_numbness"]
    assert banner_levels(at) == ["emergency"] and 'href="tel:999"' in html_of(at)  # the call link stays
    for key in shown:
        set_widget(at, key, "none" if key == "q_leg_symptoms_0" else intake.NO)
    at.run()
    button(at, "Save the added answers").click().run()
    no_exception(at)

    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    added = tuple(q.field for q in intake.STEPS[0].questions if q.field != "saddle_numbness")
    assert report.answered_after_stop == added
    assert report.answers["chest_pain"] is False and report.answers["saddle_numbness"] is True
    assert report.level is Level.EMERGENCY
    assert any("added to the emergency report" in s.value for s in at.success)

    at = answer_remaining(at)  # the rest, step by step, then the context from the result
    set_widget(at, "q_warmup_0", 2)
    at = tap_next(at)
    assert "5 · Result" in texts(at)
    assert "Skipped warm-up" not in texts(at)  # no causes at an emergency: they stay in the record
    button(at, "Save the added answers").click().run()
    no_exception(at)
    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    assert report.not_asked == ()
    assert report.context is not None and report.context.warmup_minutes == 2
    assert "saddle_numbness" not in report.answered_after_stop and "pain_score" in report.answered_after_stop
    assert [c.cause.value for c in report.result.causes] == ["warm_up"]  # in the record for the clinic
    button(at, "Finish").click().run()
    assert "1 · Emergency signs" in texts(at) and banner_levels(at) == []  # a blank form follows


def test_a_mis_tap_can_be_corrected_at_the_stop_and_the_form_goes_on(tmp_path):
    world = make_world(tmp_path)
    at = stop_at_saddle_numbness(world)
    button(at, "An answer was tapped by mistake").click().run()
    no_exception(at)
    assert buttons(at, "Save now")  # still one tap away while the emergency answer stands
    assert not buttons(at, "Next:")
    at.segmented_control(key="q_saddle_numbness_0").set_value(intake.NO).run()
    no_exception(at)
    assert banner_levels(at) == [] and buttons(at, "Next:")
    assert store.list_reports(world.db, actor=world.actor, client_id=world.client.id) == []


def test_an_emergency_on_a_later_step_stops_there(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), yes=("history_of_cancer",), stop_at="pain")
    assert banner_levels(at) == ["urgent"]
    at.segmented_control(key="q_tingling_0").set_value(intake.YES).run()  # cancer with a nerve sign: E9
    no_exception(at)
    assert banner_levels(at) == ["emergency"] and question_widgets(at) == []
    assert rules.NERVE_EMERGENCY in html_of(at)
    button(at, "Save now").click().run()
    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    assert "E9" in [f.rule_id for f in report.result.findings]
    assert report.answers["tingling"] is True and report.answers["pain_score"] is None


# --- the "where?" follow-up -------------------------------------------------------------------------


def where_control(at):
    found = [c for c in at.segmented_control if c.key == "q_where_0"]
    return found[0] if found else None


def on_the_pain_step_with_numbness(world):
    at = answer_triage(world.page("pages/triage.py").run(), stop_at="pain")  # legs: "none" on step 1
    assert where_control(at) is None
    at.segmented_control(key="q_numbness_0").set_value(intake.YES).run()
    no_exception(at)
    return at


def test_a_nerve_sign_with_legs_none_asks_where_and_both_legs_reach_the_emergency_stop(tmp_path):
    world = make_world(tmp_path)
    at = on_the_pain_step_with_numbness(world)
    assert where_control(at).label == WHERE_TEXT
    assert banner_levels(at) == []  # refer so far: R3
    where_control(at).set_value("both_legs").run()
    no_exception(at)
    assert banner_levels(at) == ["emergency"] and question_widgets(at) == []  # E4, and the stop
    button(at, "Save now").click().run()
    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    assert report.answers["leg_symptoms"] == "both_legs" and report.answers["numbness"] is True
    assert "E4" in [f.rule_id for f in report.result.findings]


def test_where_must_be_answered_before_the_next_step(tmp_path):
    world = make_world(tmp_path)
    at = on_the_pain_step_with_numbness(world)
    for key, value in (
        ("q_pain_score_0", 2),
        ("q_pain_quality_0", "dull_ache"),
        ("q_hours_0", 20.0),
        ("q_trend_0", "easing"),
        ("q_eases_with_movement_0", intake.YES),
        ("q_tingling_0", intake.NO),
        ("q_weakness_0", intake.NO),
        ("q_limits_daily_activities_0", intake.NO),
        ("q_persistent_fatigue_0", intake.NO),
    ):
        set_widget(at, key, value)
    at = tap_next(at)
    assert "3 · The pain" in texts(at)
    assert any("Still to answer" in w.value and WHERE_TEXT in w.value for w in at.warning)
    where_control(at).set_value("one_leg").run()
    assert where_control(at).value == "one_leg"  # still shown, with the answer given
    at = tap_next(at)
    assert "4 · Training context" in texts(at)
    at.segmented_control(key="triage_nav_0").set_value(0).run()
    assert at.segmented_control(key="q_leg_symptoms_0").value == "one_leg"  # step 1 follows the answer


def test_where_the_back_only_keeps_the_legs_answer_none(tmp_path):
    world = make_world(tmp_path)
    at = on_the_pain_step_with_numbness(world)
    where_control(at).set_value("back").run()
    assert where_control(at).value == "back"
    at.segmented_control(key="triage_nav_0").set_value(0).run()
    assert at.segmented_control(key="q_leg_symptoms_0").value == "none"


# --- screening without saving -----------------------------------------------------------------------


def table_counts(db) -> dict[str, int]:
    with db.read() as cur:
        tables = [
            t
            for (t,) in cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        return {t: cur.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def start_screening(world):
    at = world.page("pages/triage.py", with_client=False).run()
    button(at, "Screen without saving").click().run()
    no_exception(at)
    return at


def test_screening_without_saving_says_so_and_stores_nothing_in_any_table(tmp_path):
    world = make_world(tmp_path)
    before = table_counts(world.db)
    assert {"reports", "referrals", "audit_log", "clients"} <= set(before)
    at = start_screening(world)
    assert "nothing is stored" in texts(at)
    set_widget(at, "q_saddle_numbness_0", intake.NO)
    at = answer_triage(at, yes=("history_of_cancer",), quality="sharp", warmup=2)  # urgent, to the result
    no_exception(at)
    assert "5 · Result" in texts(at) and banner_levels(at)[0] == "urgent"
    assert not buttons(at, "Save")  # no save of any kind
    assert "Nothing is stored for this screening" in texts(at)
    assert table_counts(world.db) == before  # not a row anywhere, the audit log included


def test_screening_an_emergency_shows_the_stop_without_save_now_and_stores_nothing(tmp_path):
    world = make_world(tmp_path)
    before = table_counts(world.db)
    at = start_screening(world)
    at.segmented_control(key="q_chest_pain_0").set_value(intake.YES).run()
    no_exception(at)
    assert banner_levels(at) == ["emergency"] and 'href="tel:999"' in html_of(at)
    assert not buttons(at, "Save now")
    assert "Nothing is stored: this person is not a client" in texts(at)
    assert table_counts(world.db) == before


def test_a_screened_person_added_as_a_client_afterwards_keeps_the_answers_and_can_be_saved(tmp_path):
    world = make_world(tmp_path)
    at = start_screening(world)
    at.segmented_control(key="q_chest_pain_0").set_value(intake.YES).run()
    at.text_input(key="screened_name").set_value("Walk In")
    at.checkbox(key="screened_consent").check()
    button(at, "Add client and keep these answers").click().run()
    no_exception(at)
    assert "Report for Walk In" in texts(at)
    assert banner_levels(at) == ["emergency"]  # the same answers, now for the client
    button(at, "Save now").click().run()
    (walk_in,) = [c for c in store.list_clients(world.db, actor=world.actor) if c.name == "Walk In"]
    (report,) = store.list_reports(world.db, actor=world.actor, client_id=walk_in.id)
    assert report.answers["chest_pain"] is True and report.level is Level.EMERGENCY


def test_a_client_without_consent_is_screened_and_nothing_is_stored_until_consent_is_recorded(tmp_path):
    world = make_world(tmp_path)
    other = store.create_client(
        world.db, actor=world.actor, gym_id=world.client.gym_id, name="No Consent Yet", trainer_id=world.actor.user_id
    )
    world.client = other
    at = world.page("pages/triage.py").run()
    at.segmented_control(key="q_chest_pain_0").set_value(intake.YES).run()
    no_exception(at)
    assert not buttons(at, "Save now")
    assert any("has not agreed" in w.value for w in at.warning)
    button(at, "They agree now").click().run()
    button(at, "Save now").click().run()
    no_exception(at)
    assert len(store.list_reports(world.db, actor=world.actor, client_id=other.id)) == 1


# --- causes under urgent and emergency --------------------------------------------------------------


@pytest.mark.parametrize("yes, shown", [(("history_of_cancer",), False), ((), True)], ids=["urgent", "normal"])
def test_likely_causes_are_not_listed_under_an_urgent_result_but_stay_in_the_record(tmp_path, yes, shown):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), yes=yes, warmup=2)
    no_exception(at)
    assert ("Skipped warm-up" in texts(at)) is shown
    assert ("kept in the record for the clinic" in texts(at)) is not shown
    button(at, "Save report").click().run()
    (report,) = store.list_reports(world.db, actor=world.actor, client_id=world.client.id)
    assert [c.cause.value for c in report.result.causes] == ["warm_up"]


# --- the deployment's emergency number -------------------------------------------------------------


def test_the_emergency_number_setting_is_the_call_link_and_the_action(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKCARE_EMERGENCY_NUMBER", "112")
    world = make_world(tmp_path)
    at = stop_at_saddle_numbness(world)
    page = html_of(at)
    assert 'href="tel:112"' in page and "Call 112 now" in page
    assert not re.search(r"\b999\b(?!px)", page)
    assert [t.value for t in at.toast] and "call 112 now" in at.toast[0].value
    assert "in an emergency call 112." in texts(at)  # the scope statement too


def test_a_bad_emergency_number_setting_is_one_clear_error_and_no_form(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKCARE_EMERGENCY_NUMBER", "call-999")
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    no_exception(at)
    (error,) = at.error
    assert "BACKCARE_EMERGENCY_NUMBER" in error.value and "'call-999'" in error.value
    assert question_widgets(at) == []
    assert re.search(r"digits", error.value)


@pytest.mark.parametrize("value, shown", [(None, "999"), ("112", "112"), ("11x", None)])
def test_the_admin_page_shows_the_emergency_number_read_only(tmp_path, monkeypatch, value, shown):
    from backcare.auth import SYSTEM, Role

    if value is None:
        monkeypatch.delenv("BACKCARE_EMERGENCY_NUMBER", raising=False)
    else:
        monkeypatch.setenv("BACKCARE_EMERGENCY_NUMBER", value)
    world = make_world(tmp_path)
    admin = store.create_user(world.db, actor=SYSTEM, username="ivan", display_name="Ivan Admin", role=Role.ADMIN)
    world.actor = store.actor_for(admin)
    at = world.page("pages/admin.py", with_client=False).run()
    no_exception(at)
    if shown is None:
        assert any("not set correctly" in e.value and "'11x'" in e.value for e in at.error)
    else:
        assert f"Emergency number on the triage screen: **{shown}**" in texts(at)
    assert not [w for w in at.text_input if w.key and w.key.startswith("emergency")]  # read-only
