"""Trends for managers: how often back pain is reported, how serious, why, and whether plans help."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from backcare import store
from backcare.errors import BackCareError
from backcare.store.analytics import MIN_GROUP_CLIENTS, SUPPRESSED_TEXT
from backcare.ui import context, style
from backcare.ui import trend_charts as charts

DEFAULT_WEEKS = 12

style.apply_tablet_style()
db = context.get_db()
actor = context.require_actor()

st.title("Trends")
st.caption(
    f"Counts over all clients, never one client. Any group of fewer than {MIN_GROUP_CLIENTS} clients, "
    f"none included, shows “{SUPPRESSED_TEXT}” and is left out of the charts. To protect clients, every "
    "figure is adjusted by a small fixed amount (a count by at most 2), so tables need not add up "
    "exactly and comparing two views tells nothing exact. Times are UTC. Tap a bar or a point for its figures."
)

today = store.utcnow().date()
left, right = st.columns([2, 1])
with left:
    picked = st.date_input(
        "Reports between",
        value=(today - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1), today),
        max_value=today,
        key="tr_range",
    )
with right:
    gyms = store.list_gyms(db, actor=actor)
    names = {g.id: g.name for g in gyms}
    gym_id: int | None
    if actor.gym_id is not None:
        st.markdown(f"**Gym:** {names.get(actor.gym_id, actor.gym_id)}")
        gym_id = actor.gym_id
    else:
        gym_id = st.selectbox(
            "Gym", [None, *names], format_func=lambda g: "All gyms" if g is None else names[g], key="tr_gym"
        )
if not isinstance(picked, (tuple, list)) or len(picked) != 2:
    st.info("Pick the last day of the range too.")
    st.stop()
start, end = picked

try:
    trends = store.trends(db, actor=actor, start=start, end=end, gym_id=gym_id)
except BackCareError as error:
    context.show_error(error)
    st.stop()

summary = trends.summary.display().iloc[0]
cols = st.columns(3)
cols[0].metric("Reports", str(summary["reports"]))
cols[1].metric("Clients who reported", str(summary["clients"]))
cols[2].metric(
    "Red flags (refer and above)",
    summary["red_flag_pct"] if summary["red_flag_pct"] == SUPPRESSED_TEXT else f"{summary['red_flag_pct']}%",
)

st.subheader("Reports a week by level")
charts.show_chart(charts.weekly_levels_chart(trends.weekly_levels))
charts.show_table(db, actor, trends.weekly_levels, "weekly_levels")

st.subheader("Share of red flags")
st.caption("Reports at refer, urgent or emergency: a professional was needed.")
charts.show_chart(charts.red_flag_chart(trends.weekly_red_flags))
charts.show_table(db, actor, trends.weekly_red_flags, "weekly_red_flags")

st.subheader("Contributing causes")
charts.show_chart(charts.causes_chart(trends.causes))
charts.show_table(db, actor, trends.causes, "causes")
st.markdown("**Ranked over time**")
charts.show_chart(charts.causes_over_time_chart(trends.causes_monthly))
charts.show_table(db, actor, trends.causes_monthly, "causes_monthly")

st.subheader("By gym and by trainer")
charts.show_chart(charts.by_gym_chart(trends.by_gym))
charts.show_table(db, actor, trends.by_gym, "by_gym")
charts.show_table(db, actor, trends.by_trainer, "by_trainer", first=(charts.TRAINERS_SHOWN, "reports", "trainers"))

st.subheader("Time from report to first clinic contact")
st.caption("Targets: emergency within 1 hour, urgent within 24 hours, refer within 7 days.")
charts.show_table(db, actor, trends.first_contact, "first_contact")
charts.show_chart(charts.first_contact_chart(trends.first_contact_weekly))
charts.show_table(db, actor, trends.first_contact_weekly, "first_contact_weekly")

st.subheader("Do the plans help?")
st.caption(
    "Adherence: the share of plans assigned in the range that were completed, and of the trainers' feedback "
    "entries dated in the range, the share where the client did the plan (all or some of it) and did all of it."
)
charts.show_table(db, actor, trends.plan_adherence, "plan_adherence")
st.caption(
    "Pain change after a plan: for each plan with feedback in the range, the pain the next morning at its latest "
    "feedback minus the pain score of the report before the plan (0-10 scale). Below 0 means less pain; a change "
    "of 2 points or more counts as meaningful. Each bar says how many clients it describes; plans with fewer than "
    f"{MIN_GROUP_CLIENTS} clients are not shown. It shows how pain changed while clients followed a "
    "plan, not that the plan caused it."
)
charts.show_chart(charts.outcome_chart(trends.plan_outcome))
charts.show_table(db, actor, trends.plan_outcome, "plan_outcome")
