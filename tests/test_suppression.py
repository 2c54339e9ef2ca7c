"""Secondary suppression: a figure hidden as 'fewer than 5' cannot be recovered by subtracting the shown
siblings from a total shown elsewhere on the trends page (the reviewer's three subtraction attacks)."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from backcare import store
from backcare.auth import SYSTEM, Role
from backcare.store import analytics
from backcare.store.analytics import ALL_PLANS, SUPPRESSED_TEXT, _Cell, _rows, complement
from tests.conftest import LATER, MANAGER, RANGE, W1, W2, report_payload
from tests.test_app_trends import in_range, ok, page

TUE = datetime(2025, 3, 4, 10, 0)
DAY = {"start": date(2025, 3, 1), "end": date(2025, 3, 9)}


def _gym(db, name):
    gym = store.create_gym(db, actor=SYSTEM, name=name)
    trainer = store.actor_for(store.create_user(db, actor=SYSTEM, username=name.lower().replace(" ", "_"),
                                                display_name=f"{name} trainer", role=Role.TRAINER, gym_id=gym.id))
    return gym, trainer


def _clients(db, trainer, n, prefix):
    return [store.create_client(db, actor=trainer, gym_id=trainer.gym_id, name=f"{prefix} {i}",
                                trainer_id=trainer.user_id, consent_by=trainer.username) for i in range(n)]


def _hidden(value) -> bool:
    return value == SUPPRESSED_TEXT


# --- the rule itself ---------------------------------------------------------------------------


def _frame(clients):
    return pd.DataFrame({"reports": pd.array(clients, dtype="Int64"), "clients": pd.array(clients, dtype="Int64")})


def test_one_hidden_sibling_takes_the_smallest_shown_one_with_it():
    frame = _frame([None, 9, 6, 12])
    complement([(None, _rows(frame, "reports", ("reports", "clients")))])
    assert frame["reports"].isna().tolist() == [True, False, True, False]


def test_a_group_with_no_hidden_sibling_or_two_hidden_is_unchanged():
    for values in ([7, 9, 6], [None, None, 6, 8]):
        frame = _frame(values)
        complement([(None, _rows(frame, "reports", ("reports", "clients")))])
        assert frame.equals(_frame(values))


def test_a_lone_hidden_sibling_hides_its_total():
    totals, parts = _frame([8]), _frame([None])
    complement([(_Cell(totals, 0, "reports", ("reports", "clients")), _rows(parts, "reports", ("reports",)))])
    assert totals["reports"].isna().all()


# --- the reviewer's attacks, through the store -------------------------------------------------


def test_plan_adherence_hidden_plan_is_not_total_minus_shown_plans(db):
    _, trainer = _gym(db, "Gym A")
    clients = _clients(db, trainer, 6, "A")
    for client in clients:
        store.assign_plan(db, actor=trainer, client_id=client.id, plan_id="warm_up", start_date=TUE.date(),
                          review_date=TUE.date(), now=TUE)
    for client in clients[:2]:
        a = store.assign_plan(db, actor=trainer, client_id=client.id, plan_id="recovery", start_date=TUE.date(),
                              review_date=TUE.date(), now=TUE)
        store.set_assignment_status(db, actor=trainer, assignment_id=a.id, status="stopped", now=TUE)
    table = analytics.plan_adherence(db, actor=MANAGER, **DAY).display()
    total = table[table["plan"] == ALL_PLANS].iloc[0]
    plans = table[table["plan"] != ALL_PLANS]
    assert total["assigned"] == 8 and len(plans) == 2
    for column in ("assigned", "completed", "stopped", "active"):
        assert plans[column].map(_hidden).sum() != 1, column
    assert plans["assigned"].map(_hidden).all()  # the 6-client plan hidden with the 2-client one


def test_a_hidden_gym_is_not_the_summary_minus_the_shown_gyms(db):
    _, tara = _gym(db, "Gym A")
    _, ben = _gym(db, "Gym B")
    for client in _clients(db, tara, 6, "A"):
        store.save_report(db, actor=tara, client_id=client.id, report=report_payload(), now=TUE)
    for client in _clients(db, ben, 2, "B"):
        store.save_report(db, actor=ben, client_id=client.id, report=report_payload(pain_score=7), now=TUE)
    summary = analytics.trends_summary(db, actor=MANAGER, **DAY).display().iloc[0]
    assert summary["reports"] == 8  # the headline stays
    for table in (analytics.reports_by_gym(db, actor=MANAGER, **DAY),
                  analytics.reports_by_trainer(db, actor=MANAGER, **DAY)):
        shown = table.display()
        for column in ("reports", "clients", "red_flag_reports"):
            assert shown[column].map(_hidden).sum() != 1, (table.name, column)
        assert shown["reports"].map(_hidden).all()


def test_gyms_all_of_five_or_more_are_unchanged(db):
    for name in ("Gym A", "Gym B"):
        _, trainer = _gym(db, name)
        for client in _clients(db, trainer, 5, name):
            store.save_report(db, actor=trainer, client_id=client.id, report=report_payload(), now=TUE)
    shown = analytics.reports_by_gym(db, actor=MANAGER, **DAY).display()
    assert shown[["gym", "reports", "clients"]].values.tolist() == [["Gym A", 5, 5], ["Gym B", 5, 5]]


@pytest.mark.parametrize("gym", [None, "gym_a"])
def test_no_weekly_level_is_its_week_total_minus_the_shown_levels(db, history, gym):
    gym_id = history[gym].id if gym else None
    levels = analytics.weekly_levels(db, actor=MANAGER, **RANGE, gym_id=gym_id).display()
    weeks = analytics.weekly_red_flags(db, actor=MANAGER, **RANGE, gym_id=gym_id).display()
    red = levels["level"].isin(["refer", "urgent", "emergency"])
    for week in weeks.itertuples():
        mine = levels["week"] == week.week
        if not _hidden(week.reports):
            assert levels[mine]["reports"].map(_hidden).sum() != 1
        if not _hidden(week.red_flag_reports):
            assert levels[mine & red]["reports"].map(_hidden).sum() != 1
        # the other levels plus the week's red flags add up to its reports
        if not _hidden(week.reports):
            hidden = levels[mine & ~red]["reports"].map(_hidden).sum() + _hidden(week.red_flag_reports)
            assert hidden != 1
    for column in ("reports", "red_flag_reports"):  # the weeks add up to the summary
        assert weeks[column].map(_hidden).sum() != 1


def test_every_table_of_the_page_is_protected_and_charts_use_the_same_frames(db, history):
    everything = analytics.trends(db, actor=MANAGER, **RANGE, now=LATER)
    assert everything.weekly_levels.chartable("reports").empty
    assert (W1, W2) == tuple(everything.weekly_red_flags.display()["week"])


# --- the CSV downloads are audited ------------------------------------------------------------


def test_a_trends_csv_download_writes_an_export_audit_row(db, history):
    at = in_range(page(db))
    ok(at)

    def exports():
        return db.cursor().execute("SELECT actor, entity, detail FROM audit_log WHERE action = 'export.download'"
                                   ).fetchall()

    assert exports() == []
    next(b for b in at.get("download_button") if b.key == "csv_by_gym").click()
    at.run()
    ok(at)
    assert exports() == [("mia", "trends", '{"what": "trends.reports_by_gym"}')]
