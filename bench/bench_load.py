"""Load benchmark (issue 13): simulated trainers against one real `streamlit run app.py` process, over its
websocket, speaking Streamlit's own protocol (BackMsg / ForwardMsg protobufs), at several levels of users.

    .venv/bin/python -m bench.bench_load                       # 1, 4, 8, 16, 32, 48 trainers, chain scale
    .venv/bin/python -m bench.bench_load --users 8,48 --duration 90 --gc off
    .venv/bin/python -m bench.bench_load --quick               # smoke run: small data, two short levels

Each level starts a fresh server process on a copy of the chain-scale demo history (bench/chain.py), warms
it with one trainer, then lets N trainers sign in (staggered) and work: find a client, read their history,
answer the triage steps one tap at a time, save, log a session, look at the plans; 1-3 s of thinking between
taps. Each trainer starts at a random tap of that cycle (reached without thinking, before the window, which
waits for every trainer to get there), so trainers who sign in together do not tap in step, and the measured
window runs on past --duration until every kind of tap (triage steps, save, history, plans, session log) has
been answered in it, up to --max-duration; the report gives the window's length and the number of taps of
each kind. Latency is the time from sending a tap to the server's
"script finished" for the last rerun it causes (an st.rerun() included). After the measured window, a burst of
sign-ins arrives at once while the N trainers keep working, and the process's peak memory (VmHWM) is read.

A browser sends every widget's value on each rerun; this driver sends the widgets a tap changes (and a
form's fields with its submit button), and the server keeps the others: the server's work per rerun is the
same, the messages are smaller. Each trainer is one asyncio task in this one driver process; the driver's
own CPU is measured and reported, since on a small machine it competes with the server.

Targets (at the highest level run; 48 trainers by default): p95 under --target-p95-ms (1,000 ms), and the
process's peak memory with those sessions and the burst under --target-memory-mb (1,000 MB). The 1-trainer
level is the same-run baseline the others are compared with. Exits 1 naming each missed target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.chain import CHAIN_CLIENTS, CHAIN_SEED, CHAIN_WEEKS, chain_database, working_copy
from bench.common import (
    OUT,
    ROOT,
    Target,
    load_average,
    machine,
    median,
    now_utc,
    percentile,
    report_targets,
    write_section,
)

BENCH_PASSWORD = "bench-load-password-1"
LEVELS = (1, 4, 8, 16, 32, 48)
QUICK = {
    "users": "1,2",
    "duration": 6.0,
    "max_duration": 40.0,
    "clients": 300,
    "weeks": 8,
    "burst": 2,
    "ramp": 1.0,
    "settle": 1.0,
    "think": "0.1,0.3",
}
TICK = os.sysconf("SC_CLK_TCK")
FINISHED_EARLY_FOR_RERUN = 2


# --- the server process --------------------------------------------------------------------------


# The store's failure sentences (backcare/store/db.py translate(), the domain errors the pages show with st.error).
FAILURE_WORDS = re.compile(r"please try again|failed|was refused|could not|is in use|not stored", re.IGNORECASE)


def page_failure(elements) -> str | None:
    """What went wrong in a script run, from its (kind, proto) elements: a traceback, or a failure the page
    shows in words (a clash with another change, a save that failed), which is a tap that did not do its work
    as much as a traceback is. Error boxes also carry the triage's emergency and urgent results, so only the
    store's failure sentences count."""
    from streamlit.proto.Alert_pb2 import Alert

    elements = list(elements)
    for kind, element in elements:
        if kind == "exception":
            return f"the page raised: {element.message[:200]}"
    for kind, element in elements:
        if kind == "alert" and element.format == Alert.ERROR and FAILURE_WORDS.search(element.body):
            return f"the page showed an error: {element.body[:200]}"
    return None


def page_summary(elements, limit: int = 300) -> str:
    """What a script run drew, in a line for an error message: its widgets' keys and the start of its first
    texts, so a flow the driver could not follow says what the page showed instead."""
    keys, texts = [], []
    for kind, element in elements:
        widget_id = getattr(element, "id", "")
        if widget_id:
            keys.append(user_key(widget_id) or kind)
        elif kind in ("markdown", "alert", "heading") and getattr(element, "body", ""):
            texts.append(" ".join(str(element.body).split())[:60])
    shown = f"widgets: {', '.join(keys) or 'none'}; text: {' | '.join(texts[:4]) or 'none'}"
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path
    gc_stats_path: Path

    def gc_stats(self) -> dict:
        """The collector's counts and times so far, per generation (bench.serve answers SIGUSR2)."""
        asked = time.time()
        os.kill(self.pid, signal.SIGUSR2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                stats = json.loads(self.gc_stats_path.read_text())
                if stats["at"] >= asked:
                    return stats
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        return {"collections": [0, 0, 0], "seconds": [0.0, 0.0, 0.0], "tracked_objects": 0, "frozen": 0}

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ports(self) -> list[int]:
        return [self.port]

    def port_for(self, username: str) -> int:
        return self.port

    def freeze(self) -> None:
        os.kill(self.pid, signal.SIGUSR1)  # bench.serve: gc.freeze() now that the app is warm

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime, every thread

    def memory_mb(self) -> tuple[float, float]:
        """(resident now, peak resident since start) in MB."""
        values = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1]) / 1024
        return values["VmRSS"], values["VmHWM"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(db_path: Path | str, gc_mode: str, logs: Path, flags: list[str] = ()) -> Server:
    """One `streamlit run app.py` on the file at `db_path`, or on the PostgreSQL database when it is a URL."""
    port = free_port()
    # bench.serve is `streamlit run` plus two signal handlers: gc.freeze() and the collector's statistics.
    command = [
        sys.executable,
        "-m",
        "bench.serve",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]
    if gc_mode != "config":  # freeze: the collection stays on, over what the freeze left
        command += ["--runner.postScriptGC", "false" if gc_mode == "off" else "true"]
    for flag in flags:  # e.g. server.fileWatcherType=auto, to compare a setting with the config's
        name, _, value = flag.partition("=")
        command += [f"--{name}", value]
    log, stats = logs / f"server-{port}.log", logs / f"gc-{port}.json"
    env = {**os.environ, **database_env(db_path), "PYTHONPATH": str(ROOT), "BACKCARE_GC_STATS": str(stats)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = Server(process, port, log, stats)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise SystemExit(f"the server did not answer within 60 s; see {log}")


def database_env(database: Path | str) -> dict[str, str]:
    """What a server process is told: BACKCARE_DATABASE_URL for a PostgreSQL database, else BACKCARE_DB."""
    if isinstance(database, str) and database.startswith(("postgresql://", "postgres://")):
        return {"BACKCARE_DATABASE_URL": database}
    return {"BACKCARE_DB": str(database)}


class ServerGroup:
    """Several server processes on one PostgreSQL database, read as one deployment (issue 17): each trainer
    is sent to one process, round robin in the order they first connect, and stays there (what a balancer's
    sticky sessions do); CPU and collections are summed over the processes, memory is the largest process's."""

    def __init__(self, servers: list[Server]):
        self.servers = servers
        self._assigned: dict[str, int] = {}

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers]

    @property
    def port(self) -> int:
        return self.servers[0].port

    def port_for(self, username: str) -> int:
        if username not in self._assigned:
            self._assigned[username] = self.servers[len(self._assigned) % len(self.servers)].port
        return self._assigned[username]

    def trainers_per_process(self) -> list[int]:
        """Trainers (the measured ones and the burst's) each process was given."""
        return [sum(1 for port in self._assigned.values() if port == server.port) for server in self.servers]

    def freeze(self) -> None:
        for server in self.servers:
            server.freeze()

    def cpu_seconds(self) -> float:
        return sum(server.cpu_seconds() for server in self.servers)

    def memory_mb(self) -> tuple[float, float]:
        each = [server.memory_mb() for server in self.servers]
        return max(rss for rss, _ in each), max(peak for _, peak in each)

    def gc_stats(self) -> dict:
        each = [server.gc_stats() for server in self.servers]
        total = {
            key: [sum(values) for values in zip(*(e[key] for e in each), strict=True)]
            for key in ("collections", "seconds")
        }
        return {
            **total,
            "tracked_objects": sum(e["tracked_objects"] for e in each),
            "frozen": sum(e["frozen"] for e in each),
        }

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_servers(database: Path | str, args, logs: Path) -> Server | ServerGroup:
    """One process (the file, or PostgreSQL with --processes 1), or --processes of them on one PostgreSQL
    database, started one after the other (the first migrates the database; the others find it done)."""
    count = getattr(args, "processes", 1)
    if count == 1:
        return start_server(database, args.gc, logs, args.server_flag)
    servers: list[Server] = []
    try:
        for _ in range(count):
            servers.append(start_server(database, args.gc, logs, args.server_flag))
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return ServerGroup(servers)


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every process), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICK


