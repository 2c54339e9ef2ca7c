"""Issue 14's flows outside the triage screen: no client chosen before the trainer taps one (recent clients
first), one active copy of a plan at most (store and page), a confirmation before a plan is stopped, and a plan
chosen by hand when the last report found no cause."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from backcare import store
from backcare.errors import Conflict
from tests.app_helpers import button, make_world, no_exception, texts
from tests.conftest import report_payload


def test_the_client_picker_starts_with_nobody_chosen_and_use_is_off_until_a_tap(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py", with_client=False).run()
    no_exception(at)
    chooser = at.selectbox(key="client_choice")
    assert chooser.value is None
    assert button(at, "Use this client").disabled
    assert at.session_state["client_id"] is None if "client_id" in at.session_state else True
    chooser.set_value(world.client.id).run()
    assert not button(at, "Use this client").disabled
    button(at, "Use this client").click().run()
    no_exception(at)
    assert at.session_state["client_id"] == world.client.id


def test_the_trainers_clients_are_listed_most_recent_first(tmp_path):
    world = make_world(tmp_path, client_name="Zoe Early")
    later = (
        store.create_client(
            world.db,
            actor=world.actor,
            gym_id=world.client.gym_id,
            name="Adam Later",
            trainer_id=world.actor.user_id,
            consent_by=world.actor.username,
            now=datetime.now() + timedelta(minutes=1),
        )
        if "now" in store.create_client.__code__.co_varnames
        else store.create_client(
            world.db,
            actor=world.actor,
            gym_id=world.client.gym_id,
            name="Adam Later",
            trainer_id=world.actor.user_id,
            consent_by=world.actor.username,
        )
    )
    # the earlier client then reports today: the latest activity comes first, not the alphabet
    store.save_report(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        report=report_payload(),
        now=datetime.now() + timedelta(minutes=5),
    )
    ids = [
        c.id for c in store.list_clients(world.db, actor=world.actor, trainer_id=world.actor.user_id, recent_first=True)
    ]
    assert ids == [world.client.id, later.id]


def test_the_store_refuses_a_second_active_copy_of_a_plan(tmp_path):
    world = make_world(tmp_path)
    kwargs = dict(
        actor=world.actor,
        client_id=world.client.id,
        plan_id="core",
        start_date=date.today(),
        review_date=date.today() + timedelta(days=14),
    )
    first = store.assign_plan(world.db, **kwargs)
    with pytest.raises(Conflict, match="already active"):
        store.assign_plan(world.db, **kwargs)
    store.set_assignment_status(world.db, actor=world.actor, assignment_id=first.id, status="completed")
    store.assign_plan(world.db, **kwargs)  # once ended, the plan can be assigned again
    active = [
        a
        for a in store.list_assignments(world.db, actor=world.actor, client_id=world.client.id)
        if a.status.value == "active"
    ]
    assert [a.plan_id.value for a in active] == ["core"]


def test_the_plans_page_offers_no_second_assign_of_an_active_plan(tmp_path):
    world = make_world(tmp_path)
    store.assign_plan(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        plan_id="core",
        start_date=date.today(),
        review_date=date.today() + timedelta(days=14),
    )
    at = world.page("pages/plans.py").run()
    at.selectbox(key="library_plan").set_value("core").run()
    no_exception(at)
    assert button(at, "Assign Core stability").disabled
    assert "already active for Ada Lovelace" in texts(at)


def test_stop_plan_asks_first_and_keep_leaves_it_active(tmp_path):
    world = make_world(tmp_path)
    assignment = store.assign_plan(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        plan_id="core",
        start_date=date.today(),
        review_date=date.today() + timedelta(days=14),
    )
    at = world.page("pages/plans.py").run()
    button(at, "Stop plan").click().run()
    no_exception(at)
    assert "Stop Core stability for Ada Lovelace?" in texts(at)
    (row,) = store.list_assignments(world.db, actor=world.actor, client_id=world.client.id)
    assert row.status.value == "active"  # nothing stopped by the first tap
    button(at, "Keep the plan").click().run()
    (row,) = store.list_assignments(world.db, actor=world.actor, client_id=world.client.id)
    assert row.status.value == "active" and "Stop Core stability" not in texts(at)
    button(at, "Stop plan").click().run()
    button(at, "Yes, stop the plan").click().run()
    no_exception(at)
    (row,) = store.list_assignments(world.db, actor=world.actor, client_id=world.client.id)
    assert row.id == assignment.id and row.status.value == "stopped"
    assert "Core stability: stopped." in texts(at)


def test_with_no_cause_found_a_plan_is_chosen_by_hand_and_assigned(tmp_path):
    world = make_world(tmp_path)
    saved = store.save_report(world.db, actor=world.actor, client_id=world.client.id, report=report_payload())
    assert not saved.result.causes and not saved.result.plans  # the premise: nothing was suggested
    at = world.page("pages/plans.py").run()
    no_exception(at)
    assert "found no likely cause" in texts(at) and "choose it by hand" in texts(at)
    at.selectbox(key="library_plan").set_value("posture").run()
    button(at, "Assign Posture").click().run()
    no_exception(at)
    (row,) = store.list_assignments(world.db, actor=world.actor, client_id=world.client.id)
    assert row.plan_id.value == "posture" and row.status.value == "active"


def test_a_session_is_logged_near_the_top_with_two_taps_and_a_second_tap_keeps_the_choice(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/history.py").run()
    no_exception(at)
    headings = [h.value for h in at.subheader]
    assert headings.index("Log a session") < headings.index("Training load and pain")
    form = f"client-{world.client.id}-session"
    minutes, rpe = at.pills(key=f"{form}_minutes_pick"), at.pills(key=f"{form}_rpe_pick")
    assert minutes.proto.required and rpe.proto.required  # tapping the chosen value again keeps it
    minutes.set_value(60)
    rpe.set_value(5)
    button(at, "Log session").click().run()
    no_exception(at)
    (session,) = store.list_sessions(world.db, actor=world.actor, client_id=world.client.id)
    assert (session.minutes, session.rpe, session.date) == (60, 5, date.today())
    assert "Session logged: 60 min at RPE 5 (load 300)." in texts(at)


def test_the_load_sentence_says_what_the_week_means_in_plain_words():
    from backcare.ui import views
    from backcare.ui.charts import load_sentence

    spike = views.LoadSummary(this_week=2400, last_week=1200, change=1200, sessions=4, ratio=1.62, band="", spike=True)
    assert load_sentence(spike).startswith(
        "This week: 2,400 load units over 4 sessions, 100% more than the week "
        "before. The spike indicator is 1.62, at or above 1.5"
    )
    usual = views.LoadSummary(this_week=900, last_week=1000, change=-100, sessions=3, ratio=1.0, band="", spike=False)
    assert "10% less than the week before" in load_sentence(usual) and "within the usual range" in load_sentence(usual)


def test_a_search_naming_one_client_chooses_them_and_one_naming_several_chooses_nobody(tmp_path):
    world = make_world(tmp_path)
    store.create_client(
        world.db,
        actor=world.actor,
        gym_id=world.client.gym_id,
        name="Ada Byron",
        trainer_id=world.actor.user_id,
        consent_by=world.actor.username,
    )
    at = world.page("pages/triage.py", with_client=False).run()
    at.text_input(key="client_query").set_value("Ada").run()
    assert at.selectbox(key="client_choice").value is None  # two Adas: the trainer taps one
    at.text_input(key="client_query").set_value("Lovelace").run()
    assert at.selectbox(key="client_choice").value == world.client.id
    assert not button(at, "Use this client").disabled


def test_the_tablet_style_is_sent_minified_with_every_rule_it_had():
    """Issue 13: the style every rerun sends is minified once (no comments, no indentation) and loses nothing."""
    import re

    from backcare.ui.style import _CSS, TABLET_STYLE

    def rules(css: str) -> str:
        return re.sub(r"\s+", "", re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL))

    assert rules(TABLET_STYLE._repr_html_()) == rules(_CSS)
    assert "/*" not in TABLET_STYLE.html and "\n" not in TABLET_STYLE.html and len(TABLET_STYLE.html) < len(_CSS)
