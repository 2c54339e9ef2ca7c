"""Feedback on plans on the history page: the taps inside the session form, each active plan's adherence and pain
with the suggested next step (the trainer decides), and the prompt to triage again when the pain creeps up.

The numbers and words come from backcare.feedback (pure); this module only draws them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import streamlit as st

from backcare import feedback, store
from backcare.auth import Actor
from backcare.errors import BackCareError
from backcare.feedback import DONE_WORDS, FORM_LABELS, Done, PlanTaps, Step, Suggestion
from backcare.plans import PlanLibrary
from backcare.store import AssignmentRow, ClientRow, PlanFeedback
from backcare.ui import context, words
from backcare.ui.keys import record_key

PAIN_CHOICES = list(range(11))
ENTRIES_SHOWN = 8
TRIAGE_PAGE = "pages/triage.py"
SAVED_KEY = "history_logged"  # the history page shows this note once after a rerun


def fb_key(assignment: AssignmentRow, field: str) -> str:
    """Keyed by the client and the plan assignment (`client-3-assignment-7-feedback_done`): taps given for one
    plan never land on another, nor on another client's."""
    return record_key("client", assignment.client_id, f"{record_key('assignment', assignment.id, 'feedback')}_{field}")


def plan_taps(active: Sequence[AssignmentRow], library: PlanLibrary) -> list[PlanTaps]:
    """Inside the session form: for each active plan, done (all / some / none) and the two pains as taps."""
    if not active:
        return []
    st.markdown("**How did the plans go since last time?** Leave a plan empty if the client has not had it yet.")
    taps = []
    for assignment in active:
        title = library.plan(assignment.plan_id).title
        st.markdown(f"*{title}*")
        done = st.pills(
            FORM_LABELS["done"],
            list(Done),
            format_func=lambda d: DONE_WORDS[Done(d)],
            key=fb_key(assignment, "done"),
        )
        during = st.pills(FORM_LABELS["pain_during"], PAIN_CHOICES, key=fb_key(assignment, "pain_during"))
        morning = st.pills(
            FORM_LABELS["pain_morning_after"], PAIN_CHOICES, key=fb_key(assignment, "pain_morning_after")
        )
        taps.append(PlanTaps(assignment.id, title, done, during, morning))
    return taps


def _entries_table(plan: PlanFeedback) -> str:
    """The latest entries, newest first, as a markdown table (cheaper on a rerun than a data grid)."""
    latest = list(plan.entries)[-ENTRIES_SHOWN:][::-1]
    rows = [
        f"| {words.day(e.entry_date)} | {DONE_WORDS[e.done]} | {e.pain_during} | {e.pain_morning_after} |"
        for e in latest
    ]
    return "\n".join(["| Date | Done | Pain during | Next morning |", "|---|---|---|---|", *rows])


def _suggestion_box(suggestion: Suggestion) -> None:
    show = st.warning if suggestion.step == Step.STEP_BACK else st.info
    show(f"**Suggested: {suggestion.headline}.** {suggestion.reason} You decide.")


def _apply_button(db, actor: Actor, plan: PlanFeedback, suggestion: Suggestion) -> None:
    if suggestion.to_stage is None:
        if suggestion.stage is None and suggestion.step != Step.STAY:
            st.caption("This plan's stage is not recorded: change the stage on the Plans page if you agree.")
        return
    assignment = plan.assignment
    if st.button(
        f"Apply: {suggestion.headline}",
        key=fb_key(assignment, f"apply_stage_{suggestion.to_stage}"),
        width="stretch",
    ):
        try:
            store.apply_stage(db, actor=actor, assignment_id=assignment.id, stage=suggestion.to_stage)
        except BackCareError as error:
            context.show_error(error)
        else:
            st.session_state[SAVED_KEY] = f"The plan is now at stage {suggestion.to_stage}."
            st.rerun()


def plan_feedback_panel(
    db, actor: Actor, plans: Sequence[PlanFeedback], library: PlanLibrary, latest_level: str | None
) -> None:
    """Each active plan: adherence and pain over time in words and a short table, and the suggested next step
    (`latest_level`: of the client's latest triage, which caps the stage at monitor)."""
    top = feedback.highest_stage(latest_level)
    for plan in plans:
        title = library.plan(plan.assignment.plan_id).title
        stage = "" if plan.stage is None else f" · stage {plan.stage}"
        st.markdown(f"**{title}**{stage}  \n{feedback.adherence_words(plan.entries)}")
        if not plan.entries:
            continue
        st.markdown(feedback.pain_words(plan.entries, plan.pre_plan_pain))
        suggestion = feedback.suggest_next_step(plan.entries, pre_plan=plan.pre_plan_pain, stage=plan.stage, top=top)
        if suggestion is not None:
            _suggestion_box(suggestion)
            _apply_button(db, actor, plan, suggestion)
        with st.expander(f"Latest feedback entries ({min(len(plan.entries), ENTRIES_SHOWN)} of {len(plan.entries)})"):
            st.markdown(_entries_table(plan))


def rising_pain(plans: Sequence[PlanFeedback], last_report_day: date | None = None) -> list[PlanFeedback]:
    """The plans whose latest next-morning score is the rise triage rule R5 describes, unless the client has been
    triaged since."""
    return [
        p
        for p in plans
        if feedback.needs_triage(
            p.entries, pre_plan=p.pre_plan_pain, pre_plan_day=p.pre_plan_day, last_report_day=last_report_day
        )
    ]


def triage_prompt(
    client: ClientRow, plans: Sequence[PlanFeedback], library: PlanLibrary, last_report_day: date | None = None
) -> None:
    """When the pain the next morning has risen 2 points or more within a week (and no report since): triage
    again, one tap away."""
    rising = rising_pain(plans, last_report_day)
    if not rising:
        return
    titles = ", ".join(library.plan(p.assignment.plan_id).title for p in rising)
    st.warning(
        f"**Triage {client.name} again.** The pain the next morning has risen by 2 points or more within a week "
        f"({titles}): pain that builds instead of easing needs a fresh check before more exercise.",
        icon=":material/trending_up:",
    )
    if st.button(
        f"Open triage for {client.name}", key=record_key("client", client.id, "feedback_triage"), type="primary"
    ):
        context.set_current_client(client.id)
        st.switch_page(TRIAGE_PAGE)
