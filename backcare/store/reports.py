"""Reports: history-aware triage and saving (with its referral and plans, in one transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from pydantic import ValidationError

from backcare import load
from backcare.auth import Action, Actor
from backcare.errors import AlreadySaved, InvalidInput, NotFound
from backcare.models import (
    CauseId,
    SessionContext,
    TriageHistory,
    TriageReport,
    TriageResult,
    describe_validation_error,
)
from backcare.rules import evaluate
from backcare.store._base import client_gym, guard, one_as_dict, rows_as_dicts
from backcare.store.assignments import insert_assignment, is_paused, validated_assignment
from backcare.store.db import Database, utcnow
from backcare.store.records import ReportRow, SavedReport

EPISODE = timedelta(days=7)          # reports this close belong to one episode (R5)
RECURRENCE_WINDOW = timedelta(days=28)  # M4 counts back-pain reports in this window
DEFAULT_REVIEW_DAYS = 14

ANSWER_FIELDS: tuple[str, ...] = tuple(f for f in TriageReport.model_fields if f not in ("client_id", "context"))
REPORT_COLUMNS = ("id, client_id, gym_id, author_id, author, created_at, " + ", ".join(ANSWER_FIELDS)
                  + ", context_json, history_json, level, rules_version, result_json")


def report_row(row: dict) -> ReportRow:
    answers = {f: row.pop(f) for f in ANSWER_FIELDS}
    context = row.pop("context_json")
    return ReportRow(
        **{k: row[k] for k in ("id", "client_id", "gym_id", "author_id", "author", "created_at", "level",
                               "rules_version")},
        answers=answers,
        context=None if context is None else SessionContext.model_validate_json(context),
        history=TriageHistory.model_validate_json(row["history_json"]),
        result=TriageResult.model_validate_json(row["result_json"]),
    )


# --- history ---------------------------------------------------------------------------------


def triage_history_in(cur, client_id: int, now: datetime) -> TriageHistory:
    """What the client's history adds to a report made at `now`, in SQL (inside any open cursor)."""
    # Two single-row aggregates side by side (no correlated subqueries: this runs in every save).
    previous, prior, ratio = cur.execute(
        f"""
        SELECT mine.previous, mine.prior, spike.acute_chronic_ratio
        FROM (SELECT arg_max(pain_score, (created_at, id)) FILTER (WHERE created_at >= $episode_start)
                         AS previous,
                     count(*) FILTER (WHERE pain_score >= 1) AS prior
              FROM reports
              WHERE client_id = $client_id AND created_at <= $now AND created_at >= $recurrence_start) AS mine,
             ({load.one_client_ratio_sql()}) AS spike
        """,
        {"client_id": client_id, "now": now, "day": now.date(), "episode_start": now - EPISODE,
         "recurrence_start": now - RECURRENCE_WINDOW},
    ).fetchone()
    ratio = None if ratio is None else round(float(ratio), 4)
    return TriageHistory(previous_pain_score=previous, prior_reports_28d=int(prior), acute_chronic_ratio=ratio)


