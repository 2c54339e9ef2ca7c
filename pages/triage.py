"""Triage: the trainer's main screen, one short step at a time on a tablet.

Emergency signs first, then urgent signs, the pain, the training context and the result. A step opens
only when every question before it is answered, so the result and its one-tap save never show for an
incomplete form; an urgent answer puts its banner at the top of every step at once.

An emergency answer stops the questions (TRIAGE.md): the rule's action, the deployment's emergency number
as a tap-to-call link and *Save now*, which stores the report with every question not yet answered as not
asked, opens an emergency referral and pauses the client. The trainer may add the other answers afterwards.
A person who is not a client (a walk-in, or before consent) can be screened without saving anything.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from backcare import intake, settings, store
from backcare.catalogue import catalogue_names
from backcare.errors import AlreadySaved, BackCareError, InvalidInput
from backcare.models import CauseId, Level, TriageHistory
from backcare.plans import load_library
from backcare.questions import Kind
from backcare.rules import CAUSE_LABELS, evaluate
from backcare.store.clients import EARLIEST_YEAR_OF_BIRTH
from backcare.ui import clients as client_ui
from backcare.ui import context, plan_views, style, views, words
from backcare.ui import result as result_ui
from backcare.ui.triage_form import AGE_STEP, SCREENING, WHERE_CHOICES, WHERE_STEP, WHERE_TEXT, TriageForm

SCREENING_KEY = "triage_screening"
PEOPLE_NUMBER = "%g"  # a typed number as people write it: 20, 7.5 (Streamlit's default shows 20.00)

style.apply_tablet_style()
db = context.get_db()
actor = context.require_actor()

st.title("Triage a back-pain report")
try:
    number = settings.emergency_number()
except BackCareError as error:  # a wrong number on an emergency screen is fixed, never guessed
    style.scope_statement()
    st.error(
        f"The emergency number is not set correctly, so triage cannot start. {error}. "
        "Ask whoever runs BackCare to correct it."
    )
    st.stop()
style.scope_statement(number.shown)
top_alert = st.container()  # an emergency or urgent result is shown here, above everything else

saved = st.session_state.pop("triage_saved", None)
if saved:
    st.success(saved)
HANDOUT_KEY = "triage_handout"
# The handout of the plans just assigned, offered right under the save's note: a place kept only while one is
# offered (an empty container is one more element on every rerun, for nothing).
confirmation = st.container() if st.session_state.get(HANDOUT_KEY) else None
today = date.today()


def start_screening() -> None:
    st.session_state[SCREENING_KEY] = True
    st.session_state[client_ui.CHANGING_KEY] = False


def stop_screening() -> None:
    st.session_state.pop(SCREENING_KEY, None)
    TriageForm(st.session_state, SCREENING).finish()  # the answers are forgotten: nothing was stored


def carry_on(client_id: int) -> None:
    context.set_current_client(client_id)
    st.session_state[client_ui.CHANGING_KEY] = False


def carry_on_offers() -> None:
    """The trainer's unfinished reports kept on the server (a reload, a dropped connection, another client
    opened meanwhile): one tap carries on with one. Each client is read through the store's own check."""
    try:
        kept = store.recent_drafts(db, actor=actor)
    except BackCareError:
        return
    offers = []
    for client_id, saved_at in kept:
        try:
            offers.append((store.get_client(db, actor=actor, client_id=client_id, audit=False), saved_at))
        except BackCareError:
            continue
    if not offers:
        return
    st.markdown("**Unfinished reports**")
    for kept_client, saved_at in offers:
        st.button(
            f"Carry on with the report for {kept_client.name} · {kept_client.external_id} "
            f"(last answer {words.moment(saved_at)} UTC)",
            key=f"carry_on_{kept_client.id}",
            on_click=carry_on,
            args=(kept_client.id,),
            icon=":material/restore:",
            width="stretch",
        )


screening = bool(st.session_state.get(SCREENING_KEY))
if screening:
    client = None
    st.info(
        ":material/visibility_off: **Screening without saving.** This person is not a client, so nothing "
        "is stored: no report, no referral. If they agree, add them as a client at the end to keep the report."
    )
    st.button("Stop screening", key="stop_screening", on_click=stop_screening, icon=":material/close:")
