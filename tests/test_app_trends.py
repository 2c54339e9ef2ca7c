"""The managers' trends page, driven with AppTest on the hand-counted history of test_analytics (with the
perturbation switched off, as there: tests/security/test_privacy_*.py drive the page with it on)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from backcare.auth import Actor, Role
from backcare.store import analytics
from backcare.store.analytics import SUPPRESSED_TEXT
from backcare.ui import trend_charts
from tests.conftest import LATER, MANAGER, RANGE

pytestmark = pytest.mark.usefixtures("exact")  # hand-counted figures: see tests/conftest.py

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "trends.py")


def page(db, actor=MANAGER) -> AppTest:
    os.environ["BACKCARE_DB"] = str(db.path)
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["actor"] = actor
    return at.run()


def in_range(at: AppTest) -> AppTest:
    return at.date_input(key="tr_range").set_value((RANGE["start"], RANGE["end"])).run()


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def tables(at: AppTest):
    return [df.value for df in at.dataframe]


def test_empty_history_runs_and_shows_fewer_than_5(db):
    at = page(db)
    ok(at)
    assert metrics(at)["Reports"] == SUPPRESSED_TEXT
    assert any("Nothing to chart" in c.value for c in at.caption)


def test_figures_of_the_range_are_shown(db, history):
    at = in_range(page(db))
    ok(at)
    assert metrics(at) == {"Reports": "14", "Clients who reported": "8", "Red flags (refer and above)": "50.0%"}
    weekly = tables(at)[0]
    assert weekly[weekly["level"] == "normal"]["reports"].tolist() == [SUPPRESSED_TEXT, "6", SUPPRESSED_TEXT]
    adherence = next(t for t in tables(at) if "completed_pct" in t.columns)
    assert adherence["assigned"].tolist()[-1] == "5"
    assert set(adherence["completed_pct"]) == {SUPPRESSED_TEXT}  # 3 of 5 completed: fewer than 5 clients


def test_small_groups_show_fewer_than_5_never_a_number(db, history):
    at = in_range(page(db))
    by_gym = next(t for t in tables(at) if "gym" in t.columns and "trainer" not in t.columns)
    gym_b = by_gym[by_gym["gym"] == "Gym B"].iloc[0]
    assert [gym_b[c] for c in ("reports", "red_flag_reports", "red_flag_pct")] == [SUPPRESSED_TEXT] * 3
    assert any("hidden to protect them" in c.value for c in at.caption)


def test_gym_filter_limits_the_figures(db, history):
    at = in_range(page(db))
    at.selectbox(key="tr_gym").set_value(history["gym_b"].id).run()
    ok(at)
    assert metrics(at)["Reports"] == SUPPRESSED_TEXT
    at.selectbox(key="tr_gym").set_value(history["gym_a"].id).run()
    assert metrics(at) == {"Reports": "11", "Clients who reported": "6", "Red flags (refer and above)": "54.5%"}


def test_every_table_has_a_csv_download(db, history):
    at = in_range(page(db))
    labels = [el.proto.label for el in at.get("download_button")]
    assert len(labels) == len(at.dataframe) == 10  # every table but the summary (metrics)
    assert all(label.endswith("(CSV)") for label in labels)


@pytest.mark.parametrize("role", [Role.CLINIC, Role.TRAINER])
def test_roles_without_trends_see_a_refusal_not_a_traceback(db, history, role):
    at = page(db, Actor(username="x", role=role, gym_id=history["gym_a"].id))
    ok(at)
    assert any("may not trends.read" in e.value for e in at.error)


def test_charts_plot_only_unsuppressed_groups_and_stay_small(db, history):
    everything = analytics.trends(db, actor=MANAGER, **RANGE, now=LATER)
    charts = trend_charts.all_charts(everything)
    assert charts["weekly_levels"].data["reports"].tolist() == [6]  # W1 normal only
    assert charts["by_gym"].data["gym"].tolist() == ["Gym A"]  # Gym B left out
    assert charts["first_contact_weekly"] is None  # every weekly median is suppressed
    for name, chart in charts.items():
        if chart is not None:
            payload = chart.to_json()
            assert len(payload.encode()) < 100_000, name
            assert SUPPRESSED_TEXT not in payload and "Alpha" not in json.dumps(json.loads(payload)["datasets"])


def test_the_by_trainer_table_shows_the_trainers_with_most_reports_and_says_so(db, history, monkeypatch):
    """Issue 13: the page draws only the leading trainers (at chain scale 2,912 rows every rerun); the line above
    the table says how many of how many, and the CSV download keeps every row."""
    every = analytics.reports_by_trainer(db, actor=MANAGER, **RANGE).frame
    assert len(every) == 2 and every["reports"].tolist()[0] == 11
    monkeypatch.setattr(trend_charts, "TRAINERS_SHOWN", 1)
    at = in_range(page(db))
    ok(at)
    shown = next(t for t in tables(at) if "trainer" in t.columns)
    assert shown[["trainer", "reports"]].values.tolist() == [["Tara Trainer", "11"]]
    line = "Showing the 1 trainers with the most reports, of 2. The download (CSV) below lists all 2."
    assert line in [c.value for c in at.caption]
    assert "Download “By trainer” (CSV)" in [el.proto.label for el in at.get("download_button")]


def test_the_leading_rows_are_the_highest_published_and_hidden_ones_come_last_in_their_order():
    frame = pd.DataFrame({"trainer": list("abcde"), "reports": pd.array([None, 7, 12, None, 9], dtype="Int64")})
    table = analytics.TrendTable("t", "T", frame, ("reports",))
    assert trend_charts.leading_rows(table, "reports", 4)["trainer"].tolist() == ["c", "e", "b", "a"]


def test_a_short_by_trainer_table_is_shown_whole_without_the_line(db, history):
    at = in_range(page(db))
    shown = next(t for t in tables(at) if "trainer" in t.columns)
    assert len(shown) == len(analytics.reports_by_trainer(db, actor=MANAGER, **RANGE).frame)
    assert not any(c.value.startswith("Showing the") for c in at.caption)
