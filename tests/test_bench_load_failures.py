"""The load benchmark counts a tap whose page says it failed (a clash with another change, a save that did not
happen) as an error, not only a traceback: a run with clashes must not report "0 errors". The triage's own
emergency and urgent results, also drawn in error boxes, are not failures."""

from __future__ import annotations

import psycopg
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.Button_pb2 import Button
from streamlit.proto.Exception_pb2 import Exception as ExceptionProto
from streamlit.proto.Markdown_pb2 import Markdown

from backcare.store.db import translate
from bench.bench_load import page_failure, page_summary


def alert(body: str, level=Alert.ERROR) -> tuple[str, Alert]:
    return "alert", Alert(body=body, format=level)


def test_a_clash_shown_by_the_page_is_a_failed_tap():
    clash = str(translate(psycopg.errors.SerializationFailure("could not serialize access"), "saving (report.save)"))
    assert "please try again" in clash  # the store's own sentence, as context.show_error draws it
    assert page_failure([alert("Saved.", Alert.SUCCESS), alert(clash)]) == f"the page showed an error: {clash}"


def test_a_traceback_is_a_failed_tap_before_any_error_box():
    raised = ExceptionProto(message="division by zero")
    assert page_failure([alert("Saving failed"), ("exception", raised)]) == "the page raised: division by zero"


def test_a_red_result_or_referral_line_is_not_a_failure():
    shown = [
        alert("**Emergency: call 999 or go to A&E now**"),
        alert("Urgent referral open since 3 Dec: contact the client today."),
        alert("The answers are not kept on the server for now", Alert.WARNING),
    ]
    assert page_failure(shown) is None


def test_a_page_the_driver_cannot_follow_is_described_in_its_error():
    """A failed tap of the driver's own (no question, Next or Save on the triage page) says what the page drew
    instead: its widgets' keys and the start of its texts."""
    drawn = [
        ("markdown", Markdown(body="### Sign in\n\nYour session ended")),
        ("button", Button(id="$$ID-abc-signin_button", label="Sign in")),
        alert("Saving failed: the database is busy"),
    ]
    assert page_summary(drawn) == (
        "widgets: signin_button; text: ### Sign in Your session ended | Saving failed: the database is busy"
    )
    assert len(page_summary(drawn * 50)) == 300
