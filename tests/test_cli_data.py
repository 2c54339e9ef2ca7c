"""`python -m backcare import sessions | export | demo` as a user runs them, including a locked file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backcare.auth import SYSTEM
from backcare.store.db import open_database
from backcare.store.importer import COLUMNS

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backcare", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "cli.duckdb"
    with open_database(path) as db, db.write(SYSTEM, "test.seed") as cur:
        cur.execute("INSERT INTO gyms (name) VALUES ('North')")
        cur.execute(
            "INSERT INTO clients (external_id, gym_id, name, created_by) VALUES "
            "('C-0001', 1, 'Ann', 't'), ('C-0002', 1, 'Bo', 't')"
        )
    return path


@pytest.fixture
def mixed_csv(tmp_path):
    path = tmp_path / "sessions.csv"
    path.write_text(
        "\n".join(
            [
                ",".join(COLUMNS),
                "C-0001,2024-03-01,60,7,deadlift;squat,5,yes",
                "C-0001,2024-02-30,60,7,squat,5,no",
                "C-9999,2024-03-02,45,6,squat,,",
                "C-0002,2024-03-02,-5,6,squat,,",
                "C-0002,2024-03-03,45,hard,squat,,",
            ]
        )
        + "\n"
    )
    return path


def session_count(path) -> int:
    with open_database(path) as db, db.read() as cur:
        return cur.execute("SELECT count(*) FROM sessions").fetchall()[0][0]


def test_import_with_bad_rows_stores_nothing_names_each_line_and_exits_1(db_path, mixed_csv):
    done = run("import", "sessions", str(mixed_csv), "--db", str(db_path))

    assert done.returncode == 1
    for line, reason in [(3, "date 2024-02-30"), (4, "C-9999"), (5, "minutes -5"), (6, "rpe hard")]:
        assert f"line {line}: " in done.stderr and reason in done.stderr
    assert "Nothing imported" in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert session_count(db_path) == 0


def test_import_with_skip_bad_stores_the_good_rows_then_adds_nothing_the_second_time(db_path, mixed_csv):
    first = run("import", "sessions", str(mixed_csv), "--skip-bad", "--db", str(db_path))
    second = run("import", "sessions", str(mixed_csv), "--skip-bad", "--db", str(db_path))

    assert first.returncode == 0 and "Imported 1 sessions" in first.stdout and "line 3: " in first.stderr
    assert "reading" in first.stderr and "inserting" in first.stderr
    assert second.returncode == 0 and "Imported 0 sessions" in second.stdout and "1 already stored" in second.stdout
    assert session_count(db_path) == 1


def test_import_of_a_file_without_a_column_says_which_column_in_one_line(db_path, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("client_id,date,minutes\nC-0001,2024-03-01,60\n")

    done = run("import", "sessions", str(path), "--db", str(db_path))

    assert done.returncode == 2
    assert "no columns rpe, exercises, warmup_minutes, cooldown_done" in done.stderr
    assert "Traceback" not in done.stderr


def test_export_writes_both_formats_for_every_table(db_path, tmp_path):
    out = tmp_path / "export"
    done = run("export", str(out), "--db", str(db_path))

    assert done.returncode == 0, done.stderr
    for table in ("clients", "sessions", "reports", "audit_log", "schema_migrations"):
        assert (out / f"{table}.parquet").is_file() and (out / f"{table}.csv").is_file()
    assert "exporting sessions" in done.stderr


def test_demo_prints_the_demo_accounts_and_their_password(tmp_path):
    done = run("demo", "--clients", "8", "--weeks", "6", "--seed", "2", "--db", str(tmp_path / "demo.duckdb"))

    assert done.returncode == 0, done.stderr
    for username in ("demo.trainer", "demo.clinic", "demo.manager", "demo.admin"):
        assert username in done.stdout
    assert "backcare-demo" in done.stdout and "reports" in done.stderr


HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    connection = duckdb.connect(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
""")


@pytest.fixture
def locked(db_path):
    """A second process holding the database file open, as the running app would."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield db_path
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.mark.parametrize(
    "command",
    [
        ["import", "sessions", "{csv}"],
        ["export", "{out}"],
        ["demo", "--clients", "5"],
    ],
)
def test_a_locked_database_gives_one_sentence_and_a_non_zero_exit(locked, mixed_csv, tmp_path, command):
    args = [a.format(csv=mixed_csv, out=tmp_path / "out") for a in command]
    done = run(*args, "--db", str(locked))

    assert done.returncode != 0
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert str(locked) in message and "probably the BackCare app is running" in message
    assert "stop the app" in message
