"""CSV import of training sessions: DuckDB's CSV reader into a staging table, validation in SQL,
one set-based INSERT ... SELECT in the same transaction as its audit row.

The file's columns are `client_id,date,minutes,rpe,exercises,warmup_minutes,cooldown_done`
(`client_id` is the client's external id, e.g. C-0042; `date` is YYYY-MM-DD; exercises are
separated by `;`). A bad row is reported with its line number in the file, the header being line 1.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from backcare.auth import Action, Actor
from backcare.errors import InvalidInput, StoreError
from backcare.models import EARLIEST_DATE, MAX_EXERCISE_NAME, MAX_EXERCISES
from backcare.store._base import guard
from backcare.store.ahead import Ahead

COLUMNS: tuple[str, ...] = (
    "client_id",
    "date",
    "minutes",
    "rpe",
    "exercises",
    "warmup_minutes",
    "cooldown_done",
)
MAX_MINUTES = 600
TRUE_WORDS = ("true", "yes", "1", "y", "t")
FALSE_WORDS = ("false", "no", "0", "n", "f")
SHOWN_BAD_ROWS = 1000  # a file of garbage must not flood the screen; the count is always exact
_BLANKS = "' ' || chr(9) || chr(10) || chr(13)"  # a quoted value may break a list of exercises over lines
# Control characters (a quoted newline or a tab aside) and direction overrides: never echoed, never stored.
_HIDDEN = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x{202a}-\x{202e}\x{2066}-\x{2069}]"
MAX_VALUE_CHARS = 1000  # no cell of ours is longer; a longer one is a bad row, and is never echoed
DUCKDB_LINE_SIZE = 2_097_152  # DuckDB's default limit on one line: a longer line would refuse the whole file
MAX_LINE_BYTES = 64 * 1024 * 1024  # past this a line is not read at all: the file is refused, naming it

# stage name, rows done, rows in total (None when not known yet)
Progress = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int  # data rows in the file
    inserted: int  # sessions stored by this import
    duplicates: int  # good rows already stored (or repeated in the file)
    bad_count: int  # rows that failed validation
    bad_rows: tuple[BadRow, ...]  # the first SHOWN_BAD_ROWS of them, in file order
    stored: bool  # False when bad rows stopped the whole file

    @property
    def ok(self) -> bool:
        return self.bad_count == 0


def _quiet(stage: str, done: int, total: int | None) -> None:
    pass


def import_sessions_csv(
    db, *, actor: Actor, path: str | Path, skip_bad: bool = False, progress: Progress | None = None
) -> ImportResult:
    """Validate every row of a sessions CSV and store the good ones.

    Without `skip_bad`, one bad row stores nothing. Rows already stored (same client, date, minutes,
    RPE, exercises, warm-up and cool-down) are not stored again, so importing a file twice is harmless.
    """
    guard(db, actor, Action.CLIENT_WRITE, None, attempt="session.import", entity="sessions")
    progress = progress or _quiet
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("file", f"{path} does not exist or is not a file")
    if db.is_postgres:
        return _import_on_postgres(db, actor, path, skip_bad, progress)
    stage = f"import_stage_{uuid.uuid4().hex[:12]}"
    detail = {"file": path.name, "skip_bad": skip_bad}
    with db.write(actor, "session.import", "sessions", None, detail) as cur:
        try:
            progress("reading", 0, None)
            shape = _scan(path)
            rows = _read_into_stage(cur, path, stage, shape)
            progress("reading", rows, rows)
            progress("validating", 0, rows)
            bad_count, bad_rows = _validate(cur, stage, actor, path, shape)
            progress("validating", rows, rows)
            if bad_count and not skip_bad:
                detail.update(rows=rows, bad=bad_count, inserted=0, stored=False)
                return ImportResult(rows, 0, 0, bad_count, bad_rows, stored=False)
            progress("inserting", 0, rows - bad_count)
            inserted = _insert_new(cur, stage, actor)
            progress("inserting", inserted, rows - bad_count)
            detail.update(rows=rows, bad=bad_count, inserted=inserted, stored=True)
            return ImportResult(rows, inserted, rows - bad_count - inserted, bad_count, bad_rows, stored=True)
        finally:
            _drop_stage(cur, stage)


def _import_on_postgres(db, actor: Actor, path: Path, skip_bad: bool, progress: Progress) -> ImportResult:
    """The same import on a PostgreSQL database: the file is read by DuckDB in memory and checked there (the same
    staging and checks, against a copy of the clients table); the good rows not stored yet go to the server by
    COPY, in the server transaction that carries the audit row.

    The checks and the COPY work side by side (`_Slices`): DuckDB checks the file a slice of clients at a time
    and writes each slice's new rows while the server stores the slice before it, so the server's COPY (most
    of a big import's time) no longer waits for the whole file's checks. The rows are sent in a savepoint, and
    a bad row anywhere (without `skip_bad`) rolls back to it: as before, nothing is stored then but the audit
    row, and every bad row is still counted and the first SHOWN_BAD_ROWS named."""
    stage = f"import_stage_{uuid.uuid4().hex[:12]}"
    detail = {"file": path.name, "skip_bad": skip_bad}
    with (
        db.write(actor, "session.import", "sessions", None, detail) as cur,
        tempfile.TemporaryDirectory(prefix="backcare-import-") as staging,
    ):
        memory = duckdb.connect()
        slices = None
        try:
            mem = memory.cursor()
            mem.register("server_clients", cur.execute("SELECT id, external_id, gym_id FROM clients").df())
            mem.execute(
                "CREATE TABLE clients AS SELECT CAST(id AS INTEGER) AS id, CAST(external_id AS VARCHAR) AS "
                "external_id, CAST(gym_id AS INTEGER) AS gym_id FROM server_clients"
            )
            mem.unregister("server_clients")
            progress("reading", 0, None)
            shape = _scan(path)
            rows = _read_into_stage(mem, path, stage, shape)
            progress("reading", rows, rows)
            progress("validating", 0, rows)
            stored = _fetch_stored(cur, mem, stage, Path(staging))
            mapped = _map_lines(mem, path, stage, rows, shape)
            if not skip_bad:
                cur.execute("SAVEPOINT import_rows")
            slices = _Slices(mem, stage, actor, stored, skip_bad, Path(staging), shape.hidden)
            inserted, checked = 0, 0
            for csv, count, slice_rows in slices:
                checked += slice_rows
                progress("validating", checked, rows)
                if count:
                    inserted += _copy_rows(cur, csv, count)
                    progress("inserting", inserted, None)
                csv.unlink(missing_ok=True)
            bad_count, bad_rows = _bad_rows(mem, stage, mapped, slices.checked_tables)
            progress("validating", rows, rows)
            if bad_count and not skip_bad:
                cur.execute("ROLLBACK TO SAVEPOINT import_rows")  # the rows of the slices sent before it
                detail.update(rows=rows, bad=bad_count, inserted=0, stored=False)
                return ImportResult(rows, 0, 0, bad_count, bad_rows, stored=False)
            progress("inserting", inserted, rows - bad_count)
            detail.update(rows=rows, bad=bad_count, inserted=inserted, stored=True)
            return ImportResult(rows, inserted, rows - bad_count - inserted, bad_count, bad_rows, stored=True)
        finally:
            if slices is not None:
                slices.stop()
            memory.close()


_FRESH_COLUMNS = "client_pk, day, minutes_value, rpe_value, exercises_value, warmup_value, cooldown_value"
_IMPORT_LOCK = 7_246_130_018  # pg_advisory_xact_lock key: one import at a time decides what is new
_STORED_COLUMNS = {
    "client_id": "INTEGER",
    "date": "DATE",
    "minutes": "DOUBLE",
    "rpe": "DOUBLE",
    "exercises": "VARCHAR",
    "warmup_minutes": "DOUBLE",
    "cooldown_done": "BOOLEAN",
}
SLICE_ROWS = 125_000  # rows of the file per slice on PostgreSQL, about (a slice is a range of client ids)
MAX_SLICES = 16
SLICE_THREADS = 1  # DuckDB's threads while slices are checked (the file is read with all of them)


def _fetch_stored(cur, mem, stage: str, staging: Path) -> str:
    """The server's sessions that could be duplicates of the file's rows, as a DuckDB table; returns its name.

    Takes the import lock first (held to COMMIT): imports take turns, so two imports of one file at once cannot
    both find a row new. Only stored sessions within the dates the file holds can be duplicates: the range is
    read from the raw dates (any row that passes the checks has one of them, within the dates a session may
    have), and is empty when the file is new history."""
    table = f"{stage}_stored"
    ((first_day, last_day),) = mem.execute(  # (no date at all: NULL, which greatest() alone would skip)
        f"""SELECT CASE WHEN min(day) IS NOT NULL THEN greatest(min(day), DATE '{EARLIEST_DATE.isoformat()}') END,
                   least(max(day), current_date + 1)
        FROM (SELECT TRY_CAST(TRY_STRPTIME(trim(date), '%Y-%m-%d') AS DATE) AS day FROM {stage})"""
    ).fetchall()
    columns = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in _STORED_COLUMNS.items())
    mem.execute(f"CREATE TEMP TABLE {table} AS SELECT {columns} WHERE false")
    cur.execute(f"SELECT pg_advisory_xact_lock({_IMPORT_LOCK})").fetchall()
    if first_day is None or first_day > last_day:
        return table
    stored = staging / "stored.csv"
    with (
        cur.copy(
            f"COPY (SELECT {', '.join(_STORED_COLUMNS)} FROM sessions WHERE date BETWEEN "
            f"DATE '{first_day.isoformat()}' AND DATE '{last_day.isoformat()}') TO STDOUT (FORMAT csv)"
        ) as copy,
        stored.open("wb") as f,
    ):
        for data in copy:
            f.write(data)
    # PostgreSQL's CSV: NULL is an empty field, an empty string is "" (kept apart: allow_quoted_nulls)
    types = ", ".join(f"'{name}': '{kind}'" for name, kind in _STORED_COLUMNS.items())
    mem.execute(
        f"INSERT INTO {table} SELECT * FROM read_csv('{stored}', header = false, auto_detect = false, "
        f"allow_quoted_nulls = false, columns = {{{types}}})"
    )
    stored.unlink()
    return table


def _copy_rows(cur, csv: Path, count: int) -> int:
    """One slice's new rows (a CSV file DuckDB wrote) COPYed into the server's sessions; returns `count`."""
    with (
        cur.copy(
            "COPY sessions (client_id, date, minutes, rpe, exercises, warmup_minutes, cooldown_done, source, "
            "created_by) FROM STDIN (FORMAT csv)"
        ) as copy,
        csv.open("rb") as f,
    ):
        while chunk := f.read(1 << 20):
            copy.write(chunk)
    if cur.rowcount != count:
        raise StoreError(
            f"The import was rolled back: {count} new sessions were sent, the server stored {cur.rowcount}."
        )
    return count


class _Slices(Ahead[tuple[Path, int, int]]):
    """A thread of DuckDB checking the staged rows a slice at a time (a range of client ids, as written in the
    file) and writing each slice's new rows as CSV into `staging`, a slice or two ahead of the COPY that reads
    them; yields (file, rows in it, staged rows checked). A slice's rows are sorted by client, day and position
    in the file: each client's sessions keep the file's order (their ids follow it, which is the only order a
    client's history shows), and the (client_id, date) index is filled in key order rather than at random
    places (at chain scale that index is most of the COPY's time). Whether a row is new depends only on its
    client's rows, so slices by client decide exactly as the whole file would. After a slice with a bad row
    (without skip_bad) nothing more is written, but every slice is still checked: the bad rows are all
    counted. DuckDB is used by this thread alone until it ends."""

    def __init__(self, mem, stage: str, actor: Actor, stored: str, skip_bad: bool, staging: Path, hidden: bool):
        self.checked_tables: list[str] = []
        super().__init__(mem, stage, actor, stored, skip_bad, staging, hidden)

    def _produce(self, mem, stage: str, actor: Actor, stored: str, skip_bad: bool, staging: Path, hidden: bool) -> None:
        extra_columns = _extra_columns(mem, stage)
        author = "'" + actor.username.replace("'", "''") + "'"
        sending = True
        for n, where in enumerate(_slice_filters(mem, stage)):
            checked = f"{stage}_checked_{n}"
            mem.execute(
                f"CREATE TEMP TABLE {checked} AS {_checks_sql(stage, actor, extra_columns, where, hidden=hidden)}"
            )
            self.checked_tables.append(checked)
            ((slice_rows, bad),) = mem.execute(
                f"SELECT count(*), count(*) FILTER (WHERE problem <> '') FROM {checked}"
            ).fetchall()
            sending = sending and (skip_bad or not bad)
            csv, count = staging / f"new.{n}.csv", 0
            if sending:
                # one statement from the checked rows to the file (DuckDB answers COPY with the rows written)
                new = _new_rows_sql(checked, f"SELECT * FROM {stored}", author, "n.client_pk, n.day, n.pos")
                ((count,),) = mem.execute(f"COPY ({new}) TO '{csv}' (FORMAT csv, HEADER false)").fetchall()
            if n == 0:
                # the first slice had every thread (the server waits for it); the others one thread: the
                # server's COPY of the slice before works on the other core (on one machine, as the
                # benchmark runs, two DuckDB threads slowed the COPY by more than they gained)
                mem.execute(f"SET threads = {SLICE_THREADS}")
            if not self._put((csv, int(count), int(slice_rows))):
                return


def _slice_filters(mem, stage: str) -> list[str]:
    """Conditions on the staged row `s` that split the file into slices of about SLICE_ROWS rows, by ranges of
    the client id as written (trimmed): every row is in exactly one slice, a row without a client id in the
    first. The boundaries are the known clients' ids, evenly spaced, but for the first slice: a quarter of the
    others, so that the server starts its COPY sooner."""
    ((rows,),) = mem.execute(f"SELECT count(*) FROM {stage}").fetchall()
    count = max(1, min(MAX_SLICES, -(-int(rows) // SLICE_ROWS)))
    ((clients,),) = mem.execute("SELECT count(*) FROM clients").fetchall()
    step = max(1, int(clients) // count)
    positions = sorted({p for j in range(count - 1) if 0 < (p := max(1, step // 4) + step * j) < clients})
    if not positions:
        return ["true"]
    bounds = [
        value
        for (value,) in mem.execute(
            "SELECT external_id FROM (SELECT external_id, row_number() OVER (ORDER BY external_id) - 1 AS k "
            f"FROM clients) WHERE k IN ({', '.join(map(str, positions))}) ORDER BY external_id"
        ).fetchall()
    ]
    if not bounds:
        return ["true"]
    key = "trim(s.client_id)"
    literals = ["'" + b.replace("'", "''") + "'" for b in bounds]
    filters = [f"({key} IS NULL OR {key} < {literals[0]})"]
    filters += [f"({key} >= {low} AND {key} < {high})" for low, high in zip(literals, literals[1:], strict=False)]
    filters.append(f"{key} >= {literals[-1]}")
    return filters


def _bad_rows(mem, stage: str, mapped: bool, checked_tables: list[str]) -> tuple[int, tuple[BadRow, ...]]:
    """Every slice's bad rows counted, the first SHOWN_BAD_ROWS of them in file order with their lines."""
    mem.execute(
        f"CREATE TEMP VIEW {stage}_checked AS "
        + " UNION ALL ".join(f"SELECT pos, problem FROM {t}" for t in checked_tables)
    )
    return _bad_rows_of(mem, stage, mapped)


@dataclass(frozen=True, slots=True)
class _Shape:
    """What one pass over the raw bytes says about the file, before DuckDB reads it."""

    newlines: int
    quoted: bool  # holds a quote character: a quoted value may span lines
    longest: int  # bytes in its longest line
    hidden: bool = True  # may hold a control or direction-override character (False: no value can)


_CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32), 127])  # _HIDDEN's, tab and line ends aside
_OVERRIDE_LEADS = (b"\xe2\x80", b"\xe2\x81")  # UTF-8 of U+2000-U+207F, which holds _HIDDEN's overrides


