"""CSV import of sessions: validation in SQL, all-or-nothing unless --skip-bad, idempotent re-import."""

from __future__ import annotations

import json

import pytest

from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import InvalidInput, PermissionDenied
from backcare.store import importer
from backcare.store.db import open_database
from backcare.store.importer import COLUMNS, import_sessions_csv

HEADER = ",".join(COLUMNS)


@pytest.fixture(params=["duckdb", "postgresql"])
def database(request, tmp_path):
    """The import on both engines: on PostgreSQL the file is checked in DuckDB and the rows go by COPY."""
    if request.param == "postgresql":
        db = open_database(request.getfixturevalue("pg_reused").reset())
    else:
        db = open_database(tmp_path / "import.duckdb")
    with db.write(SYSTEM, "test.seed") as cur:
        cur.execute("INSERT INTO gyms (id, name) VALUES (1, 'North'), (2, 'South')")
        cur.execute(
            "INSERT INTO clients (external_id, gym_id, name, created_by) VALUES "
            "('C-0001', 1, 'Ann', 'test'), ('C-0002', 1, 'Bo', 'test'), ('C-0003', 2, 'Cy', 'test')"
        )
    yield db
    db.close()


def write_csv(tmp_path, *rows: str, header: str = HEADER, name: str = "sessions.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def count_sessions(db) -> int:
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM sessions").fetchall()[0][0]


MIXED = (
    "C-0001,2024-03-01,60,7,deadlift;squat,5,yes",  # line 2: good
    "C-0001,2024-02-30,60,7,squat,5,no",  # line 3: impossible date
    "C-9999,2024-03-02,45,6,squat,,",  # line 4: unknown client
    "C-0002,2024-03-02,-5,6,squat,,",  # line 5: negative minutes
    "C-0002,2024-03-03,45,hard,squat,,",  # line 6: RPE not a number
    "C-0002,2024-03-04,30,4,plank,10,false",  # line 7: good
)
MIXED_BAD = {
    3: "date 2024-02-30",
    4: "C-9999 is not a known client",
    5: "minutes -5 is negative",
    6: "rpe hard is not a number",
}


def test_a_file_with_bad_rows_stores_nothing_and_names_each_bad_line(database, tmp_path):
    result = import_sessions_csv(database, actor=SYSTEM, path=write_csv(tmp_path, *MIXED))

    assert (result.stored, result.inserted, result.rows, result.bad_count) == (False, 0, 6, 4)
    assert [bad.line for bad in result.bad_rows] == sorted(MIXED_BAD)
    for bad in result.bad_rows:
        assert MIXED_BAD[bad.line] in bad.reason
    assert count_sessions(database) == 0


def test_skip_bad_stores_the_good_rows_and_still_names_the_bad_ones(database, tmp_path):
    result = import_sessions_csv(database, actor=SYSTEM, path=write_csv(tmp_path, *MIXED), skip_bad=True)

    assert (result.stored, result.inserted, result.bad_count) == (True, 2, 4)
    assert [bad.line for bad in result.bad_rows] == sorted(MIXED_BAD)
    assert count_sessions(database) == 2


def test_importing_the_same_file_twice_adds_nothing_the_second_time(database, tmp_path):
    path = write_csv(
        tmp_path, "C-0001,2024-03-01,60,7,squat,5,yes", "C-0002,2024-03-01,40,5,,,", "C-0002,2024-03-02,40,5,plank,,"
    )
    first = import_sessions_csv(database, actor=SYSTEM, path=path)
    second = import_sessions_csv(database, actor=SYSTEM, path=path)

    assert (first.inserted, first.duplicates) == (3, 0)
    assert (second.inserted, second.duplicates) == (0, 3)
    assert count_sessions(database) == 3


def test_a_row_repeated_within_one_file_is_stored_once(database, tmp_path):
    row = "C-0001,2024-03-01,60,7,squat,5,yes"
    result = import_sessions_csv(database, actor=SYSTEM, path=write_csv(tmp_path, row, row))

    assert (result.inserted, result.duplicates) == (1, 1)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("C-0001,2024-13-01,60,7,squat,5,yes", "date 2024-13-01 is not a real date"),
        ("C-0001,01/03/2024,60,7,squat,5,yes", "date 01/03/2024 is not a real date"),
        ("C-0001,,60,7,squat,5,yes", "date is empty"),
        (",2024-03-01,60,7,squat,5,yes", "client_id is empty"),
        ("C-0001,2024-03-01,601,7,squat,5,yes", "minutes 601 is more than 600"),
        ("C-0001,2024-03-01,sixty,7,squat,5,yes", "minutes sixty is not a number"),
        ("C-0001,2024-03-01,60,11,squat,5,yes", "rpe 11 is outside 0-10"),
        ("C-0001,2024-03-01,60,-1,squat,5,yes", "rpe -1 is outside 0-10"),
        ("C-0001,2024-03-01,60,,squat,5,yes", "rpe is empty"),
        ("C-0001,2024-03-01,60,7,squat,-2,yes", "warmup_minutes -2 is outside 0-600"),
        ("C-0001,2024-03-01,60,7,squat,5,maybe", "cooldown_done maybe is not true/false"),
        ("C-0001,2024-03-01,60,7,squat,5,yes,extra", "more values than the header has columns"),
        (
            "C-0001,2024-03-01,60,7," + ";".join(f"move {i}" for i in range(51)) + ",5,yes",
            "exercises names 51 exercises (at most 50)",
        ),
        ("C-0001,2024-03-01,60,7,squat;" + "x" * 81 + ",5,yes", "exercises has a name longer than 80 characters"),
    ],
)
def test_each_kind_of_bad_value_is_reported_with_its_reason(database, tmp_path, row, reason):
    result = import_sessions_csv(database, actor=SYSTEM, path=write_csv(tmp_path, row))

    assert [bad.line for bad in result.bad_rows] == [2]
    assert reason in result.bad_rows[0].reason


