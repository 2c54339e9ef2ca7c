"""`python -m backcare triage`: TRIAGE.md's JSON contract, the CSV variant, and no traceback ever."""

from __future__ import annotations

import csv
import io
import json

import pytest

from backcare import questions
from backcare.cli.triage import csv_column_kinds, triage_csv, triage_json
from backcare.models import TriageInput, TriageReport
from backcare.rules import RULES_VERSION, evaluate
from tests.reports import NORMAL_REPORT, report_input, run_cli


def jsonl(*objects) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objects)


def expected_json(data: dict) -> dict:
    report = TriageInput.model_validate(data)
    return evaluate(report, report.history).model_dump(mode="json")


def assert_no_traceback(run) -> None:
    assert b"Traceback" not in run.stdout and b"Traceback" not in run.stderr


# --- JSON through the real command -----------------------------------------------------------


def test_batch_with_an_invalid_line_triages_the_others_names_the_field_and_exits_1():
    good, severe = report_input(client_id="C-1"), report_input(client_id="C-3", pain_score=8)
    run = run_cli("triage", stdin=jsonl(good, report_input(client_id="C-2", pain_score=11), severe))
    assert run.returncode == 1
    assert_no_traceback(run)
    lines = [json.loads(line) for line in run.stdout.decode().splitlines()]
    assert lines == [
        expected_json(good),
        {"line": 2, "error": "pain_score: Input should be less than or equal to 10"},
        expected_json(severe),
    ]


def test_valid_batch_from_a_file_exits_0_with_one_result_per_line(tmp_path):
    reports = [report_input(client_id=f"C-{n}", pain_score=n) for n in range(11)]
    path = tmp_path / "reports.jsonl"
    path.write_text(jsonl(*reports))
    run = run_cli("triage", str(path))
    assert run.returncode == 0, run.stderr
    assert [json.loads(line) for line in run.stdout.decode().splitlines()] == [expected_json(r) for r in reports]


def test_one_pretty_printed_object_is_one_report(tmp_path):
    data = report_input(pain_score=5, context={"exercises": ["deadlift"], "load_increased": True})
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data, indent=2))
    run = run_cli("triage", str(path))
    assert run.returncode == 0, run.stderr
    assert [json.loads(line) for line in run.stdout.decode().splitlines()] == [expected_json(data)]


@pytest.mark.parametrize(
    "make_path",
    [
        lambda tmp: tmp / "missing.jsonl",
        lambda tmp: tmp,  # a directory
    ],
    ids=["missing file", "directory"],
)
def test_unreadable_file_gives_one_sentence_and_exit_2(tmp_path, make_path):
    run = run_cli("triage", str(make_path(tmp_path)))
    assert run.returncode == 2
    assert_no_traceback(run)
    assert run.stdout == b""
    assert len(run.stderr.decode().strip().splitlines()) == 1


def test_output_is_utf8_even_when_the_terminal_is_not():
    data = report_input(client_id="C-é", context={"exercises": ["Sentadilla búlgara"], "load_increased": True})
    run = run_cli("triage", stdin=jsonl(data), env={"PYTHONIOENCODING": "ascii"})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.decode("utf-8")) == expected_json(data)


# --- JSON in process -------------------------------------------------------------------------


def outcomes(text: str) -> list[tuple[int, str | None, str | None]]:
    lines = io.BytesIO(text.encode()).readlines()
    return [(o.line, o.result.level.value if o.result else None, o.error) for o in triage_json(lines)]


def test_blank_lines_are_skipped_but_counted():
    assert outcomes("\n" + jsonl(report_input()) + "   \n" + jsonl(report_input(pain_score=5))) == [
        (2, "normal", None),
        (4, "monitor", None),
    ]


