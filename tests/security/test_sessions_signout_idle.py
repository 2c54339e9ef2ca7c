"""Sessions on the server: signing out in one tab ends every tab of that account; idle expiry runs on the
server's clock, and a timer's check (no tap) neither keeps a session alive nor leaves a client on screen."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backcare import store
from backcare.auth import SYSTEM, Actor
from backcare.store import signin_sessions
from backcare.store.signin_sessions import ACTIVE, ENDED, IDLE, IDLE_LIMIT
from backcare.ui import signin
from tests.fast_hashing import fast_hashing  # noqa: F401  (autouse)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "tablet passw0rd"
T0 = datetime(2025, 3, 10, 9, 0)
CLIENT = "Philippa Onscreen"


@pytest.fixture
def world(tmp_path, monkeypatch):
    path = tmp_path / "sessions.duckdb"
    with store.open_database(path) as db:
        gym = store.add_gym(db, actor=SYSTEM, name="Riverside")
        store.add_user(
            db, actor=SYSTEM, username="tina", display_name="Tina", role="trainer", gym_id=gym.id, password=PASSWORD
        )
        store.add_user(db, actor=SYSTEM, username="carl", display_name="Carl", role="clinic", password=PASSWORD)
        client = store.create_client(db, actor=SYSTEM, gym_id=gym.id, name=CLIENT, consent_by="tina")
    monkeypatch.setenv("BACKCARE_DB", str(path))
    clock = {"now": T0}
    monkeypatch.setattr(signin, "server_now", lambda: clock["now"])
    return {"path": path, "client": client.id, "clock": clock}


def open_db(world):
    return store.open_database(world["path"])


# --- the store ---------------------------------------------------------------------------------


def test_a_sign_in_makes_a_session_row_holding_only_a_digest_of_its_id(world):
    with open_db(world) as db:
        actor = store.authenticate(db, username="tina", password=PASSWORD, now=T0)
        with db.read() as cur:
            (stored,) = cur.execute("SELECT id FROM signin_sessions").fetchone()
    assert actor.session_id and len(actor.session_id) >= 40 and stored != actor.session_id
    assert actor.session_id not in stored


def test_signing_out_ends_every_session_of_the_account_and_no_other(world):
    with open_db(world) as db:
        tab_a = store.authenticate(db, username="tina", password=PASSWORD, now=T0)
        tab_b = store.authenticate(db, username="tina", password=PASSWORD, now=T0)
        other = store.authenticate(db, username="carl", password=PASSWORD, now=T0)

        assert store.end_sessions(db, actor=tab_a, now=T0) == 2
        states = [store.session_state(db, actor=a, now=T0) for a in (tab_a, tab_b, other)]
    assert states == [ENDED, ENDED, ACTIVE]


@pytest.mark.parametrize("session_id", ["made-up", "", "x" * 43])
def test_a_forged_or_stale_session_id_is_not_a_session(world, session_id):
    with open_db(world) as db:
        real = store.authenticate(db, username="tina", password=PASSWORD, now=T0)
        forged = Actor(real.username, real.role, real.gym_id, real.user_id, real.session_token, session_id or "?")
        assert store.session_state(db, actor=forged, now=T0) == ENDED


def test_a_session_of_one_account_is_not_a_session_of_another(world):
    with open_db(world) as db:
        tina = store.authenticate(db, username="tina", password=PASSWORD, now=T0)
        carl = store.authenticate(db, username="carl", password=PASSWORD, now=T0)
        borrowed = Actor(carl.username, carl.role, carl.gym_id, carl.user_id, carl.session_token, tina.session_id)
        assert store.session_state(db, actor=borrowed, now=T0) == ENDED


def test_timer_checks_do_not_keep_an_idle_session_alive(world):
    with open_db(world) as db:
        actor = store.authenticate(db, username="tina", password=PASSWORD, now=T0)
        ticks = [
            store.session_state(db, actor=actor, now=T0 + timedelta(minutes=m), touch=False) for m in (5, 15, 25, 29)
        ]
        expired = store.session_state(db, actor=actor, now=T0 + IDLE_LIMIT + timedelta(seconds=1), touch=False)
        after = store.session_state(db, actor=actor, now=T0 + IDLE_LIMIT + timedelta(seconds=2), touch=True)
        with db.read() as cur:
            audited = cur.execute("SELECT count(*) FROM audit_log WHERE action = 'signin.expired'").fetchone()[0]
    assert ticks == [ACTIVE] * 4 and expired == IDLE and after == ENDED and audited == 1


def test_taps_keep_a_session_alive(world):
    with open_db(world) as db:
        actor = store.authenticate(db, username="tina", password=PASSWORD, now=T0)
        taps = [store.session_state(db, actor=actor, now=T0 + timedelta(minutes=m)) for m in (20, 40, 60, 80)]
    assert taps == [ACTIVE] * 4


CHANGES = {
    "nothing": lambda db, tina: None,
    "signed out in another tab": lambda db, tina: store.end_sessions(db, actor=tina, now=T0),
    "disabled": lambda db, tina: store.disable_user(db, actor=SYSTEM, username="tina", now=T0),
    "new password": lambda db, tina: store.reset_password(
        db, actor=SYSTEM, username="tina", password="another passw0rd", now=T0
    ),
    "new role": lambda db, tina: store.set_role(db, actor=SYSTEM, username="tina", role="manager", gym_id=None, now=T0),
}


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("minutes", [1, 31])
def test_a_taps_one_read_says_what_the_session_and_the_account_checks_say(world, change, minutes):
    """A tap checks the sign-in with store.check_signin: the session's row and the account's row in one
    statement, with the same answers as session_state() and refresh_actor() (each on a copy of the file,
    since an idle check ends the session as it answers)."""
    with open_db(world) as db:
        tina = store.authenticate(db, username="tina", password=PASSWORD, now=T0)
        CHANGES[change](db, tina)
    twin = world["path"].with_name("twin.duckdb")
    shutil.copyfile(world["path"], twin)
    now = T0 + timedelta(minutes=minutes)
    with open_db(world) as db:
        statements: list[str] = []
        real_read = db.read

        def counting_read(doing="reading the database"):
            return _Counting(real_read(doing), statements)

        db.read = counting_read
        got = store.check_signin(db, actor=tina, now=now)
    with store.open_database(twin) as db:
        expected = (store.session_state(db, actor=tina, now=now), store.refresh_actor(db, actor=tina))
    assert got == expected
    assert len(statements) == 1
    ended_elsewhere = change == "signed out in another tab"
    assert got[0] == (ENDED if ended_elsewhere else IDLE if minutes > 30 else ACTIVE)
    assert (got[1] == tina) == (change in ("nothing", "signed out in another tab"))


class _Counting:
    """A read's cursor, counting the statements run on it."""

    def __init__(self, reading, statements):
        self._reading, self._statements = reading, statements

    def __enter__(self):
        cur = self._reading.__enter__()
        statements = self._statements

        class Cursor:
            def __getattr__(self, name):
                return getattr(cur, name)

            def execute(self, sql, *args):
                statements.append(sql)
                return cur.execute(sql, *args)

        return Cursor()

    def __exit__(self, *exc):
        return self._reading.__exit__(*exc)


