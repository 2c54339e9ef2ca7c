"""The history page driven by AppTest: smoke, a saved report in the timeline, logging a session changes
the load figures, form errors name the field, an open referral is shown."""

from __future__ import annotations

import pytest

from backcare import store
from backcare.models import TriageReport
from backcare.plans import load_library
from tests.app_helpers import answer_triage, button, make_world, no_exception, texts
from tests.conftest import report_payload


def metric(at, label: str) -> str:
    (found,) = [m for m in at.metric if m.label == label]
    return found.value


def test_history_page_without_a_client_shows_the_picker(tmp_path):
    world = make_world(tmp_path, client_name=None)
    at = world.page("pages/history.py").run()
    no_exception(at)
    assert "find the client" in texts(at)
    assert at.text_input(key="client_query") is not None


def test_history_page_shows_status_load_pain_plans_timeline_and_the_session_form(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/history.py").run()
    no_exception(at)
    page = texts(at)
    # issue 14: logging near the top, load and pain in one figure over one time axis
    for heading in ("Log a session", "Training load and pain", "Plans", "Timeline"):
        assert heading in page
    assert page.index("Log a session") < page.index("Training load and pain")
    assert "Cleared" in page and "Next:" in page
    assert "not an injury prediction" in page
    assert [m.label for m in at.metric] == ["Load, 7 days", "Sessions, 7 days", "Spike indicator"]


def test_report_saved_on_the_triage_page_appears_in_the_history(tmp_path):
    world = make_world(tmp_path)
    triage = answer_triage(world.page("pages/triage.py").run(), warmup=2, pain_score=3)
    button(triage, "Save report").click().run()
    no_exception(triage)

    at = world.page("pages/history.py").run()
    no_exception(at)
    assert "Report: pain 3/10 · Normal soreness" in texts(at)
    # the plan assigned with it
    assert f":material/play_circle:] **{load_library().plan('warm_up').title}**" in texts(at)


def test_logged_session_changes_the_load_figures(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/history.py").run()
    assert metric(at, "Load, 7 days") == "0"
    assert metric(at, "Sessions, 7 days") == "0"

    form = f"client-{world.client.id}-session"  # keyed by the client
    at.pills(key=f"{form}_minutes_pick").set_value(45)  # taps, not typing (issue 14)
    at.pills(key=f"{form}_rpe_pick").set_value(6)
    at.text_input(key=f"{form}_exercises").set_value("Squat, plank")
    button(at, "Log session").click().run()
    no_exception(at)

    assert metric(at, "Load, 7 days") == "270"
    assert metric(at, "Sessions, 7 days") == "1"
    assert "Training: 45 min at RPE 6 (load 270 AU)" in texts(at)
    (session,) = store.list_sessions(world.db, actor=world.actor, client_id=world.client.id)
    assert session.exercises == ("squat", "plank")


@pytest.mark.parametrize(
    "filled, named",
    [
        ({"rpe": 6}, "Minutes"),
        ({"minutes": 30}, "RPE (0-10)"),
    ],
)
def test_session_form_error_names_the_missing_field_and_logs_nothing(tmp_path, filled, named):
    world = make_world(tmp_path)
    at = world.page("pages/history.py").run()
    for field, value in filled.items():
        at.pills(key=f"client-{world.client.id}-session_{field}_pick").set_value(value)
    button(at, "Log session").click().run()
    no_exception(at)
    assert [e.value for e in at.error] == [f"{named}: please fill this in"]
    assert store.list_sessions(world.db, actor=world.actor, client_id=world.client.id) == []


def test_open_referral_is_shown_with_its_status(tmp_path):
    world = make_world(tmp_path)
    report = TriageReport.model_validate(report_payload(pain_quality="sharp"))
    store.save_report(world.db, actor=world.actor, client_id=world.client.id, report=report)
    at = world.page("pages/history.py").run()
    no_exception(at)
    assert any("Refer** referral · status: new" in e.value for e in at.error)
    assert "Paused: referral open" in texts(at)


def test_the_year_of_birth_is_asked_when_unknown_and_saved_from_the_history_page(tmp_path):
    from datetime import date

    world = make_world(tmp_path)
    at = world.page("pages/history.py").run()
    no_exception(at)
    at.number_input(key=f"client-{world.client.id}-year_of_birth").set_value(1980)
    button(at, "Save year of birth").click().run()
    no_exception(at)
    assert store.get_client(world.db, actor=world.actor, client_id=world.client.id).year_of_birth == 1980
    assert "Year of birth saved." in texts(at)
    assert at.number_input(key=f"client-{world.client.id}-year_of_birth").value == 1980
    assert date.today().year >= 1980


def test_a_report_saved_at_an_emergency_stop_shows_its_answers_as_not_asked_in_the_history(tmp_path):
    world = make_world(tmp_path)
    store.save_report(world.db, actor=world.actor, client_id=world.client.id, report={"saddle_numbness": True})
    at = world.page("pages/history.py").run()
    no_exception(at)
    page = texts(at)
    assert "Report: pain not asked · Emergency" in page and "not asked (26)" in page


def test_a_history_rerun_reads_the_client_once_and_its_first_showing_is_audited_once(tmp_path, monkeypatch):
    """Issue 17: the sidebar shows the record client_history has just read; before, every rerun read the client a
    second time (store.get_client, a round trip on PostgreSQL). The first showing still writes its 'client.view'
    row, and only that one."""
    world = make_world(tmp_path)
    reads: list[int] = []
    real_get = store.get_client
    monkeypatch.setattr(store, "get_client", lambda db, **kw: reads.append(kw["client_id"]) or real_get(db, **kw))
    at = world.page("pages/history.py").run()
    no_exception(at)
    assert reads == [world.client.id]  # the first showing: read through the audited path
    reads.clear()
    at.run()
    at.run()
    no_exception(at)
    assert reads == []
    assert f"{world.client.name}  \n`{world.client.external_id}`" in [str(m.value) for m in at.sidebar.markdown][1]
    with world.db.read() as cur:
        (views,) = cur.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'client.view' AND entity_id = ?", [world.client.id]
        ).fetchone()
    assert views == 1


def test_the_charts_are_made_again_only_when_their_rows_change(tmp_path, monkeypatch):
    """Issue 17: a rerun with the same load and pain rows draws the charts this session made last (their rows as
    Arrow are not built again); a logged session changes the rows, and the charts are made from the new ones."""
    from backcare.ui import charts

    world = make_world(tmp_path)
    store.log_session(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        session={"date": store.utcnow().date(), "minutes": 30, "rpe": 5},
    )
    made: list[int] = []
    real = charts._history_chart_specs
    monkeypatch.setattr(charts, "_history_chart_specs", lambda load, pain: made.append(len(load)) or real(load, pain))
    at = world.page("pages/history.py").run()
    no_exception(at)
    before = [chart.proto.spec for chart in at.get("vega_lite_chart")]
    assert len(made) == 1 and before
    at.run()
    no_exception(at)
    assert len(made) == 1
    assert [chart.proto.spec for chart in at.get("vega_lite_chart")] == before
    assert metric(at, "Load, 7 days") == "150"

    form = f"client-{world.client.id}-session"
    at.pills(key=f"{form}_minutes_pick").set_value(45)
    at.pills(key=f"{form}_rpe_pick").set_value(6)
    button(at, "Log session").click().run()
    no_exception(at)
    assert len(made) == 2  # the new session's load is in the rows: made again
    assert metric(at, "Load, 7 days") == "420"
