"""The clinic's referral queue: a tappable list in the clinic's work order, the open referral (held by its id)
with its status form and handoff.

Every widget of the open referral is keyed by the referral's id (backcare.ui.keys), and each save runs in the
callback of the button that was tapped, with the referral that button was drawn for: a change lands on the
referral it was typed for, whatever the save does to the queue's labels and order.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from backcare import handoff, store
from backcare.auth import Actor
from backcare.errors import BackCareError
from backcare.models import Level
from backcare.store.records import CLEARED_STATUSES, ReferralRow, ReferralStatus
from backcare.store.referrals import (
    CONTACT_WITHIN,
    NEXT_STATUSES,
    OPEN_STATUSES,
    awaits_first_contact,
    check_referral_change,
    needs_confirmation,
)
from backcare.ui import context, words
from backcare.ui.clients import plain_status
from backcare.ui.keys import empty_fields, record_key

LEVEL_BADGES: dict[Level, str] = {
    # Words, not emoji: tables show plain text, and not every tablet font has the emoji.
    Level.EMERGENCY: Level.EMERGENCY.label.upper(),
    Level.URGENT: Level.URGENT.label,
    Level.REFER: Level.REFER.label,
}
# Red for emergency, urgent and a missed first contact only (DESIGN.md: red means urgent).
_LEVEL_MARKS: dict[Level, str] = {
    Level.EMERGENCY: f":red[**{LEVEL_BADGES[Level.EMERGENCY]}**]",
    Level.URGENT: f":red[**{LEVEL_BADGES[Level.URGENT]}**]",
    Level.REFER: f":orange[**{LEVEL_BADGES[Level.REFER]}**]",
}
STATUS_LABELS = handoff.STATUS_LABELS
OVERDUE_TEXT = "OVERDUE"
OPEN_KEY = "ref_open"  # the open referral, by id
_SCROLL_KEY = "ref_scroll"  # set by a tap on a row: bring the opened referral into view once
ROWS_SHOWN = 40  # rows listed before "Show all"; most pressing first
FORM_FIELDS = {"next": None, "note": "", "restrictions": ""}  # each field of the status form, empty
# Rows read left to right like a list; the status choices are touch targets of at least 44 px like the buttons.
_CSS = """<style>
.st-key-ref_queue_rows button { justify-content: flex-start; text-align: left; min-height: 48px; }
.st-key-ref_queue_rows button > div, .st-key-ref_queue_rows button > div > span {
  justify-content: flex-start; text-align: left; }
.st-key-ref_queue_rows button p { text-align: left; }
[class*="st-key-referral-"] [role="radiogroup"] label { min-height: 44px; align-items: center;
  padding-right: 1.2rem; }
