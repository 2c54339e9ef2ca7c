"""Reports: history-aware triage and saving (with its referral and plans, in one transaction)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from backcare import questions
from backcare.auth import Action, Actor
from backcare.errors import AlreadySaved, Clash, Conflict, InvalidInput, Unavailable, invalid_input
from backcare.models import (
    CauseId,
    Level,
    SessionContext,
    TriageHistory,
    TriageReport,
    TriageResult,
)
from backcare.rules import evaluate
from backcare.store import load, rollups
from backcare.store._base import client_gym, guard, one_as_dict, rows_as_dicts, the_row_as_dict
from backcare.store.assignments import active_plan_ids, insert_assignment, is_paused, validated_assignment
from backcare.store.db import Database, Transaction, utcnow
from backcare.store.records import ReportRow, ReportSummary, SavedReport, age_from_year_of_birth

EPISODE = timedelta(days=7)  # reports this close belong to one episode (R5)
EPISODE_SCORES_KEPT = 100  # a history carries at most this many of the episode's scores
RECURRENCE_WINDOW = timedelta(days=28)  # M4 counts back-pain reports in this window
DEFAULT_REVIEW_DAYS = 14

# One column per registry question (NULL: not asked), in registry order.
ANSWER_FIELDS: tuple[str, ...] = questions.FIELDS
REPORT_COLUMNS = (
    "id, client_id, gym_id, author_id, author, created_at, "
    + ", ".join(ANSWER_FIELDS)
    + ", age, context_json, history_json, level, rules_version, result_json, answered_after_stop"
)
# ReportSummary's columns: without the context and history the rules saw
SUMMARY_COLUMNS = REPORT_COLUMNS.replace(", context_json, history_json", "")


def history_from_json(text: str) -> TriageHistory:
    """The stored TriageHistory; records made before triage v2 hold `previous_pain_score` (the one earlier
    score of the episode then compared), read as an episode of that one score."""
    data = json.loads(text)
    if "previous_pain_score" in data:
        previous = data.pop("previous_pain_score")
        data.setdefault("episode_pain_scores", [] if previous is None else [previous])
    return TriageHistory.model_validate(data)


def _summary_fields(row: dict) -> dict:
    """ReportSummary's fields from a row of SUMMARY_COLUMNS (or REPORT_COLUMNS)."""
    after = row.get("answered_after_stop")
    return {
        **{
            k: row[k]
            for k in ("id", "client_id", "gym_id", "author_id", "author", "created_at", "level", "rules_version", "age")
        },
        "answers": {f: row[f] for f in ANSWER_FIELDS},
        "result": TriageResult.model_validate_json(row["result_json"]),
        "answered_after_stop": () if after is None else tuple(json.loads(after)),
    }


def report_summary(row: dict) -> ReportSummary:
    return ReportSummary(**_summary_fields(row))


def report_row(row: dict) -> ReportRow:
    context = row["context_json"]
    return ReportRow(
        **_summary_fields(row),
        context=None if context is None else SessionContext.model_validate_json(context),
        history=history_from_json(row["history_json"]),
    )


# --- history ---------------------------------------------------------------------------------


def triage_history_in(cur, client_id: int, now: datetime) -> TriageHistory:
    """What the client's history adds to a report made at `now`, in SQL (inside any open cursor)."""
    # Two single-row aggregates side by side (no correlated subqueries: this runs in every save). A report
    # whose pain was not asked (an emergency stop) is still a back-pain report for M4, but has no score.
    episode, prior, ratio = cur.execute(
        f"""
        SELECT mine.episode, mine.prior, spike.acute_chronic_ratio
        FROM (SELECT array_agg(pain_score ORDER BY created_at, id)
                         FILTER (WHERE created_at >= $episode_start AND pain_score IS NOT NULL) AS episode,
                     count(*) FILTER (WHERE pain_score IS NULL OR pain_score >= 1) AS prior
              FROM reports
              WHERE client_id = $client_id AND created_at <= $now AND created_at >= $recurrence_start) AS mine,
             ({load.one_client_ratio_sql()}) AS spike
        """,
        {
            "client_id": client_id,
            "now": now,
            "day": now.date(),
            "episode_start": now - EPISODE,
            "recurrence_start": now - RECURRENCE_WINDOW,
        },
    ).fetchone()
    ratio = None if ratio is None else round(float(ratio), 4)
    return TriageHistory(
        episode_pain_scores=kept_episode_scores(tuple(episode or ())),
        prior_reports_28d=int(prior),
        acute_chronic_ratio=ratio,
    )


