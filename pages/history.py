"""Client history: status and next step, open referral, training load and pain over time, plans with their
feedback and the suggested next step, a timeline of sessions and reports, and logging a training session (with
feedback on each active plan)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from backcare import feedback, store
from backcare.errors import BackCareError
from backcare.plans import load_library
from backcare.rules import LOAD_RATIO_SPIKE
from backcare.ui import charts, context, feedback_views, style, views, words
from backcare.ui import clients as client_ui
from backcare.ui.keys import record_key

style.apply_tablet_style()
db = context.get_db()
actor = context.require_actor()

st.title("Client history")
logged_note = st.session_state.pop("history_logged", None)
if logged_note:
    st.success(logged_note)

if context.current_client_id() is None:
    client_ui.client_picker(db, actor)
client_id = context.current_client_id()
if client_id is None:
    client_ui.sidebar_current_client(db, actor)
    st.info("Next: find the client, or add them, to see their history.")
    st.stop()

# The history view is audited once per client per sign-in, not on every rerun.
audited: set = st.session_state.setdefault("history_audited", set())
try:
    history = store.client_history(db, actor=actor, client_id=client_id, audit=client_id not in audited)
except BackCareError as error:
    client_ui.sidebar_current_client(db, actor)
    context.show_error(error)
    st.stop()
audited.add(client_id)
client = history.client
# The sidebar shows the record client_history has just read: no second read of it on a rerun (issue 17).
client_ui.sidebar_current_client(db, actor, client)

name_col, change_col = st.columns([2, 1], vertical_alignment="center")
name_col.markdown(f"### {client.name} · `{client.external_id}`  \n**Status:** {client_ui.status_label(history.status)}")
if change_col.button("Change client", key="history_change_client", width="stretch"):
    context.set_current_client(None)
    st.rerun()
show_next = st.warning if views.is_paused(history.status) else st.info
show_next("Next: " + views.next_step(history.status))
client_ui.contact_panel(db, actor, client)

# Feedback on the active plans (issue 15): read once per rerun, only when a plan is running (not on hold).
library = load_library()
active, past = views.split_assignments(history.assignments)
plans_running = active and not views.is_paused(history.status)
try:
    plan_feedback = store.client_plan_feedback(db, actor=actor, client_id=client.id) if plans_running else []
except BackCareError as error:
    context.show_error(error)
    plan_feedback = []
last_report_day = max((r.created_at.date() for r in history.reports), default=None)
feedback_views.triage_prompt(client, plan_feedback, library, last_report_day)

st.subheader("Log a session")
MINUTES = [15, 30, 45, 60, 75, 90, 120]
RPE_WORDS = {0: "rest", 1: "very easy", 3: "moderate", 5: "hard", 7: "very hard", 9: "near max", 10: "max"}


def session_key(field: str) -> str:
    # Keyed by the client: a session typed for one client is never logged for the next one.
    return record_key("client", client.id, f"session_{field}")


with st.form(session_key("form"), clear_on_submit=True):
    # Taps, not typing. required=True: tapping the chosen value again keeps it (no silent clearing).
    minutes_pick = st.pills(
        "Minutes", MINUTES, format_func=lambda m: f"{m} min", required=True, key=session_key("minutes_pick")
    )
    rpe = st.pills(
        "How hard (RPE 0-10)",
        list(range(11)),
        required=True,
        key=session_key("rpe_pick"),
        format_func=lambda r: f"{r} {RPE_WORDS[r]}" if r in RPE_WORDS else str(r),
    )
    taps = feedback_views.plan_taps([p.assignment for p in plan_feedback], library)
    with st.expander("Another day, other minutes, exercises, warm-up"):
        day_col, minutes_col = st.columns(2)
        day = day_col.date_input(
            "Date", date.today(), max_value=date.today(), key=session_key("date"), format="DD/MM/YYYY"
        )
        minutes_typed = minutes_col.number_input(
            "Other minutes",
            min_value=0.0,
            max_value=600.0,
            value=None,
            step=5.0,
            placeholder="e.g. 50",
            key=session_key("minutes"),
        )
        exercises = st.text_input("Exercises", placeholder="e.g. squat, deadlift, plank", key=session_key("exercises"))
        warm_col, cool_col = st.columns(2)
        warmup = warm_col.number_input(
            "Warm-up minutes",
            min_value=0.0,
            max_value=600.0,
            value=None,
            step=1.0,
            placeholder="not known",
            key=session_key("warmup"),
        )
        cooldown = cool_col.radio(
            "Cool-down", ["Yes", "No", "Not known"], index=2, horizontal=True, key=session_key("cooldown")
        )
    submitted = st.form_submit_button("Log session", type="primary", width="stretch")
if submitted:
    minutes = minutes_typed if minutes_typed is not None else minutes_pick
    try:
        session = views.session_from_form(
            day=day,
            minutes=minutes,
            rpe=rpe,
            exercises=exercises,
            warmup_minutes=warmup,
            cooldown=None if cooldown == "Not known" else cooldown,
        )
        entries = feedback.feedback_from_form(taps, session.date)
        if entries:  # the session and its feedback in one transaction
            recorded = store.record_feedback(db, actor=actor, client_id=client.id, entries=entries, session=session)
            saved = recorded.session
        else:
            saved = store.log_session(db, actor=actor, client_id=client.id, session=session)
    except BackCareError as error:
        context.show_error(error)
    else:
        assert saved is not None
        plans_note = "" if not entries else f" Feedback saved for {len(entries)} plan{'s' if len(entries) > 1 else ''}."
        st.session_state["history_logged"] = (
            f"Session logged: {saved.minutes:.0f} min at RPE {saved.rpe:.0f} (load {saved.load:,.0f}).{plans_note}"
        )
        st.rerun()

# The age rules of triage read the year of birth: asked once when unknown, editable here.
with st.expander(
    "Year of birth" + ("" if client.year_of_birth is None else f": {client.year_of_birth}"),
    expanded=client.year_of_birth is None,
):
    year_col, save_col = st.columns([2, 1], vertical_alignment="bottom")
    # The record's year comes in through the session state, not `value=`: a cleared box reads as the
    # widget's default, so with the year as default "not known" could never be saved.
    st.session_state.setdefault(record_key("client", client.id, "year_of_birth"), client.year_of_birth)
    year = year_col.number_input(
        "Year of birth",
        min_value=1900,
        max_value=date.today().year,
        value=None,
        step=1,
        placeholder="not known",
        key=record_key("client", client.id, "year_of_birth"),
    )
    if save_col.button(
        "Save year of birth", key=record_key("client", client.id, "save_year_of_birth"), width="stretch"
    ):
        try:
            store.set_year_of_birth(
                db, actor=actor, client_id=client.id, year_of_birth=None if year is None else int(year)
            )
        except BackCareError as error:
            context.show_error(error)
        else:
            st.session_state["history_logged"] = "Year of birth saved."
            st.rerun()

open_referrals, closed_referrals = views.split_referrals(history.referrals)
for referral in open_referrals:
    st.error(views.referral_line(referral), icon=":material/local_hospital:")
if closed_referrals:
    with st.expander(f"Past referrals ({len(closed_referrals)})"):
        for referral in closed_referrals:
            restrictions = f"  \nRestrictions: {referral.restrictions}" if referral.restrictions else ""
            st.markdown(f"- {views.referral_line(referral)}{restrictions}")

st.subheader("Training load and pain")
summary = views.load_summary(history.load)
left, middle, right = st.columns(3)
left.metric(
    "Load, 7 days",
    f"{summary.this_week:,.0f}",
    None if summary.change is None else f"{summary.change:+,.0f}",
    delta_color="off",  # red means urgent
    help="Session load = RPE × minutes, summed over the last 7 days; the change is against the 7 days before.",
)
middle.metric("Sessions, 7 days", summary.sessions)
right.metric("Spike indicator", "–" if summary.ratio is None else f"{summary.ratio:.2f}", help=views.RATIO_CAPTION)
st.markdown(charts.load_sentence(summary))
with st.expander("What the spike indicator means"):
    st.markdown(
        f"{views.RATIO_CAPTION} The shaded band ({views.BAND_LOW}–{views.BAND_HIGH}) is the usual "
        f"range. At {LOAD_RATIO_SPIKE} or more this week's load jumped well above the usual week: that "
        "week's bar turns orange and a triangle marks it. It says nothing about injury on its own."
    )
charts.history_charts(views.load_chart_rows(history.load), views.pain_chart_rows(history.pain))

st.subheader("Plans")
if active and views.is_paused(history.status):
    st.markdown(
        "On hold until clearance (a referral is open):\n\n"
        + "\n".join(
            f"- :orange[:material/pause_circle:] {views.assignment_line(assignment, library)}" for assignment in active
        )
    )
elif active:
    st.markdown(
        "\n".join(
            f"- :green[:material/play_circle:] {views.assignment_line(assignment, library)}" for assignment in active
        )
    )
else:
    st.caption("No active plan. Assign one on the Plans page.")
if plan_feedback:
    st.markdown("**How the plans are going**")
    latest_level = max(history.reports, key=lambda r: (r.created_at, r.id)).level if history.reports else None
    feedback_views.plan_feedback_panel(db, actor, plan_feedback, library, latest_level)
if past:
    with st.expander(f"Past plans ({len(past)})"):
        st.markdown("\n".join(f"- {views.assignment_line(assignment, library)}" for assignment in past))

st.subheader("Timeline")
items = views.merge_timeline(history.sessions, history.reports, limit=20)
if not items:
    st.caption("Nothing yet: log a session or triage a report.")
else:
    st.markdown("\n\n".join(f"**{words.day(item.day)}** · {item.title}  \n{item.detail}" for item in items))
