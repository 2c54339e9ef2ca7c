"""The types of the store's arguments, checked once at the door for every public store function.

A page or script that passes a string for a client id, a number for a name or a list for a date gets
InvalidInput naming the argument (a BackCareError, which every page shows as one sentence), instead of a
TypeError or AttributeError from deep inside. The check reads each function's own annotations, so adding
a function needs nothing here: store/__init__.py wraps every function that takes an `actor`. Values are
checked for their kind only; what a value means (a known plan, a date in range) stays with the function.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import logging
import numbers
import types
import typing
from datetime import date, datetime
from enum import Enum
from pathlib import Path

from pydantic import BaseModel

from backcare.auth import Actor
from backcare.errors import InvalidInput
from backcare.models import EARLIEST_DATE

log = logging.getLogger(__name__)

_BIGINT = 2**63  # ids and counts are BIGINT in the database
_EARLIEST = EARLIEST_DATE


def _describe(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(annotation) if a is not type(None))
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return "true or false"
        if issubclass(annotation, Enum) or issubclass(annotation, str):
            return "text"
        if issubclass(annotation, int):
            return "a whole number"
        if issubclass(annotation, float):
            return "a number"
        if issubclass(annotation, datetime):
            return "a date and time"
        if issubclass(annotation, date):
            return "a date"
        if issubclass(annotation, Actor):
            return "the person acting"
        if issubclass(annotation, (dict, BaseModel)):
            return "a mapping of fields"
    if origin in (tuple, list, collections.abc.Iterable, collections.abc.Sequence):
        return "a list"
    return "a value of the right kind"


def _fits(value, annotation) -> bool | None:
    """True or False; None when the annotation is not one this check knows (then anything passes)."""
    origin = typing.get_origin(annotation)
    if annotation is typing.Any:
        return None
    if origin is typing.Annotated:
        return _fits(value, typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        verdicts = [_fits(value, arg) for arg in typing.get_args(annotation)]
        return True if any(verdicts) else (None if None in verdicts else False)
    if annotation is type(None):
        return value is None
    if origin in (tuple, list, set, frozenset):
        return isinstance(value, origin)
    if origin in (collections.abc.Iterable, collections.abc.Sequence, collections.abc.Collection):
        return isinstance(value, collections.abc.Iterable) and not isinstance(value, (str, bytes, dict))
    if origin is dict:
        return isinstance(value, dict)
    if not isinstance(annotation, type):
        return None
    if annotation in (list, tuple, set, frozenset):
        return isinstance(value, annotation)
    if issubclass(annotation, bool):
        return isinstance(value, bool)
    if issubclass(annotation, Enum):
        return isinstance(value, annotation) or isinstance(value, str)
    if issubclass(annotation, int):  # numbers.Integral: an id read from a pandas frame is a numpy integer
        return isinstance(value, numbers.Integral) and not isinstance(value, bool) and -_BIGINT <= int(value) < _BIGINT
    if issubclass(annotation, float):
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if issubclass(annotation, datetime):
        return isinstance(value, datetime)
    if issubclass(annotation, date):
        return isinstance(value, date)
    if annotation in (str, Path, dict, Actor) or issubclass(annotation, BaseModel):
        return isinstance(value, annotation)
    return None


def checked(function):
    """`function` with its keyword arguments' kinds checked first (annotations read on the first call)."""
    hints: dict | None = None

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        nonlocal hints
        if hints is None:
            try:
                hints = typing.get_type_hints(function)
            except Exception as error:  # noqa: BLE001  (an annotation that cannot be resolved: no checks)
                log.warning("argument checks of %s are off: %s", function.__qualname__, error)
                hints = {}
        for name, value in kwargs.items():
            annotation = hints.get(name)
            if annotation is not None and _fits(value, annotation) is False:
                raise InvalidInput(name, f"must be {_describe(annotation)}")
            day = value.date() if isinstance(value, datetime) else value
            if isinstance(day, date) and day < _EARLIEST:  # a year-0 day reads back as text and breaks pages
                raise InvalidInput(name, f"must be a date from {EARLIEST_DATE:%Y} on")
        return function(*args, **kwargs)

    return wrapper


def check_store_functions(namespace: dict) -> None:
    """Wrap, in place, every function of `namespace` that takes an `actor` (the store's public ones)."""
    for name, value in list(namespace.items()):
        if (
            inspect.isfunction(value)
            and "actor" in inspect.signature(value).parameters
            and not hasattr(value, "__wrapped__")
        ):
            namespace[name] = checked(value)