else:
    client = client_ui.client_picker(db, actor)
    client_ui.sidebar_current_client(db, actor)
    if client is None or st.session_state.get(client_ui.CHANGING_KEY):
        st.button(
            "Screen without saving (a walk-in, or before consent)",
            key="start_screening",
            on_click=start_screening,
            icon=":material/visibility_off:",
        )
    if client is None:
        st.info(
            "Next: find the client, or add them, to start a report; or screen a person who is not a client "
            "without saving anything."
        )
        carry_on_offers()
        st.stop()

form = TriageForm(st.session_state, SCREENING if client is None else client.id)
can_save = client is not None and client.has_consent
# The half-filled form is kept on the server for this trainer and client (a tablet reloads background tabs):
# only for a client who agreed to us storing their health data, never for a screening.
keeps_draft = can_save and form.saved_report is None
if keeps_draft and client is not None and form.needs_draft_check():
    try:
        kept_draft = store.load_draft(db, actor=actor, client_id=client.id)
    except BackCareError:
        kept_draft = None
    if kept_draft:
        form.restore(kept_draft)


def offer_handout() -> None:
    """After a save that assigned plans: the client's printable handout (every active plan, with this client's
    changes, and the safety net), one tap away on the confirmation. Offered until the next report is started
    or another client is chosen."""
    offered = st.session_state.get(HANDOUT_KEY)
    if not offered or confirmation is None:
        return
    if client is None or offered.get("client_id") != client.id or form.started:
        st.session_state.pop(HANDOUT_KEY, None)
        return
    if offered.get("make") is None:
        # read and checked now; the PDF is made when the button is tapped (plan_views.handout_maker)
        try:
            library = load_library()
            assignments = store.list_assignments(db, actor=actor, client_id=client.id)
            offered["make"], offered["file_name"] = plan_views.handout_maker(
                db, actor, client, assignments, library, today, paused=views.is_paused(client.status)
            )
        except BackCareError as error:
            with confirmation:
                st.warning(f"The handout could not be made here ({error}); it is on the Plans page.")
            st.session_state.pop(HANDOUT_KEY, None)
            return
    with confirmation:
        plan_views.handout_problem(client.id)
        context.audited_download(
            db,
            actor,
            f"Download the handout for {client.name} (PDF)",
            offered["make"],
            what="plan handout PDF",
            entity="clients",
            entity_id=client.id,
            file_name=offered["file_name"],
            mime="application/pdf",
            type="primary",
            width="stretch",
            icon=":material/print:",
            key=f"triage_handout_{client.id}",
            help="The plans just assigned and any other active plan, with when to stop and get help.",
        )


def keep_draft() -> None:
    """Send the answers to the server when they changed since the last time (one small write per answer)."""
    if not keeps_draft or client is None or form.saved_report is not None:
        return
    draft = form.draft()
    if not form.draft_changed(draft):
        return
    try:
        if draft:
            store.save_draft(db, actor=actor, client_id=client.id, answers=draft)
        else:  # every answer taken back
            store.delete_draft(db, actor=actor, client_id=client.id)
    except BackCareError as error:
        st.caption(f":material/cloud_off: The answers are not kept on the server for now ({error}).")
    else:
        form.draft_sent(draft)


def drop_draft(*, discarded: bool = False) -> None:
    """The report was saved (or the trainer discarded it): the draft goes."""
    if client is None or not can_save:
        return
    try:
        store.delete_draft(db, actor=actor, client_id=client.id, discarded=discarded)
    except BackCareError as error:
        st.session_state["triage_saved"] = f"The unfinished answers could not be removed from the server: {error}"


def discard_report() -> None:
    """Callback of *Yes, discard*: the answers go, here and on the server; a blank form follows."""
    drop_draft(discarded=True)
    form.finish()
    st.session_state.pop("triage_discarding", None)
    st.session_state.setdefault("triage_saved", "The unfinished report was discarded: nothing was saved.")


