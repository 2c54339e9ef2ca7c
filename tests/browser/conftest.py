"""Real-browser harness: the app served by `streamlit run` on a free port, driven by Debian's Chromium.

Each test module gets its own database under tmp_path, filled by the module's `seed_database` fixture
(a function taking the path). Screenshots of every step go to test-artifacts/<test name>/.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("BACKCARE_CHROMIUM", "/usr/bin/chromium")
TABLETS = {"landscape": {"width": 1024, "height": 768}, "portrait": {"width": 768, "height": 1024}}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not become healthy in time")


@pytest.fixture(scope="module")
def app_env() -> dict[str, str]:
    """Extra environment of the app under test; a module overrides it (e.g. BACKCARE_DEMO=1 for a demo)."""
    return {"BACKCARE_DEMO": "0"}


@contextmanager
def running_app(db_path: Path, **app_env: str) -> Iterator[str]:
    """`streamlit run app.py` on `db_path` and a free port, as the README starts it; yields its URL once the
    server answers its health check, and stops it afterwards. Its output goes to streamlit.log beside the file."""
    port = _free_port()
    env = {**os.environ, "BACKCARE_DB": str(db_path), "PYTHONUNBUFFERED": "1", **app_env}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    command += ["--server.fileWatcherType", "none"]
    with open(db_path.parent / "streamlit.log", "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, seed_database, app_env):
    """Start the app on a fresh database the module seeds; stop it afterwards."""
    folder = tmp_path_factory.mktemp("browser-db")
    db_path = folder / "backcare.duckdb"
    seed_database(db_path)
    with running_app(db_path, **app_env) as url:
        yield url


_SHARED: dict = {}  # one Playwright and one Chromium per process, however many modules import `browser`


@pytest.fixture(scope="session")
def browser():
    """Chromium. tests/security imports this fixture into its modules, which makes more than one fixture
    definition; Playwright's sync API allows one instance per thread, so they share it."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    if not _SHARED:
        playwright = sync_playwright().start()
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        _SHARED.update(playwright=playwright, browser=launched, users=0)
    _SHARED["users"] += 1
    try:
        yield _SHARED["browser"]
    finally:
        _SHARED["users"] -= 1
        if not _SHARED["users"]:
            _SHARED["browser"].close()
            _SHARED["playwright"].stop()
            _SHARED.clear()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "orientations(*names): the tablet orientations a browser test runs at (both unless it says)",
    )


def pytest_generate_tests(metafunc):
    """A test that takes `tablet` (or `page`) runs at each orientation its `orientations` mark names, both by
    default. Every page's layout is measured at both by tests/browser/test_tablet_fit.py; a flow whose steps
    do not depend on the layout names one orientation, so the suite walks each flow once (issue 16)."""
    if "tablet" not in metafunc.fixturenames:
        return
    mark = metafunc.definition.get_closest_marker("orientations")
    names = list(mark.args) if mark else list(TABLETS)
    unknown = [name for name in names if name not in TABLETS]
    if unknown:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: no tablet orientation named {unknown}")
    metafunc.parametrize("tablet", [(name, TABLETS[name]) for name in names], ids=names)


