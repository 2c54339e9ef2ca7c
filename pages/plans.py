"""Corrective plans: the current client's plans (status, handout), and the library to browse and assign from,
with per-client changes that leave the library as it is."""

from __future__ import annotations

from datetime import date

import streamlit as st

from backcare import handout, store
from backcare.catalogue import STAGE_NAMES, STAGES
from backcare.errors import BackCareError
from backcare.models import CauseId
from backcare.plans import load_library, review_date_for
from backcare.rules import CAUSE_LABELS
from backcare.ui import clients as client_ui
from backcare.ui import context, plan_views, style, views, words
from backcare.ui.keys import record_key

style.apply_tablet_style()
db = context.get_db()
actor = context.require_actor()

st.title("Corrective plans")
note = st.session_state.pop("plans_note", None)
if note:
    st.success(note)

try:
    library = load_library()
except BackCareError as error:
    context.show_error(error)
    st.stop()

client_ui.sidebar_current_client(db, actor)
client_id = context.current_client_id()
client = None
assignments: list = []
offered: tuple[int, ...] = STAGES
if client_id is not None:
    try:
        client = client_ui.current_client(db, actor)
        assignments = store.list_assignments(db, actor=actor, client_id=client_id)
        offered = store.offered_stages_for(db, actor=actor, client_id=client_id)
    except BackCareError as error:
        context.show_error(error)
        client = None

ENDED_WORDS = {store.AssignmentStatus.COMPLETED: "marked completed", store.AssignmentStatus.STOPPED: "stopped"}
active_ids: set = set()
if client is None:
    st.info("Browse the library below. To assign a plan, choose a client first (Triage or History page).")
else:
    st.markdown(f"### {client.name} · `{client.external_id}` · {client_ui.status_label(client.status)}")
    paused = views.is_paused(client.status)
    if paused:
        st.warning(
            "Loading plans are paused: this client has a referral that a clinician has not cleared yet. "
            "The plans below are on hold and stay off the handout. Next: follow the referral; "
            "plans resume once clearance is recorded."
        )
    active, past = views.split_assignments(assignments)
    active_ids = {str(getattr(a.plan_id, "value", a.plan_id)) for a in active}
    try:
        latest = store.list_reports(db, actor=actor, client_id=client.id, limit=1, audit=False)
    except BackCareError:
        latest = []
    if latest and not latest[0].result.causes and not latest[0].level.needs_professional:
        # No cause detected means no plan was suggested; the trainer may still judge that one helps.
        st.info(
            f"The last report ({words.day(latest[0].created_at)}) found no likely cause, so no plan was "
            "suggested. If you judge that one helps, choose it by hand in the plan library below and "
            "assign it.",
            icon=":material/touch_app:",
        )
    st.subheader("Plans on hold until clearance" if paused else "Active plans")
    if not active:
        st.caption("No active plan.")
    for assignment in active:
        with st.container(border=True):
            st.markdown(views.assignment_line(assignment, library))
            with st.expander("Show the client's version"):
                plan_views.plan_body(views.client_plan(assignment, library))
            confirm_key = record_key("assignment", assignment.id, "confirm_stop")
            title = library.plan(assignment.plan_id).title
            if not paused:
                stage_choices = sorted(set(offered) | {assignment.stage})
                picked = st.segmented_control(
                    "Stage",
                    stage_choices,
                    default=assignment.stage,
                    format_func=plan_views.stage_label,
                    key=record_key("assignment", assignment.id, f"stage{assignment.stage}"),
                )
                if offered == (1,):
                    st.caption("Only stage 1 is offered until a new report shows the pain has settled.")
                if (
                    picked is not None
                    and picked != assignment.stage
                    and st.button(
                        f"Move {title} to {STAGE_NAMES[picked].lower()}",
                        key=record_key("assignment", assignment.id, f"stage_to{picked}"),
                        width="stretch",
                    )
                ):
                    try:
                        store.set_stage(db, actor, assignment.id, picked)
                    except BackCareError as error:
                        context.show_error(error)
                    else:
                        st.session_state["plans_note"] = f"{title}: now at {STAGE_NAMES[picked].lower()}."
                        st.rerun()

            def set_status(target, assignment=assignment, title=title) -> None:
                try:
                    store.set_assignment_status(db, actor=actor, assignment_id=assignment.id, status=target)
                except BackCareError as error:
                    context.show_error(error)
                else:
                    st.session_state["plans_note"] = f"{title}: {ENDED_WORDS[target]}."
                    st.rerun()

            if st.session_state.get(confirm_key):
                # Stopping is one-way (an ended plan stays ended): ask once, naming the plan and the client.
                st.warning(
                    f"Stop {title} for {client.name}? It leaves the handout and cannot be restarted; "
                    "you can assign it again later."
                )
                yes_col, keep_col = st.columns(2)
                if yes_col.button(
                    "Yes, stop the plan",
                    key=record_key("assignment", assignment.id, "stop_yes"),
                    type="primary",
                    width="stretch",
                ):
                    st.session_state.pop(confirm_key, None)
                    set_status(store.AssignmentStatus.STOPPED)
                if keep_col.button(
                    "Keep the plan", key=record_key("assignment", assignment.id, "stop_no"), width="stretch"
                ):
                    st.session_state.pop(confirm_key, None)
                    st.rerun()
                continue
            done_col, stop_col = st.columns(2)
            if done_col.button(
                "Mark completed", key=record_key("assignment", assignment.id, "completed"), width="stretch"
            ):
                set_status(store.AssignmentStatus.COMPLETED)
            if stop_col.button("Stop plan", key=record_key("assignment", assignment.id, "stopped"), width="stretch"):
                st.session_state[confirm_key] = True
                st.rerun()
    if past:
        with st.expander(f"Completed and stopped plans ({len(past)})"):
            for assignment in past:
                st.markdown(f"- {views.assignment_line(assignment, library)}")

    sheet = views.handout_input(assignments, library, date.today(), paused=paused)
    # The PDF is made when the button is tapped (plan_views.handout_maker); what it needs is read and checked
    # here, once per change of the client's plans, so a handout that cannot be made says so now.
    cache_key = ("handout", client.id, paused, tuple((a.id, a.status.value, a.stage) for a in assignments))
    if st.session_state.get("handout_key") != cache_key:
        try:
            st.session_state["handout_maker"], _ = plan_views.handout_maker(
                db, actor, client, assignments, library, date.today(), paused=paused
            )
        except BackCareError as error:
            context.show_error(error)
            st.session_state["handout_maker"] = None
        st.session_state["handout_key"] = cache_key
    plan_views.handout_problem(client.id)
    if st.session_state.get("handout_maker"):
        context.audited_download(
            db,
            actor,
            "Download the printable handout (PDF)",
            st.session_state["handout_maker"],
            what="plan handout PDF",
            entity="clients",
            entity_id=client.id,
            file_name=handout.handout_filename(client.name, sheet.start_date),
            mime="application/pdf",
            type="primary",
            width="stretch",
            key=record_key("client", client.id, "handout"),
            help="The active plans with this client's changes, and when to stop and get help.",
        )
        if paused:
            st.caption("Plans are on hold: the handout holds the safety-net advice only.")
        elif not sheet.plans:
            st.caption("No active plan: the handout holds the safety-net advice only.")