def ask(question: intake.Question) -> None:
    """One registry question as its widget; none starts on a value (an answer is always given on purpose)."""
    help_text = question.help or None
    if question.kind is Kind.HOURS:
        form.widget(
            st.number_input,
            question.text,
            "hours",
            min_value=0.0,
            max_value=8760.0,
            value=None,
            step=1.0,
            placeholder="e.g. 30",
            format=PEOPLE_NUMBER,
            help=help_text,
        )
    elif question.kind is Kind.CHOICE:
        form.widget(
            st.segmented_control,
            question.text,
            question.field,
            intake.choices(question),
            format_func=lambda value: intake.choice_label(question, value),
            help=help_text,
        )
    else:
        form.widget(st.segmented_control, question.text, question.field, intake.choices(question), help=help_text)


def ask_where() -> None:
    """TRIAGE.md's "where?" follow-up; the answer sets the legs question of step 1."""
    form.widget(
        st.segmented_control,
        WHERE_TEXT,
        "where",
        list(WHERE_CHOICES),
        format_func=WHERE_CHOICES.get,
        on_change=form.on_where,
        help="Both legs at once is an emergency sign; one leg needs a professional.",
    )


def store_year_of_birth() -> None:
    """Callback of the year-of-birth question: a consenting client's year goes on their record at once."""
    year = st.session_state.get(form.key("yob"))
    if year is None or not can_save or client is None:
        return
    try:
        store.set_year_of_birth(db, actor=actor, client_id=client.id, year_of_birth=int(year))
    except BackCareError as error:
        st.session_state[form.flash_key] = f"The year of birth was not stored: {error}"


def ask_year_of_birth() -> None:
    """Asked when the record has no year of birth (optional: the age rules fire only when it is known)."""
    if client is not None and client.year_of_birth is not None:
        st.caption(
            f"Age {client.age(today)} (born {client.year_of_birth}, from the client's record; "
            "correct it on the history page)."
        )
        return
    form.widget(
        st.number_input,
        "Year of birth (optional)",
        "yob",
        min_value=EARLIEST_YEAR_OF_BIRTH,
        max_value=today.year,
        value=None,
        step=1,
        placeholder="not known",
        on_change=store_year_of_birth,
        help="Under 18 or 65 and over changes what some answers mean. "
        + ("Stored on the client's record, so it is asked once." if can_save else "Kept with this screening only."),
    )


def add_screened_person() -> None:
    """The offer at the end of a screening: add the person as a client, with consent, and keep the answers."""
    with st.expander("Add this person as a client to keep the report", expanded=False):
        name = st.text_input("Full name", key="screened_name")
        consent = st.checkbox("They agree that we store their health data for their training", key="screened_consent")
        if st.button("Add client and keep these answers", key="screened_add", type="primary", width="stretch"):
            if not name.strip():
                st.error("Name: please enter their name.")
            elif not consent:
                st.error("Consent: a report can only be stored with their consent.")
            else:
                try:
                    added = store.create_client(
                        db,
                        actor=actor,
                        gym_id=actor.gym_id,
                        name=name.strip(),
                        trainer_id=actor.user_id,
                        consent_by=actor.username,
                        year_of_birth=form.year_of_birth(),
                    )
                except BackCareError as error:
                    context.show_error(error)
                else:
                    TriageForm.adopt(st.session_state, added.id)
                    st.session_state.pop(SCREENING_KEY, None)
                    context.set_current_client(added.id)
                    st.session_state["triage_saved"] = (
                        f"{added.name} is now a client ({added.external_id}). "
                        "Nothing is stored yet: save the report to keep it."
                    )
                    st.rerun()


def record_consent() -> None:
    if client is None:
        return
    try:
        store.record_consent(db, actor=actor, client_id=client.id)
    except BackCareError as error:
        st.session_state[form.flash_key] = str(error)


# --- what the history says, and the result so far ------------------------------------------------
# Nothing below may stop the page before the questions and any red banner are drawn.
history_error = None
if client is None:  # screening: nothing is read about anyone
    logged, history = [], TriageHistory()
else:
    try:
        logged = store.list_sessions(db, actor=actor, client_id=client.id, limit=40)
        history = store.triage_history(db, actor=actor, client_id=client.id)
    except BackCareError as error:
        history_error, logged, history = str(error), [], TriageHistory()
