"""The managers' "do the plans help?" figures from the trainers' feedback, counted by hand with the cell-key
adjustment off (privacy.EXACT: the small-group rule stays), and the outcome chart that says what it measures.

The history: six clients of one gym report pain 3 on 2 March 2025. Clients 1-5 get the warm-up plan with the
report; client 6 gets the core plan afterwards (its pre-plan level: that report). Feedback in March:
  clients 1-5, warm-up, on 5 and 9 March; next-morning pain at the latest entry 1, 1, 3, 5, 0 (changes -2, -2, 0,
  +2, -3); done: client 1 none then some, client 2 all then some, clients 3-5 all twice;
  client 6, core, on 9 March: all, next morning 3 (change 0);
  client 1 again on 5 April (outside the range): next morning 9, which the range leaves out.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backcare import store
from backcare.auth import SYSTEM, Role
from backcare.store import analytics
from backcare.store.analytics import SUPPRESSED_TEXT
from backcare.ui import trend_charts
from tests.conftest import MANAGER, report_payload

pytestmark = pytest.mark.usefixtures("exact")
REPORTED = datetime(2025, 3, 2, 10, 0)
MARCH = {"start": date(2025, 3, 1), "end": date(2025, 3, 31)}
MORNINGS = (1, 1, 3, 5, 0)
DONE = (("none", "some"), ("all", "some"), ("all", "all"), ("all", "all"), ("all", "all"))


def fb(assignment_id, day, done, morning):
    return {
        "assignment_id": assignment_id,
        "entry_date": day,
        "done": done,
        "pain_during": 2,
        "pain_morning_after": morning,
    }


@pytest.fixture
def feedback_history(db):
    gym = store.create_gym(db, actor=SYSTEM, name="Gym A")
    tara = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="tara", display_name="Tara", role=Role.TRAINER, gym_id=gym.id)
    )
    clients = [
        store.create_client(db, actor=tara, gym_id=gym.id, name=f"Client {i}", consent_by="tara") for i in range(6)
    ]
    for client, morning, (first, second) in zip(clients[:5], MORNINGS, DONE, strict=True):
        saved = store.save_report(
            db,
            actor=tara,
            client_id=client.id,
            now=REPORTED,
            report=report_payload(pain_score=3, context={"warmup_minutes": 2}),
            assign_plans=["warm_up"],
        )
        (plan,) = saved.assignment_ids
        store.record_feedback(db, actor=tara, client_id=client.id, entries=[fb(plan, date(2025, 3, 5), first, 2)])
        store.record_feedback(
            db, actor=tara, client_id=client.id, entries=[fb(plan, date(2025, 3, 9), second, morning)]
        )
        if client == clients[0]:
            store.record_feedback(db, actor=tara, client_id=client.id, entries=[fb(plan, date(2025, 4, 5), "all", 9)])
    sixth = clients[5]
    store.save_report(db, actor=tara, client_id=sixth.id, now=REPORTED, report=report_payload(pain_score=3))
    core = store.assign_plan(
        db,
        actor=tara,
        client_id=sixth.id,
        plan_id="core",
        start_date=date(2025, 3, 2),
        review_date=date(2025, 3, 30),
        now=datetime(2025, 3, 2, 11, 0),
    )
    store.record_feedback(db, actor=tara, client_id=sixth.id, entries=[fb(core.id, date(2025, 3, 9), "all", 3)])
    return gym


def by_plan(table):
    return {row["plan"]: row for row in table.display().to_dict("records")}


def test_adherence_shares_come_from_the_feedback_entries_of_the_range(db, feedback_history):
    table = by_plan(analytics.plan_adherence(db, actor=MANAGER, **MARCH))
    warm_up = table["Skipped warm-up"]
    assert (warm_up["feedback_entries"], warm_up["feedback_clients"]) == (10, 5)
    # 9 of 10 done; all of it at 7 entries, but those are of 4 clients only: hidden
    assert (warm_up["done_pct"], warm_up["all_done_pct"]) == (90.0, SUPPRESSED_TEXT)
    everything = table["all plans"]
    assert (everything["feedback_entries"], everything["feedback_clients"]) == (11, 6)
    assert (everything["done_pct"], everything["all_done_pct"]) == (
        90.9,
        72.7,
    )  # 10 and 8 of 11 (with client 6: 5 clients did all)
    core = table["Weak core"]
    assert [core[c] for c in ("feedback_entries", "feedback_clients", "done_pct")] == [SUPPRESSED_TEXT] * 3
    assert warm_up["assigned"] == 5  # the assignment figures are still there


def test_pain_change_after_a_plan_per_plan_hides_groups_under_5_clients(db, feedback_history):
    table = by_plan(analytics.plan_outcome(db, actor=MANAGER, **MARCH))
    warm_up = table["Skipped warm-up"]
    # changes -2, -2, 0, +2, -3 (the April entry of client 1 is outside the range)
    assert (warm_up["plans"], warm_up["clients"], warm_up["mean_change"], warm_up["median_change"]) == (
        5,
        5,
        -1.0,
        -2.0,
    )
    assert (warm_up["improved_pct"], warm_up["worse_pct"]) == (SUPPRESSED_TEXT, SUPPRESSED_TEXT)  # 3 and 1 clients
    everything = table["all plans"]  # with client 6's core plan: -3, -2, -2, 0, 0, +2
    assert (everything["plans"], everything["clients"], everything["mean_change"], everything["median_change"]) == (
        6,
        6,
        -0.8,
        -1.0,
    )
    assert set(table["Weak core"].values()) - {"Weak core"} == {SUPPRESSED_TEXT}
    assert list(table)[0] == "all plans" and len(table) == 8


def test_another_gyms_figures_are_empty(db, feedback_history):
    other = store.create_gym(db, actor=SYSTEM, name="Gym B")
    table = by_plan(analytics.plan_outcome(db, actor=MANAGER, gym_id=other.id, **MARCH))
    assert table["all plans"]["plans"] == SUPPRESSED_TEXT


def test_the_outcome_chart_names_the_measure_and_the_clients_and_leaves_small_groups_out(db, feedback_history):
    chart = trend_charts.outcome_chart(analytics.plan_outcome(db, actor=MANAGER, **MARCH))
    assert chart is not None
    spec = chart.to_dict()
    assert "Pain change after a plan" in str(spec["title"])
    labels = [row["label"] for row in chart.data.to_dict("records")]
    assert labels == ["all plans (6 clients)", "Skipped warm-up (5 clients)"]
    x = spec["layer"][0]["encoding"]["x"]
    assert x["scale"]["domain"] == [-10, 10] and "less pain" in x["title"]


def test_no_feedback_no_outcome_chart(db):
    assert trend_charts.outcome_chart(analytics.plan_outcome(db, actor=MANAGER, **MARCH)) is None


def test_the_trends_page_says_what_the_outcome_measures(db, feedback_history):
    os.environ["BACKCARE_DB"] = str(db.path)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "pages" / "trends.py"), default_timeout=30)
    at.session_state["actor"] = MANAGER
    at.run()
    at.date_input(key="tr_range").set_value((MARCH["start"], MARCH["end"])).run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "minus the pain score of the report before the plan" in captions
    assert "not that the plan caused it" in captions
    outcome = next(df.value for df in at.dataframe if "mean_change" in df.value.columns)
    assert outcome[outcome["plan"] == "Skipped warm-up"]["plans"].tolist() == ["5"]
