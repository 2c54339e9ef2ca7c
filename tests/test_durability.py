"""A process killed with SIGKILL mid-stream loses no committed report, and the file opens cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from backcare import store
from backcare.auth import SYSTEM

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 3
IDS_BEFORE_KILL = 25

CHILD = textwrap.dedent("""
    import sys
    from backcare import store
    from backcare.auth import SYSTEM
    db = store.open_database(sys.argv[1])
    client_id = int(sys.argv[2])
    payload = {"hours_since_workout": 20, "pain_score": 2, "pain_quality": "dull_ache", "trend": "easing",
               "eases_with_movement": True, "leg_symptoms": "none"}
    while True:
        saved = store.save_report(db, actor=SYSTEM, client_id=client_id, report=payload)
        print(saved.report_id, flush=True)  # only after the commit returned
""")


@pytest.mark.slow
def test_reports_printed_after_commit_survive_sigkill(tmp_path):
    path = tmp_path / "durable.duckdb"
    with store.open_database(path) as db:
        gym = store.create_gym(db, actor=SYSTEM, name="Durable Gym")
        client = store.create_client(db, actor=SYSTEM, gym_id=gym.id, name="Kim", consent_by="system")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    printed: set[int] = set()
    for round_ in range(ROUNDS):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), str(client.id)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            seen = 0
            deadline = time.monotonic() + 60
            while seen < IDS_BEFORE_KILL + round_ * 7 and time.monotonic() < deadline:
                line = child.stdout.readline()
                if not line:
                    break
                printed.add(int(line))
                seen += 1
            child.send_signal(signal.SIGKILL)  # mid-stream: the next save is probably in flight
            rest, errors = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
        printed.update(int(x) for x in rest.split())
        assert child.returncode == -signal.SIGKILL, errors
        assert seen >= IDS_BEFORE_KILL, f"round {round_}: the child printed only {seen} ids: {errors[-500:]}"

        with store.open_database(path) as db:  # opens cleanly: replays the WAL, migrations intact
            cur = db.cursor()
            stored = {i for (i,) in cur.execute("SELECT id FROM reports").fetchall()}
            assert printed <= stored, f"round {round_}: lost {sorted(printed - stored)[:10]}"
            saves = {
                int(i)
                for (i,) in cur.execute("SELECT entity_id FROM audit_log WHERE action = 'report.save'").fetchall()
            }
            assert saves == stored  # every stored report has its audit row, and nothing more
            assert db.applied_migrations()
