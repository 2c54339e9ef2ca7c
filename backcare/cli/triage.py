"""`triage [FILE] [--format json|csv]` and `rules-doc [--check]`: TRIAGE.md's JSON contract on the command line.

Input streams through one report at a time and every result is written as soon as it is known, so a
batch of any size needs memory for one line, not for the whole batch. A line that does not validate
becomes an error line naming the field; the other lines are still triaged and the exit status is 1.
A question left out, `null` or (in CSV) an empty cell is *not asked*, never "no": the result lists it in
`not_asked` and X1/X2 name it. An optional `history` object gives what the store would add.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO

from pydantic import BaseModel, ValidationError

from backcare.models import SessionContext, TriageHistory, TriageInput, TriageResult, describe_validation_error
from backcare.rules import evaluate

UTF8_BOM = b"\xef\xbb\xbf"
CONTEXT_PREFIX = "context."
HISTORY_PREFIX = "history."
LIST_SEPARATOR = ";"
CSV_COLUMNS = (
    "line",
    "client_id",
    "level",
    "rules_version",
    "not_asked",
    "rule_ids",
    "causes",
    "plans",
    "advice",
    "error",
)

EXIT_OK, EXIT_LINE_ERRORS, EXIT_UNREADABLE = 0, 1, 2


class UnreadableInput(Exception):
    """The input as a whole cannot be read (not one bad line): one sentence, exit status 2."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one input line became: a result, or the reason it was refused."""

    line: int
    result: TriageResult | None = None
    error: str | None = None
    client_id: str | None = None  # the raw client reference of a refused CSV row, to help find the form


# --- registration ----------------------------------------------------------------------------


def register(subparsers) -> None:
    triage = subparsers.add_parser(
        "triage",
        help="triage back-pain reports from a JSON or CSV file (or standard input)",
        description="Reads one JSON object or JSON Lines (one report per line) and writes one JSON result per "
        "line. A question left out or null is not asked (never 'no') and is listed in not_asked. "
        "With --format csv, reads a CSV file whose header uses the same field names (context "
        "fields as context.NAME, history fields as history.NAME, lists separated by ';', booleans as "
        "true/false/yes/no/1/0; an empty cell is not asked) and writes one CSV row per report. A "
        "report that does not validate gives an error naming the field; the others are still "
        "triaged and the exit status is 1.",
    )
    triage.add_argument("file", nargs="?", default="-", metavar="FILE", help="input file (default: standard input)")
    triage.add_argument("--format", choices=("json", "csv"), default="json", help="input and output format")
    triage.set_defaults(func=run_triage)

    doc = subparsers.add_parser(
        "rules-doc",
        help="regenerate docs/RULES.md from the rule registry",
        description="Writes the rule registry as Markdown. With --check, writes nothing and exits 1 when the "
        "file differs from the registry.",
    )
    doc.add_argument("--check", action="store_true", help="only check that the file is up to date")
    doc.add_argument("--output", metavar="PATH", default=None, help="file to write or check (default: docs/RULES.md)")
    doc.set_defaults(func=run_rules_doc)


# --- JSON ------------------------------------------------------------------------------------


def _json_documents(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, JSON text) per report: JSON Lines, or one pretty-printed object as the whole input.

    The first non-blank line decides: if it is a whole JSON value, the input is JSON Lines; if it is
    the start of an unfinished value, the rest is read and parsed as one document. Only that second
    case holds the input in memory; when it does not parse as one document, it is read as lines after all.
    """
    numbered = enumerate(lines, start=1)
    for number, raw in numbered:
        text = raw.strip()
        if number == 1:
            text = text.removeprefix(UTF8_BOM).strip()
        if not text:
            continue
        if not _is_unfinished_json(text):
            yield number, text
            break
        rest = [raw for _, raw in numbered]
        document = text + b"\n" + b"".join(rest)
        try:
            json.loads(document)
        except (ValueError, RecursionError):  # RecursionError: nested too deep for Python's parser
            yield number, text
            yield from _json_lines(enumerate(rest, start=number + 1))
        else:
            yield number, document
        return
    yield from _json_lines(numbered)


def _json_lines(numbered: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
    for number, raw in numbered:
        text = raw.strip()
        if text:
            yield number, text


def _is_unfinished_json(text: bytes) -> bool:
    """True when the text is the beginning of a JSON value that goes on past its end."""
    decoded = text.decode("utf-8", errors="replace")
    try:
        json.loads(decoded)
    except json.JSONDecodeError as error:
        return error.pos >= len(decoded)
    except (ValueError, RecursionError):
        # an integer of more than 4,300 digits, or nesting deeper than Python's parser goes: a whole line
        # all the same, which validation refuses with a message
        return False
    return False


def triage_json(lines: Iterable[bytes]) -> Iterator[Outcome]:
    """One outcome per report in JSON Lines (or one pretty-printed JSON object); blank lines skipped."""
    for number, text in _json_documents(lines):
        try:
            report = TriageInput.model_validate_json(text)
        except ValidationError as error:
            yield Outcome(number, error=describe_validation_error(error))
        else:
            yield Outcome(number, result=evaluate(report, report.history))


def write_json(outcomes: Iterable[Outcome], out: IO[str]) -> int:
    """Write one JSON line per outcome; returns how many lines were refused."""
    failed = 0
    for outcome in outcomes:
        if outcome.result is not None:
            out.write(outcome.result.model_dump_json())
        else:
            failed += 1
            out.write(json.dumps({"line": outcome.line, "error": outcome.error}))
        out.write("\n")
    return failed


# --- CSV -------------------------------------------------------------------------------------


def _field_kind(annotation) -> str:
    """'bool', 'int', 'float', 'list', 'int_list', 'model' or 'text': how a CSV cell becomes a field value."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _field_kind(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = {_field_kind(arg) for arg in typing.get_args(annotation) if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else "text"
    if typing.get_origin(annotation) in (tuple, list):
        items = {_field_kind(arg) for arg in typing.get_args(annotation) if arg is not Ellipsis}
        return "int_list" if items == {"int"} else "list"
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return "bool"
        if issubclass(annotation, Enum):
            return "text"
        if issubclass(annotation, int):
            return "int"
        if issubclass(annotation, float):
            return "float"
        if issubclass(annotation, BaseModel):
            return "model"
    return "text"