@pytest.mark.parametrize(
    "bad_line, field",
    [
        ('{"pain_score": ', "input"),
        ("not json at all", "input"),
        ("[1, 2]", "input"),
        (json.dumps(report_input(colour="red")), "colour"),
        (json.dumps(report_input(context={"sleep_hours": 30})), "context.sleep_hours"),
        (json.dumps(report_input(trend="better")), "trend"),
        (json.dumps(report_input(age=-3)), "age"),
        (json.dumps(report_input(history={"previous_pain_score": 2})), "history.previous_pain_score"),
        (json.dumps(report_input(history={"episode_pain_scores": [2, 12]})), "history.episode_pain_scores.1"),
        (json.dumps(report_input(pregnant=False, pregnancy_warning_signs=True)), "pregnancy_warning_signs"),
    ],
    ids=[
        "truncated",
        "not json",
        "not an object",
        "unknown field",
        "context range",
        "bad choice",
        "bad age",
        "unknown history field",
        "history score range",
        "follow-up not asked",
    ],
)
def test_a_bad_line_gives_an_error_naming_the_field_and_the_next_line_is_still_triaged(bad_line, field):
    result = outcomes(jsonl(bad_line, report_input()))
    assert result[0][:2] == (1, None) and result[0][2].startswith(f"{field}: ")
    assert result[1] == (2, "normal", None)


def test_an_unfinished_first_line_that_is_not_one_document_is_read_as_lines():
    result = outcomes('{"pain_score": 3,\n' + jsonl(report_input()))
    assert [r[:2] for r in result] == [(1, None), (2, "normal")]


def test_a_byte_order_mark_is_ignored():
    lines = [b"\xef\xbb\xbf" + json.dumps(report_input()).encode() + b"\n"]
    assert [o.result.level.value for o in triage_json(lines)] == ["normal"]


# --- not asked, history and age (TRIAGE.md's revised contract) -------------------------------


def one_result(data: dict) -> dict:
    [outcome] = triage_json([json.dumps(data).encode()])
    assert outcome.error is None, outcome.error
    return outcome.result.model_dump(mode="json")


@pytest.mark.parametrize("how", ["left out", "null"])
def test_a_red_flag_left_out_or_null_is_not_asked_and_never_reads_as_normal(how):
    data = report_input()
    if how == "left out":
        del data["saddle_numbness"]
    else:
        data["saddle_numbness"] = None
    result = one_result(data)
    assert result["not_asked"] == ["saddle_numbness"]
    assert result["level"] == "refer" and [f["rule_id"] for f in result["findings"]] == ["X1"]
    assert "numbness in the saddle area" in result["findings"][0]["summary"]


def test_a_report_giving_only_a_pain_score_lists_every_other_question_as_not_asked():
    result = one_result({"pain_score": 2})
    assert result["not_asked"] == [
        q.field for q in questions.QUESTIONS if q.field != "pain_score" and q.asked_when is None
    ]
    assert result["level"] == "refer"


def test_the_pregnancy_follow_up_is_not_asked_only_when_pregnant():
    assert one_result(report_input(pregnant=False))["not_asked"] == []
    pregnant = one_result(report_input(pregnant=True))
    assert pregnant["not_asked"] == ["pregnancy_warning_signs"] and pregnant["level"] == "refer"
    assert one_result(report_input(pregnant=True, pregnancy_warning_signs=True))["level"] == "urgent"


def test_the_history_object_exercises_the_creep_and_the_recurrence_without_a_database():
    creep = one_result(report_input(pain_score=4, hours_since_workout=30, history={"episode_pain_scores": [2, 3]}))
    assert "R5" in [f["rule_id"] for f in creep["findings"]] and creep["level"] == "refer"
    recurring = one_result(report_input(history={"prior_reports_28d": 2, "acute_chronic_ratio": 1.6}))
    assert [f["rule_id"] for f in recurring["findings"]] == ["M4"]
    assert [c["cause"] for c in recurring["causes"]] == ["load"]