plan_views.safety_net(library.safety_net)

st.subheader("Plan library")
plan_id = st.selectbox(
    "Plan",
    [c.value for c in CauseId],
    format_func=lambda c: f"{library.plan(c).title} ({CAUSE_LABELS[CauseId(c)]})",
    key="library_plan",
)
stage = st.segmented_control(
    "Stage", list(STAGES), default=1, format_func=plan_views.stage_label, key="library_stage", width="stretch"
)
stage = stage or 1
plan = library.plan(plan_id, stage)
with st.container(border=True):
    plan_views.plan_body(plan)

if client is not None:
    st.subheader(f"Assign to {client.name}")
    # Keyed by the client (nothing typed for one client reaches another's plan) and by the form's round, which
    # a save moves on, so the form is empty after each assignment.
    form_round = st.session_state.get(f"assign_round_{client.id}", 0)
    for_client = client.id  # the check above does not reach into form_key

    def form_key(field: str) -> str:
        at = "" if stage == 1 else f"s{stage}_"  # stage 1 keeps the keys the form had before stages
        return record_key("client", for_client, f"assign{form_round}_{plan_id}_{at}{field}")

    start_col, review_col = st.columns(2)
    start = start_col.date_input("Start", date.today(), key=form_key("start"))
    review = review_col.date_input("Review on", review_date_for(plan, start), key=form_key(f"review_{start}"))
    with st.expander("Changes for this client (the library stays as it is)"):
        doses = {
            e.name: st.text_input(f"Dose: {e.name}", e.dose, key=form_key(f"dose_{i}"))
            for i, e in enumerate(plan.exercises)
        }
        drop = st.multiselect("Leave out", [e.name for e in plan.exercises], key=form_key("drop"))
        client_note = st.text_area(
            "Note for the client",
            key=form_key("note"),
            max_chars=300,
            placeholder="e.g. Keep the deadlift light until the review",
        )
    already = plan.id.value in active_ids
    not_offered = stage not in offered
    if already:
        st.caption(
            f"{plan.title} is already active for {client.name}: complete or stop it above before assigning it again."
        )
    elif not_offered:
        st.caption(
            f"{STAGE_NAMES[stage]} is not offered now: the latest report asks to monitor the pain "
            "(or follows a referral), so only stage 1 may be given."
        )
    label = f"Assign {plan.title}" + (f" at stage {stage}" if stage != 1 else "")
    if st.button(label, type="primary", width="stretch", key=form_key("assign"), disabled=already or not_offered):
        try:
            changes = views.customisation_from_form(plan, doses=doses, drop=drop, note=client_note)
            store.assign_plan(
                db,
                actor=actor,
                client_id=client.id,
                plan_id=plan.id,
                start_date=start,
                review_date=review,
                customisation=changes,
                stage=stage,
            )
        except BackCareError as error:
            context.show_error(error)
        else:
            st.session_state["plans_note"] = (
                f"{plan.title} assigned to {client.name}" + (" with your changes" if changes else "") + ". "
                "Next: download the handout for the client."
            )
            st.session_state[f"assign_round_{client.id}"] = form_round + 1
            st.rerun()
