"""The clinic's referral queue: the table with overdue rows highlighted, a referral's handoff and its status form."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from backcare import handoff, store
from backcare.auth import Actor
from backcare.errors import BackCareError
from backcare.models import Level
from backcare.store.records import ReferralRow, ReferralStatus
from backcare.store.referrals import CONTACT_WITHIN, NEXT_STATUSES, OPEN_STATUSES
from backcare.ui import context
from backcare.ui.clients import status_label

LEVEL_BADGES: dict[Level, str] = {
    # Words, not emoji: tables and select boxes show plain text, and not every tablet font has the emoji.
    Level.EMERGENCY: "EMERGENCY", Level.URGENT: "Urgent", Level.REFER: "Refer",
}
STATUS_LABELS = handoff.STATUS_LABELS
OVERDUE_TEXT = "OVERDUE"
_OVERDUE_STYLE = "background-color: #fde2e2; color: #7f1d1d; font-weight: 600"


def contact_targets() -> str:
    """'emergency 1 h · urgent 24 h · refer 7 days', from the store's targets."""
    def span(delta) -> str:
        hours = int(delta.total_seconds() // 3600)
        return f"{hours} h" if hours < 48 else f"{hours // 24} days"
    return " · ".join(f"{level.value} {span(delta)}" for level, delta in CONTACT_WITHIN.items())


def waiting(hours: float) -> str:
    if hours < 1:
        return f"{max(0, int(hours * 60))} min"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.0f} days"


def queue_frame(queue: Sequence[ReferralRow], gym_names: dict[int, str]) -> pd.DataFrame:
    return pd.DataFrame([{
        "Referral": r.id,
        "Level": LEVEL_BADGES.get(r.level, r.level.value),
        "Status": STATUS_LABELS.get(r.status.value, r.status.value),
        "Client": r.client_name,
        "Reference": r.client_external_id,
        "Gym": gym_names.get(r.gym_id, str(r.gym_id)),
        "Opened (UTC)": r.opened_at.strftime("%Y-%m-%d %H:%M"),
        "Waiting": waiting(r.age_hours),
        "Overdue": OVERDUE_TEXT if r.overdue else "",
    } for r in queue], columns=["Referral", "Level", "Status", "Client", "Reference", "Gym", "Opened (UTC)",
                                "Waiting", "Overdue"])


def _highlight_overdue(row: pd.Series) -> list[str]:
    return [_OVERDUE_STYLE if row["Overdue"] else ""] * len(row)


def filters(gyms, actor: Actor) -> tuple[int | None, list[ReferralStatus]]:
    """Gym (fixed to the actor's own when they belong to one) and statuses (open ones by default)."""
    left, right = st.columns([1, 2])
    names = {g.id: g.name for g in gyms}
    with left:
        if actor.gym_id is not None:
            st.markdown(f"**Gym:** {names.get(actor.gym_id, actor.gym_id)}")
            gym_id = actor.gym_id
        else:
            options = [None, *names]
            gym_id = st.selectbox("Gym", options, format_func=lambda g: "All gyms" if g is None else names[g],
                                  key="ref_gym")
    with right:
        statuses = st.multiselect("Status", list(ReferralStatus), default=list(OPEN_STATUSES),
                                  format_func=lambda s: STATUS_LABELS[s.value], key="ref_statuses")
    return gym_id, statuses


def queue_table(db, actor: Actor, queue: Sequence[ReferralRow], gym_names: dict[int, str]) -> None:
    frame = queue_frame(queue, gym_names)
    overdue = int((frame["Overdue"] != "").sum())
    if overdue:
        st.error(f"{OVERDUE_TEXT}: {overdue} referral{'s' if overdue != 1 else ''} not contacted in time "
                 f"({contact_targets()}). Contact {'them' if overdue != 1 else 'it'} first.")
    st.dataframe(frame.style.apply(_highlight_overdue, axis=1), hide_index=True, width="stretch",
                 key="ref_queue_table")
    context.audited_download(db, actor, "Download the queue (CSV)", frame.to_csv(index=False).encode("utf-8"),
                             what="referral queue CSV", entity="referrals", file_name="referral-queue.csv",
                             mime="text/csv", key="ref_queue_csv")


