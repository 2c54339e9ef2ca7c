"""app.py with AppTest: a signed-out visitor gets only the sign-in; each role, signed in through the real
form, gets exactly its pages and cannot switch to another role's; idle expiry, sign-out, single sign-on.

Every test creates and fills its own database file first (demo mode is off in tests: tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backcare import store
from backcare.auth import SYSTEM
from tests.fast_hashing import fast_hashing  # noqa: F401  (autouse)

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "tablet passw0rd"
ROLE_PAGES = {
    "trainer": {"triage.py", "history.py", "plans.py"},
    "clinic": {"referrals.py"},
    "manager": {"trends.py"},
    "admin": {"admin.py", "audit.py", "trends.py"},
}
ALL_PAGES = set().union(*ROLE_PAGES.values())


@pytest.fixture
def app_db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "roles.duckdb"
    with store.open_database(path) as db:
        gym = store.add_gym(db, actor=SYSTEM, name="Riverside")
        for role in ROLE_PAGES:
            store.add_user(
                db,
                actor=SYSTEM,
                username=f"{role}1",
                display_name=f"A {role}",
                role=role,
                gym_id=gym.id if role == "trainer" else None,
                password=PASSWORD,
                contact=f"{role}@example.org",
            )
    monkeypatch.setenv("BACKCARE_DB", str(path))
    return path


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def page_files(at: AppTest) -> set[str]:
    """The pages st.navigation registered in the last run (AppTest keeps them for switch_page)."""
    return {
        Path(info["script_path"]).name if info.get("script_path") else info["page_name"]
        for info in at._registered_pages.values()
    }  # noqa: SLF001  (no public accessor yet)


def rerun(at: AppTest) -> AppTest:
    """Run app.py again. AppTest resets its page registry before each run, and a page registered with a
    url_path equal to its file's stem (pages/trends.py as "trends") is then run directly, without
    app.py; asking for the main script instead runs app.py, as a browser session does."""
    at._finished_page_script_hash = ""  # noqa: SLF001
    return at.run()


def sign_in(at: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    (submit,) = [b for b in at.button if b.label == "Sign in"]
    return submit.click().run()


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def existing(pages: set[str]) -> set[str]:
    return {p for p in pages if (ROOT / "pages" / p).exists()}


def test_a_signed_out_visitor_sees_only_the_sign_in(app_db):
    at = app().run()

    no_exception(at)
    assert page_files(at) == {"Sign in"}
    assert at.text_input(key="signin_password") is not None
    for page in existing(ALL_PAGES):
        with pytest.raises(ValueError):
            at.switch_page(f"pages/{page}")


@pytest.mark.parametrize("role", sorted(ROLE_PAGES))
def test_each_role_sees_exactly_its_pages(app_db, role):
    at = sign_in(app().run(), f"{role}1")

    no_exception(at)
    assert page_files(at) == existing(ROLE_PAGES[role])
    assert at.session_state["actor"].role.value == role
    for page in existing(ALL_PAGES - ROLE_PAGES[role]):
        with pytest.raises(ValueError):
            at.switch_page(f"pages/{page}")


def test_a_wrong_password_shows_one_sentence_and_stays_signed_out(app_db):
    at = sign_in(app().run(), "trainer1", "not the password")

    no_exception(at)
    assert [e.value for e in at.error] == [store.accounts.SIGNIN_REFUSED]
    assert page_files(at) == {"Sign in"}


def test_the_typed_password_is_not_kept_after_signing_in(app_db):
    at = sign_in(app().run(), "manager1")

    assert "signin_password" not in at.session_state


def test_thirty_idle_minutes_sign_the_person_out(app_db, monkeypatch):
    from datetime import datetime, timedelta

    from backcare.ui import signin

    start = datetime(2025, 3, 10, 9, 0)
    monkeypatch.setattr(signin, "server_now", lambda: start)
    at = sign_in(app().run(), "clinic1")
    monkeypatch.setattr(signin, "server_now", lambda: start + timedelta(minutes=31))  # the server's clock
    rerun(at)

    no_exception(at)
    assert page_files(at) == {"Sign in"}
    assert any("30 minutes" in i.value for i in at.info)


def test_sign_out_returns_to_the_sign_in(app_db):
    at = sign_in(app().run(), "manager1")
    (signout,) = [b for b in at.button if b.label == "Sign out"]
    signout.click()
    rerun(at)

    no_exception(at)
    assert page_files(at) == {"Sign in"}
    assert "actor" not in at.session_state


OIDC = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 32,
    "client_id": "backcare",
    "client_secret": "s",
    "server_metadata_url": "https://id.example/.well-known",
}


def test_with_single_sign_on_the_form_is_replaced_and_the_email_maps_to_the_users_role(app_db):
    at = app()
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": False}
    at.run()
    no_exception(at)
    assert not at.text_input and [b.label for b in at.button] == ["Sign in"]

    at.user = {"is_logged_in": True, "email": "Clinic@Example.org"}
    at.run()
    no_exception(at)
    assert at.session_state["actor"].username == "clinic1"
    assert page_files(at) == existing(ROLE_PAGES["clinic"])


def test_with_single_sign_on_an_unknown_email_is_refused(app_db):
    at = app()
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": True, "email": "stranger@example.org"}
    at.run()

    no_exception(at)
    assert "actor" not in at.session_state
    assert any("No BackCare account is linked" in e.value for e in at.error)


def test_the_sign_in_page_of_a_demo_database_lists_the_demo_accounts_and_they_sign_in(tmp_path, monkeypatch):
    from backcare.store import demo

    path = tmp_path / "demo.duckdb"
    with store.open_database(path) as db:
        accounts = demo.build_demo(db, clients=6, weeks=2).accounts
    monkeypatch.setenv("BACKCARE_DB", str(path))

    at = app().run()
    no_exception(at)
    listed = "\n".join(m.value for m in at.markdown)
    assert {a.role.value for a in accounts} == set(ROLE_PAGES)
    for account in accounts:
        assert f"`{account.username}` / `{account.password}`" in listed
    admin = next(a for a in accounts if a.role.value == "admin")
    assert page_files(sign_in(at, admin.username, admin.password)) == existing(ROLE_PAGES["admin"])


# --- a session ends when its account changes; the typed password is never kept ---------------


def test_a_failed_sign_in_does_not_keep_the_typed_password(app_db):
    at = sign_in(app().run(), "trainer1", "typed secret 123")

    no_exception(at)
    assert at.session_state["signin_password"] != "typed secret 123"
    assert [e.value for e in at.error] == [store.accounts.SIGNIN_REFUSED]
    assert page_files(sign_in(at, "trainer1")) == existing(ROLE_PAGES["trainer"])  # the form still works


@pytest.mark.parametrize(
    "change",
    [
        lambda db: store.disable_user(db, actor=SYSTEM, username="trainer1"),
        lambda db: store.set_role(db, actor=SYSTEM, username="trainer1", role="clinic", gym_id=None),
        lambda db: store.reset_password(db, actor=SYSTEM, username="trainer1", password="another passw0rd"),
    ],
    ids=["disabled", "role", "password"],
)
def test_an_account_change_ends_its_open_session(app_db, change):
    at = sign_in(app().run(), "trainer1")
    assert page_files(at) == existing(ROLE_PAGES["trainer"])
    with store.open_database(app_db) as db:
        change(db)
    rerun(at)

    no_exception(at)
    assert page_files(at) == {"Sign in"}
    assert "actor" not in at.session_state
    assert [i.value for i in at.info] == ["Your account changed or was disabled: please sign in again."]


def test_an_unchanged_account_stays_signed_in(app_db):
    at = sign_in(app().run(), "admin1")
    with store.open_database(app_db) as db:
        store.unlock_user(db, actor=SYSTEM, username="admin1")  # not a change of who they are
    rerun(at)

    no_exception(at)
    assert page_files(at) == existing(ROLE_PAGES["admin"])