@pytest.fixture
def page(browser, tablet, request):
    name, viewport = tablet
    context = browser.new_context(viewport=viewport, accept_downloads=True, has_touch=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.artifacts = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    if page.artifacts.exists():
        shutil.rmtree(page.artifacts)
    page.artifacts.mkdir(parents=True)
    page.step = 0
    yield page
    context.close()


@pytest.fixture
def tab(browser):
    """A landscape tablet browser context of its own, for a test that opens several tabs of one sign-in."""
    context = browser.new_context(viewport=TABLETS["landscape"], has_touch=True)
    context.set_default_timeout(20_000)
    yield context
    context.close()


def snap(page, label: str) -> Path:
    """Screenshot of the current step, kept with the test output."""
    page.step += 1
    path = page.artifacts / f"{page.step:02d}-{label}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


_SETTLED = """() => !document.querySelector('[data-testid="stSkeleton"]')
    && !document.querySelector('[data-stale="true"]')
    && !document.querySelector('[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]')"""


_IDLE = (
    "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === 'notRunning'"
    " && (" + _SETTLED + ")()"
)
_TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def wait_idle(page) -> None:
    """Wait until Streamlit has finished the current run, by the app's own signal: the script state Streamlit
    puts on its root element (`data-test-script-state`: rerunRequested, running, then notRunning) and no
    skeleton or stale element left. A tap sets "rerunRequested" on the next rendered frame, so the check
    starts two frames after the action; it is made twice, so a rerun that the run itself asks for (st.rerun)
    is waited for too. No fixed sleep: each wait ends as soon as the page says it is done."""
    for _ in range(2):
        page.evaluate(_TWO_FRAMES)
        page.wait_for_function(_IDLE, timeout=30_000)


def assert_no_sideways_scroll(page) -> None:
    widths = page.evaluate(
        """() => {
            const vw = document.documentElement.clientWidth;
            const over = [];
            for (const sel of ['html', 'body', '[data-testid="stAppViewContainer"]', '[data-testid="stMain"]',
                               'section.main', '[data-testid="stMainBlockContainer"]']) {
                for (const el of document.querySelectorAll(sel)) {
                    if (el.scrollWidth > vw + 1) over.push(`${sel}: ${el.scrollWidth} > ${vw}`);
                }
            }
            return over;
        }"""
    )
    assert widths == [], f"sideways scrolling: {widths}"


def sign_in(page, url: str, username: str, password: str) -> None:
    """Sign in through the form. A tab of a browser that is signed in already resumes that sign-in from its
    cookie (issue 14): the same account is kept, another one is signed out first."""
    page.goto(url)
    page.wait_for_selector(
        'input[aria-label="Username"], [data-testid="stSidebarUserContent"] strong, [data-testid="stSidebar"] strong',
        state="attached",
    )
    wait_idle(page)
    if not page.get_by_label("Username").count():
        if (
            page.get_by_text(f"Signed in as {username} ").count()
            or page.locator("[data-testid=stSidebar] strong", has_text=username).count()
        ):
            return
        tap_sign_out(page)
        wait_idle(page)
    page.get_by_label("Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_idle(page)


def open_page(page, title: str) -> None:
    """Go to a page through the top navigation bar (issue 14); the sidebar's list if an older layout has one."""
    page.wait_for_selector('[data-testid="stTopNavLink"], [data-testid="stSidebarNavLink"]', state="attached")
    top = page.locator('[data-testid="stTopNavLink"]', has_text=title)
    if top.count():
        top.first.click()
        wait_idle(page)
        return
    link = page.locator('[data-testid="stSidebarNavLink"]', has_text=title)
    expand = page.get_by_test_id("stExpandSidebarButton")
    if expand.count() and expand.is_visible():
        expand.click()
        page.wait_for_timeout(500)  # the sidebar slides in
    link.click()
    wait_idle(page)
    if page.viewport_size["width"] < 1000 and page.get_by_test_id("stSidebar").is_visible():
        page.keyboard.press("Escape")  # the overlay sidebar closes on a narrow screen
    wait_idle(page)


def tap_sign_out(page) -> None:
    """Tap *Sign out*, in the sidebar, which starts folded now the pages are in the top bar (issue 14)."""
    from playwright.sync_api import expect

    button = page.get_by_role("button", name="Sign out")
    wait_idle(page)
    button.wait_for(state="attached")
    if not button.evaluate(
        "el => { const r = el.getBoundingClientRect(); return r.right > 0 && r.left < innerWidth; }"
    ):
        page.get_by_test_id("stExpandSidebarButton").click()  # the sidebar is folded away: open it first
    expect(button).to_be_in_viewport()  # the sidebar has slid in
    button.click()


def answer(page, question: str, choice: str) -> None:
    """Tap one option of a yes/no (segmented) question, found by its label."""
    group = page.get_by_role("radiogroup", name=question)
    group.get_by_role("button", name=choice, exact=True).or_(
        group.get_by_role("radio", name=choice, exact=True)
    ).first.click()
    wait_idle(page)


def next_step(page) -> None:
    """Tap the step's Next button."""
    page.get_by_role("button", name=re.compile("Next:")).click()
    wait_idle(page)


def answer_form(
    page, *, pain: str, hours: str, quality: str, trend: str, eases: str = "Yes", snap_steps: bool = False
) -> None:
    """Tap through the triage steps: every yes/no question "No", the pain answers given, Next after each
    step; ends on the training-context step (prefilled, optional), Next there opens the result."""
    from backcare import questions
    from backcare.questions import Kind

    def asked_no(step: str) -> list:  # the step's yes/no questions (a follow-up is not shown after "No")
        return [
            q
            for q in questions.on_step(step)
            if q.kind is Kind.YES_NO and q.asked_when is None and q.field != "eases_with_movement"
        ]

    q = questions.BY_FIELD
    legs = q["leg_symptoms"]

    def step_done(questions_all_no, label: str) -> None:
        for question in questions_all_no:
            answer(page, question.text, "No")
        if snap_steps:
            assert_no_sideways_scroll(page)
            snap(page, label)
        next_step(page)

    answer(page, legs.text, legs.choice_label("none"))
    step_done(asked_no("emergency"), "step-1-emergency")
    step_done(asked_no("urgent"), "step-2-urgent")
    answer(page, q["pain_score"].text, pain)
    answer(page, q["pain_quality"].text, quality)
    page.get_by_label(q["hours_since_workout"].text).fill(hours)
    page.keyboard.press("Enter")
    wait_idle(page)
    answer(page, q["trend"].text, trend)
    answer(page, q["eases_with_movement"].text, eases)
    step_done(asked_no("pain"), "step-3-pain")


def tap(page, label: str, choice: str) -> None:
    """Tap one option of a row of taps (st.pills), found by the row's label."""
    row = page.locator('[data-testid="stElementContainer"]', has=page.get_by_text(label, exact=True)).last
    row.get_by_role("button", name=choice, exact=True).or_(row.get_by_role("checkbox", name=choice, exact=True)).or_(
        row.get_by_role("radio", name=choice, exact=True)
    ).first.click()


def add_gym_and_trainer(
    db,
    *,
    gym: str,
    username: str,
    display_name: str,
    password: str,
    contact: str,
    clients: tuple[str, ...] = (),
):
    """A module's seed, its first lines: a gym, a trainer of it who signs in with a password, and the named
    clients (each with the trainer's consent, assigned to the trainer). Returns (gym, trainer's user row)."""
    from backcare import store
    from backcare.auth import SYSTEM

    created = store.create_gym(db, actor=SYSTEM, name=gym)
    user = store.create_user(
        db,
        actor=SYSTEM,
        username=username,
        display_name=display_name,
        role="trainer",
        gym_id=created.id,
        contact=contact,
        password=password,
    )
    for name in clients:
        store.create_client(db, actor=SYSTEM, gym_id=created.id, name=name, trainer_id=user.id, consent_by=username)
    return created, user