@pytest.mark.parametrize(
    "age, level", [(17, "refer"), (18, "monitor"), (64, "monitor"), (65, "refer"), (None, "monitor")]
)
def test_age_is_optional_and_fires_the_age_rules(age, level):
    data = report_input(pain_score=4) if age is None else report_input(pain_score=4, age=age)
    assert one_result(data)["level"] == level


def test_not_asked_answers_are_not_errors_exit_0_through_the_command():
    run = run_cli("triage", stdin=jsonl({"pain_score": 2}, report_input()))
    assert run.returncode == 0, run.stderr
    first, second = [json.loads(line) for line in run.stdout.decode().splitlines()]
    assert first["level"] == "refer" and second["not_asked"] == [] and second["level"] == "normal"


# --- CSV -------------------------------------------------------------------------------------

ANSWERED = [f for f in questions.FIELDS if f in NORMAL_REPORT]  # every question that applies
CSV_HEADER = ",".join(
    [
        "client_id",
        *ANSWERED,
        "context.exercises",
        "context.load_increased",
        "context.cooldown_done",
        "context.warmup_minutes",
    ]
)


def csv_line(client_id: str = "", context: str = ",,,", **answers) -> str:
    """One CSV row: every question answered as in the normal baseline unless given ("" leaves it empty)."""
    values = {f: NORMAL_REPORT[f] for f in ANSWERED}
    values.update(answers)
    cells = [
        "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for v in (values[f] for f in ANSWERED)
    ]
    return ",".join([client_id, *cells]) + "," + context


def test_csv_batch_in_and_out_through_the_command(tmp_path):
    path = tmp_path / "referrals.csv"
    path.write_text(
        "\n".join(
            [
                CSV_HEADER,
                csv_line("C-1", "Deadlift; plank,1,no,3", hours_since_workout=30, pain_score=5),
                csv_line("C-2", hours_since_workout=30, pain_score="x", numbness="maybe"),
                csv_line("C-3", pain_quality="stiffness", trend="same", eases_with_movement="TRUE", numbness=0),
            ]
        )
        + "\n"
    )
    run = run_cli("triage", "--format", "csv", str(path))
    assert run.returncode == 1
    assert_no_traceback(run)
    rows = list(csv.DictReader(io.StringIO(run.stdout.decode())))
    assert [(r["line"], r["client_id"], r["level"]) for r in rows] == [
        ("2", "C-1", "monitor"),
        ("3", "C-2", ""),
        ("4", "C-3", "normal"),
    ]
    first = rows[0]
    assert (first["rule_ids"], first["rules_version"], first["error"], first["not_asked"]) == (
        "M1",
        RULES_VERSION,
        "",
        "",
    )
    assert first["causes"] == first["plans"] == "form;warm_up;recovery"
    assert rows[1]["error"] == "pain_score: Input should be a valid integer; numbness: Input should be a valid boolean"


def csv_outcomes(text: str):
    return list(triage_csv(csv.reader(io.StringIO(text))))


def test_csv_row_gives_the_same_result_as_the_same_json_object():
    row = csv_line(
        "C-9",
        "squat,true,,",
        hours_since_workout=50,
        pain_score=3,
        pain_quality="tightness",
        trend="worse",
        eases_with_movement="no",
        leg_symptoms="one_leg",
        numbness="yes",
    )
    data = report_input(
        client_id="C-9",
        hours_since_workout=50,
        pain_score=3,
        pain_quality="tightness",
        trend="worse",
        eases_with_movement=False,
        leg_symptoms="one_leg",
        numbness=True,
        context={"exercises": ["squat"], "load_increased": True},
    )
    [outcome] = csv_outcomes(CSV_HEADER + "\n" + row + "\n")
    assert outcome.result == evaluate(TriageReport.model_validate(data))


def test_empty_csv_context_cells_are_not_given():
    [outcome] = csv_outcomes(CSV_HEADER + "\n" + csv_line("C-1") + "\n")
    assert outcome.result.causes == () and outcome.result.level.value == "normal"