# --- the app (AppTest: each AppTest is one browser tab) -----------------------------------------


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def rerun(at: AppTest) -> AppTest:
    """Run app.py again, on the page the tab is on (see tests/test_app_roles.py)."""
    at._finished_page_script_hash = ""
    return at.run()


def sign_in(username: str) -> AppTest:
    at = app().run()
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(PASSWORD)
    return [b for b in at.button if b.label == "Sign in"][0].click().run()


def shown(at: AppTest) -> str:
    return "\n".join(
        str(el.value)
        for group in (
            at.title,
            at.markdown,
            at.caption,
            at.info,
            at.success,
            at.warning,
            at.error,
            at.html,
            at.dataframe,
        )
        for el in group
    )


def signed_out(at: AppTest) -> bool:
    return "actor" not in at.session_state and at.text_input(key="signin_username") is not None


def test_sign_out_in_one_tab_signs_every_tab_of_the_account_out(world):
    tab_a, tab_b, carl = sign_in("tina"), sign_in("tina"), sign_in("carl")
    assert not signed_out(tab_a) and not signed_out(tab_b)

    [b for b in tab_a.button if b.label == "Sign out"][0].click()
    rerun(tab_a)
    rerun(tab_b)
    rerun(carl)

    assert signed_out(tab_a) and signed_out(tab_b)
    assert [i.value for i in tab_b.info] == [signin.SIGNED_OUT_ELSEWHERE]
    assert not signed_out(carl)  # another account's tab stays
    assert not tab_b.exception


