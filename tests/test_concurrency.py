"""Many threads saving reports through one Database (one connection, a cursor per operation)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from backcare import store
from tests.conftest import report_payload

THREADS = 8
SAVES_PER_THREAD = 40


@pytest.mark.slow
def test_eight_threads_save_320_reports_without_error(db, client, trainer_actor):
    payloads = [report_payload(pain_score=n % 4) for n in range(SAVES_PER_THREAD)]

    def worker(_: int) -> list[int]:
        return [store.save_report(db, actor=trainer_actor, client_id=client.id, report=p).report_id for p in payloads]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        ids = [i for batch in pool.map(worker, range(THREADS)) for i in batch]

    cur = db.cursor()
    assert len(ids) == len(set(ids)) == THREADS * SAVES_PER_THREAD
    assert cur.execute("SELECT count(*) FROM reports").fetchone() == (THREADS * SAVES_PER_THREAD,)
    assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'report.save' AND outcome = 'ok'").fetchone() == (
        THREADS * SAVES_PER_THREAD,
    )
    assert cur.execute("SELECT count(DISTINCT entity_id) FROM audit_log WHERE action = 'report.save'").fetchone() == (
        THREADS * SAVES_PER_THREAD,
    )
