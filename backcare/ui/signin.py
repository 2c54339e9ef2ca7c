"""Sign-in gate, idle expiry, sign-out, and the demo accounts shown on a demo database's first start."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from backcare import store
from backcare.auth import Actor
from backcare.errors import BackCareError
from backcare.ui import context

IDLE_SECONDS = 30 * 60
_LAST_SEEN = "last_seen"


@st.cache_resource(show_spinner=False)
def _first_start_accounts() -> dict:
    return {}


def first_start_demo(path: Path) -> None:
    """On a machine with no database yet, build the demo history (once per process) and keep the demo
    accounts to show on the sign-in page."""
    if path.exists():
        return
    from backcare.demo import ensure_demo_database

    with st.spinner("First start: creating the demo history…"):
        accounts = ensure_demo_database(path)
    if accounts:
        _first_start_accounts()[str(path)] = accounts
        print("BackCare demo accounts (first start):")
        for account in accounts:
            print(f"  {account.role:8} {account.username:12} password: {account.password}")


def current_or_expired_actor() -> Actor | None:
    actor = context.current_actor()
    now = time.time()
    if actor is not None and now - st.session_state.get(_LAST_SEEN, now) > IDLE_SECONDS:
        sign_out(reason="You were signed out after 30 minutes without activity.")
        return None
    st.session_state[_LAST_SEEN] = now
    return actor


def sign_out(reason: str | None = None) -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if reason:
        st.session_state["signin_notice"] = reason


def signin_page() -> None:
    st.title("BackCare")
    st.caption("Back pain after workouts: triage, history, plans and referrals.")
    notice = st.session_state.pop("signin_notice", None)
    if notice:
        st.info(notice)
    db = context.get_db()
    with st.form("signin"):
        username = st.text_input("Username", key="signin_username")
        password = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary", use_container_width=True)
    if submitted:
        try:
            actor = store.authenticate(db, username=username.strip(), password=password)
        except BackCareError as error:
            st.error(str(error))
        else:
            st.session_state[context.ACTOR_KEY] = actor
            st.session_state[_LAST_SEEN] = time.time()
            st.rerun()
    accounts = _first_start_accounts().get(str(context.database_path()))
    if accounts:
        with st.expander("Demo accounts (this is demo data)", expanded=True):
            for account in accounts:
                st.markdown(f"- **{account.role}**: `{account.username}` / `{account.password}`")


def sidebar_account(actor: Actor) -> None:
    with st.sidebar:
        st.markdown(f"Signed in as **{actor.username}** ({actor.role.value})")
        if st.button("Sign out", key="signout"):
            sign_out(reason="You are signed out.")
            st.rerun()
