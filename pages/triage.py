"""Triage: the trainer's main screen, one short step at a time on a tablet.

Emergency signs first, then urgent signs, the pain, the training context and the result. A step opens
only when every question before it is answered, so the result and its one-tap save never show for an
incomplete form; an emergency or urgent answer puts its banner at the top of every step at once.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from backcare import intake, store, views
from backcare.catalogue import catalogue_names
from backcare.errors import AlreadySaved, BackCareError, InvalidInput
from backcare.models import CauseId, Level, TriageHistory
from backcare.questions import Kind
from backcare.rules import CAUSE_LABELS, evaluate
from backcare.ui import clients as client_ui
from backcare.ui import context, result as result_ui, style
from backcare.ui.triage_form import TriageForm

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

form = TriageForm(st.session_state, client.id)


def ask(question: intake.Question) -> None:
    """One registry question as its widget; none starts on a value (an answer is always given on purpose)."""
    help_text = question.help or None
    if question.kind is Kind.HOURS:
        form.widget(st.number_input, question.text, "hours", min_value=0.0, max_value=8760.0, value=None,
                    step=1.0, placeholder="e.g. 30", help=help_text)
    elif question.kind is Kind.CHOICE:
        form.widget(st.segmented_control, question.text, question.field, intake.choices(question),
                    format_func=lambda value: intake.choice_label(question, value), help=help_text)
    else:
        form.widget(st.segmented_control, question.text, question.field, intake.choices(question), help=help_text)


# --- what the history says, and the result so far ------------------------------------------------
# Nothing below may stop the page before the questions and any red banner are drawn.
history_error = None
try:
    logged = store.list_sessions(db, actor=actor, client_id=client.id, limit=40)
    history = store.triage_history(db, actor=actor, client_id=client.id)
except BackCareError as error:
    history_error, logged, history = str(error), [], TriageHistory()
prefill = intake.prefill_context(logged, date.today())
form.seed_context(prefill)
answers = form.answers()
context_error = None
try:
    report = intake.build_report(answers, form.context(), client_id=client.external_id, age=client.age())
except BackCareError as error:  # only the free-typed context can fail: the answers come from fixed choices
    context_error = str(error)
    report = intake.build_report(answers, None, client_id=client.external_id, age=client.age())
# Unanswered questions are not asked: an emergency or urgent level is certain already (X1 names the rest).
result = evaluate(report, history)
step = form.open_step(reach=intake.CONTEXT_STEP if context_error else None)
with top_alert:
    if form.needs_alert(result.level):  # the banner may be scrolled out of view: this one floats
        result_ui.alert_toast(result)
        form.alerted(result.level)
    if result.level in (Level.URGENT, Level.EMERGENCY):  # certain already, whatever is still unanswered
        result_ui.level_banner(result)
    elif step < intake.RESULT_STEP:
        result_ui.watch_strip()

st.markdown(f"### Report for {client.name} · `{client.external_id}`")
if history_error:
    st.error(f"{history_error} The result below leaves out the client's history until it can be read.")
else:
    st.caption(views.triage_history_line(logged, history, date.today()))

# --- the steps ------------------------------------------------------------------------------------
reach = intake.furthest_step(answers)


def step_label(index: int) -> str:
    done = bool(intake.STEPS[index].questions) and index < reach
    return f"{index + 1} {intake.STEPS[index].name.capitalize()}{' ✓' if done else ''}"


st.segmented_control("Step", list(range(len(intake.STEPS))), format_func=step_label, key=form.nav_key,
                     on_change=form.on_step_bar, label_visibility="collapsed")
st.subheader(f"{step + 1} · {intake.STEPS[step].title}")

if step < intake.CONTEXT_STEP:
    if step == 0:
        st.caption("Ask each one out loud: people rarely mention these unless asked.")
    for q in intake.asked(step, answers):
        ask(q)
elif step == intake.CONTEXT_STEP:
    if context_error:
        st.error(f"Please correct the training context: {context_error}")
    if prefill:
        st.caption("Prefilled from the client's logged sessions: check and correct. These help find the causes.")
    # Catalogue names first; free text is still accepted (the catalogue reads its spellings).
    known = catalogue_names()
    form.widget(st.multiselect, "Exercises in the session", "exercises",
                known + sorted(set(form.value("exercises") or []) - set(known)), accept_new_options=True)
    left, right = st.columns(2)
    with left:
        form.widget(st.number_input, "Warm-up minutes", "warmup", 0.0, 600.0, None, step=1.0,
                    placeholder="not known")
        form.widget(st.number_input, "Sleep, hours a night", "sleep", 0.0, 24.0, None, step=0.5,
                    placeholder="not known")
        # Small whole numbers as taps, not a keyboard: None until the trainer picks one.
        form.widget(st.segmented_control, "Core sessions a week", "core", [0, 1, 2, 3, 4, 5],
                    format_func=lambda n: "5+" if n == 5 else str(n))
    with right:
        form.widget(st.number_input, "Sitting, hours a day", "sitting", 0.0, 24.0, None, step=0.5,
                    placeholder="not known")
        form.widget(st.segmented_control, "Rest days in the last 7", "rest", list(range(8)))
        form.widget(st.segmented_control, "Cool-down done?", "cooldown", [intake.YES, intake.NO])
    form.widget(st.pills, "Anything else that applies? (tap all that do)", "flags", list(intake.CONTEXT_FLAGS),
                format_func=intake.CONTEXT_FLAGS.get, selection_mode="multi")
else:
    st.markdown("  \n".join(intake.answer_summary(answers) + [intake.context_summary(form.context())]))
    result_ui.show_result(result)
    paused = views.is_paused(client.status)
    chosen_plans: list[CauseId] = []
    start, review = date.today(), date.today() + timedelta(days=14)
    if result.plans and paused:
        st.warning("This client has a referral that a clinician has not cleared: no loading plans until "
                   "clearance is recorded. Saving still records the report for the clinic.")
    elif result.plans:
        chosen_plans = form.plans(st.pills, "**Corrective plans to assign**", list(result.plans),
                                  format_func=lambda c: CAUSE_LABELS[CauseId(c)], selection_mode="multi")
        start_col, review_col = st.columns(2)
        form.default("start", date.today())
        form.default("review", date.today() + timedelta(days=14))
        with start_col:
            start = form.widget(st.date_input, "Plan start", "start", value=None)
        with review_col:
            review = form.widget(st.date_input, "Review on", "review", value=None)
    elif result.level.needs_professional:
        st.warning("No loading plans until a clinician records clearance. Saving opens a referral for the clinic.")

    label = "Save report" + (f" and assign {len(chosen_plans)} plan(s)" if chosen_plans else "")
    if st.button(label, type="primary", width="stretch", key=form.key("save")):
        try:
            if chosen_plans and (start is None or review is None):
                raise InvalidInput("Plan start" if start is None else "Review on", "choose a date")
            saved_report = store.save_report(db, actor=actor, client_id=client.id, report=report,
                                             assign_plans=[CauseId(p) for p in chosen_plans],
                                             start_date=start, review_date=review, submission=form.token)
        except AlreadySaved as already:  # a second tap, or a rerun that cut this page short after its save
            note = str(already)
        except BackCareError as error:
            context.show_error(error)
            note = None
        else:
            note = f"Report saved: {result_ui.LEVEL_TITLES[saved_report.result.level]}."
            if saved_report.referral_id:
                note += " A referral is open for the clinic."
            if saved_report.assignment_ids:
                note += f" {len(saved_report.assignment_ids)} plan(s) assigned."
            if saved_report.skipped_plans:
                note += (" Not assigned while the client is paused by a referral: "
                         + ", ".join(CAUSE_LABELS[p] for p in saved_report.skipped_plans) + ".")
        if note is not None:  # stored: the next report starts blank
            st.session_state["triage_saved"] = note + " Next: see it in the client's history."
            form.finish()
            st.rerun()

flash = form.pop_flash()
if flash:
    st.warning(flash)
back_col, next_col = st.columns(2)
# Keys carry the step: a double tap must not reach the next step's button of the same name.
back_col.button("Back", key=form.key(f"back_{step}"), on_click=form.go, args=(step - 1,), disabled=step == 0,
                icon=":material/arrow_back:", width="stretch")
if step < intake.RESULT_STEP:
    next_col.button(f"Next: {intake.STEPS[step + 1].title}", key=form.key(f"next_{step}"), type="primary",
                    on_click=form.go, args=(step + 1,), icon=":material/arrow_forward:", icon_position="right",
                    width="stretch")
form.mark_drawn(step)
