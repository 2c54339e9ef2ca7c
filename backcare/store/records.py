"""What the store returns: frozen row models, separate from the input models a form sends."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from backcare import questions
from backcare.models import CauseId, Level, SessionContext, TriageHistory, TriageResult

_ROW = ConfigDict(frozen=True, extra="forbid")


class ClientStatus(StrEnum):
    """Where a client stands, derived from the data (see store.status)."""

    CLEARED = "cleared"
    MODIFIED = "modified"
    PAUSED_REFERRAL_OPEN = "paused_referral_open"
    URGENT_REFERRAL_OPEN = "urgent_referral_open"
    EMERGENCY_REFERRAL_OPEN = "emergency_referral_open"


# An open referral, whatever its level, pauses loading plans until a clinician records clearance.
PAUSED_STATUSES = frozenset(
    {ClientStatus.PAUSED_REFERRAL_OPEN, ClientStatus.URGENT_REFERRAL_OPEN, ClientStatus.EMERGENCY_REFERRAL_OPEN}
)


class ReferralStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    SEEN = "seen"
    CLEARED = "cleared"
    CLEARED_WITH_RESTRICTIONS = "cleared_with_restrictions"
    NOT_CLEARED = "not_cleared"


CLEARED_STATUSES: tuple[ReferralStatus, ...] = (ReferralStatus.CLEARED, ReferralStatus.CLEARED_WITH_RESTRICTIONS)


class AssignmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    STOPPED = "stopped"


class GymRow(BaseModel):
    model_config = _ROW

    id: int
    name: str
    created_at: datetime


class UserRow(BaseModel):
    model_config = _ROW

    id: int
    username: str
    display_name: str
    role: str
    gym_id: int | None
    contact: str | None
    password_hash: str | None
    disabled: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime


class ClientRow(BaseModel):
    model_config = _ROW

    id: int
    external_id: str
    gym_id: int
    trainer_id: int | None
    name: str
    consent_at: datetime | None
    consent_by: str | None
    created_at: datetime
    created_by: str
    status: ClientStatus
    phone: str | None = None
    email: str | None = None
    year_of_birth: int | None = None

    @property
    def has_consent(self) -> bool:
        return self.consent_at is not None

    def age(self, on: date | None = None) -> int | None:
        """The age the client turns in the year of `on` (today by default); None while the year of birth is
        not known. A year of birth cannot say more (TRIAGE.md's age rules take this age)."""
        if self.year_of_birth is None:
            return None
        return age_from_year_of_birth(self.year_of_birth, on or date.today())


def age_from_year_of_birth(year_of_birth: int, on: date) -> int:
    return max(0, on.year - year_of_birth)


class SessionRow(BaseModel):
    model_config = _ROW

    id: int
    client_id: int
    date: date
    minutes: float
    rpe: float
    exercises: tuple[str, ...]
    warmup_minutes: float | None
    cooldown_done: bool | None
    source: str
    created_at: datetime
    created_by: str

    @property
    def load(self) -> float:
        """Session-RPE load in arbitrary units: RPE x minutes (FOSTER)."""
        return self.rpe * self.minutes


class ReportSummary(BaseModel):
    """A stored report as a client's timeline shows it: every answer (as `answers`, the registry's fields; None
    is *not asked*), the age, what the rules said, and which answers were given after an emergency stop. The
    session context and history the rules saw are left out (ReportRow has them): the history page does not
    show them, and their two JSON columns were a quarter of its report read on DuckDB (issue 13)."""

    model_config = _ROW

    id: int
    client_id: int
    gym_id: int
    author_id: int | None
    author: str
    created_at: datetime
    answers: dict
    level: Level
    rules_version: str
    result: TriageResult
    age: int | None = None
    answered_after_stop: tuple[str, ...] = ()

    @property
    def pain_score(self) -> int | None:
        """None when the pain score was not asked (a report saved at an emergency stop)."""
        score = self.answers.get("pain_score")
        return None if score is None else int(score)

    @property
    def not_asked(self) -> tuple[str, ...]:
        """The questions recorded as not asked, in registry order."""
        return questions.not_asked(self.answers)


class ReportRow(ReportSummary):
    """A stored report whole: the summary with the session context and the history the rules saw."""

    context: SessionContext | None
    history: TriageHistory


class SavedReport(BaseModel):
    model_config = _ROW

    report_id: int
    result: TriageResult
    history: TriageHistory
    referral_id: int | None
    assignment_ids: tuple[int, ...]
    skipped_plans: tuple[CauseId, ...] = ()  # asked for, but not allowed by the result or an open referral


class AssignmentRow(BaseModel):
    model_config = _ROW

    id: int
    client_id: int
    report_id: int | None
    plan_id: CauseId
    status: AssignmentStatus
    start_date: date
    review_date: date
    customisation: dict | None
    created_at: datetime
    created_by: str
    ended_at: datetime | None
    end_note: str | None
    stage: int = 1  # 1 unloaded, 2 light load, 3 back to full training (migration 0009)


class ReferralRow(BaseModel):
    model_config = _ROW

    id: int
    report_id: int
    client_id: int
    gym_id: int
    level: Level
    status: ReferralStatus
    opened_at: datetime
    first_contact_at: datetime | None
    closed_at: datetime | None
    restrictions: str | None
    client_name: str
    client_external_id: str
    overdue: bool
    age_hours: float


class ReferralEventRow(BaseModel):
    model_config = _ROW

    id: int
    referral_id: int
    event_at: datetime
    status: ReferralStatus
    author: str
    note: str | None


class HandoffFinding(BaseModel):
    model_config = _ROW

    rule_id: str
    level: Level
    summary: str
    source: str


class HandoffSession(BaseModel):
    model_config = _ROW

    date: date
    minutes: float
    rpe: float
    load: float
    exercises: tuple[str, ...]
    warmup_minutes: float | None
    cooldown_done: bool | None


class HandoffSummary(BaseModel):
    """What the clinic needs to pick up a referral, on one page."""

    model_config = _ROW

    referral_id: int
    report_id: int
    status: ReferralStatus
    client_name: str
    client_external_id: str
    gym_name: str
    level: Level
    opened_at: datetime
    answers: dict
    findings: tuple[HandoffFinding, ...]
    causes: tuple[tuple[CauseId, tuple[str, ...]], ...]
    hours_since_workout: float | None  # None: not asked
    pain_score: int | None
    pain_trend: str | None
    previous_pain_score: int | None
    episode_pain_scores: tuple[int, ...] = ()
    age: int | None = None
    answered_after_stop: tuple[str, ...] = ()
    session_before: HandoffSession | None
    trainer_name: str
    trainer_contact: str | None
    client_phone: str | None = None
    client_email: str | None = None


class DailyLoad(BaseModel):
    """One client's training load on one day; see backcare.store.load for the definitions."""

    model_config = _ROW

    day: date
    sessions: int
    load: float
    weekly_load: float
    monotony: float | None
    strain: float | None
    chronic_weekly_load: float
    acute_chronic_ratio: float | None


class WeeklyLoad(BaseModel):
    model_config = _ROW

    week_start: date
    week_end: date
    sessions: int
    load: float
    monotony: float | None
    strain: float | None


class LoadRatio(BaseModel):
    """The 7:28-day acute:chronic ratio: a load-spike indicator, never an injury prediction (GABBETT)."""

    model_config = _ROW

    day: date
    acute_load: float
    chronic_weekly_load: float
    ratio: float | None
    spike: bool
