"""A client's phone and e-mail on the pages: given when the client is added (under the one consent), shown
and changed on the history page, refused with the field named when wrong."""

from __future__ import annotations

from backcare import store
from tests.app_helpers import button, make_world, no_exception, texts


def by_label(widgets, label: str):
    (found,) = [w for w in widgets if w.label == label]
    return found


def test_a_new_client_is_added_with_a_phone_and_an_email_under_the_consent(tmp_path):
    world = make_world(tmp_path, client_name=None)
    at = world.page("pages/history.py").run()
    at.text_input(key="new_client_name").input("Maya Petrov")
    at.text_input(key="new_client_phone").input("+44 7700 900123")
    at.text_input(key="new_client_email").input("maya@example.org")
    consent = at.checkbox(key="new_client_consent")
    assert "phone or e-mail" in consent.label  # the one consent covers the contact too
    consent.check()
    button(at, "Add client").click().run()
    no_exception(at)
    (client,) = store.list_clients(world.db, actor=world.actor)
    assert (client.name, client.phone, client.email) == ("Maya Petrov", "+44 7700 900123", "maya@example.org")
    assert "Contact: +44 7700 900123 · maya@example.org" in [e.label for e in at.expander]


def test_a_wrong_phone_is_refused_naming_the_field_and_nobody_is_added(tmp_path):
    world = make_world(tmp_path, client_name=None)
    at = world.page("pages/history.py").run()
    at.text_input(key="new_client_name").input("Maya Petrov")
    at.text_input(key="new_client_phone").input("ring me")
    at.checkbox(key="new_client_consent").check()
    button(at, "Add client").click().run()
    no_exception(at)
    assert any(e.value.startswith("phone: a phone number has 6 to 15 digits") for e in at.error)
    assert store.list_clients(world.db, actor=world.actor) == []


def test_the_contact_is_changed_on_the_history_page(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/history.py").run()
    assert "Contact: no phone or e-mail recorded" in [e.label for e in at.expander]
    by_label(at.text_input, "Phone (optional)").input("0161 496 0000")
    by_label(at.text_input, "E-mail (optional)").input("not-an-address")
    button(at, "Save contact").click().run()
    assert any(e.value.startswith("email: an e-mail address looks like") for e in at.error)
    by_label(at.text_input, "E-mail (optional)").input("ada@example.org")
    button(at, "Save contact").click().run()
    no_exception(at)
    assert "Contact saved for Ada Lovelace." in texts(at)
    client = store.get_client(world.db, actor=world.actor, client_id=world.client.id)
    assert (client.phone, client.email) == ("0161 496 0000", "ada@example.org")
