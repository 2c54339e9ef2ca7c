"""Domain errors: what the store, importers and commands raise upward instead of driver errors.

Each carries a message written for the person at the screen or terminal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import ValidationError


class BackCareError(Exception):
    """Base of every error the app shows as a sentence instead of a traceback."""


class InvalidInput(BackCareError):
    """Input that failed validation; `field` names what to fix."""

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class NotFound(BackCareError):
    pass


class Conflict(BackCareError):
    """The change is not allowed in the record's current state (e.g. a status transition)."""


class Clash(Conflict):
    """Another process committed a change to the same rows while this transaction ran (PostgreSQL's
    REPEATABLE READ, DuckDB's optimistic concurrency): nothing was stored, and running the whole transaction
    again is safe."""


class AlreadySaved(Conflict):
    """The same triage form was saved before (a second tap on Save): nothing was stored twice."""

    def __init__(self, report_id: int):
        super().__init__(f"This report was saved already (report {report_id}): it was not stored twice.")
        self.report_id = report_id


class PermissionDenied(BackCareError):
    pass


class Unavailable(NotFound, PermissionDenied):
    """A record that does not exist and one the caller may not open give the same sentence and type, so
    ids cannot be probed for existence or mapped to gyms. Caught as NotFound or as PermissionDenied."""

    MESSAGE = "That record does not exist or is not open to you."

    def __init__(self):
        super().__init__(self.MESSAGE)


class DatabaseLocked(BackCareError):
    def __init__(self, path: str):
        self.path = path
        super().__init__(
            f"The database file {path} is in use by another process (probably the BackCare app is running): "
            "stop the app, or set BACKCARE_DB to another file, and try again."
        )


class DatabaseMissing(BackCareError):
    """No database file at the path, and demo mode was not asked for: nothing is created silently."""

    def __init__(self, path: str):
        self.path = path
        super().__init__(
            f"There is no BackCare database at {path}: create a real one with "
            "`python -m backcare init --admin NAME`, or start in demo mode (BACKCARE_DEMO=1, as scripts/app.sh "
            "does) to try BackCare with synthetic data."
        )


class StoreError(BackCareError):
    """Any other database failure, worded for the user; the driver's message stays in the log."""


# --- validation errors, worded once ------------------------------------------------------------
# Every place that turns a pydantic ValidationError into words uses these two: the first problem as an
# InvalidInput naming its field (forms, store), or every problem on one line (the CLI and batch files).

_NAMED_CHECK = re.compile(r"Value error, ([a-z_][a-z0-9_.]*): (.*)", re.DOTALL)


def validation_problems(error: ValidationError) -> list[tuple[str, str]]:
    """Each problem as (field, reason). The field is the dotted location (`episode_pain_scores.1`); a
    cross-field check has no location and names its field at the start of its message
    ("Value error, pregnancy_warning_signs: ..."), which is taken as the field. Reasons lose pydantic's
    "Value error, " prefix."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()))
        reason = str(item.get("msg", "invalid value"))
        named = _NAMED_CHECK.fullmatch(reason) if not where else None
        if named:
            where, reason = named.group(1), named.group(2)
        problems.append((where, reason.removeprefix("Value error, ")))
    return problems


def describe_validation_error(error: ValidationError) -> str:
    """Every problem on one line, each naming its field: `pain_score: Input should be less than or equal to 10`."""
    return "; ".join(f"{where or 'input'}: {reason}" for where, reason in validation_problems(error))


def invalid_input(error: ValidationError, default_field: str, labels: Mapping[str, str] | None = None) -> InvalidInput:
    """The first problem as an InvalidInput naming its field (through `labels` where a form words its fields,
    else `default_field` when pydantic names none)."""
    where, reason = validation_problems(error)[0]
    if labels is not None:
        where = labels.get(where, where)
        reason = reason[:1].lower() + reason[1:]
    return InvalidInput(where or default_field, reason)