def csv_column_kinds() -> dict[str, str]:
    """Every CSV column the header may use, with the kind of value it holds."""
    kinds = {name: _field_kind(field.annotation) for name, field in TriageInput.model_fields.items()}
    del kinds["context"], kinds["history"]
    kinds.update(
        {CONTEXT_PREFIX + name: _field_kind(field.annotation) for name, field in SessionContext.model_fields.items()}
    )
    kinds.update(
        {HISTORY_PREFIX + name: _field_kind(field.annotation) for name, field in TriageHistory.model_fields.items()}
    )
    return kinds


_COLUMN_KINDS = csv_column_kinds()
_TRUE, _FALSE = frozenset({"true", "yes", "1"}), frozenset({"false", "no", "0"})
_INTEGER = re.compile(r"[+-]?\d{1,18}")  # longer is no answer of ours, and int() refuses 4,300 digits and more
MAX_CSV_CELL = 131_072  # Python's csv limit: a longer cell is one bad line, the rest of the batch goes on


def _cell_value(kind: str, cell: str):
    """The field value of a non-empty cell; a value that does not fit is passed on unchanged so that
    validation refuses it with a message naming the field."""
    if kind == "bool":
        word = cell.lower()
        return True if word in _TRUE else False if word in _FALSE else cell
    if kind == "int":
        return int(cell) if _INTEGER.fullmatch(cell) else cell
    if kind in ("list", "int_list"):
        items = [item.strip() for item in cell.split(LIST_SEPARATOR) if item.strip()]
        return [_cell_value("int", item) for item in items] if kind == "int_list" else items
    return cell


