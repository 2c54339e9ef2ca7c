"""The command line on a PostgreSQL database (BACKCARE_DATABASE_URL or a postgresql:// --db): `init`, `demo`
guarded exactly as on a file (demo data only ever into a new, empty database; a real deployment never gets
any), and `export` writing the same Parquet and CSV files as the file's export. On the real server of
tests/pg_server.py."""

from __future__ import annotations

import argparse
import io
import threading
from pathlib import Path

import duckdb
import pytest

from backcare import store
from backcare.auth import Role
from backcare.cli import main as cli
from backcare.errors import BackCareError, Conflict
from backcare.store import deployment

PASSWORD = "a long admin password\n"
SMALL_DEMO = ["--clients", "4", "--weeks", "2", "--seed", "3"]


@pytest.fixture
def new_pg_url(empty_pg_url, monkeypatch):
    """A database just made with createdb (nothing in it, not even the schema), named by BACKCARE_DATABASE_URL."""
    monkeypatch.setenv("BACKCARE_DATABASE_URL", empty_pg_url)
    monkeypatch.delenv("BACKCARE_DB", raising=False)
    return empty_pg_url


def _init(monkeypatch, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    return cli(["init", "--admin", "boss", "--password-stdin", *args])


def _people(url: str) -> dict[str, int]:
    with store.open_database(url) as db, db.read() as cur:
        return {t: int(cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in ("gyms", "users", "clients")}


# --- init -----------------------------------------------------------------------------------------------


def test_init_on_the_url_sets_up_the_schema_and_one_administrator_who_can_sign_in(new_pg_url, monkeypatch, capsys):
    assert _init(monkeypatch) == 0
    assert "with one administrator, boss" in capsys.readouterr().out
    with store.open_database(new_pg_url) as db:
        assert store.authenticate(db, username="boss", password=PASSWORD.strip()).role == Role.ADMIN
        assert not deployment.is_demo(db)
    assert _people(new_pg_url) == {"gyms": 0, "users": 1, "clients": 0}


def test_init_refuses_a_database_that_holds_people_and_changes_nothing(new_pg_url, monkeypatch, capsys):
    assert _init(monkeypatch) == 0
    capsys.readouterr()
    assert _init(monkeypatch, "--db", new_pg_url) == 2  # the URL as --db: the same database
    assert "already holds gyms, users or clients" in capsys.readouterr().err
    assert _people(new_pg_url) == {"gyms": 0, "users": 1, "clients": 0}


def test_two_inits_at_once_make_one_administrator_and_refuse_the_other(new_pg_url, monkeypatch):
    """Two `init` commands started together on one new database: both find it empty before either has asked for
    its password, and only one may add its administrator (the check and the insert were two transactions)."""
    from backcare.cli import setup

    both_checked = threading.Barrier(2, timeout=30)

    def password_after_both_checked(from_stdin: bool) -> str:
        both_checked.wait()  # each command has found the database empty
        return PASSWORD.strip()

    monkeypatch.setattr("backcare.cli.users.read_password", password_after_both_checked)
    outcomes: dict[str, object] = {}

    def init(admin: str) -> None:
        args = argparse.Namespace(admin=admin, name=None, password_stdin=True, db=new_pg_url)
        try:
            outcomes[admin] = setup.run_init(args)
        except BackCareError as refused:
            outcomes[admin] = refused

    threads = [threading.Thread(target=init, args=(admin,)) for admin in ("boss", "chief")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(type(o).__name__ for o in outcomes.values()) == ["Conflict", "int"], outcomes
    refused = next(o for o in outcomes.values() if isinstance(o, Conflict))
    assert "already holds gyms, users or clients" in str(refused)
    assert _people(new_pg_url) == {"gyms": 0, "users": 1, "clients": 0}


# --- demo: guarded as on a file -------------------------------------------------------------------------


def test_demo_on_a_new_database_builds_the_demo_marked_as_one_and_prints_its_accounts(new_pg_url, capsys):
    assert cli(["demo", *SMALL_DEMO]) == 0
    out = capsys.readouterr().out
    assert "Demo database created at" in out and "backcare-demo" in out and "demo.trainer" in out
    with store.open_database(new_pg_url) as db:
        info = deployment.demo_info(db)
        assert info is not None and {a.username for a in info.accounts} >= {"demo.trainer", "demo.admin"}
        assert store.authenticate(db, username="demo.trainer", password="backcare-demo").role == Role.TRAINER
    assert _people(new_pg_url)["clients"] == 4


def test_demo_mode_start_uses_an_existing_demo_as_it_is(new_pg_url, capsys):
    assert cli(["demo", *SMALL_DEMO]) == 0
    before = _people(new_pg_url)
    capsys.readouterr()
    assert cli(["demo", "--if-missing", *SMALL_DEMO]) == 0
    assert "is a demo database already: using it as it is" in capsys.readouterr().out
    assert _people(new_pg_url) == before


def test_demo_without_if_missing_refuses_a_database_that_is_a_demo_already(new_pg_url, capsys):
    assert cli(["demo", *SMALL_DEMO]) == 0
    before = _people(new_pg_url)
    capsys.readouterr()
    assert cli(["demo", *SMALL_DEMO]) == 2
    assert "already holds gyms, users or clients: the demo needs a new, empty database" in capsys.readouterr().err
    assert _people(new_pg_url) == before


@pytest.mark.parametrize("if_missing", [True, False], ids=["demo-mode-start", "demo-command"])
def test_a_real_deployment_never_gets_demo_data(new_pg_url, monkeypatch, capsys, if_missing):
    assert _init(monkeypatch) == 0
    capsys.readouterr()
    assert cli(["demo", *(["--if-missing"] if if_missing else []), *SMALL_DEMO]) == 2
    err = capsys.readouterr().err
    expected = "is not a demo database, so demo mode will not use it" if if_missing else "already holds gyms"
    assert expected in err
    assert _people(new_pg_url) == {"gyms": 0, "users": 1, "clients": 0}
    with store.open_database(new_pg_url) as db:
        assert not deployment.is_demo(db)


# --- export: the same files as the file's export --------------------------------------------------------


def _exported(directory: Path) -> dict[str, tuple[str, list[str], list[tuple[str, str]]]]:
    """Per table: the CSV header, its rows, and the Parquet file's column names and types."""
    reader = duckdb.connect()
    result = {}
    for csv in sorted(directory.glob("*.csv")):
        header, *rows = csv.read_text().splitlines()
        schema = [
            (name, kind)
            for name, kind, *_ in reader.execute(
                f"DESCRIBE SELECT * FROM read_parquet('{csv.with_suffix('.parquet')}')"
            ).fetchall()
        ]
        result[csv.stem] = (header, rows, schema)
    return result


def test_export_on_postgresql_writes_the_same_files_as_on_the_file(chain_file, new_pg_url, tmp_path, capsys):
    assert cli(["export", str(tmp_path / "from-file"), "--db", str(chain_file)]) == 0
    assert cli(["migrate-to-postgres", "--from", str(chain_file), "--to", new_pg_url]) == 0
    capsys.readouterr()
    assert cli(["export", str(tmp_path / "from-server")]) == 0  # BACKCARE_DATABASE_URL
    assert "Exported" in capsys.readouterr().out

    from_file, from_server = _exported(tmp_path / "from-file"), _exported(tmp_path / "from-server")
    assert from_file.keys() == from_server.keys() and {"sessions", "reports", "referrals", "users"} <= set(from_file)
    for table in from_file:
        file_header, file_rows, file_schema = from_file[table]
        server_header, server_rows, server_schema = from_server[table]
        assert (server_header, server_schema) == (file_header, file_schema), table
        if table == "schema_migrations":  # each engine's own migrations, applied at its own time
            continue
        if table == "audit_log":  # the server's also holds the file's export (copied) and the copy's own row
            server_rows = [r for r in server_rows if ",export," not in r and ",database.migrate," not in r]
        assert server_rows == file_rows, table
    assert "password_hash" not in from_server["users"][0] and "argon2" not in "".join(from_server["users"][1])


def test_export_on_postgresql_is_audited_once_with_its_row_counts(new_pg_url, monkeypatch, tmp_path):
    assert _init(monkeypatch) == 0
    assert cli(["export", str(tmp_path / "out")]) == 0
    with store.open_database(new_pg_url) as db, db.read() as cur:
        rows = cur.execute("SELECT outcome, detail FROM audit_log WHERE action = 'export'").fetchall()
    assert len(rows) == 1 and rows[0][0] == "ok" and '"users": 1' in rows[0][1]


def test_demo_mode_in_the_app_refuses_a_real_database_on_the_server(new_pg_url, monkeypatch, capsys):
    """`streamlit run` with BACKCARE_DEMO=1 straight on a real deployment (scripts/app.sh runs `demo --if-missing`
    first, which refuses it): the page says so in one sentence and nothing is added."""
    from streamlit.testing.v1 import AppTest

    assert _init(monkeypatch) == 0
    monkeypatch.setenv("BACKCARE_DEMO", "1")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60).run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "is not a demo database, so demo mode will not use it" in error and not at.text_input
    assert _people(new_pg_url) == {"gyms": 0, "users": 1, "clients": 0}


def test_migrate_to_postgres_builds_every_index_again_after_the_copy(chain_file, new_pg_url, pg_url, capsys):
    """The copy drops the secondary indexes for speed and builds them again in its transaction: the copied
    database has every index a freshly migrated one has, the client indexes of PostgreSQL included."""
    import psycopg

    def indexes(url: str) -> set[str]:
        with psycopg.connect(url) as check:
            return {n for (n,) in check.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}

    assert cli(["migrate-to-postgres", "--from", str(chain_file), "--to", new_pg_url]) == 0
    assert indexes(new_pg_url) == indexes(pg_url) and "sessions_client_date" in indexes(new_pg_url)
