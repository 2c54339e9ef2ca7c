"""Sign-in gate, idle expiry, sign-out, and the demo accounts shown on a demo database's first start.

Two ways in. By default a password form (store.authenticate: argon2, lockout, every attempt audited).
Where the deployment configures OpenID Connect in Streamlit's secrets (an [auth] section), the form is
replaced by st.login: the provider proves the e-mail address, and the users table still decides who that
is and what they may do (store.actor_for_email). Either way the signed-in Actor lives in session state
only, and 30 minutes without a rerun signs the person out.
"""

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
_NOTICE = "signin_notice"
_REFUSED = "signin_refused"
ACCOUNT_CHANGED = "Your account changed or was disabled: please sign in again."


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
        print("BackCare demo accounts (first start; synthetic data only):")
        for account in accounts:
            print(f"  {account.role.value:8} {account.username:14} password: {account.password}")


# --- single sign-on --------------------------------------------------------------------------


def oidc_provider() -> str | None:
    """None without an [auth] section in the secrets; otherwise the provider name to pass to st.login
    ("" when [auth] itself holds the one provider's settings)."""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets file at all: the password form applies  # noqa: BLE001
        return None
    if not auth:
        return None
    providers = [name for name, value in auth.items() if hasattr(value, "items")]
    return providers[0] if len(providers) == 1 else ""


def _user_is_logged_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:  # noqa: BLE001  (older runtimes without st.user)
        return False


def _oidc_signin(db, provider: str) -> None:
    if _user_is_logged_in():
        try:
            actor = store.actor_for_email(db, email=st.user.get("email"))
        except BackCareError as error:
            st.error(str(error))
            if st.button("Sign out of the identity provider", key="oidc_logout"):
                st.logout()
            return
        _start_session(actor)
        return
    st.write("Sign in with your organisation's account.")
    if st.button("Sign in", type="primary", key="oidc_login", width="stretch"):
        if provider:
            st.login(provider)
        else:
            st.login()


# --- sessions --------------------------------------------------------------------------------


def _start_session(actor: Actor) -> None:
    st.session_state.pop("signin_password", None)  # the typed password does not outlive the sign-in
    st.session_state[context.ACTOR_KEY] = actor
    st.session_state[_LAST_SEEN] = time.time()
    st.rerun()


def current_or_expired_actor() -> Actor | None:
    """The session's actor, checked on every run against the users table (one query): a disabled
    account, or a changed role, gym or password, ends the session."""
    actor = context.current_actor()
    now = time.time()
    if actor is not None and now - st.session_state.get(_LAST_SEEN, now) > IDLE_SECONDS:
        sign_out(reason="You were signed out after 30 minutes without activity.")
        st.rerun()  # start again from the sign-in, as the sign-out button does
    if actor is not None and store.refresh_actor(context.get_db(), actor=actor) != actor:
        sign_out(reason=ACCOUNT_CHANGED)
        st.rerun()
    st.session_state[_LAST_SEEN] = now
    return actor


def sign_out(reason: str | None = None) -> None:
    """Forget everything this browser session held (the actor, the current client, form values)."""
    for key in list(st.session_state.keys()):
        if not str(key).startswith("$$"):  # Streamlit's own entries (e.g. AppTest's) stay
            del st.session_state[key]
    if reason:
        st.session_state[_NOTICE] = reason
    if oidc_provider() is not None and _user_is_logged_in():
        st.logout()  # also end the identity cookie, or the next visit would sign straight back in


def signin_page() -> None:
    st.title("BackCare")
    st.caption("Back pain after workouts: triage, history, plans and referrals.")
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.info(notice)
    db = context.get_db()
    provider = oidc_provider()
    if provider is not None:
        _oidc_signin(db, provider)
    else:
        _password_form(db)
    accounts = _first_start_accounts().get(str(context.database_path()))
    if accounts:
        with st.expander("Demo accounts (synthetic demo data)", expanded=True):
            for account in accounts:
                where = f" · {account.gym}" if account.gym else ""
                st.markdown(f"- **{account.role.value}**: `{account.username}` / `{account.password}`{where}")


def _password_form(db) -> None:
    refused = st.session_state.pop(_REFUSED, None)
    if refused:
        st.session_state["signin_password"] = ""  # empties the browser's field too
    with st.form("signin"):
        username = st.text_input("Username", key="signin_username")
        password = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
    if refused:
        st.error(refused)
    if submitted:
        try:
            actor = store.authenticate(db, username=username, password=password)
        except BackCareError as error:
            # the typed password is never kept: drop it and draw the form afresh, with the refusal
            st.session_state.pop("signin_password", None)
            st.session_state[_REFUSED] = str(error)
            st.rerun()
        else:
            _start_session(actor)


def sidebar_account(actor: Actor) -> None:
    with st.sidebar:
        st.markdown(f"Signed in as **{actor.username}** ({actor.role.value})")
        if st.button("Sign out", key="signout"):
            sign_out(reason="You are signed out.")
            st.rerun()
