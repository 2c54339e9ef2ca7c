"""Sessions and reports: logging, history-aware triage on save, referral and plans in one transaction."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backcare import store
from backcare.auth import SYSTEM
from backcare.errors import InvalidInput
from backcare.models import CauseId, Level, SessionIn
from backcare.store.records import ClientStatus
from tests.conftest import NOW, report_payload


def count(db, sql, params=()):
    return db.cursor().execute(sql, list(params)).fetchone()[0]


def save(db, actor, client, at=NOW, **answers):
    return store.save_report(db, actor=actor, client_id=client.id, report=report_payload(**answers), now=at)


# --- sessions ------------------------------------------------------------------------------------


def test_log_session_stores_it_and_lists_newest_first(db, client, trainer_actor):
    store.log_session(
        db,
        actor=trainer_actor,
        client_id=client.id,
        session=SessionIn(date=date(2025, 3, 1), minutes=45, rpe=6, exercises=("Deadlift", "plank")),
    )
    store.log_session(
        db,
        actor=trainer_actor,
        client_id=client.id,
        session={"date": "2025-03-03", "minutes": 30, "rpe": 4, "warmup_minutes": 8, "cooldown_done": True},
    )
    sessions = store.list_sessions(db, actor=trainer_actor, client_id=client.id)
    assert [s.date for s in sessions] == [date(2025, 3, 3), date(2025, 3, 1)]
    assert sessions[1].exercises == ("deadlift", "plank") and sessions[1].load == 270
    assert len(store.list_sessions(db, actor=trainer_actor, client_id=client.id, limit=1)) == 1
    assert count(db, "SELECT count(*) FROM audit_log WHERE action = 'session.log' AND outcome = 'ok'") == 2


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"minutes": 601}, "minutes"),
        ({"minutes": -1}, "minutes"),
        ({"rpe": 11}, "rpe"),
        ({"date": "2025-02-30"}, "date"),
    ],
)
def test_log_session_rejects_impossible_values(db, client, trainer_actor, bad, field):
    with pytest.raises(InvalidInput) as error:
        store.log_session(
            db, actor=trainer_actor, client_id=client.id, session={"date": "2025-03-01", "minutes": 30, "rpe": 5, **bad}
        )
    assert error.value.field == field


# --- saving reports --------------------------------------------------------------------------------


def test_save_report_stores_every_answer_and_the_result(db, client, trainer_actor):
    saved = save(db, trainer_actor, client, pain_score=5, context={"warmup_minutes": 2, "exercises": ["squat"]})
    row = store.get_report(db, actor=trainer_actor, report_id=saved.report_id)
    assert row.answers == {**row.answers, **report_payload(pain_score=5)}
    assert row.context.warmup_minutes == 2 and row.level == Level.MONITOR == saved.result.level
    assert row.result == saved.result and row.created_at == NOW and row.author == "tara"
    assert row.result.client_id == client.external_id
    assert (
        count(db, "SELECT count(*) FROM report_findings WHERE report_id = ? AND rule_id = 'M1'", [saved.report_id]) == 1
    )
    assert (
        count(
            db,
            "SELECT count(*) FROM report_causes WHERE report_id = ? AND cause = 'warm_up' AND rank = 1",
            [saved.report_id],
        )
        == 1
    )
    assert (
        count(
            db, "SELECT count(*) FROM audit_log WHERE action = 'report.save' AND entity_id = ?", [str(saved.report_id)]
        )
        == 1
    )


def test_save_report_refuses_without_consent(db, gym, trainer_actor):
    client = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="No Consent")
    with pytest.raises(InvalidInput) as error:
        save(db, trainer_actor, client)
    assert error.value.field == "consent"
    assert count(db, "SELECT count(*) FROM reports") == 0


def test_save_report_rejects_an_invalid_report_naming_the_field(db, client, trainer_actor):
    with pytest.raises(InvalidInput) as error:
        save(db, trainer_actor, client, pain_score=11)
    assert error.value.field == "pain_score"


@pytest.mark.parametrize(
    "answers, level",
    [
        ({"pain_quality": "sharp"}, Level.REFER),
        ({"fever_or_unwell": True}, Level.URGENT),
        ({"saddle_numbness": True}, Level.EMERGENCY),
    ],
)
def test_refer_and_above_open_a_referral_and_assign_no_plan(db, client, trainer_actor, answers, level):
    saved = store.save_report(
        db,
        actor=trainer_actor,
        client_id=client.id,
        report=report_payload(**answers, context={"warmup_minutes": 1}),
        assign_plans=[CauseId.WARM_UP],
        now=NOW,
    )
    assert saved.result.level == level and saved.referral_id is not None
    assert saved.assignment_ids == () and saved.skipped_plans == (CauseId.WARM_UP,)
    referral = store.get_referral(db, actor=trainer_actor, referral_id=saved.referral_id, now=NOW)
    assert (referral.level, referral.status, referral.report_id) == (level, "new", saved.report_id)
    assert [e.status for e in store.referral_events(db, actor=trainer_actor, referral_id=saved.referral_id)] == ["new"]


def test_normal_report_assigns_only_plans_the_result_allows(db, client, trainer_actor):
    saved = store.save_report(
        db,
        actor=trainer_actor,
        client_id=client.id,
        report=report_payload(context={"warmup_minutes": 2}),
        assign_plans=["warm_up", "core"],
        start_date=date(2025, 3, 10),
        review_days=10,
        now=NOW,
    )
    assert saved.result.level == Level.NORMAL and saved.referral_id is None
    assert saved.skipped_plans == (CauseId.CORE,)
    (plan,) = store.list_assignments(db, actor=trainer_actor, client_id=client.id)
    assert (plan.id, plan.plan_id, plan.report_id) == (saved.assignment_ids[0], CauseId.WARM_UP, saved.report_id)
    assert (plan.start_date, plan.review_date) == (date(2025, 3, 10), date(2025, 3, 20))


def test_plans_stay_paused_while_an_earlier_referral_is_open(db, client, trainer_actor):
    save(db, trainer_actor, client, at=NOW - timedelta(days=1), pain_quality="sharp")
    saved = store.save_report(
        db,
        actor=trainer_actor,
        client_id=client.id,
        report=report_payload(context={"warmup_minutes": 2}),
        assign_plans=["warm_up"],
        now=NOW,
    )
    assert saved.assignment_ids == () and saved.skipped_plans == (CauseId.WARM_UP,)


# --- history-aware triage ---------------------------------------------------------------------------


def test_worse_by_two_points_within_the_episode_is_refer(db, client, trainer_actor):
    save(db, trainer_actor, client, at=NOW - timedelta(days=2), pain_score=2)
    saved = save(db, trainer_actor, client, pain_score=4, hours_since_workout=30)
    assert saved.history.previous_pain_score == 2 and saved.history.episode_pain_scores == (2,)
    assert "R5" in [f.rule_id for f in saved.result.findings] and saved.result.level == Level.REFER


def test_a_slow_creep_2_3_4_within_the_episode_is_refer(db, client, trainer_actor):
    save(db, trainer_actor, client, at=NOW - timedelta(days=4), pain_score=2)
    third = save(db, trainer_actor, client, at=NOW - timedelta(days=2), pain_score=3, hours_since_workout=30)
    assert "R5" not in [f.rule_id for f in third.result.findings]  # one point up: not yet
    saved = save(db, trainer_actor, client, pain_score=4, hours_since_workout=30)
    assert saved.history.episode_pain_scores == (2, 3)
    assert "R5" in [f.rule_id for f in saved.result.findings] and saved.result.level == Level.REFER


def test_a_report_older_than_the_episode_is_not_the_previous_one(db, client, trainer_actor):
    save(db, trainer_actor, client, at=NOW - timedelta(days=8), pain_score=1)
    saved = save(db, trainer_actor, client, pain_score=3)
    assert saved.history.previous_pain_score is None and saved.history.episode_pain_scores == ()


def test_third_back_pain_report_in_28_days_is_recurring(db, client, trainer_actor):
    save(db, trainer_actor, client, at=NOW - timedelta(days=30), pain_score=2)  # outside the window
    save(db, trainer_actor, client, at=NOW - timedelta(days=20), pain_score=0)  # no pain: not counted
    save(db, trainer_actor, client, at=NOW - timedelta(days=20), pain_score=2)
    save(db, trainer_actor, client, at=NOW - timedelta(days=10), pain_score=2)
    saved = save(db, trainer_actor, client, pain_score=2)
    assert saved.history.prior_reports_28d == 2
    assert "M4" in [f.rule_id for f in saved.result.findings]
    assert store.triage_history(db, actor=trainer_actor, client_id=client.id, now=NOW).prior_reports_28d == 3


def test_a_load_spike_in_the_session_history_is_evidence_of_the_load_cause(db, client, trainer_actor):
    day = NOW.date()
    for offset, rpe in ((27, 3), (20, 3), (13, 3), (2, 9), (1, 9)):  # quiet weeks, then a hard fortnight's end
        store.log_session(
            db,
            actor=trainer_actor,
            client_id=client.id,
            session={"date": day - timedelta(days=offset), "minutes": 60, "rpe": rpe},
        )
    saved = save(db, trainer_actor, client)
    # 7-day load 1080; 28-day load 1620 -> 405 a week; 1080 / 405
    assert saved.history.acute_chronic_ratio == pytest.approx(1080 / 405, rel=1e-3)
    assert CauseId.LOAD in [c.cause for c in saved.result.causes]


# --- reading reports --------------------------------------------------------------------------------


def test_list_reports_is_the_audited_history_newest_first(db, client, trainer_actor):
    first = save(db, trainer_actor, client, at=NOW - timedelta(hours=5))
    second = save(db, trainer_actor, client)
    assert [r.id for r in store.list_reports(db, actor=trainer_actor, client_id=client.id)] == [
        second.report_id,
        first.report_id,
    ]
    assert count(db, "SELECT count(*) FROM audit_log WHERE action = 'client.history' AND outcome = 'ok'") == 1


def test_previous_report_of_episode_is_the_latest_within_seven_days(db, client, trainer_actor):
    save(db, trainer_actor, client, at=NOW - timedelta(days=9))
    wanted = save(db, trainer_actor, client, at=NOW - timedelta(days=3))
    save(db, trainer_actor, client, at=NOW + timedelta(hours=1))  # after: not previous
    found = store.previous_report_of_episode(db, actor=trainer_actor, client_id=client.id, before=NOW)
    assert found.id == wanted.report_id
    assert (
        store.previous_report_of_episode(db, actor=trainer_actor, client_id=client.id, before=NOW - timedelta(days=9))
        is None
    )  # strictly before


# --- client status ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers, hours_later, status",
    [
        ({}, 1, ClientStatus.CLEARED),
        ({"pain_score": 5}, 71, ClientStatus.MODIFIED),  # monitor within 72 h
        ({"pain_score": 5}, 73, ClientStatus.CLEARED),  # ... and after
        ({"pain_quality": "sharp"}, 1, ClientStatus.PAUSED_REFERRAL_OPEN),
        ({"fever_or_unwell": True}, 1, ClientStatus.URGENT_REFERRAL_OPEN),
        ({"chest_pain": True}, 1, ClientStatus.EMERGENCY_REFERRAL_OPEN),
    ],
)
def test_client_status_follows_reports(db, client, trainer_actor, answers, hours_later, status):
    save(db, trainer_actor, client, **answers)
    later = NOW + timedelta(hours=hours_later)
    assert store.client_status(db, actor=trainer_actor, client_id=client.id, now=later) == status
    (row,) = store.search_clients(db, actor=trainer_actor, query=client.name, now=later)
    assert row.status == status


def test_an_active_plan_makes_the_client_modified(db, client, trainer_actor):
    store.assign_plan(
        db,
        actor=trainer_actor,
        client_id=client.id,
        plan_id="core",
        start_date=date(2025, 3, 1),
        review_date=date(2025, 3, 15),
    )
    assert store.client_status(db, actor=trainer_actor, client_id=client.id) == ClientStatus.MODIFIED


# --- one report per form ------------------------------------------------------------------------------


def test_a_form_saved_twice_is_stored_once_and_the_second_save_names_the_first(db, client, trainer_actor):
    from backcare.errors import AlreadySaved

    first = store.save_report(
        db,
        actor=trainer_actor,
        client_id=client.id,
        now=NOW,
        submission="form-1",
        report=report_payload(pain_score=8, hours_since_workout=30),
        assign_plans=["core"],
    )
    with pytest.raises(AlreadySaved) as again:
        store.save_report(
            db,
            actor=trainer_actor,
            client_id=client.id,
            now=NOW,
            submission="form-1",
            report=report_payload(pain_score=8, hours_since_workout=30),
        )
    assert again.value.report_id == first.report_id and "not stored twice" in str(again.value)
    assert [r.id for r in store.list_reports(db, actor=trainer_actor, client_id=client.id)] == [first.report_id]
    assert len(store.list_referral_queue(db, actor=SYSTEM)) == 1
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'report.save'").fetchone() == (1,)
    other = store.save_report(
        db, actor=trainer_actor, client_id=client.id, now=NOW, submission="form-2", report=report_payload()
    )
    assert other.report_id != first.report_id


@pytest.mark.parametrize("token", ["", "x" * 65, 42])
def test_a_submission_token_must_be_a_short_string(db, client, trainer_actor, token):
    with pytest.raises(InvalidInput, match="submission"):
        store.save_report(db, actor=trainer_actor, client_id=client.id, report=report_payload(), submission=token)
    assert store.list_reports(db, actor=trainer_actor, client_id=client.id) == []


# --- not asked, the emergency stop and its completion -------------------------------------------------


def test_a_report_with_unanswered_questions_is_stored_as_not_asked_and_read_back_so(db, client, trainer_actor):
    saved = store.save_report(db, actor=trainer_actor, client_id=client.id, now=NOW, report={"saddle_numbness": True})
    with db.read() as cur:
        chest, pain, saddle = cur.execute(
            "SELECT chest_pain, pain_score, saddle_numbness FROM reports WHERE id = ?", [saved.report_id]
        ).fetchone()
    assert (chest, pain, saddle) == (None, None, True)  # NULL, not false
    row = store.get_report(db, actor=trainer_actor, report_id=saved.report_id)
    assert row.answers["chest_pain"] is None and row.pain_score is None
    assert row.not_asked == saved.result.not_asked and "chest_pain" in row.not_asked
    assert row.level == Level.EMERGENCY and row.answered_after_stop == ()


def test_an_emergency_save_opens_the_emergency_referral_and_pauses_the_client_in_one_transaction(
    db, client, trainer_actor
):
    saved = store.save_report(
        db, actor=trainer_actor, client_id=client.id, now=NOW, report={"collapse_or_tearing_pain": True}
    )
    referral = store.get_referral(db, actor=trainer_actor, referral_id=saved.referral_id, now=NOW)
    assert (referral.level, referral.status) == (Level.EMERGENCY, "new")
    assert (
        store.client_status(db, actor=trainer_actor, client_id=client.id, now=NOW)
        == ClientStatus.EMERGENCY_REFERRAL_OPEN
    )
    with db.read() as cur:  # one transaction: one audit row names the report and its referral
        (detail,) = cur.execute("SELECT detail FROM audit_log WHERE action = 'report.save'").fetchone()
    assert f'"referral_id": {saved.referral_id}' in detail


def test_the_remaining_answers_can_be_added_after_the_stop_and_the_record_keeps_which(db, client, trainer_actor):
    saved = store.save_report(
        db, actor=trainer_actor, client_id=client.id, now=NOW, report={"saddle_numbness": True, "chest_pain": False}
    )
    later = NOW + timedelta(minutes=30)
    row = store.complete_report(
        db,
        actor=trainer_actor,
        report_id=saved.report_id,
        now=later,
        answers={"pain_score": 8, "leg_symptoms": "one_leg", "pregnant": False},
        context={"warmup_minutes": 2},
    )
    assert row.answers["pain_score"] == 8 and row.answers["chest_pain"] is False
    assert row.answered_after_stop == ("leg_symptoms", "pregnant", "pain_score")  # registry order
    assert row.level == Level.EMERGENCY and row.context.warmup_minutes == 2
    assert {"E1", "R2", "R8", "X1"} <= {f.rule_id for f in row.result.findings}
    assert "pain_score" not in row.result.not_asked
    assert (
        count(db, "SELECT count(*) FROM report_findings WHERE report_id = ? AND rule_id = 'R8'", [saved.report_id]) == 1
    )
    row = store.complete_report(db, actor=trainer_actor, report_id=saved.report_id, answers={"tingling": True})
    assert row.answered_after_stop == ("leg_symptoms", "pregnant", "pain_score", "tingling")
    assert count(db, "SELECT count(*) FROM audit_log WHERE action = 'report.complete' AND outcome = 'ok'") == 2
    assert count(db, "SELECT count(*) FROM referrals") == 1  # the one emergency referral, unchanged


@pytest.mark.parametrize(
    "answers, error",
    [
        ({"chest_pain": True}, "already answered"),  # answered before the stop: never overwritten
        ({"saddle_numbness": False}, "already answered"),
        ({"colour": "red"}, "not a triage question"),
        ({"pain_score": 11}, "pain_score"),
        ({"pregnancy_warning_signs": True}, "only asked when pregnant"),
        ({}, "at least one answer"),
    ],
)
def test_only_answers_recorded_as_not_asked_can_be_added(db, client, trainer_actor, answers, error):
    from backcare.errors import BackCareError

    saved = store.save_report(
        db, actor=trainer_actor, client_id=client.id, now=NOW, report={"saddle_numbness": True, "chest_pain": False}
    )
    with pytest.raises(BackCareError, match=error):
        store.complete_report(db, actor=trainer_actor, report_id=saved.report_id, answers=answers)
    row = store.get_report(db, actor=trainer_actor, report_id=saved.report_id)
    assert row.answered_after_stop == () and row.answers["chest_pain"] is False


def test_only_a_report_saved_at_an_emergency_stop_can_be_completed(db, client, trainer_actor):
    from backcare.errors import Conflict

    saved = store.save_report(db, actor=trainer_actor, client_id=client.id, now=NOW, report={"pain_score": 2})
    with pytest.raises(Conflict, match="emergency stop"):
        store.complete_report(db, actor=trainer_actor, report_id=saved.report_id, answers={"chest_pain": False})


def test_completing_a_report_of_another_gym_is_refused_and_audited(db, client, trainer_actor):
    from backcare.auth import Role
    from backcare.errors import PermissionDenied

    saved = store.save_report(db, actor=trainer_actor, client_id=client.id, now=NOW, report={"chest_pain": True})
    other_gym = store.create_gym(db, actor=SYSTEM, name="Other Gym")
    stranger = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="sam", display_name="Sam", role=Role.TRAINER, gym_id=other_gym.id)
    )
    with pytest.raises(PermissionDenied):
        store.complete_report(db, actor=stranger, report_id=saved.report_id, answers={"pain_score": 3})
    assert count(db, "SELECT count(*) FROM audit_log WHERE action = 'report.complete' AND outcome = 'denied'") == 1


def test_the_age_the_rules_see_comes_from_the_clients_year_of_birth(db, client, trainer_actor):
    assert save(db, trainer_actor, client, pain_score=5).result.level == Level.MONITOR  # age not known
    store.set_year_of_birth(db, actor=trainer_actor, client_id=client.id, year_of_birth=NOW.year - 72)
    saved = save(db, trainer_actor, client, at=NOW + timedelta(days=10), pain_score=5, age=30)
    assert saved.result.level == Level.REFER and "R11" in [f.rule_id for f in saved.result.findings]
    assert store.get_report(db, actor=trainer_actor, report_id=saved.report_id).age == 72


def test_a_report_whose_pain_was_not_asked_still_counts_as_a_back_pain_report_for_m4(db, client, trainer_actor):
    store.save_report(
        db, actor=trainer_actor, client_id=client.id, now=NOW - timedelta(days=20), report={"chest_pain": True}
    )
    save(db, trainer_actor, client, at=NOW - timedelta(days=10), pain_score=2)
    saved = save(db, trainer_actor, client, pain_score=2)
    assert saved.history.prior_reports_28d == 2 and saved.history.episode_pain_scores == ()


def test_a_very_long_episode_keeps_its_lowest_and_latest_scores():
    from backcare.store.reports import EPISODE_SCORES_KEPT, kept_episode_scores

    scores = (5,) * 50 + (1,) + (4,) * 200 + (6,)
    kept = kept_episode_scores(scores)
    assert len(kept) == EPISODE_SCORES_KEPT and (min(kept), kept[-1]) == (1, 6)
    assert kept_episode_scores((2, 3)) == (2, 3)


def test_a_save_that_clashes_with_another_process_runs_again_and_stores_once(db, trainer_actor, client, monkeypatch):
    """Two processes saving reports of one client at once clash on the trends' rollup rows (PostgreSQL): the
    store runs the save again instead of asking the trainer to tap Save a second time."""
    from backcare.errors import Clash
    from backcare.store import rollups

    real = rollups.add_report
    calls = []

    def clash_once(cur, **report):
        calls.append(report["report_id"])
        if len(calls) == 1:
            raise Clash("Saving clashed with another change made at the same time: please try again.")
        return real(cur, **report)

    monkeypatch.setattr(rollups, "add_report", clash_once)
    saved = store.save_report(db, actor=trainer_actor, client_id=client.id, report=report_payload(), submission="f-1")
    assert len(calls) == 2
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM reports").fetchone() == (1,)
        assert cur.execute("SELECT report_id FROM report_submissions").fetchall() == [(saved.report_id,)]
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'report.save'").fetchone() == (1,)
