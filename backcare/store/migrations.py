"""Named schema migrations, applied in order, each in its own transaction, recorded in schema_migrations.

Never edit a migration that has shipped: add a new one. SQL here stays standard where that costs
nothing (no foreign keys: DuckDB rewrites an UPDATE of a referenced row as delete + insert, which
a foreign key refuses; the store keeps references whole instead).
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_core_tables",
        """
CREATE SEQUENCE gyms_id_seq START 1;
CREATE TABLE gyms (
    id          INTEGER PRIMARY KEY DEFAULT nextval('gyms_id_seq'),
    name        VARCHAR NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE SEQUENCE users_id_seq START 1;
CREATE TABLE users (
    id               INTEGER PRIMARY KEY DEFAULT nextval('users_id_seq'),
    username         VARCHAR NOT NULL UNIQUE,
    display_name     VARCHAR NOT NULL,
    role             VARCHAR NOT NULL,          -- trainer | clinic | manager | admin
    gym_id           INTEGER,                   -- NULL: every gym of the chain (not for trainers)
    contact          VARCHAR,                   -- phone or e-mail for the clinic's handoff
    password_hash    VARCHAR,                   -- argon2id; NULL for accounts that sign in through OIDC
    disabled         BOOLEAN NOT NULL DEFAULT false,
    failed_attempts  INTEGER NOT NULL DEFAULT 0,
    locked_until     TIMESTAMP,
    created_at       TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE SEQUENCE clients_id_seq START 1;
CREATE TABLE clients (
    id           INTEGER PRIMARY KEY DEFAULT nextval('clients_id_seq'),
    external_id  VARCHAR NOT NULL UNIQUE,       -- the gym's reference, e.g. C-0042 (used by CSV import)
    gym_id       INTEGER NOT NULL,
    trainer_id   INTEGER,
    name         VARCHAR NOT NULL,
    consent_at   TIMESTAMP,                     -- consent to store health data
    consent_by   VARCHAR,                       -- who recorded the consent
    created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    created_by   VARCHAR NOT NULL
);

CREATE SEQUENCE sessions_id_seq START 1;
CREATE TABLE sessions (
    id              BIGINT PRIMARY KEY DEFAULT nextval('sessions_id_seq'),
    client_id       INTEGER NOT NULL,
    date            DATE NOT NULL,
    minutes         DOUBLE NOT NULL,
    rpe             DOUBLE NOT NULL,            -- session RPE 0-10 (FOSTER)
    exercises       VARCHAR NOT NULL DEFAULT '', -- names separated by ';'
    warmup_minutes  DOUBLE,
    cooldown_done   BOOLEAN,
    source          VARCHAR NOT NULL DEFAULT 'app', -- app | import | demo
    created_at      TIMESTAMP NOT NULL DEFAULT current_timestamp,
    created_by      VARCHAR NOT NULL
);

CREATE SEQUENCE reports_id_seq START 1;
CREATE TABLE reports (
    id                        BIGINT PRIMARY KEY DEFAULT nextval('reports_id_seq'),
    client_id                 INTEGER NOT NULL,
    gym_id                    INTEGER NOT NULL,  -- the client's gym when reported (aggregates by gym)
    author_id                 INTEGER,
    author                    VARCHAR NOT NULL,
    created_at                TIMESTAMP NOT NULL,
    hours_since_workout       DOUBLE NOT NULL,
    pain_score                INTEGER NOT NULL,
    pain_quality              VARCHAR NOT NULL,
    trend                     VARCHAR NOT NULL,
    eases_with_movement       BOOLEAN NOT NULL,
    leg_symptoms              VARCHAR NOT NULL,
    numbness                  BOOLEAN NOT NULL,
    tingling                  BOOLEAN NOT NULL,
    weakness                  BOOLEAN NOT NULL,
    weakness_worsening        BOOLEAN NOT NULL,
    limits_daily_activities   BOOLEAN NOT NULL,
    saddle_numbness           BOOLEAN NOT NULL,
    bladder_or_bowel_change   BOOLEAN NOT NULL,
    sexual_dysfunction        BOOLEAN NOT NULL,
    major_trauma              BOOLEAN NOT NULL,
    chest_pain                BOOLEAN NOT NULL,
    fever_or_unwell           BOOLEAN NOT NULL,
    unexplained_weight_loss   BOOLEAN NOT NULL,
    history_of_cancer         BOOLEAN NOT NULL,
    night_or_rest_pain        BOOLEAN NOT NULL,
    worse_on_cough_or_sneeze  BOOLEAN NOT NULL,
    osteoporosis_or_steroids  BOOLEAN NOT NULL,
    persistent_fatigue        BOOLEAN NOT NULL,
    context_json              VARCHAR,           -- SessionContext as JSON, NULL when not given
    history_json              VARCHAR NOT NULL,  -- the TriageHistory the rules saw
    level                     VARCHAR NOT NULL,
    rules_version             VARCHAR NOT NULL,
    result_json               VARCHAR NOT NULL   -- the whole TriageResult
);

-- One row per finding and per detected cause, so trends aggregate in SQL.
CREATE TABLE report_findings (
    report_id  BIGINT NOT NULL,
    rule_id    VARCHAR NOT NULL,
    level      VARCHAR NOT NULL
);
CREATE TABLE report_causes (
    report_id       BIGINT NOT NULL,
    cause           VARCHAR NOT NULL,
    evidence_count  INTEGER NOT NULL,
    rank            INTEGER NOT NULL
);

CREATE SEQUENCE assignments_id_seq START 1;
CREATE TABLE assignments (
    id                  BIGINT PRIMARY KEY DEFAULT nextval('assignments_id_seq'),
    client_id           INTEGER NOT NULL,
    report_id           BIGINT,
    plan_id             VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,       -- active | completed | stopped
    start_date          DATE NOT NULL,
    review_date         DATE NOT NULL,
    customisation_json  VARCHAR,                -- per-client changes; the library stays untouched
    created_at          TIMESTAMP NOT NULL,
    created_by          VARCHAR NOT NULL,
    ended_at            TIMESTAMP,
    end_note            VARCHAR
);

CREATE SEQUENCE referrals_id_seq START 1;
CREATE TABLE referrals (
    id                BIGINT PRIMARY KEY DEFAULT nextval('referrals_id_seq'),
    report_id         BIGINT NOT NULL,
    client_id         INTEGER NOT NULL,
    gym_id            INTEGER NOT NULL,
    level             VARCHAR NOT NULL,         -- refer | urgent | emergency
    status            VARCHAR NOT NULL,         -- new | contacted | seen | cleared | cleared_with_restrictions | not_cleared
    opened_at         TIMESTAMP NOT NULL,
    first_contact_at  TIMESTAMP,
    closed_at         TIMESTAMP,
    restrictions      VARCHAR                   -- what a clearance with restrictions allows
);
CREATE SEQUENCE referral_events_id_seq START 1;
CREATE TABLE referral_events (
    id           BIGINT PRIMARY KEY DEFAULT nextval('referral_events_id_seq'),
    referral_id  BIGINT NOT NULL,
    event_at     TIMESTAMP NOT NULL,
    status       VARCHAR NOT NULL,
    author       VARCHAR NOT NULL,
    note         VARCHAR
);

CREATE SEQUENCE audit_log_id_seq START 1;
CREATE TABLE audit_log (
    id         BIGINT PRIMARY KEY DEFAULT nextval('audit_log_id_seq'),
    event_at   TIMESTAMP NOT NULL,
    actor      VARCHAR NOT NULL,
    role       VARCHAR NOT NULL,
    action     VARCHAR NOT NULL,   -- e.g. report.save, client.view, referral.status, signin.failure
    entity     VARCHAR,            -- table or object kind
    entity_id  VARCHAR,
    outcome    VARCHAR NOT NULL,   -- ok | denied | failed
    detail     VARCHAR             -- JSON, never health data
);

CREATE INDEX sessions_client_date ON sessions (client_id, date);
CREATE INDEX reports_client_time ON reports (client_id, created_at);
CREATE INDEX referrals_status ON referrals (status);
CREATE INDEX clients_gym ON clients (gym_id);
""",
    ),
    # DuckDB never used the two-column index for `client_id = ?` (zone maps answer a client's history in a
    # few ms at chain scale), while rebuilding it cost about 0.5 s per million imported rows.
    (
        "0002_drop_unused_sessions_index",
        """
DROP INDEX sessions_client_date;
""",
    ),
    # One row per saved triage form, so a form saved twice (a double tap on Save, or a rerun that cut the
    # page short after its save) is stored once.
    (
        "0003_report_submissions",
        """
CREATE TABLE report_submissions (
    token      VARCHAR PRIMARY KEY,
    report_id  BIGINT NOT NULL,
    client_id  INTEGER NOT NULL,
    saved_at   TIMESTAMP NOT NULL
);
""",
    ),
    # Triage v2 (TRIAGE.md revised): every answer may be NULL, which means *not asked* (rows already stored
    # keep their answers as given); the new questions; the age the rules saw; which answers were given
    # after an emergency stop; the client's year of birth. DuckDB refuses ALTER on a table with an index,
    # so each index is dropped and made again around the change.
    (
        "0004_triage_v2",
        """
DROP INDEX reports_client_time;
ALTER TABLE reports ALTER COLUMN hours_since_workout DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN pain_score DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN pain_quality DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN trend DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN eases_with_movement DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN leg_symptoms DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN numbness DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN tingling DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN weakness DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN weakness_worsening DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN limits_daily_activities DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN saddle_numbness DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN bladder_or_bowel_change DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN sexual_dysfunction DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN major_trauma DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN chest_pain DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN fever_or_unwell DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN unexplained_weight_loss DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN history_of_cancer DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN night_or_rest_pain DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN worse_on_cough_or_sneeze DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN osteoporosis_or_steroids DROP NOT NULL;
ALTER TABLE reports ALTER COLUMN persistent_fatigue DROP NOT NULL;
ALTER TABLE reports ADD COLUMN collapse_or_tearing_pain BOOLEAN;
ALTER TABLE reports ADD COLUMN upper_back_pain BOOLEAN;
ALTER TABLE reports ADD COLUMN back_shape_change BOOLEAN;
ALTER TABLE reports ADD COLUMN pregnant BOOLEAN;
ALTER TABLE reports ADD COLUMN pregnancy_warning_signs BOOLEAN;
ALTER TABLE reports ADD COLUMN age INTEGER;
ALTER TABLE reports ADD COLUMN answered_after_stop VARCHAR;
CREATE INDEX reports_client_time ON reports (client_id, created_at);
DROP INDEX clients_gym;
ALTER TABLE clients ADD COLUMN year_of_birth INTEGER;  -- NULL: not known yet (asked once, editable)
CREATE INDEX clients_gym ON clients (gym_id);
""",
    ),
    # How the clinic reaches a client (issue 11): optional, kept under the client's consent, erased with the row.
    (
        "0005_client_contact",
        """
ALTER TABLE clients ADD COLUMN phone VARCHAR;
ALTER TABLE clients ADD COLUMN email VARCHAR;
""",
    ),
    # A marker of what the file is (a demo database says so on every page), and server-side sign-in sessions:
    # every rerun checks its session row, so signing out ends every tab and idle expiry runs on this clock.
    (
        "0006_auth_hardening",
        """
CREATE TABLE app_settings (
    key     VARCHAR PRIMARY KEY,
    value   VARCHAR NOT NULL,
    set_at  TIMESTAMP NOT NULL
);
CREATE TABLE signin_sessions (
    id            VARCHAR PRIMARY KEY,          -- sha256 of the random id the browser session holds
    user_id       INTEGER NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,           -- the last rerun that was a person's action
    ended_at      TIMESTAMP,
    end_reason    VARCHAR                       -- signout | idle
);
""",
    ),
    # An erasure owes a rebuild of the file until the rebuilt copy is swapped in: the row commits with the
    # deletion and is absent from the rebuilt copy, so a process killed in between leaves the debt on record.
    # The same migration holds the deployment's secret for the managers' figures (docs/PRIVACY.md): one row,
    # written by the store when the file is first opened for writing.
    (
        "0007_pending_erasures",
        """
CREATE SEQUENCE pending_erasures_id_seq START 1;
CREATE TABLE pending_erasures (
    id          BIGINT PRIMARY KEY DEFAULT nextval('pending_erasures_id_seq'),
    erased_at   TIMESTAMP NOT NULL,
    erased_by   VARCHAR NOT NULL
);
CREATE TABLE privacy_key (
    id      INTEGER PRIMARY KEY,        -- always 1
    secret  UBIGINT NOT NULL            -- 64 random bits: record keys of the cell-key method
);
""",
    ),
    # A half-filled triage form kept on the server per trainer and client (issue 14): a reload keeps the answers.
    # Erased with the client; removed when the report is saved or abandoned.
    (
        "0008_triage_drafts",
        """
CREATE TABLE triage_drafts (
    user_id       INTEGER NOT NULL,
    client_id     INTEGER NOT NULL,
    answers_json  VARCHAR NOT NULL,
    saved_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
""",
    ),
    # Staged plans (issue 15): the stage an assignment is at (1 unloaded, 2 light load, 3 back to full training).
    # Existing assignments start at stage 1. The assignments table has no index, so ALTER is allowed here.
    (
        "0009_plan_stages",
        """
ALTER TABLE assignments ADD COLUMN stage INTEGER NOT NULL DEFAULT 1;
""",
    ),
    # Feedback on a plan (issue 15): per session (or dated entry) and active plan assignment, whether the client
    # did it since last time and the pain during and the morning after. Erased with the client; exported.
    (
        "0010_plan_feedback",
        """
CREATE SEQUENCE plan_feedback_id_seq START 1;
CREATE TABLE plan_feedback (
    id                  BIGINT PRIMARY KEY DEFAULT nextval('plan_feedback_id_seq'),
    client_id           INTEGER NOT NULL,
    assignment_id       BIGINT NOT NULL,
    session_id          BIGINT,                -- NULL: a dated entry without a logged session
    entry_date          DATE NOT NULL,
    done                VARCHAR NOT NULL,      -- all | some | none (since the last entry)
    pain_during         INTEGER NOT NULL,      -- NPRS 0-10
    pain_morning_after  INTEGER NOT NULL,      -- NPRS 0-10
    stage               INTEGER,               -- the plan's stage when recorded; NULL: not known
    recorded_at         TIMESTAMP NOT NULL,
    recorded_by         VARCHAR NOT NULL
);
CREATE INDEX plan_feedback_client ON plan_feedback (client_id);
""",
    ),
    # Daily rollups of the reports for the managers' trends (issue 13): backcare/store/rollups.py explains the
    # design (a row per day, group and client, so distinct-client figures stay exact for any range). The
    # existing rows are counted into them on the next open for writing (store.rollups.ensure_built).
    (
        "0011_trend_rollups",
        """
-- Rows per day, group and client, counted and keyed: backcare/store/rollups.py says why a client per row.
CREATE TABLE trend_report_days (
    day          DATE NOT NULL,         -- the report's created_at date (UTC)
    gym_id       INTEGER NOT NULL,
    author_id    INTEGER NOT NULL,      -- 0: the report has no account id
    author       VARCHAR NOT NULL,
    level        VARCHAR NOT NULL,
    client_id    INTEGER NOT NULL,
    reports      INTEGER NOT NULL,
    report_keys  BIGINT NOT NULL,       -- sum of the reports' record keys, modulo 2^32
    client_key   BIGINT NOT NULL,       -- the client's record key
    causes       INTEGER NOT NULL       -- bitmask of the reports' causes (store.rollups.CAUSE_BITS)
);
CREATE TABLE trend_cause_days (
    day          DATE NOT NULL,
    gym_id       INTEGER NOT NULL,
    cause        VARCHAR NOT NULL,
    client_id    INTEGER NOT NULL,
    reports      INTEGER NOT NULL,      -- report_causes rows
    report_keys  BIGINT NOT NULL,
    client_key   BIGINT NOT NULL
);
-- built_at NULL: the rollups are still to be filled from the existing rows (done on the next open for
-- writing, once the privacy key exists: store.rollups.ensure_built).
CREATE TABLE trend_rollup_state (
    id        INTEGER PRIMARY KEY,      -- always 1
    built_at  TIMESTAMP
);
INSERT INTO trend_rollup_state (id, built_at) VALUES (1, NULL);
""",
    ),
    # The trends' rollups keyed by day and group WITHOUT the client (issue 13): a row per day, gym and level
    # (trend_level_days), per day, gym and cause (trend_cause_days) and per day, gym, trainer and red flag
    # (trend_trainer_days), each with its report count and key sum (they add up over days) and, for the
    # small-group rule, the day's distinct clients (an upper bound over days) and a bitmask of the clients'
    # bits (a lower bound: store.rollups says why). The per-client tables of 0011 go; the new ones are counted
    # from the existing rows on the next open for writing (built_at NULL: store.rollups.ensure_built). The
    # index serves each write's recount of its day and gym (a range of one day in one gym).
    (
        "0012_trend_rollups_by_day",
        """
DROP TABLE trend_report_days;
DROP TABLE trend_cause_days;
CREATE TABLE trend_level_days (
    day          DATE NOT NULL,         -- the reports' created_at date (UTC)
    gym_id       INTEGER NOT NULL,
    level        VARCHAR NOT NULL,
    reports      INTEGER NOT NULL,
    report_keys  BIGINT NOT NULL,       -- sum of the reports' record keys, modulo 2^32
    clients      INTEGER NOT NULL,      -- distinct clients of those reports (that day)
    client_bits  BIGINT NOT NULL        -- OR of the clients' bits (store.rollups.client_bits)
);
CREATE TABLE trend_cause_days (
    day          DATE NOT NULL,
    gym_id       INTEGER NOT NULL,
    cause        VARCHAR NOT NULL,
    reports      INTEGER NOT NULL,      -- report_causes rows
    report_keys  BIGINT NOT NULL,
    clients      INTEGER NOT NULL,
    client_bits  BIGINT NOT NULL
);
CREATE TABLE trend_trainer_days (
    day          DATE NOT NULL,
    gym_id       INTEGER NOT NULL,
    author_id    INTEGER NOT NULL,      -- 0: the report has no account id
    author       VARCHAR NOT NULL,
    red          BOOLEAN NOT NULL,      -- the reports' level is refer or above
    reports      INTEGER NOT NULL,
    report_keys  BIGINT NOT NULL,
    clients      INTEGER NOT NULL,
    client_bits  BIGINT NOT NULL
);
CREATE INDEX reports_gym_time ON reports (gym_id, created_at);
UPDATE trend_rollup_state SET built_at = NULL WHERE id = 1;
""",
    ),
    # Daily rollups of the plan assignments and their feedback for the managers' plan adherence (issue 13):
    # backcare/store/plan_rollups.py explains them (the same design as 0012: a row per day and group, with
    # its count, key sum and the two bounds of its distinct clients). The existing rows are counted into them
    # on the next open for writing (built_at NULL: store.plan_rollups.ensure_built). The index serves each
    # feedback write's recount of its day (assignments keep no index: 0009 says why).
    (
        "0013_plan_rollups_by_day",
        """
CREATE TABLE plan_assigned_days (
    day              DATE NOT NULL,     -- the assignments' created_at date (UTC)
    gym_id           INTEGER NOT NULL,  -- the client's gym
    plan_id          VARCHAR NOT NULL,
    status           VARCHAR NOT NULL,  -- the assignments' status now
    assignments      INTEGER NOT NULL,
    assignment_keys  BIGINT NOT NULL,   -- sum of the assignments' record keys, modulo 2^32
    clients          INTEGER NOT NULL,  -- distinct clients of those assignments (that day)
    client_bits      BIGINT NOT NULL    -- OR of the clients' bits (store.rollups.client_bits)
);
CREATE TABLE plan_feedback_days (
    day              DATE NOT NULL,     -- the entries' entry_date
    gym_id           INTEGER NOT NULL,
    plan_id          VARCHAR NOT NULL,  -- the plan of the entries' assignment
    done             VARCHAR NOT NULL,  -- all | some | none
    entries          INTEGER NOT NULL,
    entry_keys       BIGINT NOT NULL,
    clients          INTEGER NOT NULL,
    client_bits      BIGINT NOT NULL
);
-- built_at NULL: still to be filled from the existing rows (store.plan_rollups.ensure_built).
CREATE TABLE plan_rollup_state (
    id        INTEGER PRIMARY KEY,      -- always 1
    built_at  TIMESTAMP
);
INSERT INTO plan_rollup_state (id, built_at) VALUES (1, NULL);
CREATE INDEX plan_feedback_day ON plan_feedback (entry_date);
""",
    ),
    # The trends' rollups get a primary key each (their group columns): a new report is added to its rows by
    # INSERT ... ON CONFLICT (key) DO UPDATE (store.rollups.add_report), which needs a unique key to find the
    # row. The tables are made anew (as in 0012) and counted again from the reports on the next open for
    # writing (built_at NULL: store.rollups.ensure_built): the keys hold whatever a file holds (two
    # processes, or two threads of one, recounting a day that had no rows could each insert its rows), and
    # on DuckDB filling empty keyed tables takes seconds where deleting a chain's rows from keyed ones (or
    # keying rows deleted in the same transaction) took half a minute at 100k clients. The lookup of a
    # client's other reports that day and their causes (rollups._SAME_DAY) needs no index on DuckDB (its
    # zone maps find them: reports lie in time order, report_causes rows in report id order); PostgreSQL
    # uses reports_client_time, and report_causes (report_id), which store/engine.py adds there to this
    # migration.
    (
        "0014_rollup_lookup_index",
        """
DROP TABLE trend_level_days;
DROP TABLE trend_cause_days;
DROP TABLE trend_trainer_days;
CREATE TABLE trend_level_days (
    day          DATE NOT NULL,         -- the reports' created_at date (UTC)
    gym_id       INTEGER NOT NULL,
    level        VARCHAR NOT NULL,
    reports      INTEGER NOT NULL,
    report_keys  BIGINT NOT NULL,       -- sum of the reports' record keys, modulo 2^32
    clients      INTEGER NOT NULL,      -- distinct clients of those reports (that day)
    client_bits  BIGINT NOT NULL,       -- OR of the clients' bits (store.rollups.client_bits)
    PRIMARY KEY (day, gym_id, level)
);
CREATE TABLE trend_cause_days (
    day          DATE NOT NULL,
    gym_id       INTEGER NOT NULL,
    cause        VARCHAR NOT NULL,
    reports      INTEGER NOT NULL,      -- report_causes rows
    report_keys  BIGINT NOT NULL,
    clients      INTEGER NOT NULL,
    client_bits  BIGINT NOT NULL,
    PRIMARY KEY (day, gym_id, cause)
);
CREATE TABLE trend_trainer_days (
    day          DATE NOT NULL,
    gym_id       INTEGER NOT NULL,
    author_id    INTEGER NOT NULL,      -- 0: the report has no account id
    author       VARCHAR NOT NULL,
    red          BOOLEAN NOT NULL,      -- the reports' level is refer or above
    reports      INTEGER NOT NULL,
    report_keys  BIGINT NOT NULL,
    clients      INTEGER NOT NULL,
    client_bits  BIGINT NOT NULL,
    PRIMARY KEY (day, gym_id, author_id, author, red)
);
UPDATE trend_rollup_state SET built_at = NULL WHERE id = 1;
""",
    ),
)