def _scan(path: Path) -> _Shape:
    """Newlines, quotes, the longest line and whether a hidden character may be in it, in 1 MB chunks at C speed
    (no Python loop per line). The last is conservative: any character of U+2000-U+207F counts."""
    newlines, quoted, longest, current, hidden, previous = 0, False, 0, 0, False, b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            quoted = quoted or b'"' in chunk
            hidden = (
                hidden
                or len(chunk.translate(None, _CONTROL_BYTES)) != len(chunk)
                or (
                    (b"\xe2" in chunk or previous == b"\xe2")  # one byte first: a plain file is found quickly
                    and any(lead in chunk or lead == previous + chunk[:1] for lead in _OVERRIDE_LEADS)
                )
            )
            previous = chunk[-1:]
            count = chunk.count(b"\n")
            if not count:
                current += len(chunk)
                continue
            first, last = chunk.index(b"\n"), chunk.rindex(b"\n")
            longest = max(longest, current + first)
            if last > first:
                longest = max(longest, max(map(len, chunk[first + 1 : last].split(b"\n"))))
            current = len(chunk) - last - 1
            newlines += count
    return _Shape(newlines, quoted, max(longest, current), hidden)


def _first_line_longer_than(path: Path, limit: int) -> int:
    with path.open("rb") as handle:
        for number, text in enumerate(handle, start=1):
            if len(text.rstrip(b"\r\n")) > limit:
                return number
    return 0


