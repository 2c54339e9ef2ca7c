"""Demo history: deterministic for a seed, every level, plan status and referral status, via the rules."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from backcare.auth import Role, verify_password
from backcare.errors import Conflict
from backcare.models import Level, TriageHistory, TriageReport
from backcare.rules import evaluate
from backcare.store.db import open_database
from backcare.store.demo import DEMO_PASSWORD, build_demo, ensure_demo_database

NOW = datetime(2026, 3, 2, 12, 0)
SMALL = {"clients": 25, "weeks": 10}
COMPARED = (
    "gyms",
    "clients",
    "sessions",
    "reports",
    "report_findings",
    "report_causes",
    "assignments",
    "referrals",
    "referral_events",
)


@pytest.fixture
def demo_db(tmp_path):
    db = open_database(tmp_path / "demo.duckdb")
    summary = build_demo(db, seed=3, now=NOW, **SMALL)
    yield db, summary
    db.close()


def rows(db, sql: str) -> list[tuple]:
    with db.read() as cur:
        return cur.execute(sql).fetchall()


def values(db, sql: str) -> set:
    return {r[0] for r in rows(db, sql)}


def snapshot(db) -> dict[str, list[tuple]]:
    return {t: rows(db, f"SELECT * FROM {t} ORDER BY ALL") for t in COMPARED}


def test_the_same_seed_and_clock_give_the_same_history(demo_db, tmp_path):
    db, _ = demo_db
    with open_database(tmp_path / "again.duckdb") as again:
        build_demo(again, seed=3, now=NOW, **SMALL)
        assert snapshot(again) == snapshot(db)


def test_another_seed_gives_another_history(demo_db, tmp_path):
    db, _ = demo_db
    with open_database(tmp_path / "other.duckdb") as other:
        build_demo(other, seed=4, now=NOW, **SMALL)
        assert rows(other, "SELECT * FROM sessions ORDER BY ALL") != rows(db, "SELECT * FROM sessions ORDER BY ALL")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT DISTINCT level FROM reports", {level.value for level in Level}),
        ("SELECT DISTINCT status FROM assignments", {"active", "completed", "stopped"}),
        (
            "SELECT DISTINCT status FROM referrals",
            {"new", "contacted", "seen", "cleared", "cleared_with_restrictions", "not_cleared"},
        ),
        ("SELECT DISTINCT role FROM users", {"trainer", "clinic", "manager", "admin"}),
    ],
)
def test_every_level_and_status_is_present_even_in_a_small_demo(demo_db, sql, expected):
    db, _ = demo_db
    assert values(db, sql) == expected


def test_the_demo_has_three_gyms_consenting_clients_and_some_load_spikes(demo_db):
    db, summary = demo_db
    assert summary.counts["gyms"] >= 3 and summary.counts["clients"] == SMALL["clients"]
    assert rows(db, "SELECT count(*) FROM clients WHERE consent_at IS NULL OR trainer_id IS NULL") == [(0,)]
    spikes = rows(
        db, "SELECT count(*) FROM reports WHERE json_extract(history_json, '$.acute_chronic_ratio')::DOUBLE >= 1.5"
    )
    assert spikes[0][0] > 0


def test_every_stored_level_is_what_the_rule_module_says_for_the_stored_answers(demo_db):
    db, _ = demo_db
    with db.read() as cur:
        cur.execute("SELECT * FROM reports ORDER BY id")
        names = [d[0] for d in cur.description]
        stored = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    answers = set(TriageReport.model_fields) - {"client_id", "context"}
    for row in stored:
        report = TriageReport.model_validate(
            {**{k: row[k] for k in answers}, "context": json.loads(row["context_json"])}
        )
        result = evaluate(report, TriageHistory.model_validate_json(row["history_json"]))
        assert result.level.value == row["level"]
        assert json.loads(row["result_json"])["level"] == row["level"]


def test_demo_reports_ask_every_question_and_take_the_age_from_the_year_of_birth(demo_db):
    db, _ = demo_db
    assert rows(db, "SELECT count(*) FROM reports WHERE result_json->>'$.not_asked' <> '[]'") == [(0,)]
    assert rows(
        db,
        "SELECT count(*) FROM reports r JOIN clients c ON c.id = r.client_id "
        "WHERE r.age IS DISTINCT FROM (year(r.created_at) - c.year_of_birth)",
    ) == [(0,)]
    assert rows(db, "SELECT count(*) > 0 FROM clients WHERE year_of_birth IS NULL") == [(True,)]


def test_findings_and_causes_rows_match_each_reports_result(demo_db):
    db, _ = demo_db
    mismatched = rows(
        db,
        """
        SELECT r.id FROM reports r
        WHERE (SELECT list(rule_id ORDER BY rule_id) FROM report_findings f WHERE f.report_id = r.id)
              IS DISTINCT FROM (SELECT list(x->>'rule_id' ORDER BY x->>'rule_id')
                                FROM unnest(CAST(r.result_json->'findings' AS JSON[])) AS t(x))
           OR (SELECT count(*) FROM report_causes c WHERE c.report_id = r.id)
              <> json_array_length(r.result_json->'causes')
    """,
    )
    assert mismatched == []


def test_each_referral_follows_a_report_that_needs_a_professional_and_its_events_end_in_its_status(demo_db):
    db, _ = demo_db
    assert rows(
        db,
        "SELECT count(*) FROM referrals f JOIN reports r ON r.id = f.report_id "
        "WHERE r.level NOT IN ('refer', 'urgent', 'emergency') OR f.level <> r.level",
    ) == [(0,)]
    assert rows(db, "SELECT count(*) FROM reports WHERE level IN ('refer', 'urgent', 'emergency')") == rows(
        db, "SELECT count(*) FROM referrals"
    )
    bad = rows(
        db,
        """
        SELECT f.id FROM referrals f JOIN referral_events e ON e.referral_id = f.id
        GROUP BY f.id, f.status, f.opened_at
        HAVING arg_max(e.status, e.event_at) <> f.status OR arg_min(e.status, e.event_at) <> 'new'
            OR min(e.event_at) <> f.opened_at OR max(e.event_at) > TIMESTAMP '2026-03-02 12:00:00'
    """,
    )
    assert bad == []


def test_only_a_clearance_closes_a_referral(demo_db):
    db, _ = demo_db
    assert rows(
        db,
        "SELECT count(*) FROM referrals WHERE (closed_at IS NOT NULL) <> "
        "(status IN ('cleared', 'cleared_with_restrictions'))",
    ) == [(0,)]
    assert rows(
        db, "SELECT count(*) FROM referrals WHERE (restrictions IS NOT NULL) <> (status = 'cleared_with_restrictions')"
    ) == [(0,)]


def test_plans_are_only_assigned_below_refer(demo_db):
    db, _ = demo_db
    assert rows(
        db,
        "SELECT count(*) FROM assignments a JOIN reports r ON r.id = a.report_id "
        "WHERE r.level NOT IN ('normal', 'monitor')",
    ) == [(0,)]


def test_one_demo_account_per_role_signs_in_with_the_demo_password(demo_db):
    db, summary = demo_db
    assert sorted(a.role for a in summary.accounts) == sorted([Role.TRAINER, Role.CLINIC, Role.MANAGER, Role.ADMIN])
    for account in summary.accounts:
        (stored,) = rows(db, f"SELECT password_hash FROM users WHERE username = '{account.username}'")[0]
        assert account.password == DEMO_PASSWORD and verify_password(stored, DEMO_PASSWORD)


def test_the_demo_writes_one_audit_row(demo_db):
    db, _ = demo_db
    assert rows(db, "SELECT actor, action FROM audit_log WHERE action <> 'test.seed'") == [("system", "demo.create")]


def test_the_demo_refuses_a_database_that_already_holds_data(demo_db):
    db, _ = demo_db
    with pytest.raises(Conflict, match="empty"):
        build_demo(db, seed=3, now=NOW, **SMALL)


def test_ensure_demo_database_creates_the_file_once_and_marks_it(tmp_path):
    from backcare.store import deployment

    path = tmp_path / "first-start.duckdb"

    accounts = ensure_demo_database(path, clients=6, weeks=2)

    assert {a.role for a in accounts} == {Role.TRAINER, Role.CLINIC, Role.MANAGER, Role.ADMIN}
    assert path.exists()
    with open_database(path) as db:
        assert deployment.is_demo(db)
    assert ensure_demo_database(path) is None


def test_only_the_listed_demo_accounts_have_a_password(demo_db):
    db, summary = demo_db
    listed = {a.username for a in summary.accounts}

    assert {u for (u,) in rows(db, "SELECT username FROM users WHERE password_hash IS NOT NULL")} == listed
    assert len(rows(db, "SELECT id FROM users")) > len(listed)


def test_each_demo_report_saw_the_history_the_store_would_have_given_it(demo_db):
    """The episode's pain scores within 7 days and earlier reports in 28 days, as save_report computes them at
    the report's time (its own row left out): the demo triages through the same definition."""
    from datetime import timedelta

    from backcare.store.reports import triage_history_in

    db, _ = demo_db
    mismatches, plans_while_paused = [], []
    with db.read() as cur:
        stored = cur.execute("SELECT id, client_id, created_at, history_json FROM reports ORDER BY id").fetchall()
        for report_id, client_id, created_at, history_json in stored:
            seen = TriageHistory.model_validate_json(history_json)
            store_view = triage_history_in(cur, client_id, created_at - timedelta(microseconds=1))
            if (seen.episode_pain_scores, seen.prior_reports_28d) != (
                store_view.episode_pain_scores,
                store_view.prior_reports_28d,
            ):
                mismatches.append((report_id, seen, store_view))
        plans_while_paused = cur.execute("""
            SELECT a.id FROM assignments AS a JOIN referrals AS f ON f.client_id = a.client_id
            WHERE f.opened_at <= a.created_at AND (f.closed_at IS NULL OR f.closed_at > a.created_at)
        """).fetchall()
    assert len(stored) > 50 and mismatches == []
    assert plans_while_paused == []  # no plan is assigned while a referral is open
