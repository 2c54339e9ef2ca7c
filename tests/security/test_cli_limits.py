"""Hostile input to the command line (issue 12, Low): the triage command never prints a traceback (deeply nested
JSON, integers of more than 4,300 digits), refuses true/false as numbers, and makes one bad line of a huge CSV
cell while the batch goes on; `import sessions --skip-bad` reads a quoted newline (valid CSV) and a line over
2 MB, naming the right line and storing the rest."""

from __future__ import annotations

import csv
import io
import json

import pytest

from backcare.auth import SYSTEM
from backcare.errors import InvalidInput
from backcare.store import importer
from backcare.store.importer import import_sessions_csv
from tests.reports import report_input, run_cli

GOOD = report_input(client_id="C-9", pain_score=2)
DIGITS = "9" * 5000


def no_traceback(run) -> None:
    assert b"Traceback" not in run.stdout and b"Traceback" not in run.stderr, run.stderr.decode()[-1500:]


def json_lines(run) -> list[dict]:
    return [json.loads(line) for line in run.stdout.decode().splitlines()]


@pytest.mark.parametrize(
    "hostile",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' * 50_000 + "1" + "}" * 50_000,
        json.dumps(report_input())[:-1] + ', "context": ' + '{"x": ' * 20_000 + "1" + "}" * 20_000 + "}",
        json.dumps(report_input(pain_score=0)).replace('"pain_score": 0', '"pain_score": ' + DIGITS),
    ],
)
def test_json_the_parser_cannot_take_is_one_error_line_and_the_batch_goes_on(hostile):
    run = run_cli("triage", stdin=hostile + "\n" + json.dumps(GOOD) + "\n")
    no_traceback(run)
    assert run.returncode == 1
    first, second = json_lines(run)
    assert first["line"] == 1 and first["error"]
    assert second["client_id"] == "C-9" and second["level"]


@pytest.mark.parametrize(
    "field, where",
    [
        ("hours_since_workout", None),
        ("pain_score", None),
        ("warmup_minutes", "context"),
        ("sleep_hours", "context"),
        ("sitting_hours_per_day", "context"),
        ("core_sessions_per_week", "context"),
    ],
)
@pytest.mark.parametrize("value", [True, False])
def test_json_true_and_false_are_not_numbers(field, where, value):
    data = report_input(client_id="C-1")
    if where:
        data["context"] = {field: value}
    else:
        data[field] = value
    run = run_cli("triage", stdin=json.dumps(data) + "\n")
    no_traceback(run)
    assert run.returncode == 1
    (line,) = json_lines(run)
    assert line["error"].startswith(f"{where + '.' if where else ''}{field}: "), line


def csv_out(run) -> list[dict]:
    return list(csv.DictReader(io.StringIO(run.stdout.decode())))


CSV_HEADER = "client_id,hours_since_workout,pain_score,pain_quality,trend,leg_symptoms\n"


def test_a_csv_integer_of_5000_digits_is_one_bad_line():
    run = run_cli(
        "triage",
        "--format",
        "csv",
        stdin=CSV_HEADER + f"C-1,20,{DIGITS},dull_ache,easing,none\nC-2,20,2,dull_ache,easing,none\n",
    )
    no_traceback(run)
    assert run.returncode == 1
    bad, good = csv_out(run)
    assert (bad["line"], bad["client_id"]) == ("2", "C-1") and bad["error"].startswith("pain_score:")
    assert good["client_id"] == "C-2" and good["level"]


def test_a_csv_cell_over_131072_characters_is_one_bad_line_and_the_batch_goes_on():
    huge = "x" * 140_000
    run = run_cli(
        "triage",
        "--format",
        "csv",
        stdin=CSV_HEADER + "C-1,20,2,dull_ache,easing,none\n"
        f"C-2,20,2,{huge},easing,none\n"
        "C-3,20,2,dull_ache,easing,none\n",
    )
    no_traceback(run)
    assert run.returncode == 1
    first, bad, third = csv_out(run)
    assert [first["client_id"], third["client_id"]] == ["C-1", "C-3"] and first["level"] and third["level"]
    assert bad["line"] == "3" and "field larger than field limit" in bad["error"]
    assert huge not in run.stdout.decode()