def referral_label(r: ReferralRow) -> str:
    flag = f"{OVERDUE_TEXT} · " if r.overdue else ""
    return (f"{flag}{LEVEL_BADGES.get(r.level, r.level.value)} · {r.client_name} · {r.client_external_id} · "
            f"{STATUS_LABELS.get(r.status.value, r.status.value)} · waiting {waiting(r.age_hours)}")


def _handoff(db, actor: Actor, referral: ReferralRow):
    """The summary, read once per referral and status in this session (each read is an audited view)."""
    key = f"handoff_{referral.id}_{referral.status.value}"
    if key not in st.session_state:
        st.session_state[key] = (store.handoff_summary(db, actor=actor, referral_id=referral.id),
                                 store.referral_events(db, actor=actor, referral_id=referral.id))
    return st.session_state[key]


def handoff_panel(db, actor: Actor, referral: ReferralRow) -> None:
    try:
        summary, events = _handoff(db, actor, referral)
    except BackCareError as error:
        context.show_error(error)
        return
    text = handoff.handoff_markdown(summary, events)
    left, right = st.columns(2)
    with left:
        context.audited_download(db, actor, "Print: download the handoff (PDF)",
                                 lambda: handoff.handoff_pdf(summary, events), what="handoff PDF",
                                 entity="referrals", entity_id=referral.id,
                                 file_name=handoff.handoff_filename(summary, "pdf"), mime="application/pdf",
                                 key="handoff_pdf", type="primary", width="stretch")
    with right:
        context.audited_download(db, actor, "Download the handoff (text)", text.encode("utf-8"),
                                 what="handoff text", entity="referrals", entity_id=referral.id,
                                 file_name=handoff.handoff_filename(summary, "md"), mime="text/markdown",
                                 key="handoff_txt", width="stretch")
    with st.container(border=True):
        st.markdown(text)
    history = pd.DataFrame([{"When (UTC)": e.event_at.strftime("%Y-%m-%d %H:%M"),
                             "Status": STATUS_LABELS.get(e.status.value, e.status.value),
                             "By": e.author, "Note": e.note or ""} for e in events])
    st.markdown("**Status history**")
    st.dataframe(history, hide_index=True, width="stretch", key="ref_history_table")
    context.audited_download(db, actor, "Download the status history (CSV)",
                             history.to_csv(index=False).encode("utf-8"), what="referral status history CSV",
                             entity="referrals", entity_id=referral.id,
                             file_name=f"referral-{referral.id}-history.csv", mime="text/csv",
                             key="ref_history_csv")


def status_form(db, actor: Actor, referral: ReferralRow) -> None:
    """The next steps this referral may take, each recorded with a note (author and time by the store)."""
    choices = sorted(NEXT_STATUSES[referral.status], key=list(ReferralStatus).index)
    if not choices:
        st.info("This referral is closed: the client is cleared and the trainer can assign plans again.")
        return
    with st.form(f"status_{referral.id}", clear_on_submit=True):
        target = st.radio("Move to", choices, format_func=lambda s: STATUS_LABELS[s.value], horizontal=True,
                          key="ref_target")
        note = st.text_area("Note (what was done or agreed)", key="ref_note")
        restrictions = st.text_input("Restrictions (only for 'cleared with restrictions')", key="ref_restrictions")
        submitted = st.form_submit_button("Record the change", type="primary", width="stretch")
    if submitted:
        try:
            updated = store.update_referral(db, actor=actor, referral_id=referral.id, status=target, note=note,
                                            restrictions=restrictions if target ==
                                            ReferralStatus.CLEARED_WITH_RESTRICTIONS else None)
            client_now = store.client_status(db, actor=actor, client_id=updated.client_id)
        except BackCareError as error:
            context.show_error(error)
            return
        st.session_state["ref_saved"] = (f"Recorded: {STATUS_LABELS[updated.status.value]}. "
                                         f"The trainer now sees the client as {status_label(client_now)}.")
        st.rerun()
