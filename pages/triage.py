"""Triage: the trainer's main screen. Emergency questions first; the result with its reasons; one tap saves."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from backcare import intake, store, views
from backcare.errors import BackCareError
from backcare.models import CauseId, Level
from backcare.rules import CAUSE_LABELS, evaluate
from backcare.ui import clients as client_ui
from backcare.ui import context, result as result_ui, style

style.apply_tablet_style()
db = context.get_db()
actor = context.require_actor()

st.title("Triage a back-pain report")
style.scope_statement()
top_alert = st.container()  # an emergency or urgent result is shown here, above everything else

saved = st.session_state.pop("triage_saved", None)
if saved:
    st.success(saved)

client = client_ui.client_picker(db, actor)
client_ui.sidebar_current_client(db, actor)
if client is None:
    st.info("Next: find the client, or add them, to start a report.")
    st.stop()

st.markdown(f"### Report for {client.name} · `{client.external_id}`")
form_id = st.session_state.setdefault("triage_form_id", 0)


def key(field: str) -> str:
    return f"q_{field}_{form_id}"


def yes_no(question: intake.Question) -> str | None:
    return st.segmented_control(question.text, [intake.NO, intake.YES], default=None, key=key(question.field),
                                help=question.help or None)


answers: dict = {}

st.subheader("1 · Emergency signs")
st.caption("Ask each one out loud: people rarely mention these unless asked.")
for q in intake.EMERGENCY:
    answers[q.field] = yes_no(q)
answers["leg_symptoms"] = st.segmented_control(
    intake.LEGS_QUESTION.text, list(intake.LEG_CHOICES), format_func=intake.LEG_CHOICES.get, default=None,
    key=key("leg_symptoms"), help=intake.LEGS_QUESTION.help)

st.subheader("2 · Urgent signs")
for q in intake.URGENT:
    answers[q.field] = yes_no(q)

st.subheader("3 · The pain")
pain_q, quality_q, hours_q, trend_q, eases_q = intake.PAIN_QUESTIONS
# No starting values: a pain score or an hour count the trainer never set must not read as an answer.
answers["pain_score"] = st.segmented_control(pain_q.text, list(intake.PAIN_SCORES), default=None,
                                             key=key("pain_score"))
answers["pain_quality"] = st.segmented_control(quality_q.text, list(intake.PAIN_QUALITIES),
                                               format_func=intake.PAIN_QUALITIES.get, default=None,
                                               key=key("pain_quality"))
answers["hours_since_workout"] = st.number_input(hours_q.text, min_value=0.0, max_value=8760.0, value=None,
                                                 step=1.0, placeholder="e.g. 30", key=key("hours"))
answers["trend"] = st.segmented_control(trend_q.text, list(intake.TRENDS), format_func=intake.TRENDS.get,
                                        default=None, key=key("trend"))
answers["eases_with_movement"] = yes_no(eases_q)
for q in intake.SYMPTOMS:
    answers[q.field] = yes_no(q)

st.subheader("4 · Training context")
try:
    logged = store.list_sessions(db, actor=actor, client_id=client.id, limit=40)
except BackCareError as error:
    context.show_error(error)
    logged = []
prefill = intake.prefill_context(logged, date.today())
if prefill:
    st.caption("Prefilled from the client's logged sessions: check and correct.")
with st.expander("Training context (helps find the causes)", expanded=True):
    known_exercises = sorted(set(prefill.get("exercises", [])) | {"deadlift", "squat", "overhead press", "plank",
                                                                   "bench press", "row", "lunge", "running"})
    ctx: dict = {}
    ctx["exercises"] = st.multiselect("Exercises in the session", known_exercises,
                                      default=prefill.get("exercises", []), accept_new_options=True,
                                      key=key("exercises"))
    left, right = st.columns(2)
    with left:
        ctx["warmup_minutes"] = st.number_input("Warm-up minutes", 0.0, 120.0,
                                                prefill.get("warmup_minutes"), step=1.0, key=key("warmup"),
                                                placeholder="not known")
        ctx["sleep_hours"] = st.number_input("Sleep, hours a night", 0.0, 24.0, None, step=0.5,
                                             key=key("sleep"), placeholder="not known")
        # Small whole numbers as taps, not a keyboard: None until the trainer picks one.
        ctx["core_sessions_per_week"] = st.segmented_control("Core sessions a week", [0, 1, 2, 3, 4, 5],
                                                             format_func=lambda n: "5+" if n == 5 else str(n),
                                                             default=None, key=key("core"))
    with right:
        ctx["sitting_hours_per_day"] = st.number_input("Sitting, hours a day", 0.0, 24.0, None, step=0.5,
                                                       key=key("sitting"), placeholder="not known")
        ctx["rest_days_last_7"] = st.segmented_control("Rest days in the last 7", list(range(8)),
                                                       default=prefill.get("rest_days_last_7"), key=key("rest"))
        cooldown = st.segmented_control("Cool-down done?", [intake.YES, intake.NO],
                                        default={True: intake.YES, False: intake.NO}.get(prefill.get("cooldown_done")),
                                        key=key("cooldown"))
        ctx["cooldown_done"] = None if cooldown is None else cooldown == intake.YES
    applies = st.pills("Anything else that applies? (tap all that do)", list(intake.CONTEXT_FLAGS),
                       format_func=intake.CONTEXT_FLAGS.get, selection_mode="multi", key=key("flags")) or []
    for field in intake.CONTEXT_FLAGS:
        ctx[field] = field in applies

st.subheader("5 · Result")
missing = intake.unanswered(answers)
try:
    report = intake.build_report(answers, ctx, client_id=client.external_id)
    history = store.triage_history(db, actor=actor, client_id=client.id)
except BackCareError as error:
    context.show_error(error)
    st.stop()
result = evaluate(report, history)

if result.level in (Level.URGENT, Level.EMERGENCY):
    with top_alert:  # certain already, whatever is still unanswered: shown before anything else
        result_ui.level_banner(result)
if missing:
    st.warning(f"Provisional: {len(missing)} question(s) still to answer. Unanswered questions count as "
               "their mildest answer, so the level below can only stay the same or rise.")
result_ui.show_result(result)
paused = views.is_paused(client.status)

chosen_plans: list[CauseId] = []
start, review = date.today(), date.today() + timedelta(days=14)
if result.plans and paused:
    st.warning("This client has a referral that a clinician has not cleared: no loading plans until clearance "
               "is recorded. Saving still records the report for the clinic.")
elif result.plans:
    chosen_plans = st.pills("**Corrective plans to assign**", list(result.plans),
                            format_func=lambda c: CAUSE_LABELS[CauseId(c)], selection_mode="multi",
                            default=list(result.plans), key=key("plans")) or []
    start_col, review_col = st.columns(2)
    start = start_col.date_input("Plan start", date.today(), key=key("start"))
    review = review_col.date_input("Review on", date.today() + timedelta(days=14), key=key("review"))
elif result.level.needs_professional:
    st.warning("No loading plans until a clinician records clearance. Saving opens a referral for the clinic.")

if missing:
    st.warning("Still to answer before saving: " + "; ".join(q.text for q in missing))

label = "Save report" + (f" and assign {len(chosen_plans)} plan(s)" if chosen_plans else "")
if st.button(label, type="primary", use_container_width=True, key=key("save")):
    if missing:
        st.error("Not saved: answer every question first (" + ", ".join(q.field for q in missing) + ").")
    else:
        try:
            saved_report = store.save_report(db, actor=actor, client_id=client.id, report=report,
                                             assign_plans=[CauseId(p) for p in chosen_plans],
                                             start_date=start, review_date=review)
        except BackCareError as error:
            context.show_error(error)
        else:
            note = f"Report saved: {result_ui.LEVEL_TITLES[saved_report.result.level]}."
            if saved_report.referral_id:
                note += " A referral is open for the clinic."
            if saved_report.assignment_ids:
                note += f" {len(saved_report.assignment_ids)} plan(s) assigned."
            if saved_report.skipped_plans:
                note += (" Not assigned while the client is paused by a referral: "
                         + ", ".join(CAUSE_LABELS[p] for p in saved_report.skipped_plans) + ".")
            st.session_state["triage_saved"] = note + " Next: see it in the client's history."
            st.session_state["triage_form_id"] = form_id + 1
            st.rerun()
