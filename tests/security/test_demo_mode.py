"""A careless deployment: demo data only on purpose. Without demo mode a new path is an error (on the page
and on the command line) and nothing is created; `init --admin` makes a database with one administrator
and nothing else; demo mode never touches a real database; a demo database says so on every page and lists
every account that has the public password; an interrupted first start leaves no half-made file; a locked
file lists no pages to a visitor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backcare import store
from backcare.auth import SYSTEM
from backcare.store import deployment
from backcare.store.demo import DEMO_PASSWORD, build_demo
from tests.fast_hashing import fast_hashing  # noqa: F401  (autouse)

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("triage", "history", "plans", "referrals", "trends", "admin", "audit")
DEMO_WORDS = "demo database"


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def page_names(at: AppTest) -> set[str]:
    return {
        Path(info["script_path"]).name if info.get("script_path") else info["page_name"]
        for info in at._registered_pages.values()
    }


def all_text(at: AppTest) -> str:
    parts = [
        str(el.value)
        for group in (at.title, at.markdown, at.caption, at.info, at.success, at.warning, at.error, at.html)
        for el in group
    ]
    return "\n".join(parts)


def cli(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backcare", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def counts(path: Path) -> dict[str, int]:
    with store.open_database(path) as db, db.read() as cur:
        return {
            t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("users", "gyms", "clients", "sessions", "reports", "referrals", "assignments")
        }


@pytest.fixture
def no_demo(monkeypatch):
    monkeypatch.delenv("BACKCARE_DEMO", raising=False)


@pytest.fixture
def demo_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "demo.duckdb"
    with store.open_database(path) as db:
        build_demo(db, clients=6, weeks=2)
    monkeypatch.setenv("BACKCARE_DB", str(path))
    monkeypatch.setenv("BACKCARE_DEMO", "1")
    return path


@pytest.fixture
def real_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "real.duckdb"
    with store.open_database(path) as db:
        gym = store.add_gym(db, actor=SYSTEM, name="Real Gym")
        store.add_user(
            db, actor=SYSTEM, username="owner", display_name="Owner", role="admin", password="a real long password"
        )
        store.create_client(db, actor=SYSTEM, gym_id=gym.id, name="Real Person", consent_by="owner")
    monkeypatch.setenv("BACKCARE_DB", str(path))
    return path


# --- no demo mode: a missing path is an error, and nothing is created ---------------------------


def test_without_demo_mode_a_new_path_shows_one_sentence_and_creates_nothing(tmp_path, monkeypatch, no_demo):
    path = tmp_path / "typo" / "backcare.duckdb"
    monkeypatch.setenv("BACKCARE_DB", str(path))

    at = app().run()

    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert str(path) in error and "init --admin" in error and "BACKCARE_DEMO=1" in error
    assert error.count(". ") == 0 and error.endswith(".")  # one sentence
    assert not at.text_input and not at.button  # no sign-in form
    assert page_names(at) == {"BackCare"}
    assert not path.exists() and not path.parent.exists()


@pytest.mark.parametrize("command", [["users", "list"], ["export", "{out}"], ["users", "add-gym", "X"], ["compact"]])
def test_the_command_line_refuses_a_missing_path_and_names_both_ways(tmp_path, command, no_demo):
    path = tmp_path / "missing.duckdb"
    done = cli(*[a.format(out=tmp_path / "out") for a in command], "--db", str(path))

    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    assert str(path) in line and "init --admin" in line and "BACKCARE_DEMO=1" in line
    assert not path.exists()


# --- init --admin ------------------------------------------------------------------------------


def test_init_makes_a_database_with_one_admin_and_nothing_else(tmp_path):
    path = tmp_path / "new" / "real.duckdb"
    done = cli("init", "--admin", "Owner", "--password-stdin", "--db", str(path), stdin="the first admin secret\n")

    assert done.returncode == 0, done.stderr
    assert "the first admin secret" not in done.stdout + done.stderr
    assert counts(path) == {
        "users": 1,
        "gyms": 0,
        "clients": 0,
        "sessions": 0,
        "reports": 0,
        "referrals": 0,
        "assignments": 0,
    }
    with store.open_database(path) as db:
        (user,) = store.list_users(db, actor=SYSTEM)
        assert (user.username, user.role, user.gym_id, user.has_password) == ("owner", "admin", None, True)
        assert not deployment.is_demo(db)
        assert store.authenticate(db, username="owner", password="the first admin secret").role == "admin"


def test_init_refuses_an_existing_file_and_takes_no_password_in_its_arguments(real_path):
    again = cli("init", "--admin", "other", "--password-stdin", "--db", str(real_path), stdin="another password 1\n")
    in_argv = cli("init", "--admin", "other", "--password", "visible secret 1", "--db", str(real_path))

    assert again.returncode != 0 and "already exists" in again.stderr
    assert in_argv.returncode != 0
    assert counts(real_path)["users"] == 1


# --- demo mode ---------------------------------------------------------------------------------


def test_demo_mode_refuses_an_existing_real_database_on_the_page(real_path, monkeypatch):
    monkeypatch.setenv("BACKCARE_DEMO", "1")
    before = counts(real_path)

    at = app().run()

    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert str(real_path) in error and "not a demo database" in error
    assert not at.text_input and page_names(at) == {"BackCare"}
    assert counts(real_path) == before


def test_demo_mode_refuses_an_existing_real_database_on_the_command_line(real_path):
    before = counts(real_path)
    done = cli("demo", "--if-missing", "--db", str(real_path))

    assert done.returncode != 0 and "not a demo database" in done.stderr and "Traceback" not in done.stderr
    assert counts(real_path) == before


def test_the_start_script_builds_the_demo_before_serving_and_says_so(tmp_path):
    """What scripts/app.sh runs before `streamlit run`: a marked demo file, then 'use it as it is'."""
    path = tmp_path / "fresh.duckdb"
    first = cli("demo", "--if-missing", "--clients", "8", "--weeks", "2", "--db", str(path))
    second = cli("demo", "--if-missing", "--db", str(path))

    assert first.returncode == 0 and "demo.admin" in first.stdout, first.stderr
    assert second.returncode == 0 and "already" in second.stdout
    with store.open_database(path) as db:
        assert deployment.is_demo(db)
    script = (ROOT / "scripts" / "app.sh").read_text()
    assert "BACKCARE_DEMO" in script and "demo --if-missing" in script and "demo mode" in script
    assert script.index("demo --if-missing") < script.index("streamlit run")


def test_every_page_of_a_demo_database_says_it_is_a_demo(demo_path):
    """The banner comes from app.py, before navigation runs the page: the sign-in and each role's page.
    (AppTest runs a page picked with switch_page without app.py; tests/browser/test_security_demo_banner.py
    opens every page in Chromium.)"""
    at = app().run()
    assert not at.exception
    assert DEMO_WORDS in all_text(at).lower()  # the sign-in page

    with store.open_database(demo_path) as db:
        listed = deployment.demo_info(db).accounts
    assert {a.role for a in listed} == {"trainer", "clinic", "manager", "admin"}
    for account in listed:
        at = app().run()
        at.text_input(key="signin_username").input(account.username)
        at.text_input(key="signin_password").input(DEMO_PASSWORD)
        at = [b for b in at.button if b.label == "Sign in"][0].click().run()
        assert not at.exception
        assert at.session_state["actor"].username == account.username
        assert DEMO_WORDS in all_text(at).lower(), account.username
    source = (ROOT / "app.py").read_text()
    assert source.index("signin.demo_banner(db)") < source.index("navigation.run()")


def test_demo_accounts_are_listed_in_full(demo_path):
    """Every account that signs in with the public demo password is on the sign-in page, and no other."""
    at = app().run()
    shown = "\n".join(m.value for m in at.markdown)

    with store.open_database(demo_path) as db:
        users = [u.username for u in store.list_users(db, actor=SYSTEM)]
        opens = set()
        for username in users:
            try:
                store.authenticate(db, username=username, password=DEMO_PASSWORD)
            except store.SignInRefused:
                continue
            opens.add(username)
    assert len(users) > len(opens) >= 4  # the demo has staff without a password (they only author records)
    assert {u for u in users if f"`{u}`" in shown} == opens
    assert DEMO_PASSWORD in shown


def test_a_real_database_shows_no_demo_banner_and_no_demo_accounts(real_path, no_demo):
    at = app().run()

    assert not at.exception and at.text_input(key="signin_username") is not None
    assert DEMO_WORDS not in all_text(at).lower() and DEMO_PASSWORD not in all_text(at)


# --- interrupted first start -------------------------------------------------------------------


def test_a_killed_first_start_leaves_no_file_and_the_next_start_finishes(tmp_path):
    path = tmp_path / "first.duckdb"
    building = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backcare",
            "demo",
            "--if-missing",
            "--clients",
            "40000",
            "--weeks",
            "26",
            "--db",
            str(path),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        for line in building.stderr:  # wait for the build to be under way
            if line.startswith("sessions") or line.startswith("reports"):
                break
        building.send_signal(signal.SIGKILL)
    finally:
        building.wait(timeout=60)

    assert not path.exists()
    done = cli("demo", "--if-missing", "--clients", "6", "--weeks", "2", "--db", str(path))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.duckdb"]  # the killed build's file is gone


def test_an_existing_file_without_accounts_says_how_to_add_the_first_admin(tmp_path, monkeypatch, no_demo):
    path = tmp_path / "empty.duckdb"
    store.open_database(path).close()
    monkeypatch.setenv("BACKCARE_DB", str(path))

    at = app().run()

    assert not at.exception
    assert any("users add" in i.value and "--role admin" in i.value for i in [*at.info, *at.warning])


# --- a locked file -----------------------------------------------------------------------------

HOLDER = textwrap.dedent("""
    import sys, duckdb
    connection = duckdb.connect(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
""")


def test_while_the_file_is_locked_a_visitor_sees_one_sentence_and_no_page_list(real_path, no_demo):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(real_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        at = app().run()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)

    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "in use by another process" in error
    assert page_names(at) == {"BackCare"}
    assert not {f"{p}.py" for p in PAGES} & page_names(at)
