"""Two real app processes (`streamlit run app.py`, as behind a load balancer) on one PostgreSQL database:
a trainer signed in on each saves a report at the same moment; both are stored once, with their audit rows,
and each process sees the other's report. The store-level race (many saves, one referral changed from both)
is tests/test_postgres.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import pytest
from playwright.sync_api import expect

from backcare import store
from backcare.auth import SYSTEM
from tests.browser.conftest import ROOT, _free_port, _wait_healthy, answer_form, next_step, sign_in, wait_idle

pytestmark = pytest.mark.browser

TRAINERS = {"tara": "tara-pass-1", "theo": "theo-pass-1"}
CLIENTS = {"tara": "Ada Lovelace", "theo": "Grace Hopper"}


@pytest.fixture(scope="module")
def chain_url(pg_server):
    name = f"two_apps_{uuid.uuid4().hex[:12]}"
    pg_server.admin(f"CREATE DATABASE {name}")
    url = pg_server.url(name)
    with store.open_database(url) as db:
        gym = store.create_gym(db, actor=SYSTEM, name="Riverside Strength")
        for username, password in TRAINERS.items():
            user = store.create_user(
                db,
                actor=SYSTEM,
                username=username,
                display_name=username.title(),
                role="trainer",
                gym_id=gym.id,
                password=password,
            )
            store.create_client(
                db, actor=SYSTEM, gym_id=gym.id, name=CLIENTS[username], trainer_id=user.id, consent_by=username
            )
    yield url
    pg_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def two_apps(chain_url, tmp_path_factory):
    """Two app processes on the one database, each on its own port (what nginx would balance between)."""
    folder = tmp_path_factory.mktemp("two-apps")
    env = {k: v for k, v in os.environ.items() if k != "BACKCARE_DB"}
    env.update(BACKCARE_DATABASE_URL=chain_url, BACKCARE_DEMO="0", PYTHONUNBUFFERED="1")
    processes, urls, logs = [], [], []
    try:
        for i in range(2):
            port = _free_port()
            log = open(folder / f"streamlit-{i}.log", "w")
            logs.append(log)
            process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
                 "--server.port", str(port), "--server.address", "127.0.0.1",
                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            processes.append(process)
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            _wait_healthy(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def test_two_app_processes_on_one_postgresql_database_save_at_once(browser, two_apps, chain_url):
    pages = []
    for (username, password), url in zip(TRAINERS.items(), two_apps, strict=True):
        context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
        context.set_default_timeout(30_000)
        page = context.new_page()
        sign_in(page, url, username, password)
        expect(page.get_by_role("heading", name="Triage a back-pain report")).to_be_visible()
        page.get_by_label("Find a client").fill(CLIENTS[username])
        page.keyboard.press("Enter")
        wait_idle(page)
        page.get_by_role("button", name="Use this client").click()
        wait_idle(page)
        answer_form(page, pain="2", hours="20", quality="Dull ache", trend="Easing")
        next_step(page)
        pages.append(page)

    # both taps before either page is waited on: the two processes save at the same time
    for page in pages:
        page.get_by_role("button", name=re.compile(r"^Save report")).click()
    for page in pages:
        wait_idle(page)
        expect(page.get_by_text("Report saved")).to_be_visible()

    with store.open_database(chain_url) as db:
        with db.read() as cur:
            saved = cur.execute(
                "SELECT c.name, r.author FROM reports AS r JOIN clients AS c ON c.id = r.client_id ORDER BY r.author"
            ).fetchall()
            (audited,) = cur.execute(
                "SELECT count(*) FROM audit_log WHERE action = 'report.save' AND outcome = 'ok'"
            ).fetchone()
    assert saved == [(CLIENTS["tara"], "tara"), (CLIENTS["theo"], "theo")]
    assert audited == 2
    for page in pages:
        page.context.close()