def driver_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- one browser tab, spoken in Streamlit's protocol -------------------------------------------------


class AppError(Exception):
    """The page showed an exception, a tap found no widget to tap, or the server did not answer."""


class Tab:
    """One websocket session: send a rerun with widget states, read messages until the script has finished,
    keep the last run's elements (by delta path) and the app's pages."""

    def __init__(self, port: int, timeout: float):
        self.url = f"ws://127.0.0.1:{port}/_stcore/stream"
        self.timeout = timeout
        self.ws = None
        self.elements: dict[tuple, tuple[str, object]] = {}
        self.pages: dict[str, str] = {}
        self.page_hash = ""

    async def connect(self) -> None:
        import websockets

        self.ws = await websockets.connect(
            self.url, subprotocols=["streamlit"], max_size=None, ping_interval=None, open_timeout=self.timeout
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def rerun(self, states=(), page: str | None = None) -> float:
        """Milliseconds until the last script run this message causes has finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = BackMsg()
        message.rerun_script.page_script_hash = self.page_hash if page is None else page
        message.rerun_script.widget_states.widgets.extend(states)
        from websockets.exceptions import ConnectionClosed

        started = time.perf_counter()
        elements: dict[tuple, tuple[str, object]] = {}
        try:
            await self.ws.send(message.SerializeToString())
        except ConnectionClosed as closed:
            raise AppError(f"the server closed the connection ({closed})") from None
        while True:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), self.timeout)
            except TimeoutError:
                raise AppError(f"no answer within {self.timeout:.0f} s") from None
            except ConnectionClosed as closed:
                raise AppError(f"the server closed the connection ({closed})") from None
            forward = ForwardMsg.FromString(raw)
            kind = forward.WhichOneof("type")
            if kind == "new_session":
                elements = {}
            elif kind == "navigation":
                self.pages = {page.url_pathname: page.page_script_hash for page in forward.navigation.app_pages}
                self.page_hash = forward.navigation.page_script_hash
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element_kind = forward.delta.new_element.WhichOneof("type")
                elements[tuple(forward.metadata.delta_path)] = (
                    element_kind,
                    getattr(forward.delta.new_element, element_kind),
                )
            elif kind == "script_finished" and forward.script_finished != FINISHED_EARLY_FOR_RERUN:
                break
        elapsed = (time.perf_counter() - started) * 1000
        self.elements = elements
        problem = page_failure(elements.values())
        if problem:
            raise AppError(problem)
        return elapsed

    def widgets(self, kind: str | None = None) -> list[tuple[str, str, object]]:
        """(kind, key, proto) of every widget drawn by the last run, in page order; the key is the user key
        Streamlit puts at the end of the widget id."""
        found = []
        for path in sorted(self.elements):
            element_kind, element = self.elements[path]
            widget_id = getattr(element, "id", "")
            if widget_id and (kind is None or element_kind == kind):
                found.append(
                    (
                        element_kind,
                        user_key(widget_id),
                        element,
                    )
                )
        return found

    def widget(self, key_pattern: str, kind: str | None = None):
        pattern = re.compile(key_pattern)
        for _kind, key, element in self.widgets(kind):
            if pattern.fullmatch(key):
                return element
        return None

    def submit_button(self, form: str):
        for _kind, _, element in self.widgets("button"):
            if element.is_form_submitter and element.form_id == form:
                return element
        return None


def user_key(widget_id: str) -> str:
    """The key a page gave a widget: Streamlit's id is `$$ID-<hash>-<key>`, and a key may hold dashes itself
    (`client-12-session_minutes_pick`)."""
    return widget_id.split("-", 2)[-1] if widget_id.startswith("$$ID-") else widget_id


def tapped(element):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    return WidgetState(id=element.id, trigger_value=True)


def typed(element, value: str):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    return WidgetState(id=element.id, string_value=value)


def numbered(element, value: float):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    return WidgetState(id=element.id, double_value=float(value))


def chosen(element, content: str):
    """A segmented control or pills tapped on one option (by the text it shows)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    state = WidgetState(id=element.id)
    state.string_array_value.data[:] = [content]
    return state


# --- one simulated trainer -----------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    started: float  # time.monotonic() when the tap was sent
    ms: float
    ok: bool
    error: str = ""


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)

    def add(self, kind: str, started: float, ms: float, ok: bool = True, error: str = "") -> None:
        self.samples.append(Sample(kind, started, ms, ok, error))


