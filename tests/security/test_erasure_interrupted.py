"""An erasure killed at any point (issue 12, M5): after a restart it is finished (or, killed before the
deletion committed, rolled back), no copy of the file is left beside it, and the erased name is not in the
file's bytes. When the rebuild cannot be done at restart, the debt stays recorded, admins see it, and
`python -m backcare compact` pays it. Before the fix, 2 of 5 kill rounds left the name in the file and a
full `*.compact-<hex>` copy that nothing removed, and nothing said a rebuild was owed."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.cli import maintenance
from backcare.store import erasure
from tests.conftest import ERASED, KEPT, fill

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Actor(username="ivan", role=Role.ADMIN)

CHILD = textwrap.dedent("""
    import os, signal, sys
    from backcare import store
    from backcare.auth import Actor, Role
    from backcare.store import erasure

    path, client_id, point = sys.argv[1], int(sys.argv[2]), sys.argv[3]

    def stop_at(step):
        if step == point:
            os.kill(os.getpid(), signal.SIGKILL)

    erasure._step = stop_at
    db = store.open_database(path)
    store.erase_client(db, actor=Actor("ivan", Role.ADMIN), client_id=client_id)
    print("not killed", flush=True)
""")


@pytest.fixture
def file_with_two_clients(tmp_path):
    path = tmp_path / "erase.duckdb"
    with store.open_database(path) as db:
        gym = store.create_gym(db, actor=SYSTEM, name="Riverside")
        trainer = store.actor_for(
            store.create_user(db, actor=SYSTEM, username="tara", display_name="Tara", role=Role.TRAINER, gym_id=gym.id)
        )
        erased = store.create_client(db, actor=trainer, gym_id=gym.id, name=ERASED, consent_by="tara")
        kept = store.create_client(db, actor=trainer, gym_id=gym.id, name=KEPT, consent_by="tara")
        for client in (erased, kept):
            fill(db, trainer, client.id)
    return path, erased.id


def kill_during_erasure(path: Path, client_id: int, point: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(client_id), point],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, (child.stdout, child.stderr[-2000:])


def raw_bytes(path: Path) -> bytes:
    journal = path.with_name(path.name + ".wal")
    return path.read_bytes() + (journal.read_bytes() if journal.exists() else b"")


def copies(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.compact-*"))


@pytest.mark.parametrize("point", ["deleted", "copying", "copied", "closed", "swapped"])
def test_an_erasure_killed_after_the_deletion_is_finished_at_restart(file_with_two_clients, point):
    path, client_id = file_with_two_clients
    kill_during_erasure(path, client_id, point)
    if point in ("copying", "copied", "closed"):
        assert copies(path)  # the kill did leave a copy: the restart has something to clean

    with store.open_database(path) as db:  # the restart
        assert store.pending_rebuilds(db, actor=ADMIN) == []
        assert [c.name for c in store.list_clients(db, actor=SYSTEM)] == [KEPT]
    assert copies(path) == []
    raw = raw_bytes(path)
    assert ERASED.encode() not in raw and KEPT.encode() in raw


def test_an_erasure_killed_before_its_deletion_committed_is_rolled_back(file_with_two_clients):
    path, client_id = file_with_two_clients
    kill_during_erasure(path, client_id, "deleting")
    with store.open_database(path) as db:
        assert store.pending_rebuilds(db, actor=ADMIN) == []
        assert sorted(c.name for c in store.list_clients(db, actor=SYSTEM)) == sorted([ERASED, KEPT])
        assert store.list_reports(db, actor=SYSTEM, client_id=client_id)  # nothing half-deleted
    assert copies(path) == []


def refuse_rebuild_at_start(monkeypatch) -> None:
    """The rebuild done at start fails (a full disk, say); store.compact_database itself stays usable."""

    def refused(db):
        raise erasure.CompactionPending("the disk was full")

    monkeypatch.setattr(erasure, "compact_database", refused)


def test_a_rebuild_that_cannot_be_done_at_restart_stays_recorded_and_compact_finishes_it(
    file_with_two_clients, monkeypatch, capsys
):
    path, client_id = file_with_two_clients
    kill_during_erasure(path, client_id, "copying")
    refuse_rebuild_at_start(monkeypatch)
    for _ in range(2):  # the debt survives restarts
        with store.open_database(path) as db:
            (owed,) = store.pending_rebuilds(db, actor=ADMIN)
            assert owed.erased_by == "ivan"
        assert copies(path) == []
    monkeypatch.undo()

    parser = argparse.ArgumentParser()
    maintenance.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["compact", "--db", str(path)])
    assert args.func(args) == 0
    assert "Rebuilt" in capsys.readouterr().out
    with store.open_database(path) as db:
        assert store.pending_rebuilds(db, actor=ADMIN) == []
    assert ERASED.encode() not in raw_bytes(path)


def test_the_admin_page_shows_a_rebuild_still_owed_and_its_button_finishes_it(file_with_two_clients, monkeypatch):
    from streamlit.testing.v1 import AppTest

    path, client_id = file_with_two_clients
    kill_during_erasure(path, client_id, "deleted")
    refuse_rebuild_at_start(monkeypatch)
    monkeypatch.setenv("BACKCARE_DB", str(path))
    at = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=60)
    at.session_state["actor"] = ADMIN
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    owed = [w.value for w in at.warning if "still owed" in w.value]
    assert owed, [w.value for w in at.warning]
    (rebuild,) = [b for b in at.button if b.key == "compact_button"]
    rebuild.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [w.value for w in at.warning if "still owed" in w.value]
    assert any("rebuilt" in s.value for s in at.success)