</style>"""
GROUPS = (
    ("first_contact", "First contact to make"),
    ("waiting", "Waiting on a professional or a clearance"),
    ("closed", "Closed"),
)


def apply_style() -> None:
    st.html(_CSS)


def key(referral_id: int, field: str) -> str:
    return record_key("referral", referral_id, field)


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


def group_of(referral: ReferralRow) -> str:
    if awaits_first_contact(referral):
        return "first_contact"
    return "closed" if referral.status in CLEARED_STATUSES else "waiting"


def queue_frame(queue: Sequence[ReferralRow], gym_names: dict[int, str]) -> pd.DataFrame:
    """The queue as a table, in its order (for the CSV download)."""
    titles = dict(GROUPS)
    return pd.DataFrame(
        [
            {
                "Referral": r.id,
                "Group": titles[group_of(r)],
                "Level": LEVEL_BADGES.get(r.level, r.level.value),
                "Status": STATUS_LABELS.get(r.status.value, r.status.value),
                "Client": r.client_name,
                "Reference": r.client_external_id,
                "Gym": gym_names.get(r.gym_id, str(r.gym_id)),
                "Opened (UTC)": words.moment(r.opened_at),
                "Waiting": waiting(r.age_hours),
                "Overdue": OVERDUE_TEXT if r.overdue else "",
            }
            for r in queue
        ],
        columns=[
            "Referral",
            "Group",
            "Level",
            "Status",
            "Client",
            "Reference",
            "Gym",
            "Opened (UTC)",
            "Waiting",
            "Overdue",
        ],
    )


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
            gym_id = st.selectbox(
                "Gym", options, format_func=lambda g: "All gyms" if g is None else names[g], key="ref_gym"
            )
    with right:
        statuses = st.multiselect(
            "Status",
            list(ReferralStatus),
            default=list(OPEN_STATUSES),
            format_func=lambda s: STATUS_LABELS[s.value],
            key="ref_statuses",
        )
    return gym_id, statuses


def open_referral(referral_id: int | None) -> None:
    """Hold the open referral by its id (a row's callback; None closes it). A clearance left unconfirmed on the
    referral being left is dropped: coming back never finds a question asked for a moment long gone."""
    previous = st.session_state.get(OPEN_KEY)
    if previous is not None and previous != referral_id:
        st.session_state.pop(key(previous, "pending"), None)
    st.session_state[OPEN_KEY] = referral_id
    st.session_state[_SCROLL_KEY] = referral_id


def open_referral_id() -> int | None:
    return st.session_state.get(OPEN_KEY)


def _md(text: str) -> str:
    """User text inside a markdown label: no markdown of its own."""
    return "".join(f"\\{c}" if c in "\\`*_[]():~#<>|" else c for c in text)


def row_label(r: ReferralRow, gym_name: str) -> str:
    flag = f":red[**{OVERDUE_TEXT}**] · " if r.overdue else ""
    return (
        f"{flag}{_LEVEL_MARKS.get(r.level, r.level.value)} · **{_md(r.client_name)}** · "
        f"{_md(r.client_external_id)} · {STATUS_LABELS.get(r.status.value, r.status.value)} · "
        f"{_md(gym_name)} · waiting {waiting(r.age_hours)}"
    )


def queue_list(db, actor: Actor, queue: Sequence[ReferralRow], gym_names: dict[int, str]) -> None:
    """The queue as a list of rows, each one tap to open, grouped in the clinic's work order."""
    overdue = sum(r.overdue for r in queue)
    if overdue:
        st.error(
            f"{OVERDUE_TEXT}: {overdue} referral{'s' if overdue != 1 else ''} not contacted in time "
            f"({contact_targets()}). Contact {'them' if overdue != 1 else 'it'} first."
        )
    shown = list(queue)
    if len(queue) > ROWS_SHOWN and not st.toggle(
        f"Show all {len(queue)} referrals (the first {ROWS_SHOWN} are listed)", key="ref_show_all"
    ):
        shown = shown[:ROWS_SHOWN]
    open_id = open_referral_id()
    with st.container(key="ref_queue_rows"):
        for group, title in GROUPS:
            rows = [r for r in shown if group_of(r) == group]
            if not rows:
                continue
            st.markdown(f"**{title}** ({sum(group_of(r) == group for r in queue)})")
            for r in rows:
                st.button(
                    row_label(r, gym_names.get(r.gym_id, str(r.gym_id))),
                    key=key(r.id, "open"),
                    on_click=open_referral,
                    args=(r.id,),
                    width="stretch",
                    icon=":material/folder_open:" if r.id == open_id else ":material/chevron_right:",
                )
    frame = queue_frame(queue, gym_names)
    context.audited_download(
        db,
        actor,
        "Download the queue (CSV)",
        frame.to_csv(index=False).encode("utf-8"),
        what="referral queue CSV",
        entity="referrals",
        file_name="referral-queue.csv",
        mime="text/csv",
        key="ref_queue_csv",
    )


# --- the open referral ------------------------------------------------------------------------------------


def referral_panel(db, actor: Actor, referral_id: int, gym_names: dict[int, str]) -> None:
    """The open referral, read by its id (it stays open when a save moves it in, or out of, the queue)."""
    try:
        referral = store.get_referral(db, actor=actor, referral_id=referral_id)
    except BackCareError as error:
        context.show_error(error)
        st.session_state[OPEN_KEY] = None
        return
    rid = referral.id
    with st.container(border=True, key=key(rid, "panel")):
        head, close = st.columns([4, 1], vertical_alignment="center")
        head.subheader(f"{referral.client_name} · {referral.client_external_id}")
        close.button(
            "Close",
            key=key(rid, "close"),
            on_click=open_referral,
            args=(None,),
            width="stretch",
            icon=":material/close:",
        )
        st.markdown(
            f"{_LEVEL_MARKS.get(referral.level, referral.level.value)} · "
            f"**{STATUS_LABELS.get(referral.status.value, referral.status.value)}** · "
            f"{_md(gym_names.get(referral.gym_id, str(referral.gym_id)))} · opened "
            f"{words.moment(referral.opened_at)} UTC · waiting {waiting(referral.age_hours)}"
        )
        if referral.overdue:
            st.error(f"{OVERDUE_TEXT}: first contact was due and has not been recorded. Contact the client now.")
        saved = st.session_state.pop(key(rid, "saved"), None)
        if saved:
            st.success(saved)
        st.markdown("#### Next step")
        status_form(db, actor, referral)
        st.markdown("#### Handoff summary")
        handoff_panel(db, actor, referral)
    if st.session_state.pop(_SCROLL_KEY, None) == rid:
        _scroll_into_view(key(rid, "panel"))


def _scroll_into_view(container_key: str) -> None:
    # A tap on a row far down the list opens the referral below it: bring it into view (once per tap).
    selector = html.escape(f".st-key-{container_key}", quote=True)
    st.html(
        f"""<script>
      setTimeout(() => {{
        const panel = window.parent.document.querySelector("{selector}") || document.querySelector("{selector}");
        if (panel) panel.scrollIntoView({{behavior: "instant", block: "start"}});
        // the page's own signal that the scroll is done (browser tests wait for it before the next tap)
        const top = window.parent || window;
        top.backcareScrolls = (top.backcareScrolls || 0) + 1;
      }}, 150);
    </script>""",
        unsafe_allow_javascript=True,
    )


def _handoff(db, actor: Actor, referral: ReferralRow):
    """The summary, read once per referral and status in this session (each read is an audited view)."""
    cache = f"handoff_{referral.id}_{referral.status.value}"
    if cache not in st.session_state:
        st.session_state[cache] = (
            store.handoff_summary(db, actor=actor, referral_id=referral.id),
            store.referral_events(db, actor=actor, referral_id=referral.id),
        )
    return st.session_state[cache]


def handoff_panel(db, actor: Actor, referral: ReferralRow) -> None:
    try:
        summary, events = _handoff(db, actor, referral)
    except BackCareError as error:
        context.show_error(error)
        return
    rid = referral.id
    text = handoff.handoff_markdown(summary, events)
    left, right = st.columns(2)
    with left:
        context.audited_download(
            db,
            actor,
            "Print: download the handoff (PDF)",
            lambda: handoff.handoff_pdf(summary, events),
            what="handoff PDF",
            entity="referrals",
            entity_id=rid,
            file_name=handoff.handoff_filename(summary, "pdf"),
            mime="application/pdf",
            key=key(rid, "handoff_pdf"),
            type="primary",
            width="stretch",
        )
    with right:
        context.audited_download(
            db,
            actor,
            "Download the handoff (text)",
            text.encode("utf-8"),
            what="handoff text",
            entity="referrals",
            entity_id=rid,
            file_name=handoff.handoff_filename(summary, "md"),
            mime="text/markdown",
            key=key(rid, "handoff_txt"),
            width="stretch",
        )
    with st.container(border=True):
        st.markdown(text)
    history = pd.DataFrame(
        [
            {
                "When (UTC)": words.moment(e.event_at),
                "Status": STATUS_LABELS.get(e.status.value, e.status.value),
                "By": e.author,
                "Note": e.note or "",
            }
            for e in events
        ]
    )
    st.markdown("**Status history**")
    st.dataframe(history, hide_index=True, width="stretch")
    context.audited_download(
        db,
        actor,
        "Download the status history (CSV)",
        history.to_csv(index=False).encode("utf-8"),
        what="referral status history CSV",
        entity="referrals",
        entity_id=rid,
        file_name=f"referral-{rid}-history.csv",
        mime="text/csv",
        key=key(rid, "history_csv"),
    )


def clear_question(referral: ReferralRow, status: ReferralStatus) -> str:
    """'Clear Maya Petrov to load again?': the confirmation names the client."""
    extra = ", with the restrictions below" if status == ReferralStatus.CLEARED_WITH_RESTRICTIONS else ""
    return f"Clear {referral.client_name} to load again{extra}?"


def status_form(db, actor: Actor, referral: ReferralRow) -> None:
    """The next steps this referral may take, none chosen to begin with; a clearance needs a note and a
    confirmation that names the client. Author and time are recorded by the store."""
    choices = sorted(NEXT_STATUSES[referral.status], key=list(ReferralStatus).index)
    if not choices:
        st.info("This referral is closed: the client is cleared and the trainer can assign plans again.")
        return
    rid = referral.id
    error = st.session_state.pop(key(rid, "error"), None)
    with st.form(key(rid, "form"), border=False):
        st.radio(
            "Move to",
            choices,
            index=None,
            format_func=lambda s: STATUS_LABELS[s.value],
            horizontal=True,
            key=key(rid, "next"),
        )
        st.text_area("Note (what was done or agreed; a clearance needs one)", key=key(rid, "note"))
        if ReferralStatus.CLEARED_WITH_RESTRICTIONS in choices:
            st.text_input("Restrictions (only for 'cleared with restrictions')", key=key(rid, "restrictions"))
        st.form_submit_button(
            "Record the change", type="primary", width="stretch", on_click=_submitted, args=(db, actor, referral)
        )
    if error:
        st.error(error)
    pending = st.session_state.get(key(rid, "pending"))
    if pending:
        _confirmation(db, actor, referral, pending)


def _typed(rid: int) -> dict:
    state = st.session_state
    return {
        "status": state.get(key(rid, "next")),
        "note": state.get(key(rid, "note")) or "",
        "restrictions": state.get(key(rid, "restrictions")) or "",
    }


def _submitted(db, actor: Actor, referral: ReferralRow) -> None:
    """'Record the change' for this referral (the one its form was drawn for)."""
    rid = referral.id
    st.session_state.pop(key(rid, "pending"), None)
    change = _typed(rid)
    if change["status"] is None:
        st.session_state[key(rid, "error")] = "Choose where the referral moves to, then tap Record the change."
        return
    try:
        check_referral_change(**change)
    except BackCareError as problem:
        st.session_state[key(rid, "error")] = str(problem)
        return
    if needs_confirmation(change["status"]):
        st.session_state[key(rid, "pending")] = change  # as typed: the confirmation records exactly this
        return
    _record(db, actor, referral, change)


def _confirmation(db, actor: Actor, referral: ReferralRow, pending: dict) -> None:
    rid = referral.id
    with st.container(border=True, key=key(rid, "confirmation")):
        details = [
            f"**{clear_question(referral, pending['status'])}**",
            "The trainer can assign loading plans again as soon as you confirm.",
            f"Note: {_md(pending['note'].strip())}",
        ]
        if pending["status"] == ReferralStatus.CLEARED_WITH_RESTRICTIONS:
            details.append(f"Restrictions: {_md(pending['restrictions'].strip())}")
        st.warning("  \n".join(details))
        yes, no = st.columns(2)
        yes.button(
            f"Yes, clear {referral.client_name}",
            key=key(rid, "confirm"),
            type="primary",
            width="stretch",
            on_click=_confirmed,
            args=(db, actor, referral),
        )
        no.button(
            "No, not yet",
            key=key(rid, "cancel"),
            width="stretch",
            on_click=lambda: st.session_state.pop(key(rid, "pending"), None),
        )


def _confirmed(db, actor: Actor, referral: ReferralRow) -> None:
    pending = st.session_state.pop(key(referral.id, "pending"), None)
    if pending:
        _record(db, actor, referral, pending)


def _record(db, actor: Actor, referral: ReferralRow, change: dict) -> None:
    rid = referral.id
    target = ReferralStatus(change["status"])
    try:
        updated = store.update_referral(
            db,
            actor=actor,
            referral_id=rid,
            status=target,
            note=change["note"],
            restrictions=change["restrictions"] if target == ReferralStatus.CLEARED_WITH_RESTRICTIONS else None,
            expected_status=referral.status,
        )
        client_now = store.client_status(db, actor=actor, client_id=updated.client_id)
    except BackCareError as error:
        st.session_state[key(rid, "error")] = str(error)
        return
    st.session_state[key(rid, "saved")] = (
        f"Recorded for {referral.client_name}: {STATUS_LABELS[updated.status.value]}. "
        f"The trainer now sees the client as {plain_status(client_now)}."
    )
    empty_fields(st.session_state, "referral", rid, FORM_FIELDS)