class Trainer:
    def __init__(
        self,
        *,
        port: int,
        username: str,
        clients: list[str],
        think: tuple[float, float],
        recorder: Recorder,
        rng: random.Random,
        timeout: float,
        on_placed: Callable[[], None] | None = None,
    ):
        self.tab = Tab(port, timeout)
        self.username, self.clients, self.think = username, clients, think
        self.recorder, self.rng = recorder, rng
        self.logs_next = rng.random() < 0.5  # whether the next cycle logs a session (every other one does)
        self.fast_forward, self.pre_roll = False, 0  # see work(): the way to a random starting point
        self.on_placed: Callable[[], None] | None = on_placed

    async def pause(self) -> None:
        low, high = self.think
        if high > 0:
            await asyncio.sleep(self.rng.uniform(low, high))

    async def tap(self, kind: str, states=(), page: str | None = None, *, think: bool = True) -> None:
        if think and not self.fast_forward:
            await self.pause()
        started = time.monotonic()
        try:
            ms = await self.tab.rerun(states, page)
        except AppError as error:
            self.recorder.add(kind, started, (time.monotonic() - started) * 1000, False, str(error))
            raise
        self.recorder.add(kind, started, ms)
        if self.pre_roll:
            self.pre_roll -= 1
            if not self.pre_roll:
                self.placed()

    def fail(self, message: str) -> AppError:
        """A tap the driver could not make (the page lacks what it looks for): counted among the errors, so a
        flow the page no longer offers shows in the report instead of cutting cycles short unseen."""
        self.recorder.add("driver", time.monotonic(), 0, False, message)
        return AppError(message)

    def need(self, key_pattern: str, kind: str | None = None):
        element = self.tab.widget(key_pattern, kind)
        if element is None:
            raise self.fail(f"no widget {key_pattern!r} on the page")
        return element

    async def open_and_sign_in(self, *, ready: asyncio.Event | None = None) -> None:
        await self.tab.connect()
        await self.tap("open", think=False)
        if ready is not None:
            await ready.wait()  # a burst: every tab open, then all sign in at once
        states = [
            typed(self.need("signin_username"), self.username),
            typed(self.need("signin_password"), BENCH_PASSWORD),
            tapped(self.tab.submit_button("signin")),
        ]
        await self.tap("sign-in", states, think=ready is None)
        if "history" not in self.tab.pages:
            raise AppError("the sign-in did not reach the trainer's pages")

    async def go(self, page: str, kind: str) -> None:
        await self.tap(kind, page=self.tab.pages[page])

    async def choose_client(self) -> None:
        change = self.tab.widget("change_client", "button")
        if change is not None:
            await self.tap("change-client", [tapped(change)])
        reference = self.rng.choice(self.clients)
        await self.tap("search", [typed(self.need("client_query"), reference)])
        await self.tap("choose", [tapped(self.need("use_client", "button"))])

    async def triage(self) -> None:
        """Answer every step one tap at a time, move on with Next, save on the result step."""
        answered: set[str] = set()
        for _ in range(80):  # a guard against a page that stops moving
            # Save on the result step, or Save now at an emergency stop (a "where?" answered "both legs")
            save = self.tab.widget(r"q_save_\d+", "button") or self.tab.widget(r"q_save_now_\d+", "button")
            if save is not None:
                await self.tap("save", [tapped(save)])
                return
            question = next(
                (
                    (kind, key, element)
                    for kind, key, element in self.tab.widgets()
                    if kind in ("button_group", "number_input")
                    and key.startswith("q_")
                    and key not in answered
                    and not re.match(r"q_(plans|core|rest|cooldown|flags)_", key)
                    and not re.match(r"q_(warmup|sleep|sitting)_", key)
                ),
                None,
            )
            if question is not None:
                kind, key, element = question
                answered.add(key)
                await self.tap("answer", [self.answer(kind, key, element)])
                continue
            step_next = self.tab.widget(r"q_next_\d+_\d+", "button")
            if step_next is None:
                shown = page_summary(self.tab.elements[path] for path in sorted(self.tab.elements))
                raise self.fail(f"no question, Next or Save on the triage page ({shown})")
            await self.tap("next", [tapped(step_next)])
        raise self.fail("the triage form did not reach its result")

    def answer(self, kind: str, key: str, element):
        if kind == "number_input":  # hours since the workout
            return numbered(element, self.rng.choice((6, 20, 24, 30, 48)))
        options = [option.content for option in element.options]
        if options == ["No", "Yes"]:  # red flags and symptoms: mostly no, a symptom now and then
            symptom = re.match(r"q_(numbness|tingling|weakness|limits_daily_activities|persistent_fatigue)_", key)
            eases = key.startswith("q_eases_with_movement_")
            if eases:
                return chosen(element, "Yes" if self.rng.random() < 0.8 else "No")
            return chosen(element, "Yes" if symptom and self.rng.random() < 0.08 else "No")
        if key.startswith("q_leg_symptoms_"):
            return chosen(element, options[0])
        if key.startswith("q_pain_score_"):
            return chosen(element, options[self.rng.choice((1, 2, 2, 3, 3, 4, 5, 6))])
        return chosen(element, self.rng.choice(options))

    async def log_session(self) -> None:
        """The history page's session form (keyed by the client: `client-<id>-session_...`): minutes and effort
        tapped, the exercises typed, then Log session."""
        minutes = self.need(r"client-\d+-session_minutes_pick", "button_group")
        effort = self.need(r"client-\d+-session_rpe_pick", "button_group")
        form = re.sub(r"_minutes_pick$", "_form", user_key(minutes.id))
        submit = self.tab.submit_button(form)
        if submit is None:
            raise self.fail(f"no submit button of the form {form!r} on the page")
        states = [
            chosen(minutes, self.rng.choice(("30 min", "45 min", "60 min", "75 min"))),
            chosen(effort, self.rng.choice(("3 moderate", "4", "5 hard", "6", "7 very hard"))),
            typed(self.need(r"client-\d+-session_exercises", "text_input"), "squat, deadlift, plank"),
            tapped(submit),
        ]
        await self.tap("log-session", states)

    # One client's cycle, in stages; each stage goes to its own page, so a trainer may start at any of them.
    # The weights are each stage's usual number of taps, so a random start falls on a random tap of the cycle.
    STAGES: tuple[tuple[str, float], ...] = (
        ("choose", 4.0),  # back to the triage page, find the client
        ("history", 1.0),
        ("triage", 27.0),  # the triage page, every step answered one tap at a time, saved
        ("history-after", 1.5),  # the history again, a session logged every other cycle
        ("plans", 1.0),
    )

    def random_start(self) -> tuple[int, int]:
        """Where this trainer's first cycle starts, a random tap of the cycle: (stage, taps of the triage form
        already made when the start falls inside it)."""
        point = self.rng.uniform(0, sum(weight for _, weight in self.STAGES))
        for index, (name, weight) in enumerate(self.STAGES):
            if point < weight:
                return index, int(point) if name == "triage" else 0
            point -= weight
        return 0, 0

    def placed(self) -> None:
        """The trainer has reached its starting point: from here on it thinks between taps."""
        self.fast_forward, self.pre_roll = False, 0
        if self.on_placed is not None:
            self.on_placed()
            self.on_placed = None

    async def stage(self, name: str) -> None:
        if name == "choose":
            await self.go("", "triage-page")
            await self.choose_client()
        elif name == "history":
            await self.go("history", "history")
        elif name == "triage":
            await self.go("", "triage-page")
            await self.triage()
        elif name == "history-after":
            await self.go("history", "history")
            if self.logs_next:  # every other cycle: half of them, and never three in a row without one
                await self.log_session()
            self.logs_next = not self.logs_next
        elif name == "plans":
            await self.go("plans", "plans")

    async def cycle(self, start: int = 0) -> None:
        """One client: find them, read their history, triage and save, read the history again (and log a
        session every other cycle), look at the plans; from stage `start` on (the first cycle of a trainer)."""
        for name, _ in self.STAGES[start:]:
            await self.stage(name)

    async def work(self, stop: asyncio.Event) -> None:
        """Cycles until told to stop, the first from a random point of the cycle: trainers who all signed in
        at once would otherwise tap in step, and a window shorter than one cycle (about 70 s at 1-3 s of
        thinking) would see no save, log or plans tap at all. After an error, a new client."""
        start, skip = self.random_start()
        # Getting there is a pre-roll without thinking, before the window (the level waits for every trainer):
        # the client found, and inside the triage form the taps already made.
        self.fast_forward = True
        if start > 0:  # every later stage needs a client
            try:
                await self.choose_client()
            except (AppError, KeyError):
                start = 0
            except asyncio.CancelledError:
                self.placed()
                return
        if skip:
            self.pre_roll = 1 + skip  # the triage page, then `skip` taps of the form
        else:
            self.placed()
        while not stop.is_set():
            try:
                await self.cycle(start)
            except AppError:
                self.placed()
                if stop.is_set():
                    return
            except (asyncio.CancelledError, KeyError):
                self.placed()
                return
            start = 0


