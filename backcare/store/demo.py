"""Synthetic demo history: gyms, staff, clients, sessions with load spikes, reports, plans, referrals.

Deterministic for a seed and a clock (`now`). Sessions are generated in SQL with hash-based
pseudo-randomness; reports are triaged through backcare.rules.evaluate with the client's history,
a chunk of clients at a time, and inserted from pandas frames. Everything is one transaction with
one audit row. Nothing here is a real person.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backcare import questions
from backcare.auth import SYSTEM, Action, Actor, Role, hash_password
from backcare.errors import Conflict, InvalidInput
from backcare.models import Level, TriageHistory, TriageReport
from backcare.rules import evaluate
from backcare.store import load, rollups
from backcare.store._base import guard
from backcare.store.db import utcnow
from backcare.store.deployment import ListedAccount, create_database_file, mark_demo, refuse_unless_demo
from backcare.store.records import age_from_year_of_birth
from backcare.store.reports import kept_episode_scores

DEMO_PASSWORD = "backcare-demo"  # printed by the command and shown by the app on first start
DEFAULT_CLIENTS = 60
DEFAULT_WEEKS = 26
FEEDBACK_PER_PLAN = 6  # feedback entries per plan at most (small: the charts need only a few)
DEFAULT_SEED = 7
CHUNK_CLIENTS = 2500

# stage, done, total
DemoProgress = Callable[[str, int, int], None]

GYM_NAMES = (
    "Riverside Strength",
    "Harbour Fitness",
    "Northgate Barbell",
    "Elm Park Athletic",
    "Canal Street Gym",
    "Hillside Performance",
    "Old Mill Fitness",
    "Station Road Strength",
    "Meadow Lane Gym",
    "Quayside Athletic",
    "Castle Hill Fitness",
    "Westfield Barbell",
    "Brookside Training",
    "Market Square Gym",
    "Oakwood Strength",
    "Seafront Fitness",
    "Kingsway Athletic",
    "Abbey Road Training",
    "Parkside Barbell",
    "Victoria Fitness",
)
FIRST_NAMES = (
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Finn",
    "Grace",
    "Hamza",
    "Isla",
    "Jonah",
    "Kavya",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wes",
    "Xin",
    "Yusuf",
    "Zoe",
    "Aiden",
    "Bea",
    "Carlos",
    "Dana",
    "Emeka",
    "Freya",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
)
LAST_NAMES = (
    "Adeyemi",
    "Brennan",
    "Castillo",
    "Dubois",
    "Evans",
    "Fischer",
    "Gallagher",
    "Hughes",
    "Iqbal",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "O'Neill",
    "Petrov",
    "Quinlan",
    "Rossi",
    "Sato",
    "Thornton",
    "Ueda",
    "Varga",
    "Whitaker",
    "Xu",
    "Yilmaz",
    "Zielinski",
    "Abbott",
    "Bauer",
    "Chowdhury",
    "Doyle",
)
EXERCISE_SETS = (
    "back squat;bench press;barbell row",
    "deadlift;overhead press;pull-up",
    "front squat;lunge;plank",
    "romanian deadlift;hip thrust;dead bug",
    "bench press;dumbbell row;bird-dog",
    "running;plank",
    "cycling;glute bridge",
    "rowing machine;kettlebell swing",
    "leg press;hamstring curl;glute bridge",
    "yoga;mobility",
    "sumo deadlift;push-up;side plank",
    "circuit;burpee;box jump",
)
CLEARANCE_RESTRICTIONS = (
    "No loaded spinal flexion for four weeks; machines and bodyweight work are fine.",
    "Deadlifts and squats at half the usual load until the review in three weeks.",
    "Walking, cycling and core work only until the physiotherapist's next review.",
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: Role
    password: str
    display_name: str
    gym: str | None


@dataclass(frozen=True, slots=True)
class DemoSummary:
    accounts: tuple[DemoAccount, ...]
    counts: dict[str, int] = field(default_factory=dict)


def _quiet(stage: str, done: int, total: int) -> None:
    pass


# --- report scenarios ------------------------------------------------------------------------
# Each scenario is the answers a report of roughly that level would give; the level itself always
# comes from the rule module (history can raise it: recurrence, worsening since the last report).

NORMAL, MONITOR, REFER, URGENT, EMERGENCY = (level.value for level in Level)

SCENARIOS: dict[str, tuple[str, dict]] = {
    "sore": (NORMAL, {"pain": (1, 3), "hours": (6, 40), "quality": ("dull_ache", "stiffness", "tightness")}),
    "stiff_morning": (NORMAL, {"pain": (1, 2), "hours": (10, 30), "quality": ("stiffness",)}),
    "moderate": (MONITOR, {"pain": (4, 6), "hours": (8, 46), "quality": ("dull_ache", "tightness")}),
    "slow_to_fade": (MONITOR, {"pain": (2, 3), "hours": (50, 70), "quality": ("dull_ache",)}),
    "not_easing": (MONITOR, {"pain": (2, 3), "hours": (12, 40), "eases_with_movement": False}),
    "worn_out": (MONITOR, {"pain": (2, 3), "hours": (12, 40), "persistent_fatigue": True}),
    "sharp": (REFER, {"pain": (4, 6), "hours": (4, 30), "quality": ("sharp", "stabbing")}),
    "one_leg": (REFER, {"pain": (3, 6), "hours": (10, 40), "leg_symptoms": "one_leg", "tingling": True}),
    "getting_worse": (REFER, {"pain": (4, 6), "hours": (26, 46), "trend": "worse"}),
    "daily_life": (REFER, {"pain": (4, 6), "hours": (20, 46), "limits_daily_activities": True}),
    "severe": (REFER, {"pain": (7, 9), "hours": (4, 30)}),
    "night_pain": (URGENT, {"pain": (4, 7), "hours": (20, 46), "night_or_rest_pain": True}),
    "feverish": (URGENT, {"pain": (3, 6), "hours": (10, 40), "fever_or_unwell": True}),
    "cough": (URGENT, {"pain": (4, 6), "hours": (10, 40), "worse_on_cough_or_sneeze": True}),
    "upper_back": (URGENT, {"pain": (3, 6), "hours": (10, 40), "upper_back_pain": True}),
    "saddle": (EMERGENCY, {"pain": (5, 8), "hours": (6, 30), "saddle_numbness": True, "bladder_or_bowel_change": True}),
    "both_legs": (EMERGENCY, {"pain": (6, 9), "hours": (4, 30), "leg_symptoms": "both_legs", "numbness": True}),
    "fall": (EMERGENCY, {"pain": (6, 9), "hours": (1, 6), "major_trauma": True}),
}
SCENARIO_NAMES = tuple(SCENARIOS)
_LEVEL_WEIGHT = {NORMAL: 0.50, MONITOR: 0.27, REFER: 0.15, URGENT: 0.055, EMERGENCY: 0.025}
_SPIKE_WEIGHT = {NORMAL: 0.32, MONITOR: 0.36, REFER: 0.22, URGENT: 0.07, EMERGENCY: 0.03}


def _scenario_weights(by_level: dict[str, float]) -> np.ndarray:
    counts = {lvl: sum(1 for lv, _ in SCENARIOS.values() if lv == lvl) for lvl in by_level}
    w = np.array([by_level[lvl] / counts[lvl] for lvl, _ in SCENARIOS.values()])
    return w / w.sum()


_WEIGHTS = _scenario_weights(_LEVEL_WEIGHT)
_WEIGHTS_SPIKE = _scenario_weights(_SPIKE_WEIGHT)
# the first report of these clients is one per level, so every level is present however small the demo
_FORCED_FIRST = ("sore", "moderate", "sharp", "night_pain", "saddle")

# Every demo report asks every question (the registry's), with its mildest answer unless the scenario says
# otherwise; a follow-up only when it applies.
_MILDEST: dict = {q.field: q.mildest for q in questions.QUESTIONS}
_YES_NO_FIELDS = tuple(q.field for q in questions.QUESTIONS if q.kind is questions.Kind.YES_NO)


# --- entry points ----------------------------------------------------------------------------


def build_demo(
    db,
    *,
    actor: Actor = SYSTEM,
    clients: int = DEFAULT_CLIENTS,
    weeks: int = DEFAULT_WEEKS,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    progress: DemoProgress | None = None,
) -> DemoSummary:
    """Fill an empty database with a demo history; returns the demo accounts (one per role) and counts."""
    guard(db, actor, Action.PEOPLE_MANAGE, None, attempt="demo.create", entity="database")
    guard(db, actor, Action.CLIENT_WRITE, None, attempt="demo.create", entity="database")
    if not 1 <= clients <= 1_000_000:
        raise InvalidInput("clients", "must be between 1 and 1,000,000")
    if not 1 <= weeks <= 520:
        raise InvalidInput("weeks", "must be between 1 and 520")
    now = (now or utcnow()).replace(microsecond=0)  # the store's clock: naive UTC
    progress = progress or _quiet
    detail: dict = {"clients": clients, "weeks": weeks, "seed": seed}
    with db.write(actor, "demo.create", "database", None, detail) as cur:
        (existing,) = cur.execute(
            "SELECT (SELECT count(*) FROM clients) + (SELECT count(*) FROM gyms) + (SELECT count(*) FROM users)"
        ).fetchall()[0]
        if existing:
            raise Conflict(
                "The database already holds gyms, users or clients: the demo needs a new, empty "
                "file (give --db a new path)."
            )
        gen = _Generator(cur, clients=clients, weeks=weeks, seed=seed, now=now, progress=progress)
        accounts = gen.people()
        # in the same transaction: a file with demo data always says so, and lists every account it opens
        mark_demo(
            cur,
            accounts=[ListedAccount(a.username, a.role.value, a.gym) for a in accounts],
            password=DEMO_PASSWORD,
            now=now,
        )
        gen.sessions()
        gen.reports()
        gen.referrals()
        gen.assignments()
        gen.feedback()
        rollups.rebuild(cur, now=now)  # the trends' daily rollups of everything written above
        counts = gen.counts()
        detail["counts"] = counts
    return DemoSummary(tuple(accounts), counts)


def ensure_demo_database(
    path: str | Path | None = None, *, progress: DemoProgress | None = None, **options
) -> list[DemoAccount] | None:
    """Demo mode's start: build the demo into a new file (moved into place only when complete); None when
    the file is a demo already; Conflict when it exists and is not a demo (a real database stays as it is)."""
    from backcare.store.db import open_database, resolve_path

    target = Path(resolve_path(path))
    if target.exists():
        with open_database(target) as db:
            refuse_unless_demo(db)
        return None
    return list(create_database_file(target, lambda db: build_demo(db, progress=progress, **options).accounts))


# --- the generator ---------------------------------------------------------------------------


class _Generator:
    def __init__(self, cur, *, clients: int, weeks: int, seed: int, now: datetime, progress: DemoProgress):
        self.cur, self.n, self.seed, self.now, self.progress = cur, clients, int(seed), now, progress
        self.days = weeks * 7
        self.first_day = now.date() - timedelta(days=self.days)
        self.rng = np.random.default_rng(seed)
        self.password_hash = hash_password(DEMO_PASSWORD)

    # people -----------------------------------------------------------------------------------

    def people(self) -> list[DemoAccount]:
        self.progress("people", 0, self.n)
        n_gyms = max(3, min(len(GYM_NAMES), math.ceil(self.n / 1500)))
        gyms = pd.DataFrame({"name": list(GYM_NAMES[:n_gyms])})
        created = datetime.combine(self.first_day - timedelta(days=30), time(9, 0))
        self._insert_frame("gyms", gyms.assign(created_at=created))
        gym_ids = dict(self.cur.execute("SELECT name, id FROM gyms").fetchall())

        # clients spread over gyms unevenly, like a real chain
        gym_share = self.rng.dirichlet(np.full(n_gyms, 4.0))
        client_gym = self.rng.choice(n_gyms, size=self.n, p=gym_share)
        client_gym[: min(self.n, n_gyms)] = np.arange(min(self.n, n_gyms))  # every gym has a client

        users, accounts = [], []

        def user(username, display, role, gym_index, contact=None, demo=False):
            gym_name = GYM_NAMES[gym_index] if gym_index is not None else None
            # only the listed accounts get the public password: the others author records and cannot sign in
            users.append(
                {
                    "username": username,
                    "display_name": display,
                    "role": role.value,
                    "gym_id": gym_ids[gym_name] if gym_name else None,
                    "contact": contact,
                    "password_hash": self.password_hash if demo else None,
                    "created_at": created,
                }
            )
            if demo:
                accounts.append(DemoAccount(username, role, DEMO_PASSWORD, display, gym_name))

        trainers_per_gym = [max(2, math.ceil(int((client_gym == g).sum()) / 30)) for g in range(n_gyms)]
        user("demo.trainer", "Dana Doyle (demo trainer)", Role.TRAINER, 0, "dana.doyle@example.org", demo=True)
        user("demo.clinic", "Dr Sami Rossi (demo clinic)", Role.CLINIC, None, "clinic@example.org", demo=True)
        user("demo.manager", "Maya Evans (demo manager)", Role.MANAGER, None, demo=True)
        user("demo.admin", "Ivan Petrov (demo admin)", Role.ADMIN, None, demo=True)
        user("clinic.2", "Priya Iqbal (physiotherapist)", Role.CLINIC, None, "physio@example.org")
        for g in range(n_gyms):
            for k in range(trainers_per_gym[g] - (1 if g == 0 else 0)):
                name = (
                    f"{FIRST_NAMES[(g * 7 + k * 5) % len(FIRST_NAMES)]} "
                    f"{LAST_NAMES[(g * 3 + k * 11) % len(LAST_NAMES)]}"
                )
                user(f"trainer.{g + 1}.{k + 1}", name, Role.TRAINER, g, f"trainer.{g + 1}.{k + 1}@example.org")
        self._insert_frame("users", pd.DataFrame(users).astype({"gym_id": "Int64"}))

        trainer_rows = self.cur.execute(
            "SELECT gym_id, list(id ORDER BY id) FROM users WHERE role = 'trainer' GROUP BY gym_id"
        ).fetchall()
        trainers_of = {gym: ids for gym, ids in trainer_rows}
        usernames = dict(self.cur.execute("SELECT id, username FROM users").fetchall())
        gym_id_of_index = np.array([gym_ids[GYM_NAMES[g]] for g in range(n_gyms)])

        width = max(4, len(str(self.n)))
        client_gym_id = gym_id_of_index[client_gym]
        pick = self.rng.integers(0, 1 << 30, size=self.n)
        trainer_id = np.array(
            [trainers_of[g][p % len(trainers_of[g])] for g, p in zip(client_gym_id, pick, strict=True)]
        )
        first = self.rng.integers(0, len(FIRST_NAMES), size=self.n)
        last = self.rng.integers(0, len(LAST_NAMES), size=self.n)
        joined = (
            pd.Timestamp(self.first_day)
            + pd.Timedelta(hours=10)
            - pd.to_timedelta(self.rng.integers(1, 400, size=self.n), unit="D")
        )
        clients = pd.DataFrame(
            {
                "external_id": [f"C-{i:0{width}d}" for i in range(1, self.n + 1)],
                "gym_id": client_gym_id.astype("int32"),
                "trainer_id": trainer_id.astype("int32"),
                "name": [f"{FIRST_NAMES[a]} {LAST_NAMES[b]}" for a, b in zip(first, last, strict=True)],
                "consent_at": joined,
                "consent_by": [usernames[t] for t in trainer_id],
                "created_at": joined,
                "created_by": [usernames[t] for t in trainer_id],
                # Fictional contacts (Ofcom's drama range, example.org) for most clients; no random draw, so the
                # rest of the demo stays as it was.
                "phone": [f"+44 7700 900{i % 1000:03d}" if i % 10 < 7 else None for i in range(self.n)],
                "email": [f"client{i + 1}@example.org" if i % 2 == 0 else None for i in range(self.n)],
                # about one client in eight has no year of birth recorded yet (asked at the next triage)
                "year_of_birth": pd.array(
                    np.where(self.rng.random(self.n) < 0.125, -1, self.rng.integers(1950, 2009, size=self.n)),
                    dtype="Int64",
                ),
            }
        )
        clients["year_of_birth"] = clients["year_of_birth"].mask(clients["year_of_birth"] < 0)
        self._insert_frame("clients", clients)
        self._client_profiles()
        self.progress("people", self.n, self.n)
        return accounts

    def _client_profiles(self) -> None:
        """Per-client habits the sessions and reports follow (a temporary table for the SQL below)."""
        n, rng = self.n, self.rng
        ids = np.array([r[0] for r in self.cur.execute("SELECT id FROM clients ORDER BY id").fetchall()])
        spike = rng.random(n) < 0.3
        spike_start = rng.integers(min(28, self.days - 1), max(self.days - 5, min(28, self.days - 1) + 1), size=n)
        profiles = pd.DataFrame(
            {
                "client_id": ids.astype("int32"),
                "day_prob": rng.uniform(2.0, 4.5, n) / 7.0,
                "base_minutes": rng.uniform(35, 75, n),
                "base_rpe": rng.uniform(4.0, 7.0, n),
                "warmup_mean": np.where(rng.random(n) < 0.3, rng.uniform(0, 4, n), rng.uniform(5, 12, n)),
                "cooldown_prob": rng.uniform(0.2, 0.95, n),
                "spike_start": np.where(spike, spike_start, -1000).astype("int32"),
                "report_prob": rng.uniform(0.03, 0.17, n),
                "core_per_week": rng.integers(0, 5, n).astype("int32"),
                "sleep_hours": np.round(rng.uniform(5.5, 8.5, n) * 2) / 2,
                "sitting_hours": np.round(rng.uniform(2, 10, n)),
                "posture_concern": rng.random(n) < 0.2,
                "glute_weakness": rng.random(n) < 0.15,
                "risk": rng.random(n),
            }
        )
        self.cur.register("profiles_frame", profiles)
        try:
            self.cur.execute("CREATE TEMP TABLE demo_profile AS SELECT * FROM profiles_frame")
        finally:
            self.cur.unregister("profiles_frame")

    # sessions ---------------------------------------------------------------------------------

    def sessions(self) -> None:
        """About 2-4.5 sessions a week per client; spikes: ten days of more, longer, harder sessions."""
        self.progress("sessions", 0, self.n)
        sets = "[" + ", ".join("'" + s + "'" for s in EXERCISE_SETS) + "]"
        u = lambda k: f"((hash({self.seed}, p.client_id, t.d, {k}) % 1000003) / 1000003.0)"  # noqa: E731
        in_spike = "(t.d BETWEEN p.spike_start AND p.spike_start + 9)"
        self.cur.execute(
            f"""
            INSERT INTO sessions (client_id, date, minutes, rpe, exercises, warmup_minutes, cooldown_done,
                                  source, created_at, created_by)
            SELECT p.client_id,
                   ?::DATE + t.d::INTEGER AS day,
                   least(240, greatest(15, round(p.base_minutes * (0.75 + 0.5 * {u(2)})
                         * CASE WHEN {in_spike} THEN 1.6 ELSE 1 END / 5) * 5)),
                   least(10, greatest(1, round(p.base_rpe + ({u(3)} - 0.5) * 3
                         + CASE WHEN {in_spike} THEN 1.5 ELSE 0 END))),
                   {sets}[1 + (hash({self.seed}, p.client_id, t.d, 4) % {len(EXERCISE_SETS)})::INTEGER],
                   round(greatest(0, p.warmup_mean + ({u(5)} - 0.5) * 4)),
                   {u(6)} < p.cooldown_prob,
                   'demo',
                   (?::DATE + t.d::INTEGER) + INTERVAL 19 HOUR,
                   u.username
            FROM demo_profile AS p
            CROSS JOIN range(1, {self.days + 1}) AS t(d)
            JOIN clients AS c ON c.id = p.client_id
            JOIN users AS u ON u.id = c.trainer_id
            WHERE {u(1)} < least(0.95, p.day_prob * CASE WHEN {in_spike} THEN 1.6 ELSE 1 END)
              AND ?::DATE + t.d::INTEGER < ?::DATE
        """,
            [
                self.first_day - timedelta(days=1),
                self.first_day - timedelta(days=1),
                self.first_day - timedelta(days=1),
                self.now.date() + timedelta(days=1),
            ],
        )
        self.progress("sessions", self.n, self.n)

    # reports ----------------------------------------------------------------------------------

    def _report_candidates(self, lo: int, hi: int) -> pd.DataFrame:
        """Sessions a report follows (more often during and after a spike), with the load picture then."""
        u = f"((hash({self.seed}, s.client_id, s.date, 9) % 1000003) / 1000003.0)"
        day = "(s.date - ?::DATE)"
        return self.cur.execute(
            f"""
            WITH chosen AS (
                SELECT s.id AS session_id, s.client_id, s.date, s.exercises, s.warmup_minutes, s.cooldown_done,
                       {day} BETWEEN p.spike_start AND p.spike_start + 13 AS after_spike
                FROM sessions AS s JOIN demo_profile AS p ON p.client_id = s.client_id
                WHERE s.client_id BETWEEN ? AND ?
                  AND {u} < p.report_prob * CASE WHEN {day} BETWEEN p.spike_start AND p.spike_start + 13
                                                THEN 2.5 ELSE 1 END
            ),
            loads AS (
                SELECT ch.session_id,
                       count(DISTINCT s.date) FILTER (WHERE s.date > ch.date - 7) AS days_trained_7
                FROM chosen AS ch JOIN sessions AS s
                  ON s.client_id = ch.client_id AND s.date BETWEEN ch.date - 27 AND ch.date
                GROUP BY ch.session_id
            )
            SELECT ch.*, c.gym_id, c.trainer_id, c.year_of_birth, u.username AS trainer, p.core_per_week,
                   p.sleep_hours,
                   p.sitting_hours, p.posture_concern, p.glute_weakness,
                   7 - l.days_trained_7 AS rest_days_7
            FROM chosen AS ch JOIN loads AS l USING (session_id)
            JOIN clients AS c ON c.id = ch.client_id JOIN users AS u ON u.id = c.trainer_id
            JOIN demo_profile AS p ON p.client_id = ch.client_id
            ORDER BY ch.client_id, ch.date
        """,
            [self.first_day - timedelta(days=1), lo, hi, self.first_day - timedelta(days=1)],
        ).df()

    def reports(self) -> None:
        (lo, hi) = self.cur.execute("SELECT min(id), max(id) FROM clients").fetchall()[0]
        self.report_total = 0
        forced_clients = {}
        for start in range(lo, hi + 1, CHUNK_CLIENTS):
            self.progress("reports", start - lo, hi - lo + 1)
            candidates = self._report_candidates(start, min(hi, start + CHUNK_CLIENTS - 1))
            if start == lo:
                first_ids = sorted(candidates["client_id"].unique())[: len(_FORCED_FIRST)]
                forced_clients = dict(zip(first_ids, _FORCED_FIRST, strict=False))
            self._triage_chunk(candidates, forced_clients)
        self.progress("reports", hi - lo + 1, hi - lo + 1)

    def _triage_chunk(self, cand: pd.DataFrame, forced: dict[int, str]) -> None:
        n = len(cand)
        if n == 0:
            return
        rng = self.rng
        spike = cand["after_spike"].to_numpy(dtype=bool)
        pick = np.where(
            spike,
            rng.choice(len(SCENARIO_NAMES), size=n, p=_WEIGHTS_SPIKE),
            rng.choice(len(SCENARIO_NAMES), size=n, p=_WEIGHTS),
        )
        r_pain, r_hours, r_quality, r_misc = rng.random(n), rng.random(n), rng.random(n), rng.random((n, 6))

        (first_id,) = self.cur.execute(
            f"SELECT min(v) FROM (SELECT nextval('reports_id_seq') AS v FROM range({n}))"
        ).fetchall()[0]
        rows: list[dict[str, Any]] = []
        findings: list[tuple[int, str, str]] = []
        causes: list[tuple[int, str, int, int]] = []
        history_of: dict[int, list[tuple[datetime, int]]] = {}
        pending: list[tuple[int, datetime, TriageReport, Any]] = []  # the last: a pandas row of the session
        first_seen: set[int] = set()
        for i, rec in enumerate(cand.itertuples(index=False)):
            client = int(rec.client_id)
            name = SCENARIO_NAMES[pick[i]]
            if client in forced and client not in first_seen:
                name = forced[client]
            first_seen.add(client)
            spec = SCENARIOS[name][1]
            pain_lo, pain_hi = spec["pain"]
            hours_lo, hours_hi = spec["hours"]
            hours = round((hours_lo + (hours_hi - hours_lo) * r_hours[i]) * 2) / 2
            created = datetime.combine(rec.date, time(19, 0)) + timedelta(hours=hours)
            if created > self.now:
                continue
            qualities = spec.get("quality", ("dull_ache", "stiffness", "tightness"))
            answers = {q: _MILDEST[q] for q in questions.FIELDS}
            answers.update(
                {
                    "client_id": None,
                    "age": None
                    if pd.isna(rec.year_of_birth)
                    else age_from_year_of_birth(int(rec.year_of_birth), created.date()),
                    "hours_since_workout": hours,
                    "pain_score": int(pain_lo + round((pain_hi - pain_lo) * r_pain[i])),
                    "pain_quality": qualities[int(r_quality[i] * len(qualities)) % len(qualities)],
                    "trend": spec.get("trend", "easing" if r_misc[i, 0] < 0.6 else "same"),
                    "eases_with_movement": spec.get("eases_with_movement", True),
                    "leg_symptoms": spec.get("leg_symptoms", "none"),
                }
            )
            for key in _YES_NO_FIELDS:
                if key in spec:
                    answers[key] = spec[key]
            for q in questions.QUESTIONS:
                if not q.applies(answers):
                    answers[q.field] = None
            ctx = {
                "exercises": [e for e in rec.exercises.split(";") if e],
                "form_breakdown_seen": bool(r_misc[i, 1] < 0.15),
                "load_increased": bool(rec.after_spike and r_misc[i, 2] < 0.7),
                "volume_increased": bool(rec.after_spike and r_misc[i, 3] < 0.6),
                "new_exercise": bool(r_misc[i, 4] < 0.1),
                "warmup_minutes": None if pd.isna(rec.warmup_minutes) else float(rec.warmup_minutes),
                "cooldown_done": None if pd.isna(rec.cooldown_done) else bool(rec.cooldown_done),
                "core_sessions_per_week": int(rec.core_per_week),
                "rest_days_last_7": int(max(0, min(7, rec.rest_days_7))),
                "sleep_hours": float(rec.sleep_hours),
                "sitting_hours_per_day": float(rec.sitting_hours),
                "posture_concern": bool(rec.posture_concern),
                "glute_or_hamstring_weakness": bool(rec.glute_weakness),
            }
            answers["context"] = ctx
            pending.append((client, created, TriageReport.model_validate(answers), rec))

        # Triage in time order per client, each with only the reports made before it: the history the
        # store's save_report would have given (pain scores of the episode's reports within 7 days, reports
        # in 28 days).
        pending.sort(key=lambda entry: (entry[0], entry[1]))
        ratios = self._load_ratios([(client, created.date()) for client, created, _, _ in pending])
        for client, created, report, rec in pending:
            past = history_of.setdefault(client, [])
            recent = [(t, s) for t, s in past if t <= created and created - t <= timedelta(days=28)]
            episode = [(t, s) for t, s in recent if created - t <= timedelta(days=7)]
            history = TriageHistory(
                episode_pain_scores=kept_episode_scores(tuple(score for _, score in episode)),
                prior_reports_28d=sum(1 for _, s in recent if s >= 1),
                acute_chronic_ratio=ratios.get((client, created.date())),
            )
            result = evaluate(report, history)
            past.append((created, report.pain_score))

            report_id = first_id + len(rows)
            row = {
                "id": report_id,
                "client_id": client,
                "gym_id": int(rec.gym_id),
                "author_id": int(rec.trainer_id),
                "author": rec.trainer,
                "created_at": created,
            }
            row.update(report.model_dump(exclude={"client_id", "context"}, mode="json"))
            row.update(
                context_json=report.context.model_dump_json() if report.context else None,
                history_json=history.model_dump_json(),
                level=result.level.value,
                rules_version=result.rules_version,
                result_json=result.model_dump_json(),
            )
            rows.append(row)
            findings.extend((report_id, f.rule_id, f.level.value) for f in result.findings)
            causes.extend(
                (report_id, c.cause.value, len(c.evidence), rank) for rank, c in enumerate(result.causes, start=1)
            )
        if not rows:
            return
        frame = pd.DataFrame(rows)
        self._insert_frame("reports", frame)
        self._insert_frame("report_findings", pd.DataFrame(findings, columns=["report_id", "rule_id", "level"]))
        self._insert_frame(
            "report_causes", pd.DataFrame(causes, columns=["report_id", "cause", "evidence_count", "rank"])
        )
        self.report_total += len(rows)

    def _load_ratios(self, wanted: list[tuple[int, date]]) -> dict[tuple[int, date], float]:
        """The acute:chronic ratio on each (client, day) by the store's own definition (backcare.store.load), rounded
        as save_report's history rounds it, so the demo stores what the product would have stored."""
        if not wanted:
            return {}
        frame = pd.DataFrame(wanted, columns=["client_id", "day"]).drop_duplicates()
        frame["day"] = pd.to_datetime(frame["day"])
        metrics = load.daily_metrics_sql(
            "SELECT DISTINCT client_id FROM demo_ratio_days", "client_id IN (SELECT client_id FROM demo_ratio_days)"
        )
        self.cur.register("demo_ratio_days", frame)
        try:
            rows = self.cur.execute(
                f"SELECT m.client_id, m.day, m.acute_chronic_ratio FROM ({metrics}) AS m "
                "JOIN demo_ratio_days AS w ON w.client_id = m.client_id AND CAST(w.day AS DATE) = m.day "
                "WHERE m.acute_chronic_ratio IS NOT NULL",
                {"first_day": min(day for _, day in wanted), "last_day": max(day for _, day in wanted)},
            ).fetchall()
        finally:
            self.cur.unregister("demo_ratio_days")
        return {(int(client), day): round(float(ratio), 4) for client, day, ratio in rows}

    # referrals --------------------------------------------------------------------------------

    def referrals(self) -> None:
        """Every refer/urgent/emergency report opened a referral; older ones have moved further along."""
        self.progress("referrals", 0, 1)
        u = f"((hash({self.seed}, r.id, 11) % 1000003) / 1000003.0)"
        u2 = f"((hash({self.seed}, r.id, 13) % 1000003) / 1000003.0)"
        self.cur.execute(
            f"""
            CREATE TEMP TABLE demo_referral AS
            SELECT r.id AS report_id, r.client_id, r.gym_id, r.level, r.created_at AS opened_at, r.author,
                   date_diff('minute', r.created_at, ?::TIMESTAMP) / 60.0 AS age_h,
                   CASE
                     WHEN date_diff('minute', r.created_at, ?::TIMESTAMP) < 6 * 60 THEN 'new'
                     WHEN date_diff('minute', r.created_at, ?::TIMESTAMP) < 48 * 60 THEN
                          CASE WHEN {u} < 0.3 THEN 'new' ELSE 'contacted' END
                     WHEN date_diff('minute', r.created_at, ?::TIMESTAMP) < 7 * 24 * 60 THEN
                          CASE WHEN {u} < 0.1 THEN 'new' WHEN {u} < 0.4 THEN 'contacted' ELSE 'seen' END
                     ELSE CASE WHEN {u} < 0.03 THEN 'contacted' WHEN {u} < 0.08 THEN 'seen'
                               WHEN {u} < 0.70 THEN 'cleared' WHEN {u} < 0.95 THEN 'cleared_with_restrictions'
                               ELSE 'not_cleared' END
                   END AS status,
                   -- hours to first contact: mostly within each level's target, some late
                   CASE r.level WHEN 'emergency' THEN 0.2 + 1.2 * {u2}
                                WHEN 'urgent' THEN 1 + 30 * {u2}
                                ELSE 6 + 200 * {u2} END AS contact_h
            FROM reports AS r WHERE r.level IN ('refer', 'urgent', 'emergency')
        """,
            [self.now] * 4,
        )
        self._cover(
            "demo_referral",
            "report_id",
            "opened_at",
            ("new", "contacted", "seen", "cleared", "cleared_with_restrictions", "not_cleared"),
        )
        steps = "CASE status WHEN 'new' THEN 1 WHEN 'contacted' THEN 2 WHEN 'seen' THEN 3 ELSE 4 END"

        def at(share: float, alias: str = "") -> str:
            """A step's time: first contact after its level's delay (never after now), later steps a share
            of the time since opening but never before the first contact."""
            age = f"greatest({alias}age_h, 0.1)"
            contact = f"least({alias}contact_h, {age} * 0.9)"
            after = f"least({age} - {contact}, 24 * 14)"  # later steps within two weeks of the contact
            hours = contact if share <= 0.15 else f"{contact} + {after} * {share}"
            return f"{alias}opened_at + to_seconds((({hours}) * 3600)::BIGINT)"

        restrictions = "[" + ", ".join("'" + t.replace("'", "''") + "'" for t in CLEARANCE_RESTRICTIONS) + "]"
        self.cur.execute(f"""
            INSERT INTO referrals (report_id, client_id, gym_id, level, status, opened_at, first_contact_at,
                                   closed_at, restrictions)
            SELECT report_id, client_id, gym_id, level, status, opened_at,
                   CASE WHEN {steps} >= 2 THEN {at(0.15)} END,
                   CASE WHEN status IN ('cleared', 'cleared_with_restrictions') THEN {at(0.9)} END,
                   CASE WHEN status = 'cleared_with_restrictions'
                        THEN {restrictions}[1 + (report_id % {len(CLEARANCE_RESTRICTIONS)})::INTEGER] END
            FROM demo_referral ORDER BY opened_at, report_id
        """)
        note = """CASE k WHEN 1 THEN 'Opened from the triage report.'
                        WHEN 2 THEN 'Phoned the client and booked an assessment.'
                        WHEN 3 THEN 'Assessed at the clinic.'
                        ELSE CASE d.status WHEN 'cleared' THEN 'Cleared to return to full training.'
                                           WHEN 'cleared_with_restrictions' THEN 'Cleared with restrictions.'
                                           ELSE 'Not cleared yet: keep loading exercises paused.' END END"""
        self.cur.execute(f"""
            INSERT INTO referral_events (referral_id, event_at, status, author, note)
            SELECT f.id,
                   CASE k WHEN 1 THEN d.opened_at WHEN 2 THEN {at(0.15, "d.")}
                          WHEN 3 THEN {at(0.5, "d.")} ELSE {at(0.9, "d.")} END,
                   CASE k WHEN 1 THEN 'new' WHEN 2 THEN 'contacted' WHEN 3 THEN 'seen' ELSE d.status END,
                   CASE k WHEN 1 THEN d.author
                          ELSE CASE WHEN d.report_id % 3 = 0 THEN 'clinic.2' ELSE 'demo.clinic' END END,
                   {note}
            FROM demo_referral AS d JOIN referrals AS f ON f.report_id = d.report_id
            CROSS JOIN range(1, 5) AS s(k)
            WHERE k <= {steps.replace("status", "d.status")}
            ORDER BY f.id, k
        """)
        self.progress("referrals", 1, 1)

    # assignments ------------------------------------------------------------------------------

    def assignments(self) -> None:
        """Half the normal/monitor reports with a cause got that cause's plan; two weeks to review."""
        self.progress("plans", 0, 1)
        u = lambda k: f"((hash({self.seed}, r.id, {k}) % 1000003) / 1000003.0)"  # noqa: E731
        self.cur.execute(
            f"""
            CREATE TEMP TABLE demo_assignment AS
            WITH picked AS (
                SELECT r.id AS report_id, r.client_id, c.cause AS plan_id, r.created_at, r.author,
                       r.created_at::DATE AS start_date,
                       CASE WHEN r.created_at::DATE > ?::DATE - 14 THEN 'active'
                            WHEN {u(21)} < 0.7 THEN 'completed' ELSE 'stopped' END AS status,
                       {u(22)} AS u_end
                FROM reports AS r JOIN report_causes AS c ON c.report_id = r.id AND c.rank = 1
                WHERE r.level IN ('normal', 'monitor') AND {u(20)} < 0.5
                  -- as save_report does: no plan while an earlier referral is not yet cleared
                  AND NOT EXISTS (SELECT 1 FROM referrals AS f
                                  WHERE f.client_id = r.client_id
                                    AND f.opened_at <= r.created_at + INTERVAL 10 MINUTE
                                    AND (f.closed_at IS NULL OR f.closed_at > r.created_at + INTERVAL 10 MINUTE))
            )
            SELECT * FROM picked
            QUALIFY status <> 'active'
                 OR row_number() OVER (PARTITION BY client_id, plan_id, status ORDER BY created_at DESC) = 1
        """,
            [self.now.date()],
        )
        self._cover("demo_assignment", "report_id", "created_at", ("active", "completed", "stopped"))
        self.cur.execute(
            """
            INSERT INTO assignments (client_id, report_id, plan_id, status, start_date, review_date,
                                     created_at, created_by, ended_at, end_note)
            SELECT client_id, report_id, plan_id, status, start_date, start_date + 14,
                   created_at + INTERVAL 10 MINUTE, author,
                   CASE WHEN status <> 'active'
                        THEN least(start_date + (7 + (u_end * 14)::INTEGER) + INTERVAL 18 HOUR, ?::TIMESTAMP) END,
                   CASE status WHEN 'completed' THEN 'Plan completed; soreness settled.'
                               WHEN 'stopped' THEN 'Stopped early: the client changed programme.' END
            FROM demo_assignment ORDER BY created_at, report_id
        """,
            [self.now],
        )
        self.progress("plans", 1, 1)

    # feedback on plans (issue 15) ------------------------------------------------------------

    def feedback(self) -> None:
        """Feedback at up to FEEDBACK_PER_PLAN of the client's sessions while each plan ran: done all / some / none,
        and the next-morning pain drifting from the pre-plan report's score, down for most plans (more when done)
        and up for about one in seven; pain during a little below it. Deterministic: hashes of the seed."""
        self.progress("feedback", 0, 1)
        u = lambda k, of="s.id": f"((hash({self.seed}, {of}, {k}) % 1000003) / 1000003.0)"  # noqa: E731
        self.cur.execute(
            f"""
            INSERT INTO plan_feedback (client_id, assignment_id, session_id, entry_date, done, pain_during,
                                       pain_morning_after, stage, recorded_at, recorded_by)
            WITH entries AS (
                SELECT a.client_id, a.id AS assignment_id, s.id AS session_id, s.date AS entry_date,
                       row_number() OVER (PARTITION BY a.id ORDER BY s.date, s.id) AS n,
                       coalesce(r.pain_score, 3) AS before,
                       CASE WHEN {u(30, "a.id")} < 0.15 THEN 0.4 ELSE -0.5 END AS drift,
                       CASE WHEN {u(31)} < 0.6 THEN 'all' WHEN {u(31)} < 0.85 THEN 'some' ELSE 'none' END AS done,
                       {u(32)} AS noise, {u(33)} AS ease,
                       a.created_by
                FROM assignments AS a
                JOIN sessions AS s ON s.client_id = a.client_id AND s.date > a.start_date
                     AND s.date <= coalesce(CAST(a.ended_at AS DATE), ?::DATE)
                LEFT JOIN reports AS r ON r.id = a.report_id
            ),
            scored AS (
                SELECT *, greatest(0, least(10, round(before + n * drift * (CASE done WHEN 'none' THEN 0.3 ELSE 1 END)
                                                      + (noise - 0.5) * 1.6)))::INTEGER AS morning
                FROM entries WHERE n <= {FEEDBACK_PER_PLAN}
            )
            SELECT client_id, assignment_id, session_id, entry_date, done,
                   greatest(0, least(10, morning - round(ease * 2)))::INTEGER, morning, NULL,
                   entry_date + INTERVAL 19 HOUR, created_by
            FROM scored ORDER BY entry_date, session_id, assignment_id
        """,
            [self.now.date()],
        )
        self.progress("feedback", 1, 1)

    # helpers ----------------------------------------------------------------------------------

    def _cover(self, table: str, key: str, order: str, statuses: tuple[str, ...]) -> None:
        """Small demos still show every status: give a missing one to the oldest rows (old enough for any)."""
        present = {s for (s,) in self.cur.execute(f"SELECT DISTINCT status FROM {table}").fetchall()}
        missing = [s for s in statuses if s not in present]
        if not missing:
            return
        keys = [
            k
            for (k,) in self.cur.execute(
                f"SELECT {key} FROM {table} ORDER BY {order}, {key} LIMIT {len(missing)}"
            ).fetchall()
        ]
        for status, k in zip(missing, keys, strict=False):
            self.cur.execute(f"UPDATE {table} SET status = ? WHERE {key} = ?", [status, k])

    def _insert_frame(self, table: str, frame: pd.DataFrame) -> None:
        """INSERT ... SELECT from a pandas frame (DuckDB scans it in place): no row-by-row inserts."""
        columns = ", ".join(frame.columns)
        self.cur.register("demo_frame", frame)
        try:
            self.cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM demo_frame")
        finally:
            self.cur.unregister("demo_frame")

    def counts(self) -> dict[str, int]:
        tables = (
            "gyms",
            "users",
            "clients",
            "sessions",
            "reports",
            "report_findings",
            "report_causes",
            "assignments",
            "plan_feedback",
            "referrals",
            "referral_events",
        )
        return {t: int(self.cur.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in tables}
