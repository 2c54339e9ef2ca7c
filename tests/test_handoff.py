"""The printable handoff: the text and the PDF carry what the clinic needs, from the store's summary."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from backcare import handoff, store
from backcare import pdf as pdf_base
from backcare.auth import SYSTEM, Role
from backcare.models import SessionIn
from tests.conftest import NOW, report_payload

PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture
def referral(db, client, trainer_actor):
    """A sharp pain on the leg side after a deadlift session, contacted once by the clinic."""
    store.log_session(
        db,
        actor=trainer_actor,
        client_id=client.id,
        now=NOW - timedelta(days=1),
        session=SessionIn(
            date=date(2025, 3, 9),
            minutes=50,
            rpe=7,
            exercises=("Deadlift", "plank"),
            warmup_minutes=3,
            cooldown_done=False,
        ),
    )
    saved = store.save_report(
        db,
        actor=trainer_actor,
        client_id=client.id,
        now=NOW,
        report=report_payload(
            pain_score=6,
            pain_quality="sharp",
            trend="same",
            hours_since_workout=30,
            leg_symptoms="one_leg",
            tingling=True,
            context={"warmup_minutes": 3},
        ),
    )
    clinic = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="cleo", display_name="Cleo Clinic", role=Role.CLINIC)
    )
    store.update_referral(
        db,
        actor=clinic,
        referral_id=saved.referral_id,
        status="contacted",
        note="Booked for Thursday",
        now=NOW + timedelta(hours=3),
    )
    summary = store.handoff_summary(db, actor=clinic, referral_id=saved.referral_id, now=NOW)
    events = store.referral_events(db, actor=clinic, referral_id=saved.referral_id)
    return summary, events


@pytest.mark.parametrize(
    "expected",
    [
        "Ada Lovelace",  # who
        "Tara Trainer",
        "Contact: tara@example.test",  # the trainer and how to reach them
        "R1 (refer)",
        "[source: ARTICLE]",
        "R2 (refer)",  # findings with their sources
        "Pain now: 6/10",
        "Feels like: Sharp",
        "Since it started: Same",
        "Age: not known",
        "Time since the workout: 30 h",
        "Tingling or pins and needles?",  # an answer given as yes
        "Any chest pain?",  # an answer given as no
        "Date: 2025-03-09",
        "50 min at RPE 7 (load 350)",
        "Exercises: deadlift, plank",
        "Cool-down: no",
        "Skipped warm-up: Warm-up of 3 min (under 5)",  # a cause with its evidence
        "Contacted by cleo: Booked for Thursday",  # the status history with its note
    ],
)
def test_handoff_text_carries_what_the_clinic_needs(referral, expected):
    summary, events = referral
    assert expected in handoff.handoff_markdown(summary, events)


def test_a_report_saved_at_an_emergency_stop_says_not_asked_in_the_text_and_the_pdf(db, client, trainer_actor):
    saved = store.save_report(db, actor=trainer_actor, client_id=client.id, now=NOW, report={"saddle_numbness": True})
    store.complete_report(
        db, actor=trainer_actor, report_id=saved.report_id, answers={"pain_score": 5}, now=NOW + timedelta(minutes=20)
    )
    clinic = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="cleo", display_name="Cleo Clinic", role=Role.CLINIC)
    )
    summary = store.handoff_summary(db, actor=clinic, referral_id=saved.referral_id, now=NOW)
    sections = {s.heading: s.lines for s in handoff.handoff_sections(summary)}
    assert "Pain now: 5/10" in sections["Pain"] and "Feels like: not asked" in sections["Pain"]
    assert "Time since the workout: not asked" in sections["Pain"] and "Legs: not asked" in sections["Pain"]
    assert "Any chest pain?" in sections["Not asked"]
    assert sections["Answered after the emergency stop"] == ("Pain now, 0 (none) to 10 (worst imaginable)",)
    assert "Numbness or pins and needles between the legs or around the bottom?" in sections["Answered yes"]
    text = handoff.handoff_markdown(summary)
    assert "## Not asked" in text and "not asked" in text
    assert handoff.handoff_pdf(summary).startswith(b"%PDF")


def test_every_question_asked_says_so(referral):
    summary, events = referral
    sections = {s.heading: s.lines for s in handoff.handoff_sections(summary, events)}
    assert sections["Not asked"] == ("Every question was asked.",)


def test_yes_and_no_answers_are_listed_apart(referral):
    summary, events = referral
    sections = {s.heading: s.lines for s in handoff.handoff_sections(summary, events)}
    assert "Tingling or pins and needles?" in sections["Answered yes"]
    assert "Tingling or pins and needles?" not in sections["Answered no"]
    assert "Numbness or pins and needles between the legs or around the bottom?" in sections["Answered no"]


def test_without_a_logged_session_the_handoff_says_so(db, client, trainer_actor):
    saved = store.save_report(
        db, actor=trainer_actor, client_id=client.id, now=NOW, report=report_payload(pain_quality="stabbing")
    )
    summary = store.handoff_summary(db, actor=SYSTEM, referral_id=saved.referral_id, now=NOW)
    assert "No session logged on or before the day of the report." in handoff.handoff_markdown(summary)


def test_filename_names_the_referral_and_reference_not_the_client(referral):
    summary, _ = referral
    reference = summary.client_external_id.lower()
    assert handoff.handoff_filename(summary, "pdf") == f"backcare-handoff-{summary.referral_id}-{reference}.pdf"
    assert "ada" not in handoff.handoff_filename(summary, "txt").lower()


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
def test_handoff_pdf_prints_the_same_sections(referral, tmp_path: Path):
    summary, events = referral
    pdf = handoff.handoff_pdf(summary, events)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "h.pdf"
    path.write_bytes(pdf)
    text = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for expected in (
        "Referral handoff",
        "Findings (why the report was referred)",
        "Contact: tara@example.test",
        "Pain now: 6/10",
        "Session before the report",
        "Booked for Thursday",
    ):
        assert expected in text


def test_handoff_pdf_without_dejavu_prints_latin1_text(referral, monkeypatch, tmp_path):
    summary, events = referral
    monkeypatch.setattr(pdf_base, "DEJAVU_DIR", tmp_path / "no-fonts")
    monkeypatch.setattr(pdf_base, "COMPRESS", False)
    pdf = handoff.handoff_pdf(summary, events)
    assert b"Pain now: 6/10" in pdf and b"tara@example.test" in pdf