# --- one level -------------------------------------------------------------------------------------

# The kinds of tap the mix must sample in every window (issue 13: triage steps, saves, history, plans; and the
# session log the history page offers), by the group names of the report.
SAMPLED_KINDS: dict[str, set[str]] = {
    "triage taps": {"answer", "next"},
    "save": {"save"},
    "history": {"history"},
    "plans": {"plans"},
    "log a session": {"log-session"},
}


def missing_kinds(samples: list[Sample], since: float) -> list[str]:
    """The kinds of SAMPLED_KINDS with no answered tap sent since `since` (the window's start)."""
    seen = {s.kind for s in samples if s.started >= since and s.ok}
    return [name for name, kinds in SAMPLED_KINDS.items() if not seen & kinds]


@dataclass
class Accounts:
    usernames: list[str]
    clients_of: dict[str, list[str]]  # username -> references of clients of their gym


def seed_accounts(db_path: Path, count: int, rng: random.Random) -> Accounts:
    """Trainer accounts with a known password, spread over the gyms, through the store's own functions."""
    from backcare import store
    from backcare.auth import SYSTEM, Role

    db = store.open_database(db_path)
    try:
        gyms = [gym for gym in store.list_gyms(db, actor=SYSTEM)]
        references = {
            gym.id: [c.external_id for c in store.list_clients(db, actor=SYSTEM, gym_id=gym.id)] for gym in gyms
        }
        gyms = [gym for gym in gyms if references[gym.id]]
        usernames, clients_of = [], {}
        for number in range(count):
            gym = gyms[number % len(gyms)]
            username = f"bench.trainer.{number}"
            store.add_user(
                db,
                actor=SYSTEM,
                username=username,
                display_name=f"Bench Trainer {number}",
                role=Role.TRAINER,
                gym_id=gym.id,
                password=BENCH_PASSWORD,
            )
            usernames.append(username)
            pool = references[gym.id]
            clients_of[username] = rng.sample(pool, min(len(pool), 300))
    finally:
        db.close()
    return Accounts(usernames, clients_of)


@dataclass
class LevelResult:
    users: int
    window_s: float
    samples: list[dict]
    burst: list[dict]
    server_cpu_cores: float
    driver_cpu_cores: float
    machine_busy_cores: float
    rss_idle_mb: float
    rss_median_mb: float
    rss_max_mb: float
    peak_before_burst_mb: float
    peak_after_burst_mb: float
    load_average_start: float
    load_average_end: float
    errors: list[str]
    server_cpu_s: float = 0.0
    full_collections: int = 0
    collection_s: float = 0.0  # CPU time inside collections of any generation
    full_collection_s: float = 0.0  # of the oldest generation (what runner.postScriptGC runs)
    tracked_objects: int = 0
    burst_cpu_s_per_sign_in: float = 0.0
    processes: int = 1  # server processes on one PostgreSQL database (1: the file, or one on PostgreSQL)
    trainers_per_process: list[int] = field(default_factory=list)  # with several processes: who went where
    unsampled: list[str] = field(default_factory=list)  # kinds of SAMPLED_KINDS the window did not sample

    def latencies(self, kinds: set[str] | None = None) -> list[float]:
        return [s["ms"] for s in self.samples if s["ok"] and (kinds is None or s["kind"] in kinds)]

    def summary(self) -> dict:
        ms = self.latencies()
        taps = max(1, len(self.samples))
        return {
            "users": self.users,
            "interactions": len(ms),
            "per_s": len(ms) / self.window_s,
            "p50": median(ms),
            "p95": percentile(ms, 0.95),
            "p99": percentile(ms, 0.99),
            "max": max(ms) if ms else float("nan"),
            "errors": len(self.errors),
            "server_cpu_ms_per_tap": 1000 * self.server_cpu_s / taps,
            "full_collection_ms_per_tap": 1000 * self.full_collection_s / taps,
            "full_collections_per_tap": self.full_collections / taps,
            "collection_share_of_server_cpu": self.collection_s / self.server_cpu_s if self.server_cpu_s else 0.0,
            "window_s": self.window_s,
            "n_by_kind": {name: len(self.latencies(kinds)) for name, kinds in KIND_GROUPS},
            "unsampled": list(self.unsampled),
        }