def _read_into_stage(cur, path: Path, stage: str, shape: _Shape) -> int:
    """Every column as text, with `_row`: the data row's position in the file, from 0.

    (Not rowid: inside a transaction DuckDB numbers new rows from a large offset.) A line longer than
    DuckDB's default is read all the same, up to MAX_LINE_BYTES, so that validation names it as one bad
    row; quoted values spanning lines need DuckDB's single-threaded reader."""
    if shape.longest > MAX_LINE_BYTES:
        line = _first_line_longer_than(path, MAX_LINE_BYTES)
        raise InvalidInput(
            "file",
            f"line {line} of {path.name} is longer than {MAX_LINE_BYTES // 2**20} MB: "
            "it is not a sessions row; remove it and import again",
        )
    options = ""
    if shape.longest >= DUCKDB_LINE_SIZE:
        options += f", max_line_size = {shape.longest + 1024}"
    if shape.quoted:
        options += ", parallel = false"
    try:
        cur.execute(
            f"CREATE TEMP TABLE {stage} AS SELECT row_number() OVER () - 1 AS _row, * FROM "
            "read_csv(?, header = true, all_varchar = true, "
            f"delim = ',', quote = '\"', null_padding = true, auto_detect = true{options})",
            [str(path)],
        )
    except duckdb.Error as error:
        raise InvalidInput("file", f"{path.name} could not be read as CSV ({_first_line(error)})") from None
    header = [row[0] for row in cur.execute(f"SELECT name FROM pragma_table_info('{stage}')").fetchall()]
    missing = [c for c in COLUMNS if c not in header]
    if missing == list(COLUMNS):
        raise InvalidInput("file", f"{path.name} has no header row with the columns {','.join(COLUMNS)}")
    if missing:
        names = ("column " if len(missing) == 1 else "columns ") + ", ".join(missing)
        raise InvalidInput(
            missing[0], f"the file {path.name} has no {names} (expected the columns {','.join(COLUMNS)})"
        )
    (rows,) = cur.execute(f"SELECT count(*) FROM {stage}").fetchall()[0]
    return rows


