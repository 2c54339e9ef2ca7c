"""Admin: people (add, disable, enable, unlock, reset password, role and gym), gyms, and erasure of a client.

The page only collects input and shows results; every check (permission, rules, the last admin) is in
backcare.store.accounts and backcare.store.erasure.
"""

from __future__ import annotations

import streamlit as st

from backcare import settings, store
from backcare.auth import PASSWORD_MIN_LENGTH
from backcare.errors import BackCareError
from backcare.store.erasure import CompactionPending
from backcare.ui import context, style, words
from backcare.ui.keys import record_key

style.apply_tablet_style()
db = context.get_db()
actor = context.require_actor()

ROLES = ("trainer", "clinic", "manager", "admin")
EVERY_GYM = "Every gym"

st.title("People and gyms")
try:  # read-only here: the number is a deployment setting (backcare/settings.py)
    number = settings.emergency_number()
    st.caption(
        f":material/call: Emergency number on the triage screen: **{number.shown}** ({number.source}; set "
        f"{settings.ENV_NUMBER} or emergency_number in {settings.settings_path().name} to change it)."
    )
except BackCareError as error:
    st.error(f"The emergency number is not set correctly, so triage cannot start: {error}")
done = st.session_state.pop("admin_done", None)
if done:
    st.success(done)


def finish(message: str) -> None:
    st.session_state["admin_done"] = message
    st.rerun()


def attempt(action, message: str):
    """Run one store call; a domain error becomes one sentence on the page."""
    try:
        result = action()
    except BackCareError as error:
        st.error(str(error))
        return None
    finish(message)
    return result


try:
    gyms = store.list_gym_summaries(db, actor=actor)
    users = store.list_users(db, actor=actor)
except BackCareError as error:
    st.error(str(error))
    st.stop()
gym_names = {g.id: g.name for g in gyms}
gym_choices = [None, *gym_names]


def gym_label(gym_id: int | None) -> str:
    return EVERY_GYM if gym_id is None else gym_names.get(gym_id, f"gym {gym_id}")


people_tab, gyms_tab, erase_tab = st.tabs(["People", "Gyms", "Erase a client"])

with people_tab:
    st.dataframe(
        [
            {
                "Username": u.username,
                "Name": u.display_name,
                "Role": u.role,
                "Gym": gym_label(u.gym_id),
                "State": "disabled" if u.disabled else ("locked" if u.is_locked() else "active"),
                "Sign-in": "password" if u.has_password else "single sign-on",
                "Contact": u.contact or "",
            }
            for u in users
        ],
        hide_index=True,
        width="stretch",
    )

    st.subheader("Add a person")
    with st.form("add_user", clear_on_submit=True):
        username = st.text_input("Username (or their e-mail, for single sign-on)", key="new_username")
        display_name = st.text_input("Name shown in the app", key="new_display_name")
        role = st.selectbox("Role", ROLES, key="new_role")
        gym_id = st.selectbox("Gym (a trainer needs one)", gym_choices, format_func=gym_label, key="new_gym")
        contact = st.text_input("Phone or e-mail (optional)", key="new_contact")
        password = st.text_input(
            f"First password (at least {PASSWORD_MIN_LENGTH} characters; leave empty for single sign-on only)",
            type="password",
            key="new_password",
        )
        if st.form_submit_button("Add person", type="primary"):
            attempt(
                lambda: store.add_user(
                    db,
                    actor=actor,
                    username=username,
                    display_name=display_name,
                    role=role,
                    gym_id=gym_id,
                    contact=contact or None,
                    password=password or None,
                ),
                f"Added {username.strip().lower()} as {role}. Tell them their first password in person.",
            )

    st.subheader("Change a person")
    # The person is held by id and every widget below is keyed by it: choosing another person never shows
    # (or saves) what was set for the one before.
    people = {u.id: u for u in users}
    chosen = st.selectbox(
        "Person",
        list(people),
        format_func=lambda i: people[i].username,
        index=None,
        placeholder="Choose a person",
        key="change_user",
    )
    person = None if chosen is None else people.get(chosen)
    if person is not None:
        person_id = person.id

        def person_key(field: str) -> str:
            return record_key("user", person_id, field)

        state = "disabled" if person.disabled else ("locked" if person.is_locked() else "active")
        st.markdown(f"**{person.display_name}** · {person.role} · {gym_label(person.gym_id)} · {state}")
        cols = st.columns(3)
        if person.disabled:
            if cols[0].button("Enable", key=person_key("enable"), width="stretch"):
                attempt(
                    lambda: store.enable_user(db, actor=actor, username=person.username),
                    f"{person.username} can sign in again.",
                )
        elif cols[0].button("Disable", key=person_key("disable"), width="stretch"):
            attempt(
                lambda: store.disable_user(db, actor=actor, username=person.username),
                f"{person.username} can no longer sign in; their records stay.",
            )
        if person.is_locked() and cols[1].button("Unlock", key=person_key("unlock"), width="stretch"):
            attempt(
                lambda: store.unlock_user(db, actor=actor, username=person.username), f"{person.username} is unlocked."
            )

        with st.form(person_key("reset_password"), clear_on_submit=True):
            new_password = st.text_input("New password", type="password", key=person_key("password_1"))
            again = st.text_input("Same password again", type="password", key=person_key("password_2"))
            if st.form_submit_button("Set new password"):
                if new_password != again:
                    st.error("The two passwords differ: type them again.")
                else:
                    attempt(
                        lambda: store.reset_password(db, actor=actor, username=person.username, password=new_password),
                        f"New password set for {person.username}; any lock is lifted.",
                    )

        with st.form(person_key("set_role")):
            new_role = st.selectbox(
                "Role", ROLES, index=ROLES.index(person.role) if person.role in ROLES else 0, key=person_key("role")
            )
            new_gym = st.selectbox(
                "Gym",
                gym_choices,
                format_func=gym_label,
                index=gym_choices.index(person.gym_id) if person.gym_id in gym_choices else 0,
                key=person_key("gym"),
            )
            if st.form_submit_button("Save role and gym"):
                attempt(
                    lambda: store.set_role(db, actor=actor, username=person.username, role=new_role, gym_id=new_gym),
                    f"{person.username} is now {new_role} at {gym_label(new_gym)} (from their next sign-in).",
                )