def test_one_row_with_several_problems_lists_them_all(database, tmp_path):
    result = import_sessions_csv(database, actor=SYSTEM, path=write_csv(tmp_path, "C-0001,2024-02-30,-1,x,,,"))

    reason = result.bad_rows[0].reason
    assert "date 2024-02-30" in reason and "minutes -1" in reason and "rpe x" in reason


@pytest.mark.parametrize("missing", ["rpe", "client_id", "cooldown_done"])
def test_a_missing_column_is_named(database, tmp_path, missing):
    header = ",".join(c for c in COLUMNS if c != missing)
    path = write_csv(tmp_path, header=header)

    with pytest.raises(InvalidInput) as raised:
        import_sessions_csv(database, actor=SYSTEM, path=path)
    assert raised.value.field == missing
    assert f"no column {missing}" in str(raised.value)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "no header row"),
        (None, "does not exist"),
    ],
)
def test_an_empty_or_missing_file_is_refused_in_one_sentence(database, tmp_path, content, reason):
    path = tmp_path / "x.csv"
    if content is not None:
        path.write_text(content)

    with pytest.raises(InvalidInput, match=reason):
        import_sessions_csv(database, actor=SYSTEM, path=path)


def test_line_numbers_count_blank_lines_in_the_file(database, tmp_path):
    path = write_csv(tmp_path, "C-0001,2024-03-01,60,7,squat,5,yes", "", "", "C-0001,2024-03-02,60,99,squat,5,yes")

    result = import_sessions_csv(database, actor=SYSTEM, path=path)

    assert [bad.line for bad in result.bad_rows] == [5]


@pytest.mark.parametrize(
    ("exercises", "cooldown", "warmup", "stored"),
    [
        ("Deadlift; Back Squat ;", "yes", "5", ("deadlift;back squat", True, 5.0)),
        ("", "NO", "", ("", False, None)),
        ("plank", "", "0", ("plank", None, 0.0)),
        ("plank", "1", "2.5", ("plank", True, 2.5)),
    ],
)
def test_values_are_stored_normalised(database, tmp_path, exercises, cooldown, warmup, stored):
    path = write_csv(tmp_path, f"C-0001,2024-03-01,60,7,{exercises},{warmup},{cooldown}")
    import_sessions_csv(database, actor=SYSTEM, path=path)

    with database.read() as cur:
        row = cur.execute(
            "SELECT exercises, cooldown_done, warmup_minutes, source, date::VARCHAR, minutes, rpe FROM sessions"
        ).fetchall()
    assert row == [(*stored, "import", "2024-03-01", 60.0, 7.0)]


