"""Audit impersonation: account names the audit log uses for actors that are not people (the command
line, an unknown sign-in) are refused, whatever their case, through the store and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backcare import store
from backcare.auth import SYSTEM
from backcare.errors import InvalidInput
from backcare.store.people import RESERVED_USERNAMES

ROOT = Path(__file__).resolve().parents[2]
RESERVED = ["system", "SYSTEM", " System ", "anonymous", "Anonymous", "", "   ", "(empty)", "root", "ѕystem"]


@pytest.mark.parametrize("name", RESERVED)
def test_reserved_account_names_are_refused_by_the_store(db, gym, name):
    admin_b = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="gym.admin", display_name="G", role="admin", gym_id=gym.id)
    )
    for create in (store.add_user, store.create_user):
        with pytest.raises(InvalidInput) as refused:
            create(db, actor=admin_b, username=name, display_name="Someone", role="trainer", gym_id=gym.id)
        assert refused.value.field == "username"
    assert {u.username for u in store.list_users(db, actor=SYSTEM)} == {"gym.admin"}


def test_the_reserved_list_holds_the_names_the_audit_log_uses_for_non_people():
    from backcare.store.accounts import ANONYMOUS

    assert {SYSTEM.username, ANONYMOUS, ""} <= RESERVED_USERNAMES


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backcare", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input="a long enough password\n",
        timeout=120,
    )


@pytest.mark.parametrize("name", ["system", "Anonymous"])
def test_reserved_account_names_are_refused_on_the_command_line(tmp_path, name):
    path = tmp_path / "real.duckdb"
    init = run("init", "--admin", name, "--password-stdin", "--db", str(path))
    assert init.returncode != 0 and "username" in init.stderr and "Traceback" not in init.stderr
    assert not path.exists()

    assert run("init", "--admin", "owner", "--password-stdin", "--db", str(path)).returncode == 0
    added = run("users", "add", name, "--role", "admin", "--password-stdin", "--db", str(path))
    assert added.returncode != 0 and "username" in added.stderr and "Traceback" not in added.stderr