with gyms_tab:
    st.dataframe(
        [{"Gym": g.name, "People": g.users, "Clients": g.clients} for g in gyms], hide_index=True, width="stretch"
    )
    with st.form("add_gym", clear_on_submit=True):
        gym_name = st.text_input("New gym's name", key="new_gym_name")
        if st.form_submit_button("Add gym", type="primary"):
            attempt(lambda: store.add_gym(db, actor=actor, name=gym_name), f"Added the gym {gym_name.strip()}.")

with erase_tab:
    st.markdown(
        "Erasing removes a client and **everything** about them: sessions, reports, referrals, plans "
        "and their history. It cannot be undone. The audit log keeps only that an erasure happened, "
        "when and by whom. Use it when a client asks for their data to be deleted."
    )
    receipt = st.session_state.pop("erase_receipt", None)
    if receipt:
        st.success(receipt)
    pending = st.session_state.get("erase_pending")
    try:  # recorded in the file, so a rebuild owed before a restart is still shown after it
        owed = store.pending_rebuilds(db, actor=actor)
    except BackCareError as error:
        st.error(str(error))
        owed = []
    if pending:
        st.warning(pending)
    elif owed:
        st.warning(
            f"A rebuild of the database file is still owed for {words.count(len(owed), 'erasure')}, the first on "
            f"{words.moment(owed[0].erased_at)} UTC by {owed[0].erased_by}: until it runs, the file may "
            "still hold fragments of the erased data. Rebuild it now (it takes a moment; the app stays up)."
        )
    if pending or owed:
        if st.button("Rebuild the database file", key="compact_button"):
            with st.spinner("Rebuilding the database file…"):
                try:
                    store.compact_database(db)
                except BackCareError as error:
                    st.error(str(error))
                else:
                    st.session_state.pop("erase_pending", None)
                    st.session_state["erase_receipt"] = (
                        "The database file was rebuilt: the erased data is gone from it."
                    )
                    st.rerun()
    query = st.text_input("Find the client (name or reference)", key="erase_query")
    candidates = []
    if query.strip():
        try:
            candidates = store.find_clients_to_erase(db, actor=actor, query=query)
        except BackCareError as error:
            st.error(str(error))
        if not candidates:
            st.info("No client matches. Check the spelling, or search by their reference (e.g. C-00042).")
    by_id = {c.id: c for c in candidates}
    chosen_id = (
        st.radio(
            "Client",
            list(by_id),
            index=None,
            key="erase_target",
            format_func=lambda i: (
                f"{by_id[i].name} · {by_id[i].external_id} · {by_id[i].gym_name} — "
                f"{by_id[i].sessions} sessions, {by_id[i].reports} reports, "
                f"{by_id[i].referrals} referrals, {by_id[i].assignments} plans"
            ),
        )
        if candidates
        else None
    )
    target = None if chosen_id is None else by_id.get(chosen_id)
    if target is not None:
        st.warning(f"To erase {target.name}, type their reference {target.external_id} below and press the button.")
        typed = st.text_input("Reference, to confirm", key=record_key("client", target.id, "erase_confirm"))
        confirmed = typed.strip().upper() == target.external_id.upper()
        if st.button(
            "Erase this client permanently",
            type="primary",
            disabled=not confirmed,
            key=record_key("client", target.id, "erase"),
        ):
            with st.spinner("Erasing and rebuilding the database file…"):
                try:
                    done_receipt = store.erase_client(db, actor=actor, client_id=target.id)
                except CompactionPending as error:  # deleted and saved; the file still needs rebuilding
                    for key in (
                        "erase_query",
                        "erase_target",
                        record_key("client", target.id, "erase_confirm"),
                        context.CLIENT_KEY,
                    ):
                        st.session_state.pop(key, None)
                    st.session_state["erase_pending"] = str(error)
                    st.rerun()
                except BackCareError as error:
                    st.error(str(error))
                else:
                    for key in (
                        "erase_query",
                        "erase_target",
                        record_key("client", target.id, "erase_confirm"),
                        context.CLIENT_KEY,
                    ):
                        st.session_state.pop(key, None)
                    deleted = sum(done_receipt.rows_deleted.values())
                    st.session_state["erase_receipt"] = (
                        f"Client {done_receipt.external_id} erased: {deleted} records deleted and the database file "
                        "rebuilt without them. Note the reference now if you must confirm the erasure to the "
                        "client: it is not kept anywhere."
                    )
                    st.rerun()
