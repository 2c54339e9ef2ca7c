"""Start gate (demo mode, a missing or locked file), sign-in, server-side sessions, sign-out, and the demo
banner and demo accounts of a demo database.

Two ways in. By default a password form (store.authenticate: argon2, lockout, every attempt audited).
Where the deployment configures OpenID Connect in Streamlit's secrets (an [auth] section), the form is
replaced by st.login: the provider proves the e-mail address, and the users table still decides who that
is and what they may do (store.actor_for_email). Either way the signed-in Actor lives in session state
with the id of its server-side session row, checked on every run and by a timer: signing out in one tab
ends every tab, and IDLE minutes without a tap sign the person out even if nobody taps again.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta

import streamlit as st

from backcare import store
from backcare.auth import Actor
from backcare.errors import BackCareError, DatabaseMissing
from backcare.store import deployment, signin_sessions
from backcare.ui import context

_NOTICE = "signin_notice"
_REFUSED = "signin_refused"
ACCOUNT_CHANGED = "Your account changed or was disabled: please sign in again."
SIGNED_OUT = "You are signed out."
SIGNED_OUT_ELSEWHERE = "You were signed out (in this or another tab): please sign in again."
DEMO_BANNER = "Demo database: synthetic clients and public demo accounts. Never enter real people here."
IDLE_ENV = "BACKCARE_IDLE_MINUTES"


# A test-only clock hook: with BACKCARE_TESTING=1 (set by the browser tests only, never by scripts/app.sh or
# a deployment), the file named by BACKCARE_TEST_CLOCK_FILE holds seconds to add to the sessions' clock, so a
# browser test moves a running server 30 minutes on without waiting. Without the flag both are ignored.
TESTING_ENV, CLOCK_FILE_ENV = "BACKCARE_TESTING", "BACKCARE_TEST_CLOCK_FILE"


def _test_clock_offset() -> timedelta:
    if os.environ.get(TESTING_ENV) != "1" or not os.environ.get(CLOCK_FILE_ENV):
        return timedelta(0)
    try:
        with open(os.environ[CLOCK_FILE_ENV], encoding="utf-8") as file:
            return timedelta(seconds=float(file.read().strip() or 0))
    except (OSError, ValueError):
        return timedelta(0)


def server_now() -> datetime:
    """The server's clock for sessions (naive UTC); tests replace it, or move it on through the test-only
    clock file (above), to make time pass."""
    return store.utcnow() + _test_clock_offset()


def idle_limit() -> timedelta:
    """30 minutes, or BACKCARE_IDLE_MINUTES (a deployment's policy; a browser test uses a few seconds)."""
    try:
        minutes = float(os.environ.get(IDLE_ENV) or 30)
    except ValueError:
        minutes = 30.0
    return timedelta(minutes=min(max(minutes, 0.05), 24 * 60))


def idle_notice() -> str:
    minutes = idle_limit().total_seconds() / 60
    amount = f"{minutes:g} minutes" if minutes >= 1 else f"{round(minutes * 60)} seconds"
    return f"You were signed out after {amount} without activity."


# --- start gate ------------------------------------------------------------------------------

_DEMO_BUILD = threading.Lock()  # two first visits at once build the demo once


def _nothing() -> None:
    pass


def _stop_with(message: str) -> None:
    """One sentence, and no page list: without st.navigation Streamlit would list pages/ in the sidebar."""
    st.error(message)
    st.navigation([st.Page(_nothing, title="BackCare", url_path="unavailable")], position="hidden")
    st.stop()


def open_database_or_stop():
    """The database for this run. Demo mode builds a missing file first (scripts/app.sh does it before the
    server starts; this covers `streamlit run` with BACKCARE_DEMO=1) and refuses a file that is not a demo;
    without demo mode a missing file is an error and nothing is created. Any failure: one sentence."""
    path = context.database_path()
    try:
        if context.database_target() != str(path):  # a PostgreSQL server (BACKCARE_DATABASE_URL): no file to check
            db = context.open_db()
            if deployment.demo_mode_requested() and not deployment.is_demo(db):
                # as with a file: an empty database gets the demo, any other database is refused
                from backcare.store.transfer import ensure_demo_on_postgres

                with _DEMO_BUILD, st.spinner("Demo mode: building the demo database (synthetic data)…"):
                    if not deployment.is_demo(db):
                        ensure_demo_on_postgres(context.database_target(), if_missing=True)
            return db
        if deployment.demo_mode_requested():
            if not path.exists():
                from backcare.store.demo import ensure_demo_database

                with _DEMO_BUILD, st.spinner("Demo mode: building the demo database (synthetic data)…"):
                    if not path.exists():
                        ensure_demo_database(path)
            db = context.open_db()
            deployment.refuse_unless_demo(db)
            return db
        if not path.exists():
            raise DatabaseMissing(str(path))
        return context.open_db()
    except BackCareError as error:
        _stop_with(str(error))


_DEMO = "_demo_database"


def demo_banner(db) -> None:
    """On every page of a demo database, above the page. Whether the file is a demo is read once per browser
    session (it is set when the file is built), not on every tap."""
    demo = st.session_state.get(_DEMO)
    if demo is None or demo[0] != db.where:
        demo = st.session_state[_DEMO] = (db.where, deployment.is_demo(db))
    if demo[1]:
        st.html(
            '<div data-testid="bc-demo" style="border-radius:8px;padding:.45rem .8rem;margin:0 0 .6rem 0;'
            'background:#eef2ff;color:#312e81;border:1px solid #c7d2fe;font-size:.95rem">'
            f"<strong>Demo</strong> · {DEMO_BANNER}</div>"
        )


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
            email = st.user.get("email")
            actor = store.actor_for_email(db, email=email if isinstance(email, str) else None)
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


# A reload (tablets reload background tabs) resumes the sign-in: the browser keeps the session's id in a
# cookie (never in the URL), and the server resumes only an open, not idle session of an enabled account
# whose password has not changed since (store.resume_signin). Sign-out ends the session row, so the cookie
# then resumes nothing, and is cleared as well.
RESUME_COOKIE = "backcare_session"
_SET_COOKIE, _CLEAR_COOKIE, _RESUME_TRIED = "_resume_cookie_set", "_resume_cookie_clear", "_resume_tried"
COOKIE_MAX_AGE = 12 * 3600  # the browser's bound; the server's idle limit ends the session far sooner


def _cookie_script(value: str | None) -> str:
    assignment = f"{RESUME_COOKIE}={value}; max-age={COOKIE_MAX_AGE}" if value else f"{RESUME_COOKIE}=; max-age=0"
    return (
        "<script>document.cookie = '" + assignment + "; path=/; SameSite=Strict'"
        " + (location.protocol === 'https:' ? '; Secure' : '');</script>"
    )


def write_resume_cookie() -> None:
    """After a sign-in (set) or a sign-out (clear), once: a tiny script in the page sets the cookie."""
    value = st.session_state.pop(_SET_COOKIE, None)
    clear = st.session_state.pop(_CLEAR_COOKIE, None)
    if value or clear:
        st.html(_cookie_script(None if clear else value), unsafe_allow_javascript=True, width="content")


def _resumed_actor() -> Actor | None:
    """Once per browser session: the actor of the session named by the resume cookie, if still open."""
    if st.session_state.get(_RESUME_TRIED):
        return None
    st.session_state[_RESUME_TRIED] = True
    try:
        cookie = st.context.cookies.get(RESUME_COOKIE)
    except Exception:  # noqa: BLE001  (no browser behind this run, e.g. AppTest)
        cookie = None
    if not cookie:
        return None
    try:
        return store.resume_signin(context.get_db(), cookie=cookie, now=server_now(), idle=idle_limit())
    except BackCareError:
        return None


def _start_session(actor: Actor) -> None:
    st.session_state.pop("signin_password", None)  # the typed password does not outlive the sign-in
    st.session_state[context.ACTOR_KEY] = actor
    try:
        st.session_state[_SET_COOKIE] = store.resume_cookie(actor, context.get_db())
    except BackCareError:
        pass  # no resume after a reload: the sign-in itself stands
    st.rerun()


def current_or_expired_actor() -> Actor | None:
    """The session's actor, checked on every run: its session row (signed out in another tab, or idle past
    the limit on the server's clock) and the users table (a disabled account, or a changed role, gym or
    password, ends the session). This run is a tap, so it counts as activity."""
    actor = context.current_actor()
    if actor is None:
        actor = _resumed_actor()
        if actor is None:
            return None
        st.session_state[context.ACTOR_KEY] = actor
    # the session's row and the account's row in one read (one statement a tap)
    state, refreshed = store.check_signin(
        context.get_db(), actor=actor, now=server_now(), idle=idle_limit(), touch=True
    )
    if state != signin_sessions.ACTIVE:
        sign_out(reason=idle_notice() if state == signin_sessions.IDLE else SIGNED_OUT_ELSEWHERE)
        st.rerun()  # start again from the sign-in, as the sign-out button does
    if refreshed != actor:
        sign_out(reason=ACCOUNT_CHANGED)
        st.rerun()
    return actor


def _watch_session() -> None:
    """A timer's check (not a tap): when the session has ended elsewhere or idled out, the whole page is
    redrawn as the sign-in, so nothing of a client stays on screen."""
    actor = context.current_actor()
    if actor is None:
        return
    state = store.session_state(context.get_db(), actor=actor, now=server_now(), idle=idle_limit(), touch=False)
    if state != signin_sessions.ACTIVE:
        sign_out(reason=idle_notice() if state == signin_sessions.IDLE else SIGNED_OUT_ELSEWHERE)
        st.rerun(scope="app")


def _watch_on_timer() -> None:
    """The page's timer (a fragment with run_every). A fragment also runs inside every full run of the page,
    right after current_or_expired_actor() has checked the session: only the timer's own runs check again
    (one session check per tap, not two)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is not None and ctx.fragment_ids_this_run:
        _watch_session()


def watch_interval() -> float:
    """Seconds between timer checks: a quarter of the idle limit, between 1 and 15 s."""
    return min(15.0, max(1.0, idle_limit().total_seconds() / 4))


def sign_out(reason: str | None = None, *, everywhere: bool = False) -> None:
    """Forget everything this browser session held (the actor, the current client, form values);
    `everywhere`: end every open session of the account too (the Sign out button: every tab)."""
    actor = context.current_actor()
    if everywhere and actor is not None:
        try:
            store.end_sessions(context.get_db(), actor=actor, now=server_now())
        except BackCareError as error:  # still forget this tab's session; say the others may stay open
            reason = f"{reason or SIGNED_OUT} Other tabs could not be signed out: {error}"
    for key in list(st.session_state.keys()):
        if not str(key).startswith("$$"):  # Streamlit's own entries (e.g. AppTest's) stay
            del st.session_state[key]
    if reason:
        st.session_state[_NOTICE] = reason
    st.session_state[_CLEAR_COOKIE] = True
    st.session_state[_RESUME_TRIED] = True  # this browser session does not resume what it just ended
    if oidc_provider() is not None and _user_is_logged_in():
        st.logout()  # also end the identity cookie, or the next visit would sign straight back in


def signin_page() -> None:
    st.title("BackCare")
    st.caption("Back pain after workouts: triage, history, plans and referrals.")
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.info(notice)
    db = context.get_db()
    if not deployment.has_accounts(db):
        st.warning(
            f"This database ({db.where}) has no accounts yet: add the first administrator with "
            "`python -m backcare users add NAME --role admin --password-stdin`, then reload this page."
        )
    provider = oidc_provider()
    if provider is not None:
        _oidc_signin(db, provider)
    else:
        _password_form(db)
    demo = deployment.demo_info(db)
    if demo is not None and demo.accounts:
        # every account with the public password, or none: the demo gives no other account a password
        with st.expander("Demo accounts (synthetic demo data): every account that signs in", expanded=True):
            for account in demo.accounts:
                where = f" · {account.gym}" if account.gym else " · every gym"
                st.markdown(f"- **{account.role}**: `{account.username}` / `{demo.password}`{where}")
            st.caption("The demo's other staff only author records: they have no password.")


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
            actor = store.authenticate(db, username=username, password=password, now=server_now())
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
        if st.button("Sign out", key="signout", help="Signs this account out of every tab"):
            sign_out(reason=SIGNED_OUT, everywhere=True)
            st.rerun()
        st.fragment(_watch_on_timer, run_every=watch_interval())()
