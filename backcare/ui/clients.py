"""Finding, adding and showing the current client: a few taps on a tablet."""

from __future__ import annotations

import streamlit as st

from backcare import store
from backcare.auth import Actor
from backcare.errors import BackCareError
from backcare.ui import context
from backcare.ui.keys import record_key

STATUS_LABELS = {
    "cleared": ":green[:material/check_circle: Cleared]",
    "modified": ":orange[:material/tune: Modified training]",
    "paused_referral_open": ":orange[:material/pause_circle: Paused: referral open]",
    "urgent_referral_open": ":red[:material/priority_high: Urgent referral open]",
    "emergency_referral_open": ":red[:material/emergency: Emergency referral open]",
}
PLAIN_STATUS = {
    "cleared": "Cleared",
    "modified": "Modified training",
    "paused_referral_open": "Paused: referral open",
    "urgent_referral_open": "Urgent referral open",
    "emergency_referral_open": "Emergency referral open",
}


def status_label(status) -> str:
    """Status as coloured markdown with an icon (for st.markdown)."""
    value = str(getattr(status, "value", status))
    return STATUS_LABELS.get(value, value)


def plain_status(status) -> str:
    """Status as plain words (for select boxes and tables, which do not render markdown)."""
    value = str(getattr(status, "value", status))
    return PLAIN_STATUS.get(value, value)


CHANGING_KEY = "changing_client"
AUDITED_CLIENTS_KEY = "_audited_clients"  # the clients whose record this sign-in has opened (audited once)
# One consent covers the health data and the contact details (issue 11).
CONSENT_TEXT = (
    "The client agrees that we store their health data for their training, and the phone or e-mail "
    "given so the clinic can reach them"
)


def client_picker(db, actor: Actor):
    """Search by name or reference, or add a client; returns the chosen client (or None). Once a client is
    chosen the search folds away behind one button, so the screen is about that client."""
    current_id = context.current_client_id()
    if current_id is not None and not st.session_state.get(CHANGING_KEY):
        try:
            client = current_client(db, actor)
        except BackCareError as error:
            context.show_error(error)
            context.set_current_client(None)
            return None
        if st.button("Change client", key="change_client", icon=":material/swap_horiz:"):
            st.session_state[CHANGING_KEY] = True
            st.rerun()
        return client
    query = st.text_input("Find a client", placeholder="Name or reference, e.g. C-0042", key="client_query")
    try:
        if query.strip():
            matches, list_label = (
                store.search_clients(db, actor=actor, query=query.strip(), limit=25),
                "Matching clients",
            )
        else:  # before any typing: the trainer's own clients, two taps away
            matches, list_label = (
                store.list_clients(db, actor=actor, trainer_id=actor.user_id, recent_first=True),
                "Your clients",
            )
    except BackCareError as error:
        context.show_error(error)
        matches, list_label = [], ""
    if matches:
        # Labels that never change while the trainer chooses: a browser keeps the choice by its text, so a
        # status in the label (changed by the clinic meanwhile) would drop the choice onto another client.
        by_id = {m.id: m for m in matches}
        ids = list(by_id)
        # Nobody is chosen until the trainer taps a name: a preselected first client made one tap start a
        # report for the wrong person (issue 14). A search the trainer typed that finds exactly one client has
        # named that person, so it is chosen.
        index = ids.index(current_id) if current_id in ids else None
        if query.strip() and len(ids) == 1 and st.session_state.get("client_choice") not in ids:
            st.session_state["client_choice"] = ids[0]  # before the widget is drawn, so it shows the choice
        chosen = st.selectbox(
            list_label,
            ids,
            format_func=lambda i: f"{by_id[i].name} · {by_id[i].external_id}",
            index=index,
            key="client_choice",
            placeholder="Tap to choose (most recent first)",
        )
        if chosen in by_id:
            st.caption(f"Status: {plain_status(by_id[chosen].status)}")
        if st.button("Use this client", type="primary", key="use_client", disabled=chosen not in by_id):
            context.set_current_client(chosen)
            st.session_state[CHANGING_KEY] = False
            st.rerun()
    elif query.strip():
        st.caption("No client matches that. Add them below.")
    if query.strip() and not matches and st.session_state.get("_prefilled_from") != query:
        # A search that found nobody is usually the new client's name: offer it in the form.
        st.session_state["new_client_name"] = query.strip()
        st.session_state["_prefilled_from"] = query
    with st.expander("Add a new client", expanded=bool(query.strip()) and not matches):
        name = st.text_input("Full name", key="new_client_name")
        phone_col, email_col = st.columns(2)
        phone = phone_col.text_input("Phone (optional)", key="new_client_phone", placeholder="e.g. +44 7700 900123")
        email = email_col.text_input("E-mail (optional)", key="new_client_email", placeholder="name@example.org")
        consent = st.checkbox(CONSENT_TEXT, key="new_client_consent")
        if st.button("Add client", key="add_client"):
            if not name.strip():
                st.error("Name: please enter the client's name.")
            elif not consent:
                st.error("Consent: a report can only be stored with the client's consent.")
            else:
                try:
                    client = store.create_client(
                        db,
                        actor=actor,
                        gym_id=actor.gym_id,
                        name=name.strip(),
                        trainer_id=actor.user_id,
                        consent_by=actor.username,
                        phone=phone,
                        email=email,
                    )
                except BackCareError as error:
                    context.show_error(error)
                else:
                    context.set_current_client(client.id)
                    st.session_state[CHANGING_KEY] = False
                    st.rerun()
    if current_id is None:
        return None
    try:
        return current_client(db, actor)
    except BackCareError as error:
        context.show_error(error)
        context.set_current_client(None)
        return None