def _map_lines(cur, path: Path, stage: str, rows: int, shape: _Shape) -> bool:
    """Whether a staged row's line is not simply _row + 2; if so, fill {stage}_lines(pos, line).

    DuckDB's reader skips blank lines, and a quoted value may hold newlines: such a file needs a map from
    data row to the line it starts on. A line starts a row when no quoted value is open at its start
    (quotes inside a value are doubled, so an odd count of quotes opens or closes one).
    """
    if shape.newlines in (rows, rows + 1):  # header + one line per row, the last with or without its newline
        return False
    lines, open_quote = [], False
    with path.open("rb") as handle:
        for number, text in enumerate(handle, start=1):
            if number > 1 and not open_quote and text.strip():
                lines.append(number)
            if text.count(b'"') % 2:
                open_quote = not open_quote
    cur.execute(
        f"CREATE TEMP TABLE {stage}_lines AS SELECT unnest(?::BIGINT[]) AS line, "
        "generate_subscripts(?::BIGINT[], 1) - 1 AS pos",
        [lines, lines],
    )
    return True


def _checks_sql(stage: str, actor: Actor, extra_columns: list[str], where: str = "true", *, hidden: bool = True) -> str:
    """One row per staged row `s` that `where` holds for: the typed values and what is wrong with it ('' when
    nothing). `hidden`: False when the file's bytes hold no hidden character (_scan), so no row is searched."""
    gym_scope = "" if actor.gym_id is None else f" AND c.gym_id = {int(actor.gym_id)}"
    true_words = ", ".join(f"'{w}'" for w in TRUE_WORDS)
    false_words = ", ".join(f"'{w}'" for w in FALSE_WORDS)
    bool_words = f"{true_words}, {false_words}"
    too_many = " OR ".join(f"s.{_quote(c)} IS NOT NULL" for c in extra_columns) or "false"
    too_long = " OR ".join(
        f"coalesce(length(s.{_quote(c)}), 0) > {MAX_VALUE_CHARS}" for c in (*COLUMNS, *extra_columns)
    )
    every_value = "concat(" + ", ".join(f"s.{_quote(c)}" for c in (*COLUMNS, *extra_columns)) + ")"
    return f"""
    WITH exercise_lists AS (  -- a file repeats a handful of exercise lists: normalise each once
        SELECT raw, coalesce(array_to_string(names, ';'), '') AS normalised, len(names) AS name_count,
               coalesce(list_max(list_transform(names, lambda x: length(x))), 0) AS longest_name
        FROM (SELECT raw, list_filter(list_transform(string_split(raw, ';'),
                                                     lambda x: lower(trim(x, {_BLANKS}))),
                                      lambda x: x <> '') AS names
              FROM (SELECT DISTINCT coalesce(s.exercises, '') AS raw FROM {stage} AS s WHERE {where}))
    ),
    typed AS (
        SELECT s._row AS pos,
               trim(s.client_id) AS ext_id,
               c.id AS client_pk,
               trim(s.date) AS date_text,
               TRY_CAST(TRY_STRPTIME(trim(s.date), '%Y-%m-%d') AS DATE) AS day,
               trim(s.minutes) AS minutes_text,
               TRY_CAST(trim(s.minutes) AS DOUBLE) AS minutes_value,
               trim(s.rpe) AS rpe_text,
               TRY_CAST(trim(s.rpe) AS DOUBLE) AS rpe_value,
               e.normalised AS exercises_value, e.name_count, e.longest_name,
               nullif(trim(s.warmup_minutes), '') AS warmup_text,
               TRY_CAST(nullif(trim(s.warmup_minutes), '') AS DOUBLE) AS warmup_value,
               nullif(lower(trim(s.cooldown_done)), '') AS cooldown_text,
               {too_many} AS too_many, {too_long} AS too_long,
               {f"regexp_matches({every_value}, '{_HIDDEN}')" if hidden else "false"} AS hidden
        FROM {stage} AS s
        JOIN exercise_lists AS e ON e.raw = coalesce(s.exercises, '')
        LEFT JOIN clients AS c ON c.external_id = trim(s.client_id){gym_scope}
        WHERE {where}
    )
    SELECT pos, client_pk, day, minutes_value, rpe_value, exercises_value, warmup_value,
        CASE WHEN cooldown_text IN ({true_words}) THEN true
             WHEN cooldown_text IN ({false_words}) THEN false END AS cooldown_value,
        CASE WHEN too_long THEN 'a value is longer than {MAX_VALUE_CHARS:,} characters'
             WHEN hidden THEN 'a value holds an invisible character (a control or direction-override character)'
             ELSE concat_ws('; ',
            CASE WHEN too_many THEN 'more values than the header has columns' END,
            CASE WHEN coalesce(ext_id, '') = '' THEN 'client_id is empty'
                 WHEN client_pk IS NULL THEN 'client_id ' || ext_id || ' is not a known client' END,
            CASE WHEN coalesce(date_text, '') = '' THEN 'date is empty'
                 WHEN day IS NULL THEN 'date ' || date_text || ' is not a real date in the form YYYY-MM-DD'
                 WHEN day > current_date + 1 THEN 'date ' || date_text || ' is in the future'
                 WHEN day < DATE '{EARLIEST_DATE.isoformat()}'
                     THEN 'date ' || date_text || ' is before {EARLIEST_DATE:%Y}' END,
            CASE WHEN coalesce(minutes_text, '') = '' THEN 'minutes is empty'
                 WHEN minutes_value IS NULL OR NOT isfinite(minutes_value)
                     THEN 'minutes ' || minutes_text || ' is not a number'
                 WHEN minutes_value < 0 THEN 'minutes ' || minutes_text || ' is negative'
                 WHEN minutes_value > {MAX_MINUTES}
                     THEN 'minutes ' || minutes_text || ' is more than {MAX_MINUTES}' END,
            CASE WHEN coalesce(rpe_text, '') = '' THEN 'rpe is empty'
                 WHEN rpe_value IS NULL OR NOT isfinite(rpe_value) THEN 'rpe ' || rpe_text || ' is not a number'
                 WHEN rpe_value < 0 OR rpe_value > 10 THEN 'rpe ' || rpe_text || ' is outside 0-10' END,
            CASE WHEN warmup_text IS NULL THEN NULL
                 WHEN warmup_value IS NULL OR NOT isfinite(warmup_value)
                     THEN 'warmup_minutes ' || warmup_text || ' is not a number'
                 WHEN warmup_value < 0 OR warmup_value > {MAX_MINUTES}
                     THEN 'warmup_minutes ' || warmup_text || ' is outside 0-{MAX_MINUTES}' END,
            CASE WHEN cooldown_text IS NULL OR cooldown_text IN ({bool_words}) THEN NULL
                 ELSE 'cooldown_done ' || cooldown_text || ' is not true/false/yes/no/1/0' END,
            CASE WHEN name_count > {MAX_EXERCISES}
                     THEN 'exercises names ' || name_count || ' exercises (at most {MAX_EXERCISES})'
                 WHEN longest_name > {MAX_EXERCISE_NAME}
                     THEN 'exercises has a name longer than {MAX_EXERCISE_NAME} characters' END
        ) END AS problem
    FROM typed
    """