def test_an_import_writes_one_audit_row_without_health_data(database, tmp_path):
    import_sessions_csv(database, actor=SYSTEM, path=write_csv(tmp_path, *MIXED), skip_bad=True)

    with database.read() as cur:
        rows = cur.execute(
            "SELECT actor, action, outcome, detail FROM audit_log WHERE action = 'session.import'"
        ).fetchall()
    assert len(rows) == 1
    actor, _, outcome, detail = rows[0]
    assert (actor, outcome) == ("system", "ok")
    assert json.loads(detail) == {
        "file": "sessions.csv",
        "skip_bad": True,
        "rows": 6,
        "bad": 4,
        "inserted": 2,
        "stored": True,
    }


def test_a_trainer_imports_only_clients_of_their_own_gym(database, tmp_path):
    trainer = Actor("tess", Role.TRAINER, gym_id=1)
    path = write_csv(tmp_path, "C-0001,2024-03-01,60,7,squat,5,yes", "C-0003,2024-03-01,60,7,squat,5,yes")

    result = import_sessions_csv(database, actor=trainer, path=path, skip_bad=True)

    assert result.inserted == 1
    assert [(b.line, "C-0003" in b.reason) for b in result.bad_rows] == [(3, True)]


@pytest.mark.parametrize("role", [Role.CLINIC, Role.MANAGER])
def test_roles_without_write_access_may_not_import(database, tmp_path, role):
    with pytest.raises(PermissionDenied):
        import_sessions_csv(database, actor=Actor("x", role), path=write_csv(tmp_path))


def test_progress_reports_reading_validating_and_inserting_with_counts(database, tmp_path):
    seen = []
    import_sessions_csv(
        database,
        actor=SYSTEM,
        path=write_csv(tmp_path, *MIXED),
        skip_bad=True,
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )

    stages = [s for s, _, _ in seen]
    if database.is_postgres:  # the checks and the COPY take turns slice by slice: each stage comes back
        assert list(dict.fromkeys(stages)) == ["reading", "validating", "inserting"]
        assert ("validating", 6, 6) in seen
    else:
        assert stages == ["reading", "reading", "validating", "validating", "inserting", "inserting"]
    assert seen[-1] == ("inserting", 2, 2)


@pytest.fixture
def one_client_per_slice(monkeypatch):
    """A big file's way on PostgreSQL (the checks and the COPY side by side, a slice of clients at a time) for a
    small file: a slice per client. DuckDB's import does not slice; its outcomes must be the same."""
    monkeypatch.setattr(importer, "SLICE_ROWS", 1)
    sent: list[int] = []
    copy_rows = importer._copy_rows
    monkeypatch.setattr(
        importer, "_copy_rows", lambda cur, csv, count: sent.append(count) or copy_rows(cur, csv, count)
    )
    return sent


SLICED = (
    "C-0002,2024-03-02,40,5,plank,,",  # line 2
    "C-0001,2024-03-03,60,7,squat,5,yes",  # line 3
    "C-0003,2024-03-01,30,4,row,,",  # line 4
    "C-0001,2024-03-01,50,6,squat,5,yes",  # line 5
    "C-0002,2024-03-02,40,5,plank,,",  # line 6: a repeat of line 2
    "C-0001,2024-03-03,45,6,deadlift,,",  # line 7
)


def test_a_sliced_import_stores_each_clients_rows_once_in_file_order_within_a_day(
    database, tmp_path, one_client_per_slice
):
    result = import_sessions_csv(database, actor=SYSTEM, path=write_csv(tmp_path, *SLICED))

    assert (result.stored, result.inserted, result.duplicates, result.bad_count) == (True, 5, 1, 0)
    with database.read() as cur:
        rows = cur.execute(
            "SELECT c.external_id, CAST(s.date AS VARCHAR), s.minutes FROM sessions AS s "
            "JOIN clients AS c ON c.id = s.client_id ORDER BY s.id"
        ).fetchall()
    if database.is_postgres:
        assert one_client_per_slice == [3, 1, 1]  # by COPY, a slice per client, in the order of their ids
    # within a client's day, the file's order (ids follow it)
    assert sorted((r for r in rows if r[0] == "C-0001"), key=lambda r: r[1]) == [
        ("C-0001", "2024-03-01", 50.0),
        ("C-0001", "2024-03-03", 60.0),
        ("C-0001", "2024-03-03", 45.0),
    ]
    assert sorted(r[0] for r in rows) == ["C-0001", "C-0001", "C-0001", "C-0002", "C-0003"]
    again = import_sessions_csv(database, actor=SYSTEM, path=write_csv(tmp_path, *SLICED))
    assert (again.inserted, again.duplicates) == (0, 6)


