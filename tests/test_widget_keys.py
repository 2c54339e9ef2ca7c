"""No widget that edits a chosen record keeps a key that is not derived from the record's id.

Each page is run in AppTest with records chosen (an open referral awaiting a clearance's confirmation, a
client with an active plan, a person and a client to erase on the admin page, ...). Every widget on the page
is then either one that does not edit a chosen record (navigation, a filter, a search, a chooser, a form that
creates a new record: listed below, each with its reason) or it must be keyed `<kind>-<id>-<field>` with the
id of a record chosen in that run (backcare.ui.keys.record_key). The test names every widget that breaks this.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Widget

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.store.records import ReferralStatus
from tests.conftest import report_payload
from tests.fast_hashing import fast_hashing  # noqa: F401  (autouse)

ROOT = Path(__file__).resolve().parents[1]

# Widgets that do not edit a chosen record, by key pattern. Every entry says why.
NOT_RECORD_EDITING: dict[str, str] = {
    # choosing, finding and adding a client (a new record); the chosen client is held by id (context.CLIENT_KEY)
    "client_query": "search box",
    "client_choice": "chooser: 'Use this client' holds the choice by id",
    "use_client": "chooser",
    "change_client": "navigation",
    "history_change_client": "navigation",
    "new_client_*": "creates a new client",
    "add_client": "creates a new client",
    # the triage form creates a new report; TriageForm keys it by a form id it renews for every client
    "q_*": "new report, keyed by its form id (renewed per client: tests/test_triage_form.py)",
    "triage_nav_*": "step bar of the new report",
    # the referral queue: filters, the list (each row opens its referral by id), the whole-queue CSV
    "ref_gym": "filter",
    "ref_statuses": "filter",
    "ref_show_all": "filter",
    "ref_queue_csv": "whole-queue CSV",
    # plans: browsing the library is not editing a record
    "library_plan": "chooser of a library plan (the library is not edited)",
    "library_stage": "chooser of the stage shown from the library (the library is not edited)",
    # admin: choosers, new people and gyms, the database rebuild
    "change_user": "chooser: holds the person by id",
    "new_username": "new person",
    "new_display_name": "new person",
    "new_role": "new person",
    "new_gym": "new person",
    "new_contact": "new person",
    "new_password": "new person",
    "new_gym_name": "new gym",
    "compact_button": "rebuilds the file, no record",
    "erase_query": "search box",
    "erase_target": "chooser: holds the client by id",
    "FormSubmitter:add_user-*": "new person",
    "FormSubmitter:add_gym-*": "new gym",
    # audit and trends: filters and whole-view downloads
    "audit_*": "filter or whole-view CSV",
    "tr_*": "filter",
    "csv_*": "aggregate CSV",
    # sign-in and the account box
    "signin_*": "sign-in",
    "signout": "sign-out",
    "oidc_*": "sign-in",
}


@dataclass
class Run:
    page: str
    at: AppTest
    chosen: dict[str, set[int]]  # kind -> ids of the records chosen in this run


def widgets(node) -> Iterator[Widget]:
    for child in getattr(node, "children", {}).values():
        if isinstance(child, Widget):
            yield child
        yield from widgets(child)


def free(key: str | None) -> bool:
    return key is not None and any(fnmatch.fnmatchcase(key, pattern) for pattern in NOT_RECORD_EDITING)


def breaches(run: Run) -> list[str]:
    """Every widget of the run that is neither listed as not editing a record nor keyed by a chosen record."""
    tokens = [f"{kind}-{record_id}-" for kind, ids in run.chosen.items() for record_id in ids]
    found = []
    for widget in widgets(run.at._tree):
        key = widget.key
        if free(key) or (key and any(token in key for token in tokens)):
            continue
        label = getattr(widget, "label", "") or getattr(widget.proto, "label", "")
        found.append(
            f"{run.page}: {widget.type} {label!r} has key {key!r}, not derived from the id of "
            f"the chosen {' or '.join(sorted(run.chosen))}"
        )
    return found


# --- the runs ---------------------------------------------------------------------------------------------


def _app(path: Path, script: str, actor: Actor, state: dict | None = None) -> AppTest:
    os.environ["BACKCARE_DB"] = str(path)
    at = AppTest.from_file(str(ROOT / script), default_timeout=30)
    at.session_state["actor"] = actor
    for name, value in (state or {}).items():
        at.session_state[name] = value
    return at.run()


@pytest.fixture
def world(tmp_path):
    """A gym, a trainer, two clients (one with an active plan, one with a referral seen by the clinic)."""
    path = tmp_path / "keys.duckdb"
    db = store.open_database(path)
    gym = store.create_gym(db, actor=SYSTEM, name="Riverside")
    trainer = store.actor_for(
        store.create_user(
            db, actor=SYSTEM, username="tara", display_name="Tara Trainer", role=Role.TRAINER, gym_id=gym.id
        )
    )
    clinic = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="cleo", display_name="Cleo Clinic", role=Role.CLINIC)
    )
    admin = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="ivan", display_name="Ivan Admin", role=Role.ADMIN)
    )
    # ids that differ between kinds, so a key can only match its own record
    for name in ("Filler One", "Filler Two", "Filler Three"):
        store.create_client(db, actor=trainer, gym_id=gym.id, name=name, consent_by="tara")
    well = store.create_client(
        db, actor=trainer, gym_id=gym.id, name="Wes Well", consent_by="tara", phone="+44 7700 900111"
    )
    today = store.utcnow().date()
    assignment = store.assign_plan(
        db, actor=trainer, client_id=well.id, plan_id="core", start_date=today, review_date=today + timedelta(days=14)
    )
    sore = store.create_client(db, actor=trainer, gym_id=gym.id, name="Maya Petrov", consent_by="tara")
    referral_id = store.save_report(
        db, actor=trainer, client_id=sore.id, report=report_payload(pain_quality="sharp")
    ).referral_id
    store.update_referral(db, actor=clinic, referral_id=referral_id, status="seen")
    yield dict(
        path=path,
        db=db,
        trainer=trainer,
        clinic=clinic,
        admin=admin,
        well=well,
        sore=sore,
        assignment=assignment,
        referral_id=referral_id,
    )
    db.close()


def referral_run(w) -> Run:
    rid = w["referral_id"]
    at = _app(w["path"], "pages/referrals.py", w["clinic"])
    at.button(key=f"referral-{rid}-open").click().run()
    # a clearance typed and awaiting its confirmation: every widget of the open referral is on the page
    at.radio(key=f"referral-{rid}-next").set_value(ReferralStatus.CLEARED_WITH_RESTRICTIONS)
    at.text_area(key=f"referral-{rid}-note").input("Assessed by the physio")
    at.text_input(key=f"referral-{rid}-restrictions").input("No heavy lifting for 2 weeks")
    next(b for b in at.button if b.label == "Record the change").click()
    at.run()
    assert at.button(key=f"referral-{rid}-confirm") is not None
    return Run("pages/referrals.py", at, {"referral": {rid}})


def plans_run(w) -> Run:
    at = _app(w["path"], "pages/plans.py", w["trainer"], {"client_id": w["well"].id})
    return Run("pages/plans.py", at, {"client": {w["well"].id}, "assignment": {w["assignment"].id}})


def history_run(w) -> Run:
    at = _app(w["path"], "pages/history.py", w["trainer"], {"client_id": w["well"].id})
    return Run("pages/history.py", at, {"client": {w["well"].id}})


def triage_run(w) -> Run:
    at = _app(w["path"], "pages/triage.py", w["trainer"], {"client_id": w["well"].id})
    return Run("pages/triage.py", at, {"client": {w["well"].id}})


def admin_run(w) -> Run:
    at = _app(w["path"], "pages/admin.py", w["admin"])
    tara = next(u for u in store.list_users(w["db"], actor=SYSTEM) if u.username == "tara")
    at.selectbox(key="change_user").set_value(tara.id).run()
    at.text_input(key="erase_query").input("Maya").run()
    at.radio(key="erase_target").set_value(w["sore"].id).run()  # the client to erase, held by id
    return Run("pages/admin.py", at, {"user": {tara.id}, "client": {w["sore"].id}})


def audit_run(w) -> Run:
    return Run("pages/audit.py", _app(w["path"], "pages/audit.py", w["admin"]), {})


RUNS: dict[str, Callable] = {
    "referrals": referral_run,
    "plans": plans_run,
    "history": history_run,
    "triage": triage_run,
    "admin": admin_run,
    "audit": audit_run,
}


@pytest.mark.parametrize("name", list(RUNS))
def test_every_widget_that_edits_a_chosen_record_is_keyed_by_its_id(world, name):
    run = RUNS[name](world)
    assert not run.at.exception, [e.value for e in run.at.exception]
    assert len(list(widgets(run.at._tree))) > 0
    found = breaches(run)
    assert not found, "\n".join(found)


def test_the_walk_finds_a_widget_keyed_by_name(world):
    """The check can fail: a record form keyed by a shared name is named."""
    at = _app(world["path"], "pages/audit.py", world["admin"])
    run = Run("pages/audit.py", at, {"user": {1}})
    widget = next(widgets(at._tree))
    widget.key = "role_role"  # as the admin page's role box was keyed before issue 11
    assert breaches(run)[0].startswith("pages/audit.py: ") and "'role_role'" in breaches(run)[0]