def _check_header(header: list[str]) -> list[str]:
    names = [name.strip() for name in header]
    unknown = [name for name in names if name not in _COLUMN_KINDS]
    if unknown:
        raise UnreadableInput(
            f"the CSV header has unknown column(s) {', '.join(repr(n) for n in unknown)}; use the field names of "
            f"the JSON contract, context fields as {CONTEXT_PREFIX}NAME, history fields as {HISTORY_PREFIX}NAME"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UnreadableInput(f"the CSV header names column(s) {', '.join(repr(n) for n in repeated)} more than once")
    return names


def _cell(row: list[str], column: int | None) -> str | None:
    if column is None or column >= len(row):
        return None
    return row[column].strip() or None


def csv_row_to_input(names: list[str], row: list[str]) -> dict:
    """The JSON-contract object of one CSV row. Empty cells are left out: a question is not asked, a context
    or history value unknown."""
    report: dict = {}
    nested: dict[str, dict] = {CONTEXT_PREFIX: {}, HISTORY_PREFIX: {}}
    for name, cell in zip(names, row, strict=False):
        cell = cell.strip()
        if not cell:
            continue
        value = _cell_value(_COLUMN_KINDS[name], cell)
        prefix = next((p for p in nested if name.startswith(p)), None)
        if prefix is None:
            report[name] = value
        else:
            nested[prefix][name.removeprefix(prefix)] = value
    for prefix, values in nested.items():
        if values:
            report[prefix.rstrip(".")] = values
    return report


def read_csv_header(rows: Iterator[list[str] | BadCsvLine]) -> list[str] | None:
    """The checked column names of the header row (None for an empty file)."""
    header = next(rows, None)
    if isinstance(header, BadCsvLine):
        raise UnreadableInput(f"the CSV header {header.removeprefix('input: this line ')}")
    return None if header is None else _check_header(header)


def triage_csv(rows: Iterable[list[str]]) -> Iterator[Outcome]:
    """One outcome per data row; line numbers count the header as line 1; blank rows skipped."""
    rows = iter(rows)
    names = read_csv_header(rows)
    if names is not None:
        yield from triage_csv_rows(names, rows)


class BadCsvLine(str):
    """A line the CSV reader could not read (e.g. a cell over MAX_CSV_CELL characters): its reason."""


def tolerant_rows(reader) -> Iterator[list[str] | BadCsvLine]:
    """The reader's rows; a line it refuses becomes a BadCsvLine and reading goes on with the next line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield BadCsvLine(f"input: this line cannot be read as CSV ({error})")
        else:
            yield row


def triage_csv_rows(names: list[str], rows: Iterable[list[str] | BadCsvLine]) -> Iterator[Outcome]:
    """Outcomes of the data rows that follow a header already read with read_csv_header()."""
    client_column = names.index("client_id") if "client_id" in names else None
    for number, row in enumerate(rows, start=2):
        if isinstance(row, BadCsvLine):
            yield Outcome(number, error=str(row))
            continue
        if not any(cell.strip() for cell in row):
            continue
        client_id = _cell(row, client_column)
        if len(row) != len(names):
            yield Outcome(
                number,
                error=f"input: the row has {len(row)} cells but the header has {len(names)}",
                client_id=client_id,
            )
            continue
        try:
            report = TriageInput.model_validate(csv_row_to_input(names, row))
        except ValidationError as error:
            yield Outcome(number, error=describe_validation_error(error), client_id=client_id)
        else:
            yield Outcome(number, result=evaluate(report, report.history))


def write_csv(outcomes: Iterable[Outcome], out: IO[str]) -> int:
    """Write the header and one CSV row per outcome; returns how many rows were refused."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    failed = 0
    for outcome in outcomes:
        result = outcome.result
        if result is None:
            failed += 1
            writer.writerow((outcome.line, outcome.client_id or "", "", "", "", "", "", "", "", outcome.error))
            continue
        writer.writerow(
            (
                outcome.line,
                result.client_id or "",
                result.level.value,
                result.rules_version,
                LIST_SEPARATOR.join(result.not_asked),
                LIST_SEPARATOR.join(f.rule_id for f in result.findings),
                LIST_SEPARATOR.join(c.cause.value for c in result.causes),
                LIST_SEPARATOR.join(p.value for p in result.plans),
                result.advice,
                "",
            )
        )
    return failed


# --- commands --------------------------------------------------------------------------------


def _open_binary(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as error:
        raise UnreadableInput(f"cannot read {path}: {error.strerror or error}") from None


def run_triage(args) -> int:
    try:
        source = _open_binary(args.file)
    except UnreadableInput as error:
        print(f"error: {error}.", file=sys.stderr)
        return EXIT_UNREADABLE
    name = "standard input" if args.file == "-" else args.file
    out = _utf8_stdout()
    try:
        if args.format == "csv":
            text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
            rows = tolerant_rows(csv.reader(text))
            names = read_csv_header(rows)  # a bad header is refused before anything is written
            failed = write_csv(triage_csv_rows(names or [], rows), out)
        else:
            failed = write_json(triage_json(source), out)
        out.flush()
    except UnreadableInput as error:
        print(f"error: {name}: {error}.", file=sys.stderr)
        return EXIT_UNREADABLE
    except UnicodeDecodeError:
        print(
            f'error: {name} is not UTF-8 text: save it as UTF-8 (in a spreadsheet, "CSV UTF-8") and try again.',
            file=sys.stderr,
        )
        return EXIT_UNREADABLE
    except csv.Error as error:
        print(f"error: {name} is not a readable CSV file ({error}).", file=sys.stderr)
        return EXIT_UNREADABLE
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            _silence_stdout()  # the reader went away (e.g. `| head`): stop quietly
            return EXIT_LINE_ERRORS
        # reading the input or writing the results failed part-way (a disk error, a full disk)
        print(f"error: triage of {name} stopped: {error.strerror or error}.", file=sys.stderr)
        return EXIT_UNREADABLE
    finally:
        if args.file != "-":
            source.close()
    return EXIT_LINE_ERRORS if failed else EXIT_OK


def _utf8_stdout() -> IO[str]:
    """Standard output as UTF-8 whatever the terminal's encoding: the output is JSON or CSV for other
    programs, and a client reference or exercise name may be any text."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    return sys.stdout


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def default_rules_doc_path() -> Path:
    return Path(__file__).resolve().parents[2] / "docs" / "RULES.md"


def run_rules_doc(args) -> int:
    from backcare.rulesdoc import render_rules_markdown

    path = Path(args.output) if args.output else default_rules_doc_path()
    text = render_rules_markdown()
    if args.check:
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            print(f"{path} is out of date with the rule registry: run `python -m backcare rules-doc`.", file=sys.stderr)
            return 1
        print(f"{path} is up to date.")
        return 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"error: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return EXIT_UNREADABLE
    print(f"wrote {path}")
    return 0
