"""Issue 13: a triage tap (a rerun of the page) reads the current client once, and after the first run reads
none of the client's data from the database (the read cache: store.db.ReadCache) until something is written."""

from __future__ import annotations

from backcare import intake, store
from backcare.ui import context
from tests.app_helpers import make_world, no_exception, set_widget, tap_next
from tests.test_read_cache import CountingCursor

CLIENT_TABLES = ("FROM clients", "FROM sessions", "FROM reports", "FROM referrals", "FROM assignments")


def test_a_triage_tap_reads_the_client_once_and_its_data_from_the_cache(tmp_path, monkeypatch):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    no_exception(at)
    page_db = context._HANDLES[str(world.path)]  # the pages' Database for this file
    assert page_db.read_cache is not None and page_db.read_cache.enabled
    queries: list[str] = []
    real = page_db._cursor
    monkeypatch.setattr(page_db, "_cursor", lambda: CountingCursor(real(), queries))
    reads: list[int] = []
    real_get = store.get_client
    monkeypatch.setattr(store, "get_client", lambda db, **kw: reads.append(kw["client_id"]) or real_get(db, **kw))

    first = intake.STEPS[0].questions[0]
    set_widget(at, f"q_{first.field}_0", intake.NO)  # one answer: one tap, one rerun
    at.run()
    no_exception(at)
    assert reads == [world.client.id]  # the sidebar and the picker share one read per run
    assert [q for q in queries if any(t in q for t in CLIENT_TABLES)] == []

    for question in intake.STEPS[0].questions[1:]:
        if question.asked_when is None:
            set_widget(at, f"q_{question.field}_0", intake.NO)
    reads.clear()
    tap_next(at)
    no_exception(at)
    assert reads == [world.client.id]
    assert [q for q in queries if any(t in q for t in CLIENT_TABLES)] == []