def test_a_bad_row_in_the_last_slice_stores_nothing_of_the_slices_sent_before_it(
    database, tmp_path, one_client_per_slice
):
    path = write_csv(tmp_path, *SLICED, "C-9999,2024-03-02,45,6,squat,,", "C-0003,2024-03-05,x,4,row,,")

    result = import_sessions_csv(database, actor=SYSTEM, path=path)

    assert (result.stored, result.inserted, result.rows, result.bad_count) == (False, 0, 8, 2)
    assert [(bad.line, bad.reason) for bad in result.bad_rows] == [
        (8, "client_id C-9999 is not a known client"),
        (9, "minutes x is not a number"),
    ]
    assert count_sessions(database) == 0
    with database.read() as cur:
        (detail,) = cur.execute("SELECT detail FROM audit_log WHERE action = 'session.import'").fetchone()
    assert json.loads(detail)["stored"] is False

    skipped = import_sessions_csv(database, actor=SYSTEM, path=path, skip_bad=True)
    assert (skipped.stored, skipped.inserted, skipped.bad_count) == (True, 5, 2)
    assert count_sessions(database) == 5


def test_a_direction_override_split_across_two_reads_of_the_file_is_still_found(database, tmp_path):
    """The scan of the raw bytes (1 MB at a time) lets the per-row search for hidden characters be skipped
    when the file has none: an override whose UTF-8 bytes straddle two reads must still count."""
    good = "C-0001,2024-03-01,60,7,squat,5,yes\n"
    head = (HEADER + "\n").encode()
    filler = good.encode() * (((1 << 20) - 300) // len(good))
    prefix = "C-0002,2024-03-02,45,6,squat"
    pad = (1 << 20) - len(head) - len(filler) - len(prefix.encode()) - 1  # the override's first byte ends the read
    row = prefix + "x" * pad + "\u202e" + ",,\n"
    path = tmp_path / "straddle.csv"
    path.write_bytes(head + filler + row.encode())
    assert (head + filler + row.encode())[(1 << 20) - 1 : (1 << 20) + 1] == "\u202e".encode()[:2]
    assert importer._scan(path).hidden

    result = import_sessions_csv(database, actor=SYSTEM, path=path, skip_bad=True)

    assert result.bad_count == 1 and "invisible character" in result.bad_rows[0].reason


def test_a_file_of_plain_text_is_not_searched_row_by_row_for_hidden_characters(tmp_path):
    assert not importer._scan(write_csv(tmp_path, "C-0001,2024-03-01,60,7,squat é plank,5,yes")).hidden
    assert importer._scan(write_csv(tmp_path, "C-0001,2024-03-01,60,7,squat\x07,5,yes")).hidden


def test_a_session_logged_after_a_sliced_import_takes_the_next_id(database, tmp_path, one_client_per_slice):
    """On PostgreSQL the import sends the ids itself, from a block it reserves on the sequence: the app's next
    session must not collide with them."""
    from backcare.store.sessions import log_session

    before = log_session(database, actor=SYSTEM, client_id=1, session={"date": "2024-02-01", "minutes": 30, "rpe": 5})
    import_sessions_csv(database, actor=SYSTEM, path=write_csv(tmp_path, *SLICED))
    after = log_session(database, actor=SYSTEM, client_id=1, session={"date": "2024-02-02", "minutes": 30, "rpe": 5})

    with database.read() as cur:
        ids = [i for (i,) in cur.execute("SELECT id FROM sessions WHERE source = 'import' ORDER BY id").fetchall()]
    assert len(ids) == len(set(ids)) == 5
    assert before.id < min(ids) and max(ids) < after.id