prefill = intake.prefill_context(logged, today)
form.seed_context(prefill)
answers = form.answers()
keep_draft()
offer_handout()
age = client.age(today) if client is not None and client.year_of_birth is not None else form.age(today)
client_ref = None if client is None else client.external_id
context_error = None
try:
    report = intake.build_report(answers, form.context(), client_id=client_ref, age=age)
except BackCareError as error:  # only the free-typed context can fail: the answers come from fixed choices
    context_error = str(error)
    report = intake.build_report(answers, None, client_id=client_ref, age=age)
# Unanswered questions are not asked: an emergency or urgent level is certain already (X1 names the rest).
result = evaluate(report, history)
emergency = result.level is Level.EMERGENCY
if not emergency:
    form.correcting = False
completing = form.saved_report is not None  # saved at the stop: the questions it left open may follow
stopped = emergency and not completing and not form.correcting
step = form.open_step(reach=intake.CONTEXT_STEP if context_error else None)


def save_now() -> None:
    """The report as answered so far, every other question not asked and no training context (nothing
    the trainer has not checked), with its emergency referral and the client's pause: one transaction."""
    if client is None:  # a screening stores nothing
        return
    stop_report = intake.build_report(answers, None, client_id=client_ref, age=age)
    try:
        report_id = store.save_report(
            db, actor=actor, client_id=client.id, report=stop_report, submission=form.token
        ).report_id
    except AlreadySaved as already:  # a second tap, or a rerun that cut this page short after its save
        report_id = already.report_id
    except BackCareError as error:
        context.show_error(error)
        return
    form.mark_saved(report_id, [f for f, v in intake.typed_answers(answers).items() if v is not None])
    drop_draft()
    st.session_state["triage_saved"] = (
        f"Emergency report saved for {client.name}: an emergency referral is open and the client is paused. "
        "Questions not answered are recorded as not asked; add them below when there is time."
    )
    st.rerun()


with top_alert:
    raised = form.needs_alert(result.level)
    if raised:  # the banner may be scrolled out of view: this one floats
        result_ui.alert_toast(result, number)
        form.alerted(result.level)
    if emergency:
        result_ui.emergency_stop(result, number, to_top=raised and stopped)
        if completing:
            st.markdown(":material/check_circle: **Saved.** An emergency referral is open and the client is paused.")
        elif can_save and client is not None:
            if st.button("Save now", type="primary", width="stretch", key=form.key("save_now"), icon=":material/save:"):
                save_now()
            st.caption(
                f"Saves the report for {client.name} as answered so far: every other question is "
                "recorded as not asked. Nothing else is needed first."
            )
        elif client is None:
            st.warning("Nothing is stored: this person is not a client. Add them below to keep the report.")
        else:
            st.warning(f"Nothing is stored: {client.name} has not agreed to us storing their health data.")
    elif result.level is Level.URGENT:  # certain already, whatever is still unanswered
        result_ui.level_banner(result, number)
    elif step < intake.RESULT_STEP:
        result_ui.watch_strip()

if client is not None:
    st.markdown(f"### Report for {client.name} · `{client.external_id}`")
    if history_error:
        st.error(f"{history_error} The result below leaves out the client's history until it can be read.")
    else:
        st.caption(views.triage_history_line(logged, history, today))
    if not client.has_consent:
        st.warning(
            f"{client.name} has not agreed to us storing their health data: this report is a screening "
            "and nothing is stored."
        )
        st.button("They agree now: record their consent", key="record_consent", on_click=record_consent)
    if form.started and form.saved_report is None:
        if form.restored:
            st.info(
                ":material/restore: Carried on from the unfinished report you started for this client: the "
                "answers were kept on the server. Discard it to start afresh."
            )
        if st.session_state.get("triage_discarding") == form.id:
            st.warning(f"Discard the answers given so far for {client.name}? Nothing of them is kept.")
            yes_col, no_col = st.columns(2)
            yes_col.button(
                "Yes, discard", key=form.key("discard_yes"), on_click=discard_report, type="primary", width="stretch"
            )
            no_col.button(
                "Keep the answers",
                key=form.key("discard_no"),
                on_click=lambda: st.session_state.pop("triage_discarding", None),
                width="stretch",
            )
        else:
            st.button(
                "Discard this report",
                key=form.key("discard"),
                on_click=lambda: st.session_state.update(triage_discarding=form.id),
                icon=":material/delete:",
                help="Removes the answers given so far, here and on the server. Nothing is saved.",
            )

