"""A failed export leaves no table files behind (they hold client data) and is audited as 'failed'."""

from __future__ import annotations

import json

import pytest

from backcare.auth import SYSTEM
from backcare.errors import StoreError
from backcare.store import export
from backcare.store.export import export_database


def export_audit(db) -> list[tuple[str, dict]]:
    with db.read() as cur:
        rows = cur.execute("SELECT outcome, detail FROM audit_log WHERE action = 'export' ORDER BY id").fetchall()
    return [(outcome, json.loads(detail)) for outcome, detail in rows]


def assert_nothing_left(out) -> None:
    assert sorted(p.name for p in out.iterdir() if p.name != "sessions.parquet") == []


def test_a_target_that_is_a_directory_writes_nothing_and_is_audited(database, tmp_path):
    out = tmp_path / "out"
    (out / "sessions.parquet").mkdir(parents=True)

    with pytest.raises(StoreError, match="Nothing was exported"):
        export_database(database, actor=SYSTEM, directory=out)

    assert_nothing_left(out)
    ((outcome, detail),) = export_audit(database)
    assert outcome == "failed" and detail["directory"] == str(out) and "sessions.parquet" in detail["error"]


def test_a_write_failing_after_earlier_tables_removes_them(database, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    staging = out / ".staging"

    def fixed_staging(prefix, dir):  # noqa: A002
        staging.mkdir()
        (staging / "sessions.csv").mkdir()  # DuckDB cannot write this one: an IOException mid-export
        return str(staging)

    monkeypatch.setattr(export.tempfile, "mkdtemp", fixed_staging)
    with pytest.raises(StoreError, match="could not write sessions"):
        export_database(database, actor=SYSTEM, directory=out)

    assert list(out.iterdir()) == []  # neither the finished tables (clients...) nor the staging directory
    assert [outcome for outcome, _ in export_audit(database)] == ["failed"]


def test_a_failure_while_moving_into_place_removes_what_was_moved(database, tmp_path, monkeypatch):
    out = tmp_path / "out"
    (out / "sessions.parquet").mkdir(parents=True)
    monkeypatch.setattr(export, "_target_problem", lambda path: None)  # let it reach the move

    with pytest.raises(StoreError, match="sessions.parquet could not be moved"):
        export_database(database, actor=SYSTEM, directory=out)

    assert_nothing_left(out)
    assert [outcome for outcome, _ in export_audit(database)] == ["failed"]


def test_an_interrupted_export_leaves_nothing_and_is_audited(database, tmp_path):
    out = tmp_path / "out"

    def progress(table, done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_database(database, actor=SYSTEM, directory=out, progress=progress)
    assert list(out.iterdir()) == []
    ((outcome, detail),) = export_audit(database)
    assert outcome == "failed" and detail["error"] == "KeyboardInterrupt"


def test_a_successful_export_leaves_no_staging_directory_and_one_ok_row(database, tmp_path):
    out = tmp_path / "out"
    exported = export_database(database, actor=SYSTEM, directory=out)

    assert sorted(p.name for p in out.iterdir()) == sorted(
        name for t in exported for name in (f"{t.table}.parquet", f"{t.table}.csv")
    )
    assert [outcome for outcome, _ in export_audit(database)] == ["ok"]