def test_an_empty_csv_cell_is_not_asked():
    [outcome] = csv_outcomes(CSV_HEADER + "\n" + csv_line("C-1", saddle_numbness=None, pain_score=None) + "\n")
    assert outcome.result.not_asked == ("saddle_numbness", "pain_score")
    assert outcome.result.level.value == "refer"


def test_a_csv_may_carry_history_and_age_columns():
    header = CSV_HEADER + ",age,history.episode_pain_scores,history.prior_reports_28d"
    row = csv_line("C-1", hours_since_workout=30, pain_score=4) + ",30,2; 3,0"
    [outcome] = csv_outcomes(header + "\n" + row + "\n")
    assert [f.rule_id for f in outcome.result.findings] == ["R5", "M1"]


def test_a_csv_with_only_some_question_columns_lists_the_others_as_not_asked():
    [outcome] = csv_outcomes("client_id,pain_score\nC-1,2\n")
    assert outcome.result.level.value == "refer" and "saddle_numbness" in outcome.result.not_asked


@pytest.mark.parametrize(
    "rows, line, error_start",
    [
        (["C-1,20,2,dull_ache,easing,yes,none"], 2, "input: the row has 7 cells"),
        ([csv_line("C-1", pain_score=11)], 2, "pain_score: "),
        (["", csv_line("C-1", ",,,700")], 3, "context.warmup_minutes: "),
    ],
    ids=["short row", "bad cell", "blank row skipped, line still counted"],
)
def test_csv_errors_name_the_field_and_count_the_header_as_line_1(rows, line, error_start):
    [outcome] = csv_outcomes("\n".join([CSV_HEADER, *rows]) + "\n")
    assert outcome.line == line and outcome.error.startswith(error_start)


def test_csv_header_with_an_unknown_column_is_refused_before_any_output(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("client_id,pain_level\nC-1,3\n")
    run = run_cli("triage", "--format", "csv", str(path))
    assert (run.returncode, run.stdout) == (2, b"")
    assert "pain_level" in run.stderr.decode()
    assert_no_traceback(run)


def test_every_model_field_has_a_csv_column_of_a_known_kind():
    kinds = csv_column_kinds()
    assert kinds["pain_score"] == "int" and kinds["numbness"] == "bool" and kinds["hours_since_workout"] == "float"
    assert kinds["context.exercises"] == "list" and kinds["context.cooldown_done"] == "bool"
    assert kinds["context.core_sessions_per_week"] == "int" and kinds["pain_quality"] == "text"
    assert kinds["history.episode_pain_scores"] == "int_list" and kinds["age"] == "int"
    assert set(questions.FIELDS) <= set(kinds)
    assert "model" not in kinds.values()


def test_csv_that_is_not_utf8_gives_one_sentence_and_exit_2(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(CSV_HEADER.encode() + ("\n" + csv_line("C-\xe9") + "\n").encode("latin-1"))
    run = run_cli("triage", "--format", "csv", str(path))
    assert run.returncode == 2 and b"UTF-8" in run.stderr
    assert_no_traceback(run)


def test_a_json_line_that_is_not_utf8_is_an_error_line_and_the_rest_is_triaged():
    lines = [b'{"client_id": "C-\xe9"}\n', json.dumps(report_input()).encode() + b"\n"]
    result = [(o.line, o.error is None) for o in triage_json(lines)]
    assert result == [(1, False), (2, True)]


def test_the_triage_command_starts_without_the_store_or_pandas():
    """`python -m backcare triage` on a trainer's laptop or in a script: the command line is built without
    importing the store (DuckDB, psycopg, pandas: about half a second on this machine); the store commands
    import it when they run."""
    import subprocess
    import sys

    code = (
        "import sys; from backcare.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('backcare.store', 'pandas', 'duckdb', 'psycopg') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