def _validate(cur, stage: str, actor: Actor, path: Path, shape: _Shape) -> tuple[int, tuple[BadRow, ...]]:
    (rows,) = cur.execute(f"SELECT count(*) FROM {stage}").fetchall()[0]
    mapped = _map_lines(cur, path, stage, rows, shape)
    checks = _checks_sql(stage, actor, _extra_columns(cur, stage), hidden=shape.hidden)
    cur.execute(f"CREATE TEMP TABLE {stage}_checked AS {checks}")
    return _bad_rows_of(cur, stage, mapped)


def _extra_columns(cur, stage: str) -> list[str]:
    """Values beyond the header's columns: the reader names them column7, column8, ..."""
    return [
        name
        for (name,) in cur.execute(f"SELECT name FROM pragma_table_info('{stage}')").fetchall()
        if name not in COLUMNS and name.startswith("column")
    ]


def _bad_rows_of(cur, stage: str, mapped: bool) -> tuple[int, tuple[BadRow, ...]]:
    """The bad rows of {stage}_checked counted, the first SHOWN_BAD_ROWS of them in file order with their lines
    (`mapped`: {stage}_lines maps a row to its line)."""
    source, line = (
        (f"{stage}_checked JOIN {stage}_lines USING (pos)", "line") if mapped else (f"{stage}_checked", "pos + 2")
    )
    (bad_count,) = cur.execute(f"SELECT count(*) FROM {stage}_checked WHERE problem <> ''").fetchall()[0]
    shown = cur.execute(
        f"SELECT {line} AS line, problem FROM {source} WHERE problem <> '' ORDER BY pos LIMIT {SHOWN_BAD_ROWS}"
    ).fetchall()
    return bad_count, tuple(BadRow(int(line), problem) for line, problem in shown)


