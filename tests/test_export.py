"""Export: every table as Parquet and CSV from one snapshot, audited, no password hashes."""

from __future__ import annotations

import duckdb
import pytest

from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import PermissionDenied
from backcare.store.export import export_database


def table_names(db) -> set[str]:
    with db.read() as cur:
        return {
            n
            for (n,) in cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        }


def test_every_table_is_written_as_parquet_and_csv_with_all_its_rows(database, tmp_path):
    out = tmp_path / "out"
    exported = export_database(database, actor=SYSTEM, directory=out)

    assert {t.table for t in exported} == table_names(database)
    reader = duckdb.connect()
    for table in exported:
        assert reader.execute(f"SELECT count(*) FROM read_parquet('{table.parquet}')").fetchall()[0][0] == table.rows
        assert reader.execute(f"SELECT count(*) FROM read_csv('{table.csv}')").fetchall()[0][0] == table.rows
    assert {t.table: t.rows for t in exported}["sessions"] == 25


def test_the_export_leaves_password_hashes_out(database, tmp_path):
    export_database(database, actor=SYSTEM, directory=tmp_path)

    columns = duckdb.connect().execute(f"SELECT * FROM read_parquet('{tmp_path / 'users.parquet'}')").description
    assert "password_hash" not in {c[0] for c in columns}
    assert "argon2" not in (tmp_path / "users.csv").read_text()


def test_an_export_is_audited_once_with_its_row_counts(database, tmp_path):
    export_database(database, actor=SYSTEM, directory=tmp_path / "x")

    with database.read() as cur:
        rows = cur.execute("SELECT actor, detail FROM audit_log WHERE action = 'export'").fetchall()
    assert len(rows) == 1
    assert '"sessions": 25' in rows[0][1]


def test_progress_names_each_table(database, tmp_path):
    seen = []
    export_database(
        database,
        actor=SYSTEM,
        directory=tmp_path,
        progress=lambda table, done, total: seen.append((table, done, total)),
    )

    total = len(table_names(database))
    assert [t for t, _, _ in seen[:-1]] == sorted(table_names(database))
    assert seen[-1] == ("", total, total)


@pytest.mark.parametrize("role", [Role.TRAINER, Role.CLINIC, Role.MANAGER, Role.ADMIN])
def test_only_the_system_account_may_export_the_whole_file(database, tmp_path, role):
    with pytest.raises(PermissionDenied):
        export_database(database, actor=Actor("x", role), directory=tmp_path)
