"""Numbers, counts and dates as a trainer reads them (issue 14): one date format everywhere a trainer looks
(the house format of the charts, e.g. "07 Dec 2026"), hours as "20 h" rather than "20.00", and counts with
the right singular or plural."""

from __future__ import annotations

from datetime import date, datetime

DAY_FORMAT = "%d %b %Y"  # the one date format of the screens (and of the charts' tooltips)


def day(value: date | datetime) -> str:
    """A date in the house format: 07 Dec 2026."""
    return f"{value:{DAY_FORMAT}}"


def moment(value: datetime) -> str:
    """A time of day on a date, in the house format: 07 Dec 2026, 14:05."""
    return f"{value:{DAY_FORMAT}}, {value:%H:%M}"


def number(value: float | int) -> str:
    """A number without trailing zeros: 20, 7.5 (never 20.00)."""
    return f"{float(value):.1f}".rstrip("0").rstrip(".") if float(value) != int(value) else str(int(value))


def hours(value: float | int | None) -> str:
    """Hours for people: "20 h", "1.5 h"; "not known" for None."""
    return "not known" if value is None else f"{number(value)} h"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """ "1 plan", "2 plans"."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"