flash = form.pop_flash()
if stopped:  # the questions stop here
    if client is None:
        add_screened_person()
    st.caption(f"{words.count(len(result.not_asked), 'question')} not asked yet. After saving you can add them.")
    st.button(
        "An answer was tapped by mistake: change it",
        key=form.key("correct"),
        on_click=lambda: setattr(form, "correcting", True),
        icon=":material/edit:",
    )
    if flash:
        st.warning(flash)
    st.stop()

# --- the steps ------------------------------------------------------------------------------------
reach = form.reach  # as open_step() found it


def step_label(index: int) -> str:
    done = bool(intake.STEPS[index].questions) and index < reach
    return f"{index + 1} {intake.STEPS[index].name.capitalize()}{' ✓' if done else ''}"


if completing:
    st.markdown("#### Add the answers not asked yet (optional)")
    st.caption("They go to the saved report as answers given after the emergency stop.")
if form.correcting:
    st.caption("Change the answer that was a mis-tap. The emergency stop stays until no emergency answer is left.")
else:
    st.segmented_control(
        "Step",
        list(range(len(intake.STEPS))),
        format_func=step_label,
        key=form.nav_key,
        on_change=form.on_step_bar,
        label_visibility="collapsed",
    )
st.subheader(f"{step + 1} · {intake.STEPS[step].title}")

if step < intake.CONTEXT_STEP:
    if step == 0:
        st.caption("Ask each one out loud: people rarely mention these unless asked.")
    shown = form.remaining(intake.asked(step, answers))
    for q in shown:
        ask(q)
        if q.field == "weakness" and form.shows_where(answers):  # right under the nerve signs
            ask_where()
    if step == WHERE_STEP and "weakness" not in [q.field for q in shown] and form.shows_where(answers):
        ask_where()
    if step == AGE_STEP and not completing:
        ask_year_of_birth()
elif step == intake.CONTEXT_STEP:
    if context_error:
        st.error(f"Please correct the training context: {context_error}")
    if prefill:
        st.caption("Prefilled from the client's logged sessions: check and correct. These help find the causes.")
    # Catalogue names first; free text is still accepted (the catalogue reads its spellings).
    known = catalogue_names()
    form.widget(
        st.multiselect,
        "Exercises in the session",
        "exercises",
        known + sorted(set(form.value("exercises") or []) - set(known)),
        accept_new_options=True,
    )
    left, right = st.columns(2)
    with left:
        form.widget(
            st.number_input,
            "Warm-up minutes",
            "warmup",
            0.0,
            600.0,
            None,
            step=1.0,
            placeholder="not known",
            format=PEOPLE_NUMBER,
        )
        form.widget(
            st.number_input,
            "Sleep, hours a night",
            "sleep",
            0.0,
            24.0,
            None,
            step=0.5,
            placeholder="not known",
            format=PEOPLE_NUMBER,
        )
        # Small whole numbers as taps, not a keyboard: None until the trainer picks one.
        form.widget(
            st.segmented_control,
            "Core sessions a week",
            "core",
            [0, 1, 2, 3, 4, 5],
            format_func=lambda n: "5+" if n == 5 else str(n),
        )
    with right:
        form.widget(
            st.number_input,
            "Sitting, hours a day",
            "sitting",
            0.0,
            24.0,
            None,
            step=0.5,
            placeholder="not known",
            format=PEOPLE_NUMBER,
        )
        form.widget(st.segmented_control, "Rest days in the last 7", "rest", list(range(8)))
        form.widget(st.segmented_control, "Cool-down done?", "cooldown", [intake.YES, intake.NO])
    form.widget(
        st.pills,
        "Anything else that applies? (tap all that do)",
        "flags",
        list(intake.CONTEXT_FLAGS),
        format_func=intake.CONTEXT_FLAGS.get,
        selection_mode="multi",
    )
