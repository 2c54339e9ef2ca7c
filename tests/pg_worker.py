"""One app process's worth of store traffic, for tests/test_postgres.py: opens the store on a PostgreSQL URL
(as an app process does with BACKCARE_DATABASE_URL), waits for the shared start time, then a trainer saves
reports (some with a form token the other process saves too) and the clinic moves one referral from new to
contacted, as a clinician in another process does at the same moment. Prints one JSON line of outcomes.

    python -m tests.pg_worker URL TRAINER CLIENT_ID REFERRAL_ID START_AT N
"""

from __future__ import annotations

import json
import sys
import time

from backcare import store
from backcare.auth import SYSTEM
from backcare.errors import AlreadySaved, Conflict
from tests.reports import NORMAL_REPORT


def main(argv: list[str]) -> int:
    url, trainer_name, client_id, referral_id, start_at, n = argv
    db = store.open_database(url)
    trainer = store.actor_for(store.get_user_by_username(db, username=trainer_name))
    report = {k: v for k, v in NORMAL_REPORT.items() if k != "client_id"}
    out: dict[str, list] = {"saved": [], "already": [], "clash_retried": [], "referral": []}
    time.sleep(max(0.0, float(start_at) - time.time()))  # both processes begin together
    try:
        store.update_referral(
            db,
            actor=SYSTEM,
            referral_id=int(referral_id),
            status="contacted",
            expected_status="new",
            note=f"rang them ({trainer_name})",
        )
        out["referral"].append("changed")
    except Conflict as error:
        out["referral"].append(f"refused: {error}")
    for i in range(int(n)):
        # even forms are this process's own; odd ones are the same form tapped in both processes
        token = f"{trainer_name}-{i}" if i % 2 == 0 else f"shared-{i}"
        for attempt in range(5):
            try:
                saved = store.save_report(db, actor=trainer, client_id=int(client_id), report=report, submission=token)
                out["saved"].append([token, saved.report_id])
                break
            except AlreadySaved:
                out["already"].append(token)
                break
            except Conflict:  # the other process saved at the same moment: try again, as the page says
                out["clash_retried"].append(token)
                time.sleep(0.01 * (attempt + 1))
    db.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