def triage_history(db: Database, *, actor: Actor, client_id: int, now: datetime | None = None) -> TriageHistory:
    """The history save_report will use, for previewing a result before saving."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.history", entity="clients", entity_id=client_id)
    with db.read("reading the client's history") as cur:
        return triage_history_in(cur, client_id, now or utcnow())


# --- saving ----------------------------------------------------------------------------------


def _validated(report: TriageReport | dict) -> TriageReport:
    if isinstance(report, TriageReport):
        return report
    try:
        return TriageReport.model_validate(report)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(".".join(str(p) for p in first["loc"]) or "report",
                           describe_validation_error(error)) from None


def save_report(db: Database, *, actor: Actor, client_id: int, report: TriageReport | dict,
                assign_plans: Iterable[CauseId | str] = (), review_days: int = DEFAULT_REVIEW_DAYS,
                start_date: date | None = None, review_date: date | None = None,
                customisation: dict | None = None, now: datetime | None = None,
                submission: str | None = None) -> SavedReport:
    """Triage the report with the client's history and store it, all in one transaction with its audit
    row: every answer, what the rules saw and said, a row per finding and per cause, a referral when the
    level is refer or above, and the chosen plans when the result allows them (at refer and above, or
    while a referral is open, none: those go to `skipped_plans`). Refused without the client's consent.
    `submission`: the form's one-time token; a second save with the same token stores nothing and raises
    AlreadySaved."""
    with db.read("looking up the client") as cur:
        facts = cur.execute("SELECT gym_id, external_id, consent_at FROM clients WHERE id = ?",
                            [client_id]).fetchone()
    if facts is None:
        raise NotFound(f"There is no client with id {client_id}.")
    gym_id, external_id, consent_at = facts
    guard(db, actor, Action.CLIENT_WRITE, gym_id, attempt="report.save", entity="reports")
    if consent_at is None:  # checked before the transaction: no store function withdraws consent
        raise InvalidInput("consent", "the client has not consented to storing their health data; record "
                                      "their consent first")
    report = _validated(report)
    try:
        wanted = tuple(dict.fromkeys(CauseId(p) for p in assign_plans))
    except ValueError:
        raise InvalidInput("assign_plans", f"plans are among {', '.join(c.value for c in CauseId)}") from None
    if isinstance(review_days, bool) or not isinstance(review_days, int) or not 1 <= review_days <= 365:
        raise InvalidInput("review_days", "must be a whole number of days from 1 to 365")
    now = now or utcnow()
    start_date = start_date or now.date()
    review_date = review_date or start_date + timedelta(days=review_days)
    if wanted:  # the same checks as assign_plan, naming the field
        validated_assignment(plan_id=wanted[0], start_date=start_date, review_date=review_date)
    if submission is not None and (not isinstance(submission, str) or not 1 <= len(submission) <= 64):
        raise InvalidInput("submission", "must be a token of 1 to 64 characters")

    with db.transaction(actor, "report.save", "reports", None, {"client_id": client_id}, now=now) as txn:
        cur = txn.cursor
        if submission is not None:
            prior = cur.execute("SELECT report_id FROM report_submissions WHERE token = ?", [submission]).fetchone()
            if prior is not None:
                raise AlreadySaved(int(prior[0]))
        if report.client_id != external_id:  # the stored result names the client it was saved for
            report = report.model_copy(update={"client_id": external_id})
        history = triage_history_in(cur, client_id, now)
        result = evaluate(report, history)
        report_id = _insert_report(cur, actor, client_id, gym_id, report, history, result, now)
        if submission is not None:
            cur.execute("INSERT INTO report_submissions (token, report_id, client_id, saved_at) VALUES (?, ?, ?, ?)",
                        [submission, report_id, client_id, now])
        referral_id = _open_referral(cur, actor, report_id, client_id, gym_id, result, now) \
            if result.level.needs_professional else None
        allowed_plans = tuple(p for p in wanted if p in result.plans)
        if allowed_plans and is_paused(cur, client_id, now):
            allowed_plans = ()
        assignment_ids = tuple(
            insert_assignment(cur, actor=actor, client_id=client_id, plan_id=plan, start_date=start_date,
                              review_date=review_date, customisation=(customisation or {}).get(plan.value),
                              report_id=report_id, now=now)
            for plan in allowed_plans)
        txn.entity_id = report_id
        txn.detail.update(referral_id=referral_id, assignment_ids=list(assignment_ids))
    return SavedReport(report_id=report_id, result=result, history=history, referral_id=referral_id,
                       assignment_ids=assignment_ids,
                       skipped_plans=tuple(p for p in wanted if p not in allowed_plans))


def _insert_report(cur, actor: Actor, client_id: int, gym_id: int, report: TriageReport,
                   history: TriageHistory, result: TriageResult, now: datetime) -> int:
    answers = report.model_dump(mode="json", include=set(ANSWER_FIELDS))
    columns = ("client_id", "gym_id", "author_id", "author", "created_at", *ANSWER_FIELDS, "context_json",
               "history_json", "level", "rules_version", "result_json")
    values = [client_id, gym_id, actor.user_id, actor.username, now, *(answers[f] for f in ANSWER_FIELDS),
              None if report.context is None else report.context.model_dump_json(),
              history.model_dump_json(), result.level.value, result.rules_version, result.model_dump_json()]
    (report_id,) = cur.execute(
        f"INSERT INTO reports ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) RETURNING id",
        values).fetchone()
    if result.findings:
        cur.execute(
            "INSERT INTO report_findings (report_id, rule_id, level) "
            "SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
            [report_id, [f.rule_id for f in result.findings], [f.level.value for f in result.findings]])
    if result.causes:
        cur.execute(
            "INSERT INTO report_causes (report_id, cause, evidence_count, rank) "
            "SELECT ?, unnest(?::VARCHAR[]), unnest(?::INTEGER[]), unnest(?::INTEGER[])",
            [report_id, [c.cause.value for c in result.causes], [len(c.evidence) for c in result.causes],
             list(range(1, len(result.causes) + 1))])
    return int(report_id)


def _open_referral(cur, actor: Actor, report_id: int, client_id: int, gym_id: int, result: TriageResult,
                   now: datetime) -> int:
    (referral_id,) = cur.execute(
        "INSERT INTO referrals (report_id, client_id, gym_id, level, status, opened_at) "
        "VALUES (?, ?, ?, ?, 'new', ?) RETURNING id",
        [report_id, client_id, gym_id, result.level.value, now]).fetchone()
    cur.execute("INSERT INTO referral_events (referral_id, event_at, status, author, note) VALUES (?, ?, 'new', ?, ?)",
                [referral_id, now, actor.username, f"Opened by report {report_id} ({result.level.value})"])
    return int(referral_id)


# --- reading ---------------------------------------------------------------------------------


def list_reports(db: Database, *, actor: Actor, client_id: int, limit: int | None = None,
                 audit: bool = True, now: datetime | None = None) -> list[ReportRow]:
    """A client's reports, newest first (the client's history: a 'client.history' view is audited)."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.history", entity="clients", entity_id=client_id)
    with db.read("listing reports") as cur:
        reports = reports_in(cur, client_id, limit)
    if audit:
        db.audit(actor, "client.history", "clients", client_id, outcome="ok", now=now)
    return reports