def test_after_the_idle_limit_the_page_shows_nothing_of_the_client(world):
    tab = sign_in("tina")
    tab.session_state["client_id"] = world["client"]
    rerun(tab)
    assert CLIENT in shown(tab)

    world["clock"]["now"] = T0 + IDLE_LIMIT + timedelta(seconds=5)
    rerun(tab)

    assert not tab.exception and signed_out(tab)
    assert CLIENT not in shown(tab) and "client_id" not in tab.session_state
    assert any("30 minutes without activity" in i.value for i in tab.info)


def test_the_timer_check_signs_out_without_a_tap(world, monkeypatch):
    """What the page's timer (st.fragment run_every) runs: at the limit it signs out and redraws the app."""
    tab = sign_in("tina")
    actor = tab.session_state["actor"]
    world["clock"]["now"] = T0 + IDLE_LIMIT + timedelta(seconds=5)
    redrawn, state = [], {"actor": actor, "client_id": world["client"]}
    monkeypatch.setattr(signin.st, "session_state", state)
    monkeypatch.setattr(signin.st, "rerun", lambda **kw: redrawn.append(kw))
    monkeypatch.setattr(signin.context, "get_db", lambda: store.open_database(world["path"]))

    signin._watch_session()

    assert redrawn == [{"scope": "app"}]
    assert "actor" not in state and "client_id" not in state
    assert signin.watch_interval() <= 15


def test_the_timer_check_leaves_an_active_session_alone(world, monkeypatch):
    tab = sign_in("tina")
    state = {"actor": tab.session_state["actor"]}
    world["clock"]["now"] = T0 + timedelta(minutes=10)
    monkeypatch.setattr(signin.st, "session_state", state)
    monkeypatch.setattr(signin.st, "rerun", lambda **kw: pytest.fail("redrew an active session"))
    monkeypatch.setattr(signin.context, "get_db", lambda: store.open_database(world["path"]))

    signin._watch_session()

    assert "actor" in state
    with store.open_database(world["path"]) as db, db.read() as cur:
        (last_seen,) = cur.execute("SELECT max(last_seen_at) FROM signin_sessions").fetchone()
    assert last_seen == T0  # a timer's check is not activity


def test_the_idle_limit_is_a_setting(monkeypatch):
    monkeypatch.setenv("BACKCARE_IDLE_MINUTES", "0.2")
    assert signin.idle_limit() == timedelta(seconds=12) and signin.watch_interval() == 3
    monkeypatch.delenv("BACKCARE_IDLE_MINUTES")
    assert signin.idle_limit() == signin_sessions.IDLE_LIMIT


def test_a_tap_checks_the_session_once_and_the_timer_checks_it_on_its_own_runs(world, monkeypatch):
    """The timer is a fragment, and a fragment also runs inside each full run: there it would check the session
    a second time, right after the page did (issue 13: the sign-in checks were a sixth of the server's CPU per
    tap). A tap checks once, as activity; the timer's own runs still check (see the two tests above)."""
    tab = sign_in("tina")
    checks: list[bool] = []
    for name in ("session_state", "check_signin"):
        real = getattr(store, name)
        monkeypatch.setattr(store, name, lambda db, real=real, **kw: checks.append(kw["touch"]) or real(db, **kw))
    rerun(tab)
    assert not tab.exception and not signed_out(tab)
    assert checks == [True]