# --- import sessions --skip-bad ------------------------------------------------------------------

SESSIONS_HEADER = ",".join(importer.COLUMNS) + "\n"


def sessions(db, client) -> list[tuple]:
    return (
        db.cursor()
        .execute(
            "SELECT date::VARCHAR, minutes, exercises FROM sessions WHERE client_id = ? ORDER BY date", [client.id]
        )
        .fetchall()
    )


def test_skip_bad_reads_a_quoted_newline_and_names_the_right_line(db, client, tmp_path):
    ref = client.external_id
    path = tmp_path / "quoted.csv"
    path.write_text(
        SESSIONS_HEADER
        + f'{ref},2025-01-05,30,5,"squat;\ndeadlift",5,true\n'  # lines 2-3: one row
        + f"{ref},2025-01-06,30,x,squat,5,true\n"  # line 4: bad rpe
        + "\n"  # line 5: blank
        + f"{ref},2025-01-07,45,6,plank,5,no\n"
    )  # line 6
    result = import_sessions_csv(db, actor=SYSTEM, path=path, skip_bad=True)
    assert [(b.line, b.reason) for b in result.bad_rows] == [(4, "rpe x is not a number")]
    assert result.stored and result.inserted == 2
    assert sessions(db, client) == [("2025-01-05", 30.0, "squat;deadlift"), ("2025-01-07", 45.0, "plank")]


def test_skip_bad_names_a_line_over_2_mb_and_stores_the_rest(db, client, tmp_path):
    ref = client.external_id
    path = tmp_path / "long.csv"
    path.write_text(
        SESSIONS_HEADER
        + f"{ref},2025-01-05,30,5,squat,5,true\n"
        + f"{ref},2025-01-06,30,5,{'x' * (3 * 1024 * 1024)},5,true\n"  # line 3
        + f"{ref},2025-01-07,45,6,plank,5,no\n"
    )
    result = import_sessions_csv(db, actor=SYSTEM, path=path, skip_bad=True)
    assert [(b.line, b.reason) for b in result.bad_rows] == [(3, "a value is longer than 1,000 characters")]
    assert result.inserted == 2
    assert [day for day, _, _ in sessions(db, client)] == ["2025-01-05", "2025-01-07"]


def test_without_skip_bad_the_long_line_is_named_and_nothing_is_stored(db, client, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(SESSIONS_HEADER + f"{client.external_id},2025-01-06,30,5,{'x' * (3 * 1024 * 1024)},5,true\n")
    result = import_sessions_csv(db, actor=SYSTEM, path=path)
    assert not result.stored and [b.line for b in result.bad_rows] == [2]
    assert sessions(db, client) == []


def test_a_line_past_the_hard_limit_refuses_the_file_naming_the_line(db, client, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "MAX_LINE_BYTES", 3 * 1024 * 1024)
    path = tmp_path / "huge.csv"
    path.write_text(
        SESSIONS_HEADER
        + f"{client.external_id},2025-01-05,30,5,squat,5,true\n"
        + f"{client.external_id},2025-01-06,30,5,{'x' * (4 * 1024 * 1024)},5,true\n"
    )
    with pytest.raises(InvalidInput, match="line 3 of huge.csv is longer than 3 MB"):
        import_sessions_csv(db, actor=SYSTEM, path=path, skip_bad=True)
    assert sessions(db, client) == []


def test_the_import_command_names_the_line_and_prints_no_traceback(tmp_path, db, client):
    path = tmp_path / "quoted.csv"
    path.write_text(
        SESSIONS_HEADER
        + f'{client.external_id},2025-01-05,30,5,"squat;\ndeadlift",5,true\n'
        + f"{client.external_id},2025-01-06,30,x,squat,5,true\n"
    )
    db_path = db.path
    db.close()
    run = run_cli("import", "sessions", str(path), "--skip-bad", "--db", str(db_path))
    no_traceback(run)
    assert run.returncode == 0, run.stderr.decode()
    assert "line 4: rpe x is not a number" in run.stderr.decode()
