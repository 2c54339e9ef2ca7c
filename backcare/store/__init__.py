"""The store: `from backcare import store; store.save_report(db, actor=..., ...)`.

Every repository function is `fn(db, *, actor, ...)`, checks permission for the record's gym (a refusal
is audited), and returns frozen row models from backcare.store.records.
"""

from backcare.store.accounts import (
    AccountDisabled,
    AccountLocked,
    GymSummary,
    SignInRefused,
    UserSummary,
    actor_for_email,
    add_gym,
    add_user,
    authenticate,
    disable_user,
    enable_user,
    gym_id_by_name,
    list_gym_summaries,
    list_users,
    refresh_actor,
    reset_password,
    resume_cookie,
    resume_signin,
    set_role,
    unlock_user,
)
from backcare.store.analytics import *  # noqa: F401,F403  (trends aggregates: analytics.__all__)
from backcare.store.assignments import assign_plan, list_assignments, set_assignment_status
from backcare.store.audit_view import (
    AuditFilter,
    AuditRow,
    audit_choices,
    export_audit_csv,
    list_audit,
    record_download,
)
from backcare.store.clients import (
    create_client,
    get_client,
    list_clients,
    record_consent,
    search_clients,
    set_client_contact,
    set_year_of_birth,
)
from backcare.store.db import (
    Database,
    Transaction,
    apply_migrations,
    default_db_path,
    open_database,
    resolve_path,
    utcnow,
)
from backcare.store.drafts import delete_draft, load_draft, save_draft
from backcare.store.erasure import (
    ErasureCandidate,
    ErasureReceipt,
    PendingRebuild,
    compact_database,
    erase_client,
    find_clients_to_erase,
    pending_rebuilds,
)
from backcare.store.feedback import (
    FeedbackRow,
    PlanFeedback,
    RecordedFeedback,
    apply_stage,
    client_plan_feedback,
    list_feedback,
    record_feedback,
)
from backcare.store.history import (
    ClientHistory,
    LoadWeek,
    PainDay,
    client_history,
    client_referrals,
    pain_by_day,
    weekly_load_band,
)
from backcare.store.loads import daily_load, load_ratio, weekly_load
from backcare.store.people import actor_for, create_gym, create_user, get_user_by_username, list_gyms
from backcare.store.records import (
    AssignmentRow,
    AssignmentStatus,
    ClientRow,
    ClientStatus,
    DailyLoad,
    GymRow,
    HandoffSummary,
    LoadRatio,
    ReferralEventRow,
    ReferralRow,
    ReferralStatus,
    ReportRow,
    SavedReport,
    SessionRow,
    UserRow,
    WeeklyLoad,
)
from backcare.store.referrals import (
    get_referral,
    handoff_summary,
    list_referral_queue,
    referral_events,
    update_referral,
)
from backcare.store.reports import (
    complete_report,
    get_report,
    list_reports,
    previous_report_of_episode,
    save_report,
    triage_history,
)
from backcare.store.sessions import list_sessions, log_session
from backcare.store.signin_sessions import end_sessions, session_state
from backcare.store.status import client_status

__all__ = [
    "Database",
    "Transaction",
    "apply_migrations",
    "default_db_path",
    "open_database",
    "resolve_path",
    "utcnow",
    "create_gym",
    "list_gyms",
    "create_user",
    "get_user_by_username",
    "actor_for",
    "create_client",
    "record_consent",
    "get_client",
    "search_clients",
    "list_clients",
    "client_status",
    "set_client_contact",
    "set_year_of_birth",
    "log_session",
    "list_sessions",
    "save_report",
    "triage_history",
    "list_reports",
    "get_report",
    "previous_report_of_episode",
    "complete_report",
    "assign_plan",
    "set_assignment_status",
    "list_assignments",
    "list_referral_queue",
    "update_referral",
    "get_referral",
    "referral_events",
    "handoff_summary",
    "daily_load",
    "weekly_load",
    "load_ratio",
    "AssignmentRow",
    "AssignmentStatus",
    "ClientRow",
    "ClientStatus",
    "DailyLoad",
    "GymRow",
    "HandoffSummary",
    "LoadRatio",
    "ReferralEventRow",
    "ReferralRow",
    "ReferralStatus",
    "ReportRow",
    "SavedReport",
    "SessionRow",
    "UserRow",
    "WeeklyLoad",
]
# The sign-in, admin, audit, erasure and history parts of the store, re-exported for the pages.
__all__ += [
    "AccountDisabled",
    "AccountLocked",
    "GymSummary",
    "SignInRefused",
    "UserSummary",
    "actor_for_email",
    "add_gym",
    "add_user",
    "authenticate",
    "disable_user",
    "enable_user",
    "gym_id_by_name",
    "list_gym_summaries",
    "list_users",
    "refresh_actor",
    "reset_password",
    "set_role",
    "unlock_user",
    "AuditFilter",
    "AuditRow",
    "audit_choices",
    "export_audit_csv",
    "list_audit",
    "record_download",
    "ErasureCandidate",
    "ErasureReceipt",
    "compact_database",
    "erase_client",
    "find_clients_to_erase",
    "PendingRebuild",
    "pending_rebuilds",
    "ClientHistory",
    "LoadWeek",
    "PainDay",
    "client_history",
    "client_referrals",
    "pain_by_day",
    "weekly_load_band",
    "end_sessions",
    "session_state",
    "resume_cookie",
    "resume_signin",
    "save_draft",
    "load_draft",
    "delete_draft",
]
# Feedback on plans (issue 15).
__all__ += [
    "FeedbackRow",
    "PlanFeedback",
    "RecordedFeedback",
    "apply_stage",
    "client_plan_feedback",
    "list_feedback",
    "record_feedback",
]

# Last: every public function with an `actor` checks its arguments' kinds (InvalidInput, never a TypeError).
from backcare.store.checks import check_store_functions  # noqa: E402

check_store_functions(globals())
