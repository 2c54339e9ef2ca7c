"""The history page's reads: pain per day, weekly load with the ratio, a client's referrals, the bundle."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from backcare import store
from backcare.auth import Actor, Role
from backcare.errors import InvalidInput, PermissionDenied
from backcare.models import TriageReport
from tests.conftest import report_payload

ON = date(2025, 3, 10)


def log(db, actor, client, day: date, minutes: float, rpe: float):
    return store.log_session(
        db, actor=actor, client_id=client.id, session={"date": day, "minutes": minutes, "rpe": rpe}
    )


def save(db, actor, client, at: datetime, **answers):
    return store.save_report(
        db, actor=actor, client_id=client.id, report=TriageReport.model_validate(report_payload(**answers)), now=at
    )


def test_pain_by_day_is_one_row_per_day_with_the_worst_and_latest_score(db, trainer_actor, client):
    save(db, trainer_actor, client, datetime(2025, 3, 8, 9), pain_score=5)
    save(db, trainer_actor, client, datetime(2025, 3, 8, 18), pain_score=2)
    save(db, trainer_actor, client, datetime(2025, 3, 9, 9), pain_score=1)
    save(db, trainer_actor, client, datetime(2024, 1, 1, 9), pain_score=9)  # outside the window
    days = store.pain_by_day(db, actor=trainer_actor, client_id=client.id, days=30, on=ON)
    assert [(d.day, d.reports, d.worst_pain, d.last_pain, d.worst_level) for d in days] == [
        (date(2025, 3, 8), 2, 5, 2, "monitor"),
        (date(2025, 3, 9), 1, 1, 1, "monitor"),  # the third report in 28 days: recurring (M4)
    ]


def test_weekly_load_band_sums_each_week_and_marks_a_spike(db, trainer_actor, client):
    # three steady weeks of 200 AU, then a week of 900 AU (after one early session 5 weeks back, so the
    # history is old enough for the ratio; it falls outside the 28-day window)
    log(db, trainer_actor, client, ON - timedelta(days=35), 10, 1)
    for weeks_back in (3, 2, 1):
        log(db, trainer_actor, client, ON - timedelta(days=7 * weeks_back), 40, 5)
    log(db, trainer_actor, client, ON, 90, 10)
    band = store.weekly_load_band(db, actor=trainer_actor, client_id=client.id, weeks=4, on=ON)
    assert [w.week_end for w in band] == [ON - timedelta(days=7 * k) for k in (3, 2, 1, 0)]
    assert [w.load for w in band] == [200, 200, 200, 900]
    assert [w.sessions for w in band] == [1, 1, 1, 1]
    last = band[-1]
    assert last.chronic_weekly_load == pytest.approx(1500 / 4)
    assert last.ratio == pytest.approx(900 / 375) and last.spike
    assert not band[-2].spike


def test_weekly_load_band_without_sessions_has_no_ratio(db, trainer_actor, client):
    band = store.weekly_load_band(db, actor=trainer_actor, client_id=client.id, weeks=2, on=ON)
    assert [(w.load, w.ratio, w.spike) for w in band] == [(0, None, False), (0, None, False)]


@pytest.mark.parametrize("weeks", [0, 157])
def test_weekly_load_band_refuses_odd_windows(db, trainer_actor, client, weeks):
    with pytest.raises(InvalidInput):
        store.weekly_load_band(db, actor=trainer_actor, client_id=client.id, weeks=weeks, on=ON)


def test_client_referrals_newest_first_and_open_only(db, trainer_actor, client):
    save(db, trainer_actor, client, datetime(2025, 3, 1, 9), pain_quality="sharp")
    save(db, trainer_actor, client, datetime(2025, 3, 5, 9), chest_pain=True)
    everything = store.client_referrals(db, actor=trainer_actor, client_id=client.id)
    assert [r.level.value for r in everything] == ["emergency", "refer"]
    first = everything[1]
    clinic = _clinic(db, client)
    for status in ("seen", "cleared"):
        store.update_referral(db, actor=clinic, referral_id=first.id, status=status, note="Fit to train")
    still_open = store.client_referrals(db, actor=trainer_actor, client_id=client.id, open_only=True)
    assert [r.level.value for r in still_open] == ["emergency"]


def _clinic(db, client) -> Actor:
    from backcare.auth import SYSTEM

    user = store.create_user(
        db, actor=SYSTEM, username="cleo", display_name="Cleo Clinic", role=Role.CLINIC, gym_id=client.gym_id
    )
    return store.actor_for(user)


def test_history_of_another_gyms_client_is_refused(db, client):
    from backcare.auth import SYSTEM

    other = store.create_gym(db, actor=SYSTEM, name="Elsewhere")
    stranger = Actor(username="sam", role=Role.TRAINER, gym_id=other.id, user_id=99)
    with pytest.raises(PermissionDenied):
        store.client_history(db, actor=stranger, client_id=client.id)


def test_client_history_bundles_the_page_and_audits_only_when_asked(db, trainer_actor, client):
    log(db, trainer_actor, client, ON, 30, 4)
    save(db, trainer_actor, client, datetime(2025, 3, 9, 9), pain_score=2)

    def history_views() -> int:
        with db.read() as cur:
            return cur.execute(
                "SELECT count(*) FROM audit_log WHERE action = 'client.history' AND outcome = 'ok'"
            ).fetchone()[0]

    bundle = store.client_history(db, actor=trainer_actor, client_id=client.id, audit=False, on=ON)
    assert history_views() == 0
    assert bundle.client.id == client.id and bundle.status == store.ClientStatus.CLEARED
    assert len(bundle.sessions) == 1 and len(bundle.reports) == 1 and len(bundle.load) == 12
    assert bundle.load[-1].load == 120 and [d.worst_pain for d in bundle.pain] == [2]
    store.client_history(db, actor=trainer_actor, client_id=client.id, on=ON)
    assert history_views() == 1
