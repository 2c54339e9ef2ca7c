"""`python -m backcare users ...` as an operator runs it: the first admin from standard input, scripts,
refusals in one sentence, and a database file held by another process."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from backcare import store
from backcare.auth import SYSTEM
from backcare.cli.users import read_password
from backcare.errors import InvalidInput

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backcare", "users", *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "users.duckdb"
    with store.open_database(path) as db:
        store.add_gym(db, actor=SYSTEM, name="North Side")
    return path


def test_first_admin_from_stdin_can_sign_in_and_the_password_is_never_printed(db_path):
    done = run("add", "Boss", "--role", "admin", "--password-stdin", "--db", str(db_path), stdin="first admin secret\n")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Added admin boss (every gym), with a password."
    assert "first admin secret" not in done.stdout + done.stderr
    with store.open_database(db_path) as db:
        assert store.authenticate(db, username="boss", password="first admin secret").role == "admin"


def test_add_disable_reset_and_list_in_a_script(db_path):
    steps = [
        (
            (
                "add",
                "tara",
                "--role",
                "trainer",
                "--gym",
                "north side",
                "--name",
                "Tara T",
                "--contact",
                "tara@example.org",
                "--no-password",
            ),
            None,
            "Added trainer tara at North Side, for single sign-on only.",
        ),
        (("reset-password", "tara", "--password-stdin"), "a new password here\n", "tara: password changed"),
        (("disable", "tara"), None, "tara: disabled"),
        (("list",), None, "tara                 trainer  North Side             disabled  password"),
    ]
    for args, stdin, expected in steps:
        done = run(*args, "--db", str(db_path), stdin=stdin)
        assert done.returncode == 0 and expected in done.stdout, (args, done.stdout, done.stderr)


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (("add", "x", "--role", "trainer", "--password-stdin"), "long enough pw\n", "a trainer belongs to one gym"),
        (
            ("add", "x", "--role", "clinic", "--gym", "Nowhere", "--no-password"),
            None,
            "There is no gym called Nowhere.",
        ),
        (("add", "x", "--role", "admin", "--password-stdin"), "short\n", "password: use at least 10 characters"),
        (("add", "x", "--role", "admin"), "", "pass the password with --password-stdin"),
        (("disable", "ghost"), None, "There is no user called ghost."),
    ],
)
def test_refusals_are_one_sentence_and_exit_non_zero(db_path, args, stdin, message):
    done = run(*args, "--db", str(db_path), stdin=stdin)

    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    with store.open_database(db_path) as db:
        assert "x" not in {u.username for u in store.list_users(db, actor=SYSTEM)}


def test_a_file_locked_by_the_running_app_is_named_in_one_sentence(db_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(60)",
            str(db_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        done = run("list", "--db", str(db_path))
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2
    assert str(db_path) in done.stderr and "probably the BackCare app is running" in done.stderr


def test_read_password_asks_twice_at_a_terminal_and_refuses_a_mismatch():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["same password 1", "same password 1", "one password 12", "another one 123"])
    assert read_password(False, stdin=Terminal(), prompt=lambda _: next(answers)) == "same password 1"
    with pytest.raises(InvalidInput, match="differ"):
        read_password(False, stdin=Terminal(), prompt=lambda _: next(answers))