def kept_episode_scores(scores: tuple[int, ...]) -> tuple[int, ...]:
    """The latest scores of a very long episode, with its lowest first when that is older: R5 reads the lowest
    and the screens the latest, and each stored history stays small."""
    if len(scores) <= EPISODE_SCORES_KEPT:
        return scores
    latest = scores[-(EPISODE_SCORES_KEPT - 1) :]
    return (
        min(scores[: -(EPISODE_SCORES_KEPT - 1)]) if min(scores) < min(latest) else scores[-EPISODE_SCORES_KEPT],
        *latest,
    )


def triage_history(db: Database, *, actor: Actor, client_id: int, now: datetime | None = None) -> TriageHistory:
    """The history save_report will use, for previewing a result before saving."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.history", entity="clients", entity_id=client_id)
    # Without `now` (the app) the history of the last minute at most is served from the read cache.
    return db.cached_read(("triage_history", now), client_id, lambda: _read_triage_history(db, client_id, now))


def _read_triage_history(db: Database, client_id: int, now: datetime | None) -> TriageHistory:
    with db.read("reading the client's history") as cur:
        return triage_history_in(cur, client_id, now or utcnow())


# --- saving ----------------------------------------------------------------------------------


def _validated(report: TriageReport | dict) -> TriageReport:
    if isinstance(report, TriageReport):
        return report
    try:
        return TriageReport.model_validate(report)
    except ValidationError as error:
        raise invalid_input(error, "report") from None


# A save that clashed with another process's save of the same client is run again this many times at most.
SAVE_ATTEMPTS = 8


def save_report(
    db: Database,
    *,
    actor: Actor,
    client_id: int,
    report: TriageReport | dict,
    assign_plans: Iterable[CauseId | str] = (),
    review_days: int = DEFAULT_REVIEW_DAYS,
    start_date: date | None = None,
    review_date: date | None = None,
    customisation: dict | None = None,
    now: datetime | None = None,
    submission: str | None = None,
) -> SavedReport:
    """Triage the report with the client's history and store it, all in one transaction with its audit
    row: every answer (a question not answered is stored as NULL, *not asked*: the emergency stop saves
    this way), what the rules saw and said, a row per finding and per cause, a referral when the level is
    refer or above (which pauses the client: an emergency save opens an emergency referral), and the
    chosen plans when the result allows them (at refer and above, or while a referral is open, none:
    those go to `skipped_plans`). The age comes from the client's year of birth when it is known.
    Refused without the client's consent. `submission`: the form's one-time token; a second save with the
    same token stores nothing and raises AlreadySaved."""
    with db.read("looking up the client") as cur:
        facts = cur.execute(
            "SELECT gym_id, external_id, consent_at, year_of_birth FROM clients WHERE id = ?", [client_id]
        ).fetchone()
    if facts is None:
        raise Unavailable()  # reads like a refusal: ids cannot be probed
    gym_id, external_id, consent_at, year_of_birth = facts
    guard(db, actor, Action.CLIENT_WRITE, gym_id, attempt="report.save", entity="reports")
    if consent_at is None:  # checked before the transaction: no store function withdraws consent
        raise InvalidInput(
            "consent", "the client has not consented to storing their health data; record their consent first"
        )
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
    for plan in wanted:  # the same checks as assign_plan, naming the field
        validated_assignment(
            plan_id=plan,
            start_date=start_date,
            review_date=review_date,
            customisation=(customisation or {}).get(plan.value),
        )
    if submission is not None and (not isinstance(submission, str) or not 1 <= len(submission) <= 64):
        raise InvalidInput("submission", "must be a token of 1 to 64 characters")

    detail: dict[str, object] = {"client_id": client_id}

    def write(
        txn: Transaction, report: TriageReport
    ) -> tuple[int, TriageResult, TriageHistory, int | None, tuple, tuple]:
        cur = txn.cursor
        if submission is not None:
            prior = cur.execute("SELECT report_id FROM report_submissions WHERE token = ?", [submission]).fetchone()
            if prior is not None:
                raise AlreadySaved(int(prior[0]))
        update: dict[str, Any] = {}
        if report.client_id != external_id:  # the stored result names the client it was saved for
            update["client_id"] = external_id
        if year_of_birth is not None:  # the client's record decides the age the rules see
            update["age"] = age_from_year_of_birth(year_of_birth, now.date())
        if update:
            report = report.model_copy(update=update)
        history = triage_history_in(cur, client_id, now)
        result = evaluate(report, history)
        report_id = _insert_report(cur, actor, client_id, gym_id, report, history, result, now)
        rollups.add_report(  # the trends' daily rollups, in this transaction: the new report added to its rows
            cur,
            report_id=report_id,
            client_id=client_id,
            gym_id=gym_id,
            author_id=actor.user_id,
            author=actor.username,
            level=result.level.value,
            causes=[c.cause.value for c in result.causes],
            created_at=now,
        )
        if submission is not None:
            cur.execute(
                "INSERT INTO report_submissions (token, report_id, client_id, saved_at) VALUES (?, ?, ?, ?)",
                [submission, report_id, client_id, now],
            )
        referral_id = (
            _open_referral(cur, actor, report_id, client_id, gym_id, result, now)
            if result.level.needs_professional
            else None
        )
        already_active = active_plan_ids(cur, client_id)  # never a second active copy of a plan
        allowed_plans = tuple(p for p in wanted if p in result.plans and p not in already_active)
        if allowed_plans and is_paused(cur, client_id, now):
            allowed_plans = ()
        assignment_ids = tuple(
            insert_assignment(
                cur,
                actor=actor,
                client_id=client_id,
                plan_id=plan,
                start_date=start_date,
                review_date=review_date,
                customisation=(customisation or {}).get(plan.value),
                report_id=report_id,
                now=now,
            )
            for plan in allowed_plans
        )
        txn.entity_id = report_id
        detail.update(referral_id=referral_id, assignment_ids=list(assignment_ids))
        return report_id, result, history, referral_id, assignment_ids, allowed_plans

    # Two processes saving reports of one client at once can clash on the trends' rollup rows (PostgreSQL):
    # nothing was stored, so the save simply runs again; the form token still stops a double save.
    for attempt in range(1, SAVE_ATTEMPTS + 1):
        try:
            with db.transaction(actor, "report.save", "reports", None, detail, now=now) as txn:
                txn.touches(client_id)  # its report, referral and plans: this client's cached reads only
                report_id, result, history, referral_id, assignment_ids, allowed_plans = write(txn, report)
            break
        except Clash:
            if attempt == SAVE_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.005, 0.02) * attempt)
    return SavedReport(
        report_id=report_id,
        result=result,
        history=history,
        referral_id=referral_id,
        assignment_ids=assignment_ids,
        skipped_plans=tuple(p for p in wanted if p not in allowed_plans),
    )


def _insert_report(
    cur,
    actor: Actor,
    client_id: int,
    gym_id: int,
    report: TriageReport,
    history: TriageHistory,
    result: TriageResult,
    now: datetime,
) -> int:
    answers = report.model_dump(mode="json", include=set(ANSWER_FIELDS))
    columns = (
        "client_id",
        "gym_id",
        "author_id",
        "author",
        "created_at",
        *ANSWER_FIELDS,
        "age",
        "context_json",
        "history_json",
        "level",
        "rules_version",
        "result_json",
    )
    values = [
        client_id,
        gym_id,
        actor.user_id,
        actor.username,
        now,
        *(answers[f] for f in ANSWER_FIELDS),
        report.age,
        None if report.context is None else report.context.model_dump_json(),
        history.model_dump_json(),
        result.level.value,
        result.rules_version,
        result.model_dump_json(),
    ]
    (report_id,) = cur.execute(
        f"INSERT INTO reports ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) RETURNING id", values
    ).fetchone()
    _insert_findings_and_causes(cur, int(report_id), result)
    return int(report_id)


def _insert_findings_and_causes(cur, report_id: int, result: TriageResult) -> None:
    if result.findings:
        cur.execute(
            "INSERT INTO report_findings (report_id, rule_id, level) "
            "SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
            [report_id, [f.rule_id for f in result.findings], [f.level.value for f in result.findings]],
        )
    if result.causes:
        cur.execute(
            "INSERT INTO report_causes (report_id, cause, evidence_count, rank) "
            "SELECT ?, unnest(?::VARCHAR[]), unnest(?::INTEGER[]), unnest(?::INTEGER[])",
            [
                report_id,
                [c.cause.value for c in result.causes],
                [len(c.evidence) for c in result.causes],
                list(range(1, len(result.causes) + 1)),
            ],
        )


def _open_referral(
    cur, actor: Actor, report_id: int, client_id: int, gym_id: int, result: TriageResult, now: datetime
) -> int:
    (referral_id,) = cur.execute(
        "INSERT INTO referrals (report_id, client_id, gym_id, level, status, opened_at) "
        "VALUES (?, ?, ?, ?, 'new', ?) RETURNING id",
        [report_id, client_id, gym_id, result.level.value, now],
    ).fetchone()
    cur.execute(
        "INSERT INTO referral_events (referral_id, event_at, status, author, note) VALUES (?, ?, 'new', ?, ?)",
        [referral_id, now, actor.username, f"Opened by report {report_id} ({result.level.value})"],
    )
    return int(referral_id)


# --- completing a report saved at an emergency stop ------------------------------------------


def complete_report(
    db: Database,
    *,
    actor: Actor,
    report_id: int,
    answers: Mapping[str, Any],
    context: SessionContext | dict | None = None,
    now: datetime | None = None,
) -> ReportRow:
    """Fill in answers of a report saved at an emergency stop, later: only questions recorded as not asked
    (NULL) can be answered, never one answered before. The report is triaged again with the history and
    age it was saved with (its level stays emergency: the answers that made it so are unchanged), and the
    record keeps which answers came after the stop. `context`: the training context, only when the report
    was saved without one. One transaction with its audit row ('report.complete')."""
    with db.read("reading the report") as cur:
        row = one_as_dict(cur.execute(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id = ?", [report_id]))
    if row is None:
        raise Unavailable()  # reads like a refusal: ids cannot be probed
    guard(
        db, actor, Action.CLIENT_WRITE, row["gym_id"], attempt="report.complete", entity="reports", entity_id=report_id
    )
    stored = report_row(row)
    if stored.level is not Level.EMERGENCY:
        raise Conflict(
            "Only a report saved at an emergency stop can have answers added later; "
            f"report {report_id} is at {stored.level.value}."
        )
    given = {field: value for field, value in dict(answers).items() if value is not None}
    unknown = [field for field in given if field not in questions.BY_FIELD]
    if unknown:
        raise InvalidInput(unknown[0], "is not a triage question")
    already = [field for field in given if stored.answers.get(field) is not None]
    if already:
        raise Conflict(
            f"{questions.labels(already)}: already answered in report {report_id}; only questions "
            "recorded as not asked can be answered later."
        )
    if context is not None and stored.context is not None:
        raise Conflict(f"Report {report_id} already has its training context.")
    if not given and context is None:
        raise InvalidInput("answers", "give at least one answer to add")
    payload = {
        **stored.answers,
        **given,
        "client_id": stored.result.client_id,
        "age": stored.age,
        "context": stored.context if context is None else context,
    }
    report = _validated(payload)
    result = evaluate(report, stored.history)
    after = tuple(f for f in ANSWER_FIELDS if f in given or f in stored.answered_after_stop)
    now = now or utcnow()
    typed = report.model_dump(mode="json", include=set(given))
    with db.transaction(actor, "report.complete", "reports", report_id, {"answered": list(given)}, now=now) as txn:
        txn.touches(stored.client_id)
        cur = txn.cursor
        assignments = ", ".join(f"{field} = ?" for field in given)
        guard_nulls = " AND ".join(f"{field} IS NULL" for field in given) or "true"
        updated = cur.execute(
            f"UPDATE reports SET {assignments + ', ' if assignments else ''}context_json = ?, level = ?, "
            f"rules_version = ?, result_json = ?, answered_after_stop = ? WHERE id = ? AND {guard_nulls} "
            "RETURNING id",
            [
                *(typed[f] for f in given),
                None if report.context is None else report.context.model_dump_json(),
                result.level.value,
                result.rules_version,
                result.model_dump_json(),
                json.dumps(list(after)),
                report_id,
            ],
        ).fetchall()
        if not updated:  # answered by someone else since it was read
            raise Conflict(f"Report {report_id} was changed meanwhile: open it again and add what is still missing.")
        cur.execute("DELETE FROM report_findings WHERE report_id = ?", [report_id])
        cur.execute("DELETE FROM report_causes WHERE report_id = ?", [report_id])
        _insert_findings_and_causes(cur, report_id, result)
        rollups.refresh_report(cur, report_id)  # its level and causes may have changed
        row = the_row_as_dict(cur.execute(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id = ?", [report_id]))
    return report_row(row)


# --- reading ---------------------------------------------------------------------------------


def list_reports(
    db: Database,
    *,
    actor: Actor,
    client_id: int,
    limit: int | None = None,
    audit: bool = True,
    now: datetime | None = None,
) -> list[ReportRow]:
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
    rows = rows_as_dicts(
        cur.execute(
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE client_id = ? ORDER BY created_at DESC, id DESC {limit_sql}",
            [client_id],
        )
    )
    return [report_row(r) for r in rows]


def get_report(
    db: Database, *, actor: Actor, report_id: int, audit: bool = True, now: datetime | None = None
) -> ReportRow:
    with db.read("reading the report") as cur:
        row = one_as_dict(cur.execute(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id = ?", [report_id]))
    if row is None:
        raise Unavailable()  # reads like a refusal: ids cannot be probed
    guard(db, actor, Action.CLIENT_READ, row["gym_id"], attempt="report.view", entity="reports", entity_id=report_id)
    if audit:
        db.audit(actor, "report.view", "reports", report_id, outcome="ok", now=now)
    return report_row(row)


def previous_report_of_episode(
    db: Database, *, actor: Actor, client_id: int, before: datetime | None = None
) -> ReportRow | None:
    """The client's most recent report made before `before` and within the 7-day episode."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.history", entity="clients", entity_id=client_id)
    before = before or utcnow()
    with db.read("reading the previous report") as cur:
        row = one_as_dict(
            cur.execute(
                f"SELECT {REPORT_COLUMNS} FROM reports WHERE client_id = ? AND created_at < ? AND created_at >= ? "
                "ORDER BY created_at DESC, id DESC LIMIT 1",
                [client_id, before, before - EPISODE],
            )
        )
    return None if row is None else report_row(row)
