"""Triage: the trainer's main screen, one short step at a time on a tablet.

Emergency signs first, then urgent signs, the pain, the training context and the result. A step opens
only when every question before it is answered, so the result and its one-tap save never show for an
incomplete form; an emergency or urgent answer puts its banner at the top of every step at once.
"""

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


def new_form(old_id: int) -> int:
    """Forget a form's answers and step; the next form's widgets get new keys, so they start blank."""
    for part in ("kept", "step", "drawn"):
        st.session_state.pop(f"triage_{part}_{old_id}", None)
    st.session_state["triage_form_id"] = old_id + 1
    return old_id + 1


form_id = st.session_state.setdefault("triage_form_id", 0)
if st.session_state.setdefault("triage_form_client", client.id) != client.id:
    # Another client: a blank form, so no answer given for one client is ever saved for another.
    form_id = new_form(form_id)
    st.session_state["triage_form_client"] = client.id
# Every answer, by widget key. Streamlit forgets a widget's value on a run that does not draw it, and
# each step draws only its own questions: this keeps the answers of the other steps.
kept: dict = st.session_state.setdefault(f"triage_kept_{form_id}", {})
STEP_KEY, NAV_KEY, FLASH_KEY = f"triage_step_{form_id}", f"triage_nav_{form_id}", "triage_flash"


def key(stem: str) -> str:
    return f"q_{stem}_{form_id}"


STEMS = {"hours_since_workout": "hours"}  # widget key stems that differ from the field name
CONTEXT_STEMS = ("exercises", "warmup", "sleep", "core", "sitting", "rest", "cooldown", "flags")
STEP_KEYS = [[key(STEMS.get(q.field, q.field)) for q in s.questions] for s in intake.STEPS]
STEP_KEYS[intake.CONTEXT_STEP] = [key(stem) for stem in CONTEXT_STEMS]
DRAWN_KEY = f"triage_drawn_{form_id}"
# A value tapped in the same rerun as a step button is in the session state now, but its widget may not be
# drawn on this run (the button moved to another step): keep it before Streamlit forgets it. Only the
# step drawn last time can have such values.
for form_key in STEP_KEYS[st.session_state.get(DRAWN_KEY, 0)]:
    if form_key in st.session_state:
        kept[form_key] = st.session_state[form_key]


def current(widget_key: str):
    """A widget's value in a callback: as just tapped (before the page draws it again), or as kept."""
    return st.session_state[widget_key] if widget_key in st.session_state else kept.get(widget_key)


def answers_now(read=current) -> dict:
    return {q.field: read(key(STEMS.get(q.field, q.field))) for s in intake.STEPS for q in s.questions}


def kept_widget(widget, label: str, stem: str, *args, **kwargs):
    """Draw a widget with no starting value of its own: it shows the kept answer (or nothing)."""
    widget_key = key(stem)
    if widget_key not in st.session_state and kept.get(widget_key) is not None:
        st.session_state[widget_key] = kept[widget_key]
    value = widget(label, *args, key=widget_key, **kwargs)
    kept[widget_key] = value
    return value


def yes_no(question: intake.Question) -> str | None:
    return kept_widget(st.segmented_control, question.text, question.field, [intake.NO, intake.YES],
                       help=question.help or None)


def go(target: int) -> None:
    """Move to a step (a callback of the step buttons): never past the first step with a question left."""
    answers = answers_now()
    reach = intake.furthest_step(answers)
    if target > reach:
        left = intake.step_unanswered(reach, answers)
        st.session_state[FLASH_KEY] = (f"Answer every question of step {reach + 1} first. Still to answer: "
                                       + "; ".join(q.text for q in left))
        target = reach
    st.session_state[STEP_KEY] = target


def on_nav() -> None:
    chosen = st.session_state.get(NAV_KEY)
    if chosen is not None:  # tapping the open step again deselects it: stay
        go(chosen)


# --- what the history says, and the result so far ------------------------------------------------
try:
    logged = store.list_sessions(db, actor=actor, client_id=client.id, limit=40)
    history = store.triage_history(db, actor=actor, client_id=client.id)
except BackCareError as error:
    context.show_error(error)
    st.stop()
prefill = intake.prefill_context(logged, date.today())
# Context answers the history holds count until the trainer changes them on the context step.
seeds = {key("exercises"): prefill.get("exercises"), key("warmup"): prefill.get("warmup_minutes"),
         key("rest"): prefill.get("rest_days_last_7"),
         key("cooldown"): {True: intake.YES, False: intake.NO}.get(prefill.get("cooldown_done"))}
for seed_key, seed in seeds.items():
    if seed is not None:
        kept.setdefault(seed_key, seed)


def context_answers() -> dict:
    read = kept.get
    ctx = {"exercises": read(key("exercises")) or [], "warmup_minutes": read(key("warmup")),
           "sleep_hours": read(key("sleep")), "core_sessions_per_week": read(key("core")),
           "sitting_hours_per_day": read(key("sitting")), "rest_days_last_7": read(key("rest"))}
    cooldown = read(key("cooldown"))
    ctx["cooldown_done"] = None if cooldown is None else cooldown == intake.YES
    applies = read(key("flags")) or []
    ctx.update({field: field in applies for field in intake.CONTEXT_FLAGS})
    return ctx


answers = answers_now(kept.get)  # kept is up to date for this run
try:
    report = intake.build_report(answers, context_answers(), client_id=client.external_id)
except BackCareError as error:
    context.show_error(error)
    st.stop()
result = evaluate(report, history)  # unanswered questions count as their mildest answer: a floor
if result.level in (Level.URGENT, Level.EMERGENCY):
    with top_alert:  # certain already, whatever is still unanswered: shown on every step, first
        result_ui.level_banner(result)