def current_client(db, actor: Actor):
    """The current client's record, read once per run. Opening a record is audited once per client and
    sign-in, not on every rerun of the screen."""
    client_id = context.current_client_id()
    if client_id is None:
        return None
    cached = st.session_state.get("_client_row")
    run = st.session_state.get("_run_token")
    if cached is not None and cached[0] == client_id and cached[1] == run:
        return cached[2]
    audited = st.session_state.setdefault(AUDITED_CLIENTS_KEY, set())
    client = store.get_client(db, actor=actor, client_id=client_id, audit=client_id not in audited)
    audited.add(client_id)
    st.session_state["_client_row"] = (client_id, run, client)
    return client


def sidebar_current_client(db, actor: Actor, client=None) -> None:
    """The current client in the sidebar. `client`: the record the page has just read itself (the history page
    has it from store.client_history), drawn without reading it again once its opening has been audited (the
    first showing reads it through current_client, which writes the 'client.view' row): on PostgreSQL each
    read is a round trip on every tap (issue 17)."""
    with st.sidebar:
        st.markdown("**Current client**")
        if client is None or client.id not in st.session_state.get(AUDITED_CLIENTS_KEY, ()):
            try:
                client = current_client(db, actor)
            except BackCareError:
                client = None
        if client is None:
            st.caption("None chosen yet.")
            return
        st.markdown(f"{client.name}  \n`{client.external_id}`  \n{status_label(client.status)}")


def contact_line(client) -> str:
    return " · ".join(part for part in (client.phone, client.email) if part) or "no phone or e-mail recorded"


def contact_panel(db, actor: Actor, client) -> None:
    """How the clinic reaches the client (shown in a referral's handoff); changed under the client's consent.
    The form is keyed by the client's id."""
    saved = st.session_state.pop(record_key("client", client.id, "contact_saved"), None)
    if saved:
        st.success(saved)
    with st.expander(f"Contact: {contact_line(client)}", icon=":material/call:"):
        if not client.has_consent:
            st.caption("A phone or e-mail can only be kept with the client's consent: record it first.")
            return
        with st.form(record_key("client", client.id, "contact_form"), border=False):
            phone_col, email_col = st.columns(2)
            phone = phone_col.text_input(
                "Phone (optional)", client.phone or "", key=record_key("client", client.id, "phone")
            )
            email = email_col.text_input(
                "E-mail (optional)", client.email or "", key=record_key("client", client.id, "email")
            )
            st.caption(
                "Kept under the client's consent; the clinic sees it in the handoff of a referral. "
                "Leave a box empty to remove it."
            )
            submitted = st.form_submit_button("Save contact", width="stretch")
        if submitted:
            try:
                store.set_client_contact(db, actor=actor, client_id=client.id, phone=phone, email=email)
            except BackCareError as error:
                context.show_error(error)
            else:
                st.session_state[record_key("client", client.id, "contact_saved")] = f"Contact saved for {client.name}."
                st.rerun()