def reports_in(cur, client_id: int, limit: int | None = None) -> list[ReportRow]:
    """A client's reports, newest first, inside an open cursor (callers have checked permission)."""
    limit_sql = "" if limit is None else f"LIMIT {max(0, int(limit))}"
    rows = rows_as_dicts(cur.execute(
        f"SELECT {REPORT_COLUMNS} FROM reports WHERE client_id = ? ORDER BY created_at DESC, id DESC {limit_sql}",
        [client_id]))
    return [report_row(r) for r in rows]


def get_report(db: Database, *, actor: Actor, report_id: int, audit: bool = True,
               now: datetime | None = None) -> ReportRow:
    with db.read("reading the report") as cur:
        row = one_as_dict(cur.execute(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id = ?", [report_id]))
    if row is None:
        raise NotFound(f"There is no report with id {report_id}.")
    guard(db, actor, Action.CLIENT_READ, row["gym_id"], attempt="report.view", entity="reports",
          entity_id=report_id)
    if audit:
        db.audit(actor, "report.view", "reports", report_id, outcome="ok", now=now)
    return report_row(row)


def previous_report_of_episode(db: Database, *, actor: Actor, client_id: int,
                               before: datetime | None = None) -> ReportRow | None:
    """The client's most recent report made before `before` and within the 7-day episode."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.history", entity="clients", entity_id=client_id)
    before = before or utcnow()
    with db.read("reading the previous report") as cur:
        row = one_as_dict(cur.execute(
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE client_id = ? AND created_at < ? AND created_at >= ? "
            "ORDER BY created_at DESC, id DESC LIMIT 1", [client_id, before, before - EPISODE]))
    return None if row is None else report_row(row)
