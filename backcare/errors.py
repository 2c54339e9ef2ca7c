"""Domain errors: what the store, importers and commands raise upward instead of driver errors.

Each carries a message written for the person at the screen or terminal.
"""

from __future__ import annotations


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
