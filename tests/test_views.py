"""The history and plans pages' domain functions, without Streamlit."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from backcare.errors import InvalidInput
from backcare.plans import load_library
from backcare.store.history import LoadWeek
from backcare.store.records import AssignmentRow, ClientStatus, SessionRow
from backcare.ui import views

LIBRARY = load_library()


def session(day: date, logged: datetime, minutes=40.0, rpe=5.0, **extra) -> SessionRow:
    return SessionRow(
        id=1,
        client_id=1,
        date=day,
        minutes=minutes,
        rpe=rpe,
        exercises=extra.pop("exercises", ()),
        warmup_minutes=extra.pop("warmup_minutes", None),
        cooldown_done=extra.pop("cooldown_done", None),
        source="app",
        created_at=logged,
        created_by="tara",
    )


def week(end: date, load: float, ratio: float | None, sessions: int = 2) -> LoadWeek:
    return LoadWeek(
        week_start=date.fromordinal(end.toordinal() - 6),
        week_end=end,
        sessions=sessions,
        load=load,
        chronic_weekly_load=0.0,
        ratio=ratio,
        spike=ratio is not None and ratio >= 1.5,
    )


def assignment(
    plan_id: str, status: str = "active", start=date(2025, 3, 1), review=date(2025, 3, 15), customisation=None
) -> AssignmentRow:
    return AssignmentRow(
        id=1,
        client_id=1,
        report_id=None,
        plan_id=plan_id,
        status=status,
        start_date=start,
        review_date=review,
        customisation=customisation,
        created_at=datetime(2025, 3, 1),
        created_by="tara",
        ended_at=None,
        end_note=None,
    )


@pytest.mark.parametrize(
    "ratio, band",
    [
        (None, "not enough history yet"),
        (0.5, "below the usual range"),
        (0.8, "within the usual range"),
        (1.3, "within the usual range"),
        (1.31, "above the usual range"),
        (1.49, "above the usual range"),
        (1.5, "a load spike: well above the usual week"),
        (3.0, "a load spike: well above the usual week"),
    ],
)
def test_ratio_band_in_plain_words(ratio, band):
    assert views.ratio_band(ratio) == band


def test_ratio_wording_never_predicts_injury():
    assert "not an injury prediction" in views.RATIO_CAPTION
    for ratio in (None, 0.1, 1.0, 1.4, 2.0):
        assert "injur" not in views.ratio_band(ratio) and "risk" not in views.ratio_band(ratio)


@pytest.mark.parametrize("status", list(ClientStatus))
def test_every_status_has_a_next_step(status):
    assert views.next_step(status)
    assert views.is_paused(status) == status.value.endswith("referral_open")


def test_timeline_is_newest_first_and_limited():
    sessions = [session(date(2025, 3, d), datetime(2025, 3, d, 18)) for d in (1, 3, 5)]
    items = views.merge_timeline(sessions, [], limit=2)
    assert [i.day.day for i in items] == [5, 3]
    assert all(i.kind == "session" for i in items)


def test_session_logged_later_counts_on_its_training_day():
    late = session(date(2025, 3, 1), datetime(2025, 3, 9, 9))
    on_time = session(date(2025, 3, 2), datetime(2025, 3, 2, 19))
    assert [i.day for i in views.merge_timeline([late, on_time], [])] == [date(2025, 3, 2), date(2025, 3, 1)]


def test_session_item_names_load_and_context():
    item = views.session_item(
        session(
            date(2025, 3, 1),
            datetime(2025, 3, 1, 9),
            minutes=45,
            rpe=6,
            exercises=("squat", "plank"),
            warmup_minutes=5,
            cooldown_done=False,
        )
    )
    assert item.title == "Training: 45 min at RPE 6 (load 270 AU)"
    assert item.detail == "squat, plank · warm-up 5 min · no cool-down"


def test_load_summary_reads_the_latest_week_and_the_change():
    summary = views.load_summary([week(date(2025, 3, 2), 200, 1.0), week(date(2025, 3, 9), 500, 1.62, 4)])
    assert (summary.this_week, summary.last_week, summary.change, summary.sessions) == (500, 200, 300, 4)
    assert summary.ratio == 1.62 and summary.spike
    assert views.load_summary([]).this_week == 0 and views.load_summary([]).ratio is None


def test_load_chart_rows_are_one_per_week():
    rows = views.load_chart_rows([week(date(2025, 3, 2), 200.04, None), week(date(2025, 3, 9), 500, 1.6)])
    assert rows == [
        {"week": "2025-03-02", "week_start": "2025-02-24", "load": 200.0, "sessions": 2, "ratio": None, "spike": False},
        {"week": "2025-03-09", "week_start": "2025-03-03", "load": 500.0, "sessions": 2, "ratio": 1.6, "spike": True},
    ]


@pytest.mark.parametrize(
    "fields, named",
    [
        ({"day": None}, "Date"),
        ({"minutes": None}, "Minutes"),
        ({"rpe": None}, "RPE (0-10)"),
        ({"rpe": 11}, "RPE (0-10)"),
        ({"minutes": -5}, "Minutes"),
        ({"warmup_minutes": 700}, "Warm-up minutes"),
    ],
)
def test_session_form_errors_name_the_field(fields, named):
    values = {
        "day": date(2025, 3, 1),
        "minutes": 45,
        "rpe": 6,
        "exercises": "squat",
        "warmup_minutes": None,
        "cooldown": None,
        **fields,
    }
    with pytest.raises(InvalidInput) as caught:
        views.session_from_form(**values)
    assert caught.value.field == named


@pytest.mark.parametrize(
    "text, names",
    [
        ("", ()),
        (None, ()),
        ("Squat, plank", ("squat", "plank")),
        ("squat; deadlift\nplank, squat", ("squat", "deadlift", "plank")),
    ],
)
def test_exercises_typed_as_a_list(text, names):
    assert views.parse_exercises(text) == names


def test_session_from_form_keeps_cooldown_and_warmup():
    session_in = views.session_from_form(
        day=date(2025, 3, 1), minutes=45, rpe=6, exercises="Squat", warmup_minutes=5, cooldown="No"
    )
    assert (session_in.cooldown_done, session_in.warmup_minutes, session_in.exercises) == (False, 5, ("squat",))


CORE = LIBRARY.plan("core")
FIRST, SECOND = CORE.exercises[0].name, CORE.exercises[1].name


@pytest.mark.parametrize(
    "form, changes",
    [
        ({}, None),
        ({"doses": {FIRST: CORE.exercises[0].dose}}, None),  # unchanged dose is not a change
        ({"doses": {FIRST: "  "}}, None),
        ({"note": "  "}, None),
        ({"doses": {FIRST: "2 x 10 seconds"}}, {"doses": {FIRST: "2 x 10 seconds"}}),
        ({"drop": [SECOND], "doses": {SECOND: "1 x 5"}}, {"drop": [SECOND]}),  # a dropped exercise's dose is ignored
        ({"note": " Easy week "}, {"note": "Easy week"}),
    ],
)
def test_customisation_from_form_keeps_only_real_changes(form, changes):
    assert views.customisation_from_form(CORE, **form) == changes


def test_customisation_dropping_every_exercise_is_refused():
    with pytest.raises(InvalidInput) as caught:
        views.customisation_from_form(CORE, drop=[e.name for e in CORE.exercises])
    assert caught.value.field == "changes.drop"


def test_client_plan_applies_changes_and_leaves_the_library_alone():
    row = assignment("core", customisation={"doses": {FIRST: "1 x 10 seconds"}, "drop": [SECOND], "note": "Go easy"})
    plan = views.client_plan(row, LIBRARY)
    assert plan.exercises[0].dose == "1 x 10 seconds"
    assert SECOND not in [e.name for e in plan.exercises]
    assert plan.notes == ("Go easy",)
    assert LIBRARY.plan("core") == CORE and CORE.exercises[1].name == SECOND


def test_handout_input_takes_active_plans_from_the_earliest_start_to_the_earliest_review():
    rows = [
        assignment("core", start=date(2025, 3, 3), review=date(2025, 3, 24)),
        assignment("warm_up", start=date(2025, 3, 1), review=date(2025, 3, 15)),
        assignment("posture", status="stopped"),
    ]
    sheet = views.handout_input(rows, LIBRARY, date(2025, 4, 1))
    assert [p.id.value for p in sheet.plans] == ["core", "warm_up"]
    assert (sheet.start_date, sheet.review_date) == (date(2025, 3, 1), date(2025, 3, 15))
    empty = views.handout_input(rows[2:], LIBRARY, date(2025, 4, 1))
    assert empty.plans == () and empty.start_date == empty.review_date == date(2025, 4, 1)


def test_split_assignments_active_and_past():
    rows = [assignment("core"), assignment("form", status="completed"), assignment("load", status="stopped")]
    active, past = views.split_assignments(rows)
    assert [a.plan_id.value for a in active] == ["core"]
    assert [a.plan_id.value for a in past] == ["form", "load"]


def test_triage_history_line_names_the_latest_session_and_what_the_history_adds():
    from backcare.models import TriageHistory

    today = date(2026, 11, 25)
    sessions = [
        session(date(2026, 11, 20), datetime(2026, 11, 20, 18), exercises=("squat",)),
        session(date(2026, 11, 24), datetime(2026, 11, 24, 18), minutes=62, rpe=8, exercises=("deadlift", "row")),
    ]
    line = views.triage_history_line(
        sessions, TriageHistory(episode_pain_scores=(2, 4), prior_reports_28d=2, acute_chronic_ratio=1.8), today
    )
    assert line == (
        "Last logged session 24 Nov 2026 (yesterday), 62 min, RPE 8: deadlift, row · pain at the last "
        "report of this episode 4/10 (lowest 2/10) · 2 earlier reports in 28 days · load spike: "
        "acute:chronic 1.80."
    )
    quiet = views.triage_history_line([], TriageHistory(acute_chronic_ratio=1.1), today)
    assert quiet == "No sessions logged yet."


def test_a_report_saved_at_an_emergency_stop_shows_in_the_timeline_with_what_was_not_asked(db, client, trainer_actor):
    from backcare import store

    saved = store.save_report(db, actor=trainer_actor, client_id=client.id, report={"saddle_numbness": True})
    (report,) = store.list_reports(db, actor=trainer_actor, client_id=client.id)
    item = views.report_item(report)
    assert "Report: pain not asked · Emergency" in item.title and item.level == "emergency"
    assert "not asked (26): new bladder or bowel trouble" in item.detail
    lines = views.report_answer_lines(report)
    assert "Numbness in the saddle area: yes" in lines and "Chest pain: not asked" in lines
    assert "Age: not known" in lines
    store.complete_report(db, actor=trainer_actor, report_id=saved.report_id, answers={"chest_pain": False})
    (report,) = store.list_reports(db, actor=trainer_actor, client_id=client.id)
    assert "answered after the emergency stop: chest pain" in views.report_item(report).detail
