"""A client's phone and e-mail: optional, validated, kept only under the client's consent, shown in the
handoff, exported, and erased with the client."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest

from backcare import handoff, store
from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import InvalidInput
from backcare.store.export import export_database
from tests.conftest import NOW, report_payload

PHONE, EMAIL = "+44 7700 900461", "zeb.quux@example.org"
CLINIC = Actor(username="cleo", role=Role.CLINIC, gym_id=None)


def audit_details(db, action: str) -> list[str | None]:
    return [
        d
        for (d,) in db.cursor()
        .execute("SELECT detail FROM audit_log WHERE action = ? ORDER BY id", [action])
        .fetchall()
    ]


def test_a_new_client_may_come_with_a_phone_and_an_email(db, gym, trainer_actor):
    client = store.create_client(
        db, actor=trainer_actor, gym_id=gym.id, name="Zeb Quux", consent_by="tara", phone=f"  {PHONE} ", email=EMAIL
    )
    assert (client.phone, client.email) == (PHONE, EMAIL)
    again = store.get_client(db, actor=trainer_actor, client_id=client.id)
    assert (again.phone, again.email) == (PHONE, EMAIL)


def test_both_are_optional_and_a_blank_box_is_not_given(db, gym, trainer_actor):
    client = store.create_client(
        db, actor=trainer_actor, gym_id=gym.id, name="Zeb Quux", consent_by="tara", phone="", email="   "
    )
    assert (client.phone, client.email) == (None, None)


@pytest.mark.parametrize(
    "field, phone, email",
    [
        ("phone", "12 34", None),  # too few digits
        ("phone", "call me maybe", None),  # not a number
        ("phone", "+44 7700 900461 123456", None),  # more digits than any number has
        ("email", None, "zeb.example.org"),
        ("email", None, "zeb@example"),
        ("email", None, "zeb quux@example.org"),
    ],
)
def test_a_wrong_phone_or_email_is_refused_naming_the_field(db, gym, trainer_actor, field, phone, email):
    with pytest.raises(InvalidInput) as error:
        store.create_client(
            db, actor=trainer_actor, gym_id=gym.id, name="Zeb Quux", consent_by="tara", phone=phone, email=email
        )
    assert error.value.field == field
    assert db.cursor().execute("SELECT count(*) FROM clients").fetchone() == (0,)


def test_a_contact_is_kept_only_with_the_clients_consent(db, gym, trainer_actor):
    with pytest.raises(InvalidInput, match="consent"):
        store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Zeb Quux", phone=PHONE)
    client = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Zeb Quux")  # no consent yet
    with pytest.raises(InvalidInput) as error:
        store.set_client_contact(db, actor=trainer_actor, client_id=client.id, email=EMAIL)
    assert error.value.field == "consent"
    assert store.get_client(db, actor=trainer_actor, client_id=client.id).email is None
    store.record_consent(db, actor=trainer_actor, client_id=client.id)
    assert store.set_client_contact(db, actor=trainer_actor, client_id=client.id, email=EMAIL).email == EMAIL


def test_the_contact_can_be_changed_and_cleared_and_the_audit_never_holds_it(db, gym, trainer_actor):
    client = store.create_client(
        db, actor=trainer_actor, gym_id=gym.id, name="Zeb Quux", consent_by="tara", phone=PHONE
    )
    changed = store.set_client_contact(db, actor=trainer_actor, client_id=client.id, phone=None, email=EMAIL)
    assert (changed.phone, changed.email) == (None, EMAIL)
    cleared = store.set_client_contact(db, actor=trainer_actor, client_id=client.id, phone="", email="")
    assert (cleared.phone, cleared.email) == (None, None)
    details = audit_details(db, "client.contact") + audit_details(db, "client.create")
    assert details[:2] == ['{"email": true, "phone": false}', '{"email": false, "phone": false}']
    assert not any(PHONE in (d or "") or EMAIL in (d or "") for d in details)


def test_only_those_who_may_change_the_client_may_change_the_contact(db, gym, client):
    from backcare.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        store.set_client_contact(db, actor=CLINIC, client_id=client.id, phone=PHONE)


@pytest.fixture
def referral(db, gym, trainer_actor):
    client = store.create_client(
        db, actor=trainer_actor, gym_id=gym.id, name="Zeb Quux", consent_by="tara", phone=PHONE, email=EMAIL
    )
    saved = store.save_report(
        db, actor=trainer_actor, client_id=client.id, now=NOW, report=report_payload(pain_quality="sharp")
    )
    return client, saved.referral_id


def test_the_handoff_shows_how_to_reach_the_client_and_the_trainer_by_name(db, referral):
    _, referral_id = referral
    summary = store.handoff_summary(db, actor=CLINIC, referral_id=referral_id, now=NOW)
    assert (summary.client_phone, summary.client_email) == (PHONE, EMAIL)
    sections = {s.heading: s.lines for s in handoff.handoff_sections(summary)}
    assert f"Phone: {PHONE}" in sections["Client"] and f"E-mail: {EMAIL}" in sections["Client"]
    assert sections["Trainer"] == ("Tara Trainer", "Contact: tara@example.test")


def test_the_handoff_says_when_no_contact_was_recorded(db, client, trainer_actor):
    saved = store.save_report(
        db, actor=trainer_actor, client_id=client.id, now=NOW, report=report_payload(pain_quality="sharp")
    )
    summary = store.handoff_summary(db, actor=CLINIC, referral_id=saved.referral_id, now=NOW)
    client_lines = {s.heading: s.lines for s in handoff.handoff_sections(summary)}["Client"]
    assert "Phone or e-mail: not recorded; ask the trainer" in client_lines


def test_the_handoff_names_the_trainer_by_their_account_even_after_a_rename(db, referral):
    _, referral_id = referral
    db.cursor().execute(
        "UPDATE users SET username = 'tara.t', display_name = 'Tara Tamsin', "
        "contact = '+44 20 7946 0000' WHERE username = 'tara'"
    )
    summary = store.handoff_summary(db, actor=CLINIC, referral_id=referral_id, now=NOW)
    assert (summary.trainer_name, summary.trainer_contact) == ("Tara Tamsin", "+44 20 7946 0000")


def test_the_export_includes_the_contact(db, referral, tmp_path):
    client, _ = referral
    export_database(db, actor=SYSTEM, directory=tmp_path)
    with open(tmp_path / "clients.csv", newline="") as handle:
        rows = {int(r["id"]): r for r in csv.DictReader(handle)}
    assert (rows[client.id]["phone"], rows[client.id]["email"]) == (PHONE, EMAIL)


def test_erasing_the_client_erases_the_contact_from_the_file(db, referral):
    client, _ = referral
    store.erase_client(
        db, actor=Actor(username="ivan", role=Role.ADMIN), client_id=client.id, now=NOW + timedelta(hours=1)
    )
    path = db.path
    db.close()
    raw = path.read_bytes()
    assert PHONE.encode() not in raw and EMAIL.encode() not in raw


def test_before_erasure_the_file_does_hold_the_contact(db, referral):
    path = db.path
    db.close()
    raw = path.read_bytes()
    assert PHONE.encode() in raw and EMAIL.encode() in raw


def test_the_printed_handoff_carries_the_contact_too(db, referral, monkeypatch, tmp_path):
    from backcare import pdf as pdf_base

    _, referral_id = referral
    summary = store.handoff_summary(db, actor=CLINIC, referral_id=referral_id, now=NOW)
    monkeypatch.setattr(pdf_base, "DEJAVU_DIR", tmp_path / "no-fonts")  # latin-1 text, uncompressed: searchable
    monkeypatch.setattr(pdf_base, "COMPRESS", False)
    pdf = handoff.handoff_pdf(summary)
    assert PHONE.encode() in pdf and EMAIL.encode() in pdf and b"Tara Trainer" in pdf
