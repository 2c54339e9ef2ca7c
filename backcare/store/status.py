"""Client status, derived from the data: by SQL (STATUS_CTES) so lists compute it for many clients in one
query, by ONE_CLIENT_STATUS for one client's record, and by status_of() over rows the history page reads
anyway. Tests hold the three equal (tests/test_store_reports.py, tests/test_history_round_trips.py). The rules:

- emergency_referral_open: a referral at level `emergency` that is not cleared;
- urgent_referral_open: else a referral at level `urgent` that is not cleared (a doctor within 24 hours);
- paused_referral_open: any other referral not cleared (not_cleared included): loading plans pause;
- modified: a `monitor` result in the last 72 hours, or an active plan;
- cleared: none of those.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from backcare.auth import Action, Actor
from backcare.store._base import client_gym, guard
from backcare.store.db import Database, utcnow
from backcare.store.records import CLEARED_STATUSES, ClientStatus

MONITOR_WINDOW = timedelta(hours=72)


def status_ctes(scope_sql: str | None = None) -> str:
    """The CTEs that give `client_flags` (client_id, status) for every client, or only for the clients whose
    id `scope_sql` selects: a search of 25 clients then reads 25 clients' referrals, reports and plans, not
    the whole chain's. Named parameter: $monitor_since (now - 72 h). Join as:
        LEFT JOIN client_flags AS flags ON flags.client_id = c.id"""
    only = "" if scope_sql is None else f" AND client_id IN ({scope_sql})"
    clients = "" if scope_sql is None else f" WHERE c.id IN ({scope_sql})"
    return f"""
open_referrals AS (
    SELECT client_id, bool_or(level = 'emergency') AS emergency, bool_or(level = 'urgent') AS urgent
    FROM referrals WHERE status NOT IN ('cleared', 'cleared_with_restrictions'){only}
    GROUP BY client_id
),
recent_monitor AS (
    SELECT DISTINCT client_id FROM reports WHERE level = 'monitor' AND created_at >= $monitor_since{only}
),
active_plans AS (
    SELECT DISTINCT client_id FROM assignments WHERE status = 'active'{only}
),
client_flags AS (
    SELECT c.id AS client_id,
           CASE WHEN o.emergency THEN 'emergency_referral_open'
                WHEN o.urgent THEN 'urgent_referral_open'
                WHEN o.client_id IS NOT NULL THEN 'paused_referral_open'
                WHEN m.client_id IS NOT NULL OR p.client_id IS NOT NULL THEN 'modified'
                ELSE 'cleared' END AS status
    FROM clients AS c
    LEFT JOIN open_referrals AS o ON o.client_id = c.id
    LEFT JOIN recent_monitor AS m ON m.client_id = c.id
    LEFT JOIN active_plans AS p ON p.client_id = c.id{clients}
)"""


STATUS_CTES = status_ctes()


def status_params(now: datetime | None = None) -> dict:
    return {"monitor_since": (now or utcnow()) - MONITOR_WINDOW}


# The same rules as STATUS_CTES for one client, reading only that client's rows: one aggregate per table
# rather than one EXISTS per rule, since every read of a client's record pays for it.
ONE_CLIENT_STATUS = """
SELECT CASE WHEN open.emergency THEN 'emergency_referral_open'
            WHEN open.urgent THEN 'urgent_referral_open'
            WHEN open.referrals > 0 THEN 'paused_referral_open'
            WHEN monitor.reports > 0 OR plans.active > 0 THEN 'modified'
            ELSE 'cleared' END
FROM (SELECT coalesce(bool_or(level = 'emergency'), false) AS emergency,
             coalesce(bool_or(level = 'urgent'), false) AS urgent, count(*) AS referrals
      FROM referrals WHERE client_id = $client_id AND status NOT IN ('cleared', 'cleared_with_restrictions')) AS open,
     (SELECT count(*) AS reports FROM reports
      WHERE client_id = $client_id AND level = 'monitor' AND created_at >= $monitor_since) AS monitor,
     (SELECT count(*) AS active FROM assignments WHERE client_id = $client_id AND status = 'active') AS plans
"""


def status_of(open_referral_levels: Iterable[str], recent_monitor: bool, active_plan: bool) -> ClientStatus:
    """The same rules as ONE_CLIENT_STATUS over rows a caller has read anyway: the levels of the client's
    referrals not cleared (all of them), whether a `monitor` report falls in MONITOR_WINDOW, whether a plan is
    active. The history page reads those rows for its panels, and the status subquery's three scans were the
    largest part of its client statement on DuckDB (issue 13); tests/test_history_round_trips.py holds this
    equal to the SQL for every status."""
    levels = set(open_referral_levels)
    if "emergency" in levels:
        return ClientStatus.EMERGENCY_REFERRAL_OPEN
    if "urgent" in levels:
        return ClientStatus.URGENT_REFERRAL_OPEN
    if levels:
        return ClientStatus.PAUSED_REFERRAL_OPEN
    if recent_monitor or active_plan:
        return ClientStatus.MODIFIED
    return ClientStatus.CLEARED


def is_open_referral(status: str) -> bool:
    """A referral that is not cleared (not_cleared included) keeps the client's loading plans paused."""
    return status not in CLEARED_STATUSES


def client_status_in(cur, client_id: int, now: datetime | None = None) -> ClientStatus:
    """The status inside an open cursor/transaction (no permission check: callers have done it)."""
    (status,) = cur.execute(ONE_CLIENT_STATUS, {**status_params(now), "client_id": client_id}).fetchone()
    return ClientStatus(status)


def client_status(db: Database, *, actor: Actor, client_id: int, now: datetime | None = None) -> ClientStatus:
    gym_id = client_gym(db, client_id)
    guard(
        db,
        actor,
        Action.CLIENT_READ,
        gym_id,
        attempt="client.status",
        entity="clients",
        entity_id=client_id,
        also=(Action.REFERRAL_READ,),
    )
    with db.read("reading the client's status") as cur:
        return client_status_in(cur, client_id, now)
