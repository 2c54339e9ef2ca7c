"""Widget keys for forms that edit one chosen record.

A widget that edits a record is keyed by that record's id, never by a name shared by every record of its
kind: Streamlit keeps a widget's value under its key, and a browser keeps a chosen option by the text it
showed, so a shared key (or a choice held by its label or position in a list) carries what was typed for
one record onto another as soon as a save changes the list. tests/test_widget_keys.py walks the pages and
names any widget that breaks this.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any


def record_key(kind: str, record_id: int | str, field: str) -> str:
    """`referral-12-note`: the widget `field` of the `kind` record with this id."""
    return f"{kind}-{record_id}-{field}"


def empty_fields(state: MutableMapping[Any, Any], kind: str, record_id: int | str, fields: dict[str, Any]) -> None:
    """Put the record's form back to empty after a save (call it from a widget callback, before the form is
    drawn again): each field in `fields` gets its empty value."""
    for field, empty in fields.items():
        widget_key = record_key(kind, record_id, field)
        if widget_key in state:
            state[widget_key] = empty