async def run_level(
    *, users: int, accounts: Accounts, db_path: Path | str, args, logs: Path, rng: random.Random
) -> LevelResult:
    server = start_servers(db_path, args, logs)
    try:
        result = await _drive_level(server, users=users, accounts=accounts, args=args, rng=rng)
        if isinstance(server, ServerGroup):
            result.trainers_per_process = server.trainers_per_process()
        return result
    finally:
        server.stop()


async def _drive_level(server: Server, *, users: int, accounts: Accounts, args, rng: random.Random) -> LevelResult:
    think = (0.0, 0.0) if args.think == "0" else tuple(float(v) for v in args.think.split(","))

    def trainer(username: str, recorder: Recorder, pause=think, port: int | None = None, on_placed=None) -> Trainer:
        return Trainer(
            port=port or server.port_for(username),  # sticky: one process per trainer, as the balancer does
            username=username,
            clients=accounts.clients_of[username],
            think=pause,
            recorder=recorder,
            rng=random.Random(rng.random()),
            timeout=args.timeout,
            on_placed=on_placed,
        )

    # Warm-up: one trainer imports and compiles everything a real server has long had in memory.
    for port in server.ports:  # every process of the deployment
        warm = trainer(accounts.usernames[0], Recorder(), pause=(0.0, 0.0), port=port)
        await warm.open_and_sign_in()
        await warm.choose_client()
        for page, kind in (("history", "history"), ("plans", "plans"), ("", "triage-page")):
            await warm.go(page, kind)
        await warm.tab.close()
    if args.gc == "freeze":
        server.freeze()
    rss_idle = server.memory_mb()[0]

    recorder, stop = Recorder(), asyncio.Event()
    names = accounts.usernames[1 : users + 1]
    signed_in: list[Trainer] = []
    placed: list[str] = []  # trainers at their starting point (or given up on the way)

    async def one(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        person = trainer(name, recorder, on_placed=lambda: placed.append(name))
        try:
            await person.open_and_sign_in()
        except (AppError, OSError) as error:
            recorder.add("sign-in", time.monotonic(), 0, False, str(error))
            placed.append(name)
            return
        signed_in.append(person)
        await person.work(stop)

    ramp = min(args.ramp, 0.5 * users) if users > 1 else 0.0
    load_start = load_average()
    tasks = [asyncio.create_task(one(name, rng.uniform(0, ramp))) for name in names]
    settle = time.monotonic() + ramp + args.settle
    # Every trainer signed in and at its starting point before the window opens: a pre-roll still running in
    # the window would fill it with triage taps made without thinking (48 trainers make some 600 such taps, a
    # minute of server CPU on a busy machine).
    while time.monotonic() < settle or (
        (len(signed_in) < users and time.monotonic() < settle + 60)
        or (len(placed) < users and time.monotonic() < settle + args.timeout * 3)
    ):
        await asyncio.sleep(0.2)
    if len(placed) < users:
        print(f"level {users}: {users - len(placed)} trainer(s) not at their starting point yet", file=sys.stderr)

    # The measured window: taps sent in it count; the server's CPU and memory are sampled through it.
    gc0 = server.gc_stats()
    window_start = time.monotonic()
    cpu0, driver0, busy0 = server.cpu_seconds(), driver_cpu_seconds(), machine_busy_seconds()
    rss: list[float] = []
    longest = max(args.duration, args.max_duration)
    while (elapsed := time.monotonic() - window_start) < args.duration or (
        elapsed < longest and missing_kinds(recorder.samples, window_start)
    ):
        rss.append(server.memory_mb()[0])
        await asyncio.sleep(0.5)
    elapsed = time.monotonic() - window_start
    cpu1, driver1, busy1 = server.cpu_seconds(), driver_cpu_seconds(), machine_busy_seconds()
    gc1 = server.gc_stats()
    in_window_samples = [
        s for s in recorder.samples if window_start <= s.started < window_start + elapsed and s.kind != "driver"
    ]  # taps sent to the server (a tap the driver could not make is an error, not a tap)
    in_window = in_window_samples
    peak_before = server.memory_mb()[1]

    # A burst of sign-ins at once, while the trainers keep working.
    burst_recorder, ready = Recorder(), asyncio.Event()
    burst_names = accounts.usernames[users + 1 : users + 1 + args.burst]
    burst_people = [trainer(name, burst_recorder) for name in burst_names]

    async def opened(person: Trainer) -> None:
        try:
            await person.open_and_sign_in(ready=ready)
        except (AppError, OSError) as error:
            burst_recorder.add("sign-in", time.monotonic(), 0, False, str(error))

    burst_tasks = [asyncio.create_task(opened(person)) for person in burst_people]
    waiting_until = time.monotonic() + args.timeout
    while time.monotonic() < waiting_until and sum(1 for s in burst_recorder.samples if s.kind == "open") + sum(
        task.done() for task in burst_tasks
    ) < len(burst_people):
        await asyncio.sleep(0.1)
    burst_cpu0, burst_start = server.cpu_seconds(), time.monotonic()
    ready.set()  # every tab open (or failed): all sign in at once
    await asyncio.gather(*burst_tasks)
    burst_wall, burst_cpu = time.monotonic() - burst_start, server.cpu_seconds() - burst_cpu0
    peak_after = server.memory_mb()[1]
    load_end = load_average()

    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # All at once and briefly: a saturated server may take long to answer 70 closing handshakes, and it is
    # stopped next anyway.
    closing = [asyncio.create_task(person.tab.close()) for person in signed_in + burst_people]
    if closing:
        await asyncio.wait(closing, timeout=5)
    errors = [f"{s.kind}: {s.error}" for s in recorder.samples + burst_recorder.samples if not s.ok]
    return LevelResult(
        users=users,
        window_s=elapsed,
        samples=[{"kind": s.kind, "ms": s.ms, "ok": s.ok} for s in in_window],
        burst=[{"kind": s.kind, "ms": s.ms, "ok": s.ok} for s in burst_recorder.samples if s.kind == "sign-in"],
        server_cpu_cores=(cpu1 - cpu0) / elapsed,
        driver_cpu_cores=(driver1 - driver0) / elapsed,
        machine_busy_cores=(busy1 - busy0) / elapsed,
        rss_idle_mb=rss_idle,
        rss_median_mb=median(rss),
        rss_max_mb=max(rss),
        peak_before_burst_mb=peak_before,
        peak_after_burst_mb=peak_after,
        load_average_start=load_start,
        load_average_end=load_end,
        errors=errors,
        server_cpu_s=cpu1 - cpu0,
        full_collections=gc1["collections"][2] - gc0["collections"][2],
        collection_s=sum(gc1["seconds"]) - sum(gc0["seconds"]),
        full_collection_s=gc1["seconds"][2] - gc0["seconds"][2],
        tracked_objects=gc1["tracked_objects"],
        # the burst's own CPU: what the server used meanwhile, less the trainers' rate measured in the window
        burst_cpu_s_per_sign_in=max(0.0, burst_cpu - burst_wall * (cpu1 - cpu0) / elapsed) / max(1, len(burst_people)),
        unsampled=missing_kinds(in_window_samples, window_start),
    )


# --- report ----------------------------------------------------------------------------------------

KIND_GROUPS = (
    ("triage taps", {"answer", "next"}),
    ("save", {"save"}),
    ("history", {"history"}),
    ("plans", {"plans"}),
    ("find a client", {"change-client", "search", "choose", "triage-page"}),
    ("log a session", {"log-session"}),
)


def markdown(results: list[LevelResult], meta: dict) -> str:
    fmt = lambda v: "–" if math.isnan(v) else f"{v:,.0f}"  # noqa: E731  (NaN as a dash)
    base = results[0].summary() if results and results[0].users == 1 else None
    lines = [
        f"Run {meta['when']} on {meta['machine']}; `{meta['command']}`.",
        f"History: {meta['history']}. Server: one `streamlit run app.py` process per level (through "
        "bench/serve.py, which adds two signal handlers), "
        f"post-run collection {meta['gc_label']}; {meta['flags_label']}; "
        f"think time {meta['think_label']}; at least {meta['duration']:.0f} s "
        f"measured per level (run on, up to {meta['max_duration']:.0f} s, until every kind of tap was sampled) after "
        "a warm-up trainer and a staggered sign-in, each trainer starting at a random point of its cycle; then a "
        f"burst of {meta['burst']} sign-ins at once while the trainers keep working.",
        "",
        "| trainers | taps/s | p50 | p95 | p99 | p95 ÷ 1 trainer's | server CPU (cores) | driver CPU (cores) "
        "| whole machine busy (cores) | load avg start → end | RSS idle / median / peak | peak with burst | "
        "burst sign-in p50 / max | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        s = result.summary()
        burst = [b["ms"] for b in result.burst if b["ok"]]
        ratio = f"{s['p95'] / base['p95']:.1f}" if base and base["p95"] else "–"
        lines.append(
            f"| {s['users']} | {s['per_s']:.1f} | {fmt(s['p50'])} ms | {fmt(s['p95'])} ms | {fmt(s['p99'])} ms | "
            f"{ratio} | {result.server_cpu_cores:.2f} | {result.driver_cpu_cores:.2f} | "
            f"{result.machine_busy_cores:.2f} | {result.load_average_start:.1f} → {result.load_average_end:.1f} | "
            f"{result.rss_idle_mb:.0f} / {result.rss_median_mb:.0f} / {result.peak_before_burst_mb:.0f} MB | "
            f"{result.peak_after_burst_mb:.0f} MB | "
            f"{fmt(median(burst))} / {fmt(max(burst) if burst else float('nan'))} ms "
            f"| {s['errors']} |"
        )
    lines += [
        "",
        "The server's work per tap in the window (process CPU from /proc; collections timed inside the "
        "process by a gc callback, as CPU time of the collecting thread):",
        "",
        "| trainers | server CPU per tap | full collections per tap | in full collections per tap "
        "| in all collections ÷ server CPU | tracked objects at the end | server CPU per burst sign-in |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        s = result.summary()
        lines.append(
            f"| {s['users']} | {s['server_cpu_ms_per_tap']:.0f} ms | {s['full_collections_per_tap']:.2f} | "
            f"{s['full_collection_ms_per_tap']:.0f} ms | {100 * s['collection_share_of_server_cpu']:.0f} % | "
            f"{result.tracked_objects:,} | {1000 * result.burst_cpu_s_per_sign_in:.0f} ms |"
        )
    lines += [
        "",
        "p95 by kind of tap (ms), with the number of taps of each kind answered in the window:",
        "",
        "| trainers | window | " + " | ".join(name for name, _ in KIND_GROUPS) + " |",
        "|---|---|" + "---|" * len(KIND_GROUPS),
    ]
    for result in results:
        cells = [
            f"{result.window_s:.0f} s" + (f" (not sampled: {', '.join(result.unsampled)})" if result.unsampled else "")
        ]
        for _, kinds in KIND_GROUPS:
            ms = result.latencies(kinds)
            cells.append(f"{fmt(percentile(ms, 0.95))} (n={len(ms)})")
        lines.append(f"| {result.users} | " + " | ".join(cells) + " |")
    lines += ["", "Verdicts of this run: " + "; ".join(meta["verdicts"]) + "."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default=",".join(map(str, LEVELS)), help="levels, e.g. 1,4,8,16,32,48")
    parser.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help="seconds measured per level, at least; the window runs on until every kind of tap (triage steps, "
        "save, history, plans, session log) has been sampled, up to --max-duration",
    )
    parser.add_argument(
        "--max-duration", type=float, default=150.0, help="seconds a window may run on to sample every kind of tap"
    )
    parser.add_argument("--think", default="1,3", help="seconds between taps, min,max ('0' for none)")
    parser.add_argument("--burst", type=int, default=20, help="sign-ins at once after each level's window")
    parser.add_argument(
        "--gc",
        choices=("config", "on", "off", "freeze"),
        default="config",
        help="post-run collection: as .streamlit/config.toml says, forced on or off, or "
        "on with gc.freeze() after the warm-up",
    )
    parser.add_argument(
        "--server-flag",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="a Streamlit option for the server, over the config (repeatable), e.g. server.fileWatcherType=auto",
    )
    parser.add_argument("--clients", type=int, default=CHAIN_CLIENTS)
    parser.add_argument("--weeks", type=int, default=CHAIN_WEEKS)
    parser.add_argument("--ramp", type=float, default=20.0, help="at most this many seconds of staggered sign-in")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the ramp before measuring")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one tap's answer")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 and 2 trainers, small data, short")
    parser.add_argument("--target-p95-ms", type=float, default=1000.0)
    parser.add_argument("--target-memory-mb", type=float, default=1000.0)
    parser.add_argument("--write-doc", action="store_true", help="record the run in docs/PERFORMANCE.md")
    add_postgres_options(parser)
    if parser.parse_known_args(argv)[0].quick:  # quick values, unless given on the command line
        parser.set_defaults(**QUICK)
    args = parser.parse_args(argv)
    if args.database_url or args.throwaway_postgres:
        return main_postgres(args, argv)
    if args.processes != 1:
        parser.error("--processes needs --database-url or --throwaway-postgres: one process per DuckDB file")
    levels = sorted({int(v) for v in args.users.split(",")})
    rng = random.Random(args.seed)
    OUT.mkdir(parents=True, exist_ok=True)

    source = chain_database(args.clients, args.weeks, CHAIN_SEED)
    results: list[LevelResult] = []
    with tempfile.TemporaryDirectory(prefix="backcare-load-") as tmp:
        tmp = Path(tmp)
        db_path = working_copy(source, tmp)
        accounts = seed_accounts(db_path, max(levels) + args.burst + 1, rng)
        history = _history_line(db_path)
        for users in levels:
            print(f"level {users}: starting a server and {users} trainer(s)...", file=sys.stderr)
            result = asyncio.run(
                run_level(
                    users=users,
                    accounts=accounts,
                    db_path=db_path,
                    args=args,
                    logs=tmp,
                    rng=random.Random(rng.random()),
                )
            )
            results.append(result)
            print(json.dumps(result.summary()), file=sys.stderr)
        for number, log in enumerate(sorted(tmp.glob("server-*.log"), key=lambda path: path.stat().st_mtime)):
            shutil.copyfile(log, OUT / f"load-server-{levels[number]}.log")  # kept for the errors they explain

    top = results[-1]
    checks = [
        (Target(f"p95 at {top.users} trainers", args.target_p95_ms, "ms"), top.summary()["p95"]),
        (
            Target(
                f"peak memory with {top.users} trainers and a burst of {args.burst} sign-ins",
                args.target_memory_mb,
                "MB",
            ),
            top.peak_after_burst_mb,
        ),
    ]
    verdicts = [target.verdict(value) for target, value in checks]
    gc_label = {
        "config": f"as .streamlit/config.toml sets it ({_configured_gc()})",
        "on": "forced on",
        "off": "forced off",
        "freeze": "on, with gc.freeze() after the warm-up",
    }[args.gc]
    flags_label = (
        "options over the config: " + ", ".join(f"`{flag}`" for flag in args.server_flag)
        if args.server_flag
        else "every other option as the config sets it"
    )
    meta = {
        "when": now_utc(),
        "machine": machine(),
        "history": history,
        "gc_label": gc_label,
        "flags_label": flags_label,
        "think_label": "none" if args.think == "0" else f"{args.think.replace(',', '-')} s",
        "duration": args.duration,
        "max_duration": max(args.duration, args.max_duration),
        "burst": args.burst,
        "verdicts": verdicts,
        "command": ".venv/bin/python -m bench.bench_load " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    text = markdown(results, meta)
    print(text)
    (OUT / "load.json").write_text(json.dumps({"meta": meta, "levels": [r.__dict__ for r in results]}, default=str))
    if args.write_doc:
        think = "no think time" if args.think == "0" else f"think {args.think.replace(',', '-')} s"
        flags = "".join(f", {flag}" for flag in args.server_flag)
        write_section(f"Load: simulated trainers on one server process (issue 13; gc {args.gc}{flags}, {think})", text)
    return report_targets(checks)


# --- PostgreSQL: several processes on one database (issue 17) ---------------------------------------------

SECTION_PG = "Load on PostgreSQL: {n} app processes against one (issue 17; gc {gc}, {think})"


def add_postgres_options(parser: argparse.ArgumentParser) -> None:
    from bench.postgres import add_options

    add_options(parser)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="app processes on the PostgreSQL database, trainers sticky to one; with 2 or more each level also "
        "runs on one process, in the same run, for the comparison",
    )
    parser.add_argument(
        "--target-scale",
        type=float,
        default=1.6,
        help="the processes' throughput over one process's, each the most taps/s of a level within --target-p95-ms",
    )


def capacity(results: list[LevelResult], p95_limit: float) -> tuple[float, int | None]:
    """The most taps/s of any level whose p95 stayed within the limit, and its trainers (0, None: no level did).
    Throughput compared "at the same p95": what the deployment serves before its p95 passes the limit."""
    within = [r for r in results if r.summary()["p95"] <= p95_limit and not r.errors]
    if not within:
        return 0.0, None
    best = max(within, key=lambda r: r.summary()["per_s"])
    return best.summary()["per_s"], best.users


def scale_markdown(by_processes: dict[int, list[LevelResult]], p95_limit: float, ratio: float | None) -> str:
    counts = sorted(by_processes)
    fmt = lambda v: "–" if math.isnan(v) else f"{v:,.0f}"  # noqa: E731
    lines = [
        "| trainers | " + " | ".join(f"{n} process{'es' if n > 1 else ''}: taps/s, p95" for n in counts) + " |",
        "|---|" + "---|" * len(counts),
    ]
    for index, first in enumerate(by_processes[counts[0]]):
        cells = []
        for n in counts:
            s = by_processes[n][index].summary()
            result = by_processes[n][index]
            spread = f" (trainers per process: {', '.join(map(str, result.trainers_per_process))})" if n > 1 else ""
            errors = f" ({s['errors']} errors)" if s["errors"] else ""
            cells.append(f"{s['per_s']:.1f}, {fmt(s['p95'])} ms{spread}{errors}")
        lines.append(f"| {first.users} | " + " | ".join(cells) + " |")
    lines.append("")
    for n in counts:
        per_s, users = capacity(by_processes[n], p95_limit)
        where = f"at {users} trainers" if users else "no level stayed within it"
        lines.append(
            f"- {n} process{'es' if n > 1 else ''}: {per_s:.1f} taps/s within p95 ≤ {p95_limit:,.0f} ms ({where})."
        )
    if ratio is not None:
        lines.append(f"- Throughput of {counts[-1]} processes ÷ one at the same p95 limit: {ratio:.2f}x.")
    return "\n".join(lines)


def main_postgres(args, argv: list[str] | None) -> int:
    """Each level on one process and on --processes processes, one after the other, on one PostgreSQL database
    holding the chain history (copied in by migrate-to-postgres); trainers sticky to a process."""
    from bench import postgres

    if args.processes < 1:
        raise SystemExit("--processes must be at least 1")
    levels = sorted({int(v) for v in args.users.split(",")})
    rng = random.Random(args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    wanted = args.processes
    counts = sorted({1, wanted})
    by_processes: dict[int, list[LevelResult]] = {n: [] for n in counts}
    source = chain_database(args.clients, args.weeks, CHAIN_SEED)
    with postgres.database(args, "bench_load") as url, tempfile.TemporaryDirectory(prefix="backcare-load-") as tmp:
        assert url is not None
        tmp = Path(tmp)
        db_path = working_copy(source, tmp)
        accounts = seed_accounts(db_path, max(levels) + args.burst + 1, rng)  # in the file, copied with it
        history = _history_line(db_path)
        transfer = postgres.load_chain(db_path, url)
        server_label = postgres.describe(args, url)
        for users in levels:
            level_seed = rng.random()  # the same trainers' choices for each number of processes
            for n in counts:
                args.processes = n
                print(f"level {users}: {n} server process(es) on PostgreSQL and {users} trainer(s)...", file=sys.stderr)
                result = asyncio.run(
                    run_level(
                        users=users, accounts=accounts, db_path=url, args=args, logs=tmp, rng=random.Random(level_seed)
                    )
                )
                result.processes = n
                by_processes[n].append(result)
                print(json.dumps({"processes": n, **result.summary()}), file=sys.stderr)
        args.processes = wanted
        for log in sorted(tmp.glob("server-*.log")):
            shutil.copyfile(log, OUT / f"load-pg-{log.name}")
    caps = {n: capacity(by_processes[n], args.target_p95_ms)[0] for n in counts}
    top = by_processes[wanted][-1]
    checks: list[tuple[Target, float]] = []
    ratio = None
    if wanted > 1:
        ratio = caps[wanted] / caps[1] if caps[1] else 0.0
        # no level within the p95 limit on one process: the ratio has no denominator; say so, and miss
        unknown = "" if caps[1] else " (not measurable: one process kept p95 within it at none of the levels run)"
        checks.append(
            (
                Target(
                    f"{wanted} processes' throughput over one process's at p95 <= {args.target_p95_ms:,.0f} ms"
                    + unknown,
                    args.target_scale,
                    "x",
                    at_most=False,
                ),
                ratio,
            )
        )
    else:
        checks.append((Target(f"p95 at {top.users} trainers", args.target_p95_ms, "ms"), top.summary()["p95"]))
    checks.append(
        (
            Target(
                f"peak memory of a process with {top.users} trainers over {wanted} process(es) and a burst of "
                f"{args.burst} sign-ins",
                args.target_memory_mb,
                "MB",
            ),
            top.peak_after_burst_mb,
        )
    )
    verdicts = [target.verdict(value) for target, value in checks]
    think = "none" if args.think == "0" else f"{args.think.replace(',', '-')} s"
    parts = [
        f"Run {now_utc()} on {machine()}; `{redacted_command(argv)}`.",
        f"PostgreSQL: {server_label}; the history ({history}) copied in by migrate-to-postgres "
        f"({transfer['rows']:,} rows, {transfer['rows_per_s']:,.0f} rows/s). Each level ran on one process and on "
        f"{wanted}, one after the other, with the same trainers' choices; with several processes each trainer "
        "stays on the process it first reached (round robin), as sticky sessions behind a balancer do; server "
        f"CPU is the processes' sum, memory the largest process's. Think time {think}; {args.duration:.0f} s "
        "measured per level.",
        "",
        scale_markdown(by_processes, args.target_p95_ms, ratio),
    ]
    for n in counts:
        meta = {
            "when": now_utc(),
            "machine": machine(),
            "history": history + f", on PostgreSQL, {n} process{'es' if n > 1 else ''}",
            "gc_label": {"config": f"as .streamlit/config.toml sets it ({_configured_gc()})"}.get(args.gc, args.gc),
            "flags_label": "every other option as the config sets it",
            "think_label": think,
            "duration": args.duration,
            # helper s13d's --max-duration (the window runs on until every kind of tap is sampled), once merged
            "max_duration": max(args.duration, getattr(args, "max_duration", args.duration)),
            "burst": args.burst,
            "verdicts": verdicts,
            "command": redacted_command(argv),
        }
        parts += ["", f"### {n} process{'es' if n > 1 else ''}", "", markdown(by_processes[n], meta)]
    parts += ["", "Verdicts of this run: " + "; ".join(verdicts) + "."]
    text = "\n".join(parts)
    print(text)
    (OUT / "load-postgres.json").write_text(
        json.dumps({str(n): [r.__dict__ for r in rs] for n, rs in by_processes.items()}, default=str)
    )
    if args.write_doc:
        write_section(SECTION_PG.format(n=wanted, gc=args.gc, think=think), text)
    return report_targets(checks)


def redacted_command(argv: list[str] | None) -> str:
    from backcare.store.db import redacted

    return redacted(".venv/bin/python -m bench.bench_load " + " ".join(argv if argv is not None else sys.argv[1:]))


def _configured_gc() -> str:
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    value = config.get("runner", {}).get("postScriptGC")
    return "Streamlit's default, on" if value is None else ("on" if value else "off")


def _history_line(db_path: Path) -> str:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as connection:
        clients, sessions, reports = connection.execute(
            "SELECT (SELECT count(*) FROM clients), (SELECT count(*) FROM sessions), (SELECT count(*) FROM reports)"
        ).fetchone()
    return f"{clients:,} clients, {sessions:,} sessions, {reports:,} reports (backcare.store.demo via bench/chain.py)"


if __name__ == "__main__":
    raise SystemExit(main())