else:
    st.markdown("  \n".join(intake.answer_summary(answers) + [intake.context_summary(form.context())]))
    result_ui.show_result(result, number, banner=not emergency)  # an emergency's stop is on top already
    paused = client is not None and views.is_paused(client.status)
    chosen_plans: list[CauseId] = []
    start, review = today, today + timedelta(days=14)
    if result.plans and paused:
        st.warning(
            "This client has a referral that a clinician has not cleared: no loading plans until "
            "clearance is recorded. Saving still records the report for the clinic."
        )
    elif result.plans and can_save:
        chosen_plans, start, review = plan_views.choose_plans(form, result, today)
    elif result.level.needs_professional and not completing:
        st.warning("No loading plans until a clinician records clearance. Saving opens a referral for the clinic.")

    label = "Save report" + (f" and assign {words.count(len(chosen_plans), 'plan')}" if chosen_plans else "")
    if not can_save:
        st.info(
            "Nothing is stored for this screening."
            + (" To keep the report, add them as a client:" if client is None else "")
        )
        if client is None:
            add_screened_person()
    elif (
        not completing
        and client is not None
        and st.button(label, type="primary", width="stretch", key=form.key("save"))
    ):
        note: str | None
        assigned = False
        try:
            if chosen_plans and (start is None or review is None):
                raise InvalidInput("Plan start" if start is None else "Review on", "choose a date")
            saved_report = store.save_report(
                db,
                actor=actor,
                client_id=client.id,
                report=report,
                assign_plans=[CauseId(p) for p in chosen_plans],
                start_date=start,
                review_date=review,
                submission=form.token,
            )
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
                note += f" {words.count(len(saved_report.assignment_ids), 'plan')} assigned."
                assigned = True
            if saved_report.skipped_plans:
                note += (
                    " Not assigned while the client is paused by a referral: "
                    + ", ".join(CAUSE_LABELS[p] for p in saved_report.skipped_plans)
                    + "."
                )
        if note is not None:  # stored: the next report starts blank
            st.session_state["triage_saved"] = note + " Next: see it in the client's history."
            drop_draft()
            if assigned:  # the confirmation offers the handout at once
                st.session_state[HANDOUT_KEY] = {"client_id": client.id, "make": None}
            form.finish()
            st.rerun()

saved_id = form.saved_report
if saved_id is not None:
    # Answers added after the stop go to the saved report; the training context only from the result step,
    # once the trainer has seen it (the stop saved none).
    added = form.added_answers()
    with_context = step == intake.RESULT_STEP and "context" not in form.answered_at_save and not context_error
    add_col, done_col = st.columns(2)
    if add_col.button(
        f"Save the added answers ({len(added)})",
        key=form.key(f"add_{step}"),
        type="primary",
        width="stretch",
        disabled=not added and not with_context,
    ):
        try:
            store.complete_report(
                db, actor=actor, report_id=saved_id, answers=added, context=report.context if with_context else None
            )
        except BackCareError as error:
            context.show_error(error)
        else:
            form.mark_saved(saved_id, [*added, *(["context"] if with_context else [])])
            st.session_state["triage_saved"] = f"{words.count(len(added), 'answer')} added to the emergency report" + (
                " with the training context." if with_context else "."
            )
            st.rerun()
    if done_col.button("Finish: start a new report", key=form.key(f"finish_{step}"), width="stretch"):
        form.finish()
        st.session_state["triage_saved"] = "The emergency report is saved. Next: see it in the client's history."
        st.rerun()

if flash:
    st.warning(flash)
back_col, next_col = st.columns(2)
# Keys carry the step: a double tap must not reach the next step's button of the same name.
back_col.button(
    "Back",
    key=form.key(f"back_{step}"),
    on_click=form.go,
    args=(step - 1,),
    disabled=step == 0,
    icon=":material/arrow_back:",
    width="stretch",
)
if form.correcting:
    next_col.button(
        "Back to the emergency stop",
        key=form.key(f"uncorrect_{step}"),
        type="primary",
        on_click=lambda: setattr(form, "correcting", False),
        width="stretch",
    )
elif step < intake.RESULT_STEP:
    next_col.button(
        f"Next: {intake.STEPS[step + 1].title}",
        key=form.key(f"next_{step}"),
        type="primary",
        on_click=form.go,
        args=(step + 1,),
        icon=":material/arrow_forward:",
        icon_position="right",
        width="stretch",
    )
form.mark_drawn(step)