st.markdown(f"### Report for {client.name} · `{client.external_id}`")
st.caption(views.triage_history_line(logged, history, date.today()))

# --- the steps ------------------------------------------------------------------------------------
reach = intake.furthest_step(answers)
step = min(st.session_state.get(STEP_KEY, 0), reach)
st.session_state[STEP_KEY] = st.session_state[NAV_KEY] = st.session_state[DRAWN_KEY] = step


def step_label(index: int) -> str:
    done = index < intake.RESULT_STEP and index < reach
    return f"{index + 1} {intake.STEPS[index].name.capitalize()}{' ✓' if done else ''}"


st.segmented_control("Step", list(range(len(intake.STEPS))), format_func=step_label, key=NAV_KEY,
                     on_change=on_nav, label_visibility="collapsed")
st.subheader(f"{step + 1} · {intake.STEPS[step].title}")

if step == 0:
    st.caption("Ask each one out loud: people rarely mention these unless asked.")
    for q in intake.EMERGENCY:
        yes_no(q)
    kept_widget(st.segmented_control, intake.LEGS_QUESTION.text, "leg_symptoms", list(intake.LEG_CHOICES),
                format_func=intake.LEG_CHOICES.get, help=intake.LEGS_QUESTION.help)
elif step == 1:
    for q in intake.URGENT:
        yes_no(q)
elif step == 2:
    pain_q, quality_q, hours_q, trend_q, eases_q = intake.PAIN_QUESTIONS
    # No starting values: a pain score or an hour count the trainer never set must not read as an answer.
    kept_widget(st.segmented_control, pain_q.text, "pain_score", list(intake.PAIN_SCORES))
    kept_widget(st.segmented_control, quality_q.text, "pain_quality", list(intake.PAIN_QUALITIES),
                format_func=intake.PAIN_QUALITIES.get)
    kept_widget(st.number_input, hours_q.text, "hours", min_value=0.0, max_value=8760.0, value=None, step=1.0,
                placeholder="e.g. 30")
    kept_widget(st.segmented_control, trend_q.text, "trend", list(intake.TRENDS), format_func=intake.TRENDS.get)
    yes_no(eases_q)
    for q in intake.SYMPTOMS:
        yes_no(q)
elif step == intake.CONTEXT_STEP:
    if prefill:
        st.caption("Prefilled from the client's logged sessions: check and correct. These help find the causes.")
    known = {"deadlift", "squat", "overhead press", "plank", "bench press", "row", "lunge", "running"}
    kept_widget(st.multiselect, "Exercises in the session",
                "exercises", sorted(known | set(kept.get(key("exercises")) or [])), accept_new_options=True)
    left, right = st.columns(2)
    with left:
        kept_widget(st.number_input, "Warm-up minutes", "warmup", 0.0, 120.0, None, step=1.0,
                    placeholder="not known")
        kept_widget(st.number_input, "Sleep, hours a night", "sleep", 0.0, 24.0, None, step=0.5,
                    placeholder="not known")
        # Small whole numbers as taps, not a keyboard: None until the trainer picks one.
        kept_widget(st.segmented_control, "Core sessions a week", "core", [0, 1, 2, 3, 4, 5],
                    format_func=lambda n: "5+" if n == 5 else str(n))
    with right:
        kept_widget(st.number_input, "Sitting, hours a day", "sitting", 0.0, 24.0, None, step=0.5,
                    placeholder="not known")
        kept_widget(st.segmented_control, "Rest days in the last 7", "rest", list(range(8)))
        kept_widget(st.segmented_control, "Cool-down done?", "cooldown", [intake.YES, intake.NO])
    kept_widget(st.pills, "Anything else that applies? (tap all that do)", "flags", list(intake.CONTEXT_FLAGS),
                format_func=intake.CONTEXT_FLAGS.get, selection_mode="multi")
else:
    st.markdown("  \n".join(intake.answer_summary(answers)))
    result_ui.show_result(result)
    paused = views.is_paused(client.status)
    chosen_plans: list[CauseId] = []
    start, review = date.today(), date.today() + timedelta(days=14)
    if result.plans and paused:
        st.warning("This client has a referral that a clinician has not cleared: no loading plans until "
                   "clearance is recorded. Saving still records the report for the clinic.")
    elif result.plans:
        chosen_plans = st.pills("**Corrective plans to assign**", list(result.plans),
                                format_func=lambda c: CAUSE_LABELS[CauseId(c)], selection_mode="multi",
                                default=list(result.plans), key=key("plans")) or []
        start_col, review_col = st.columns(2)
        start = start_col.date_input("Plan start", date.today(), key=key("start"))
        review = review_col.date_input("Review on", date.today() + timedelta(days=14), key=key("review"))
    elif result.level.needs_professional:
        st.warning("No loading plans until a clinician records clearance. Saving opens a referral for the clinic.")

    label = "Save report" + (f" and assign {len(chosen_plans)} plan(s)" if chosen_plans else "")
    if st.button(label, type="primary", width="stretch", key=key("save")):
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
            new_form(form_id)
            st.rerun()

flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    st.warning(flash)
back_col, next_col = st.columns(2)
back_col.button("Back", key=key("back"), on_click=go, args=(step - 1,), disabled=step == 0,
                icon=":material/arrow_back:", width="stretch")
if step < intake.RESULT_STEP:
    next_col.button(f"Next: {intake.STEPS[step + 1].title}", key=key("next"), type="primary", on_click=go,
                    args=(step + 1,), icon=":material/arrow_forward:", icon_position="right", width="stretch")
