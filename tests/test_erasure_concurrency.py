"""Erasure while other sessions read, and the failures of the rebuild: the deletion always commits, the
store always keeps a working connection, no copy of the data is left behind, and a later rebuild finishes
the job."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import BackCareError, StoreError
from backcare.store import erasure
from tests.conftest import ERASED, KEPT
from tests.test_erasure import rows_of


@pytest.fixture
def admin():
    return Actor(username="ivan", role=Role.ADMIN)


def leftovers(db) -> list:
    return list(db.path.parent.glob(f"{db.path.name}.compact-*"))


def assert_store_works(db, gym, trainer_actor) -> None:
    assert [c.name for c in store.list_clients(db, actor=SYSTEM)] == [KEPT]
    store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="After Erase", consent_by="tara")
    assert "After Erase" in [c.name for c in store.list_clients(db, actor=SYSTEM)]


def assert_name_gone_after_rebuild(db) -> None:
    store.compact_database(db)
    path = db.path
    db.close()
    raw = path.read_bytes() + (
        path.with_name(path.name + ".wal").read_bytes() if path.with_name(path.name + ".wal").exists() else b""
    )
    assert ERASED.encode() not in raw and KEPT.encode() in raw


class _Proxy:
    """Stands in for a duckdb connection or cursor, overriding some methods."""

    def __init__(self, real, **overrides):
        self._real = real
        self.__dict__.update(overrides)

    def __getattr__(self, name):
        return getattr(self._real, name)


def test_erasure_with_another_thread_reading_all_the_time(db, gym, two_clients, admin, trainer_actor):
    erased, _ = two_clients
    stop = threading.Event()
    unexpected: list[BaseException] = []

    def reader():
        deadline = time.monotonic() + 30
        for _ in range(5000):  # bounded: stops by itself even if the erasure hangs
            if stop.is_set() or time.monotonic() > deadline:
                return
            try:
                store.list_clients(db, actor=trainer_actor)
            except BackCareError:
                pass  # "please try again" during the swap is allowed
            except BaseException as error:  # noqa: BLE001
                unexpected.append(error)
            time.sleep(0.005)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        try:
            receipt = store.erase_client(db, actor=admin, client_id=erased.id)
            assert receipt.compacted
        except erasure.CompactionPending as pending:
            assert "erasure itself is saved" in str(pending) and pending.receipt is not None
    finally:
        stop.set()
        thread.join(timeout=35)
    assert not thread.is_alive() and unexpected == []
    assert set(rows_of(db, erased.id).values()) == {0}
    assert not leftovers(db)
    assert_store_works(db, gym, trainer_actor)
    assert_name_gone_after_rebuild(db)


def test_checkpoint_refused_a_few_times_is_retried(db, two_clients, admin, monkeypatch):
    erased, _ = two_clients
    monkeypatch.setattr(erasure, "CHECKPOINT_PAUSE", 0)
    refusals = {"left": 3}
    real_cursor = db.cursor

    def cursor():
        real = real_cursor()

        def execute(sql, *args):
            if sql.strip().upper() == "CHECKPOINT" and refusals["left"]:
                refusals["left"] -= 1
                raise duckdb.TransactionException("Cannot CHECKPOINT: other transactions are active")
            return real.execute(sql, *args)

        return _Proxy(real, execute=execute)

    monkeypatch.setattr(db, "cursor", cursor)
    receipt = store.erase_client(db, actor=admin, client_id=erased.id)
    assert receipt.compacted and refusals["left"] == 0
    monkeypatch.undo()
    assert_name_gone_after_rebuild(db)


def test_checkpoint_refused_every_time_leaves_the_deletion_saved_and_a_rebuild_to_do(
    db, gym, two_clients, admin, trainer_actor, monkeypatch
):
    erased, _ = two_clients
    monkeypatch.setattr(erasure, "CHECKPOINT_PAUSE", 0)
    real_cursor = db.cursor

    def cursor():
        real = real_cursor()

        def execute(sql, *args):
            if sql.strip().upper() == "CHECKPOINT":
                raise duckdb.TransactionException("Cannot CHECKPOINT: other transactions are active")
            return real.execute(sql, *args)

        return _Proxy(real, execute=execute)

    monkeypatch.setattr(db, "cursor", cursor)
    with pytest.raises(erasure.CompactionPending, match="erasure itself is saved") as raised:
        store.erase_client(db, actor=admin, client_id=erased.id)
    assert "python -m backcare compact" in str(raised.value)
    assert raised.value.receipt.rows_deleted["clients"] == 1 and not raised.value.receipt.compacted
    monkeypatch.undo()
    assert set(rows_of(db, erased.id).values()) == {0}
    assert not leftovers(db)
    assert_store_works(db, gym, trainer_actor)
    assert_name_gone_after_rebuild(db)


@pytest.mark.parametrize("really_closes", [False, True], ids=["close-refused", "close-half-done"])
def test_close_failing_during_the_swap_keeps_a_working_store_and_no_copy(
    db, gym, two_clients, admin, trainer_actor, really_closes
):
    erased, _ = two_clients
    real = db.connection

    def close():
        if really_closes:
            real.close()
        raise duckdb.Error("Cannot close the connection: a query of another thread is running")

    db.replace_connection(_Proxy(real, close=close))
    with pytest.raises(erasure.CompactionPending, match="erasure itself is saved"):
        store.erase_client(db, actor=admin, client_id=erased.id)
    assert not leftovers(db)
    assert set(rows_of(db, erased.id).values()) == {0}
    assert_store_works(db, gym, trainer_actor)
    if not really_closes:
        db.replace_connection(real)
    assert_name_gone_after_rebuild(db)


def test_compaction_pending_is_a_store_error_with_the_retry_hint():
    pending = erasure.CompactionPending("busy")
    assert isinstance(pending, StoreError) and "python -m backcare compact" in str(pending)


def test_close_refused_a_few_times_is_retried_and_the_rebuild_completes(db, gym, two_clients, admin, trainer_actor):
    erased, _ = two_clients
    real = db.connection
    refusals = {"left": 2}

    def close():
        if refusals["left"]:
            refusals["left"] -= 1
            raise duckdb.Error("Cannot close the connection: a query of another thread is running")
        real.close()

    db.replace_connection(_Proxy(real, close=close))
    receipt = store.erase_client(db, actor=admin, client_id=erased.id)
    assert receipt.compacted and refusals["left"] == 0 and db.connection is not real
    assert not leftovers(db)
    assert_store_works(db, gym, trainer_actor)
    path = db.path
    db.close()
    assert ERASED.encode() not in path.read_bytes()