_STORED_IN_RANGE = (
    "SELECT client_id, date, minutes, rpe, exercises, warmup_minutes, cooldown_done FROM sessions "
    "WHERE date BETWEEN ? AND ?"
)


def _new_rows_sql(checked: str, stored: str, author: str, order: str) -> str:
    """The SELECT of the rows of `checked` (a checked table) not stored yet, as sessions rows (source 'import',
    created_by `author`, an SQL value), first occurrence only: a row is stored already when a session of
    `stored` (a SELECT of the sessions that could be duplicates, with the sessions table's column names) has the
    same client, day, minutes, RPE and exercises, and the same warm-up and cool-down (NULL equal to NULL). Both
    engines' imports decide with it. `order`: its ORDER BY."""
    return f"""
        WITH fresh AS (  -- a hash aggregate, not a window: no sort of the whole file
            SELECT {_FRESH_COLUMNS}, min(pos) AS pos FROM {checked} WHERE problem = ''
            GROUP BY {_FRESH_COLUMNS}
        ),
        stored AS ({stored})
        SELECT n.client_pk, n.day, n.minutes_value, n.rpe_value, n.exercises_value, n.warmup_value,
               n.cooldown_value, 'import', {author}
        FROM fresh AS n
        ANTI JOIN stored AS old
          ON old.client_id = n.client_pk AND old.date = n.day
         AND old.minutes = n.minutes_value AND old.rpe = n.rpe_value
         AND old.exercises = n.exercises_value
         AND old.warmup_minutes IS NOT DISTINCT FROM n.warmup_value
         AND old.cooldown_done IS NOT DISTINCT FROM n.cooldown_value
        ORDER BY {order}"""


def _insert_new(cur, stage: str, actor: Actor) -> int:
    """Good rows not stored yet, first occurrence only; NULL warm-up/cool-down compare as equal.

    Only stored sessions within the file's date range can be duplicates: the anti-join reads those."""
    (first_day, last_day) = cur.execute(
        f"SELECT min(day), max(day) FROM {stage}_checked WHERE problem = ''"
    ).fetchall()[0]
    if first_day is None:
        return 0
    (inserted,) = cur.execute(
        f"""
        INSERT INTO sessions (client_id, date, minutes, rpe, exercises, warmup_minutes, cooldown_done,
                              source, created_by)
        {_new_rows_sql(f"{stage}_checked", _STORED_IN_RANGE, "?", "n.pos")}
    """,
        [first_day, last_day, actor.username],
    ).fetchall()[0]
    return int(inserted)


def _drop_stage(cur, stage: str) -> None:
    """Temporary tables go with the transaction when it fails; after success, drop them."""
    try:
        for suffix in ("", "_checked", "_lines"):
            cur.execute(f"DROP TABLE IF EXISTS {stage}{suffix}")
    except duckdb.Error:
        pass


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
