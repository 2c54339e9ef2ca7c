"""Issue 14 in Chromium at 1024x768 and 768x1024 with touch, on a fresh demo database: on every page of every
role, every visible tappable element is at least 44x44 CSS px (except the few listed below, each with its
reason) and no element's content is cut off by its container. Screenshots of every page go to
test-artifacts/.

The triage page is measured in its client-picker state, on its first step with a client, on the result and on
the confirmation after a save with plans (the handout offered). The page scrolls inside its own box, so a full-page
screenshot holds the first screen: each chart is also kept on its own (`*-chart-N.png`)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backcare.store.demo import DEMO_PASSWORD, ensure_demo_database
from tests.browser.conftest import (
    answer_form,
    assert_no_sideways_scroll,
    next_step,
    open_page,
    sign_in,
    snap,
    wait_idle,
)

pytestmark = pytest.mark.browser

MIN_TARGET = 44

# Elements allowed under 44x44, matched against the element's description. Keep this list short.
ALLOWED_SMALL: dict[str, str] = {}

TAPPABLE_JS = """(minTarget) => {
    const sel = 'button, a[href], input:not([type=hidden]), select, textarea, summary, [role=button], '
              + '[role=tab], [role=checkbox], [role=radio], [role=switch], [role=option], [role=link], '
              + '[data-testid=stTooltipIcon]';
    const describe = (el) => {
        const tid = el.closest('[data-testid]');
        const text = (el.getAttribute('aria-label') || el.innerText || el.value || el.title || '').trim()
                     .replace(/\\s+/g, ' ').slice(0, 40);
        return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}` +
               `${tid ? ' in ' + tid.getAttribute('data-testid') : ''} "${text}"`;
    };
    const visible = (el) => {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) return false;
        for (let e = el; e; e = e.parentElement) {
            const cs = getComputedStyle(e);
            if (cs.display === 'none' || cs.visibility === 'hidden' || parseFloat(cs.opacity) === 0) return false;
        }
        return true;
    };
    const small = [];
    let count = 0;
    const seen = new Set();
    for (const el of document.querySelectorAll(sel)) {
        // a checkbox, radio or toggle is tapped through its label: measure the label
        let target = el;
        if (el.tagName === 'INPUT' && ['checkbox', 'radio'].includes(el.type)) target = el.closest('label') || el;
        // a select box is tapped anywhere on its box, not only on the text field inside it
        const box = el.closest('[data-baseweb=select], .react-aria-ComboBox [role=group]');
        if (box) target = box;
        if (el.closest('[data-testid=stSkipToContent]')) continue;  // keyboard only, off-screen
        if (seen.has(target)) continue;
        seen.add(target);
        if (!visible(target) && !(target !== el)) continue;
        if (target !== el && !visible(target)) continue;
        // an element inside a bigger tappable ancestor (an icon in a button) is not a target of its own
        const outer = target.parentElement && target.parentElement.closest(sel);
        if (outer && outer !== target && seen.has(outer)) continue;
        count += 1;
        const r = target.getBoundingClientRect();
        if (r.width < minTarget - 0.5 || r.height < minTarget - 0.5)
            small.push(`${describe(target)} ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    return {count, small};
}"""

CLIPPED_JS = """() => {
    // Content is clipped when a box that hides its overflow has text drawn beyond its edges, or cuts a text
    // short with an ellipsis. Boxes that scroll (overflow auto/scroll) are fine: the content can be reached.
    const clipped = [];
    const root = document.querySelector('[data-testid="stApp"]') || document.body;
    const textOutside = (el) => {
        const box = el.getBoundingClientRect();
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (!node.textContent.trim()) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            for (const r of range.getClientRects()) {
                if (r.width === 0 || r.height === 0) continue;
                if (r.right > box.right + 1 || r.left < box.left - 1
                    || r.bottom > box.bottom + 1 || r.top < box.top - 1)
                    return node.textContent.trim();
            }
        }
        return null;
    };
    for (const el of root.querySelectorAll('*')) {
        if (el.closest('[data-testid=stSkipToContent]')) continue;  // keyboard only, off-screen
        if (el.closest('svg, canvas, .vega-embed, iframe')) continue;
        const cs = getComputedStyle(el);
        if (cs.display === 'none' || cs.visibility === 'hidden') continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        const hides = ['hidden', 'clip'].includes(cs.overflowX) || ['hidden', 'clip'].includes(cs.overflowY);
        const over = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
        let cut = null;
        if (cs.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1) cut = (el.innerText || '').trim();
        else if (hides && over) cut = textOutside(el);
        if (cut) {
            const tid = el.closest('[data-testid]');
            clipped.push(`${el.tagName.toLowerCase()} in ${tid ? tid.getAttribute('data-testid') : '?'} `
                + `"${cut.replace(/\\s+/g, ' ').slice(0, 40)}" ${el.scrollWidth}x${el.scrollHeight} in `
                + `${el.clientWidth}x${el.clientHeight}`);
        }
    }
    return clipped;
}"""


@pytest.fixture(scope="module")
def seed_database():
    return ensure_demo_database


@pytest.fixture(scope="module")
def app_env():
    return {"BACKCARE_DEMO": "1"}


def snap_charts(page, label: str) -> None:
    """Each chart of the page on its own screenshot (the page scrolls inside its own box)."""
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        chart.locator("canvas, svg").first.wait_for(state="visible")
        page.step += 1
        chart.screenshot(path=str(page.artifacts / f"{page.step:02d}-{label}-chart-{index + 1}.png"))


def check_page(page, label: str) -> dict:
    """Measure the settled page, keep its screenshot (and one of each chart), and return what fails."""
    wait_idle(page)
    assert_no_sideways_scroll(page)
    main = '[data-testid="stMain"]'
    page.evaluate(f"() => document.querySelector('{main}')?.scrollTo(0, 0)")
    snap(page, label)
    taller = page.evaluate(
        f"() => {{ const m = document.querySelector('{main}'); "
        "return m ? m.scrollHeight > m.clientHeight + 1 : false; }"
    )
    if taller:  # the page scrolls inside its own box: its end on a screenshot of its own
        page.evaluate(f"() => document.querySelector('{main}').scrollTo(0, 1e9)")
        snap(page, f"{label}-end")
        page.evaluate(f"() => document.querySelector('{main}').scrollTo(0, 0)")
    snap_charts(page, label)
    measured = page.evaluate(TAPPABLE_JS, MIN_TARGET)
    small = [s for s in measured["small"] if not any(allowed in s for allowed in ALLOWED_SMALL)]
    return {"page": label, "targets": measured["count"], "small": small, "clipped": page.evaluate(CLIPPED_JS)}


def choose_first_client(page) -> None:
    """The picker starts with nobody chosen: open the list, tap the first client, then *Use this client*."""
    page.get_by_test_id("stSelectbox").filter(has_text=re.compile("clients")).first.click()
    page.get_by_role("option").first.click()
    wait_idle(page)
    page.get_by_role("button", name="Use this client").click()
    wait_idle(page)


REPORTED: set[str] = set()


def choose_client_free_to_train(page) -> None:
    """The first of the trainer's clients with no open referral (a paused client is offered no plan, and the
    confirmation with the handout is what is measured), then *Use this client*."""
    picker = page.get_by_test_id("stSelectbox").filter(has_text=re.compile("clients")).first
    for index in range(20):
        picker.click()
        option = page.get_by_role("option").nth(index)
        name = option.inner_text()
        option.click()
        wait_idle(page)
        if name in REPORTED:  # the module's one demo database: each viewport reports on a client of its own
            continue
        if "referral" not in page.get_by_text(re.compile("^Status: ")).first.inner_text():
            REPORTED.add(name)
            break
    page.get_by_role("button", name="Use this client").click()
    wait_idle(page)


def walk_to_result(page) -> None:
    """Every yes/no "No", a mild pain, Next through the steps (the training context as prefilled)."""
    answer_form(page, pain="2", hours="20", quality="Dull ache", trend="Easing")
    warmup = page.get_by_label("Warm-up minutes").input_value()  # prefilled from the demo's sessions
    assert warmup and not warmup.endswith(".00"), warmup  # numbers as people write them, not "6.00"
    next_step(page)  # the context step, as prefilled
    expect(page.get_by_role("heading", name=re.compile("Result"))).to_be_visible()


ROLES = {
    "trainer": ("demo.trainer", ["Client history", "Plans"]),
    "clinic": ("demo.clinic", []),
    "manager": ("demo.manager", []),
    "admin": ("demo.admin", ["Audit log", "Trends"]),
}


@pytest.mark.parametrize("role", list(ROLES))
def test_every_target_is_a_finger_wide_and_nothing_is_clipped(page, app_url, role):
    username, other_pages = ROLES[role]
    results = []
    page.goto(app_url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    if role == "trainer":
        results.append(check_page(page, "sign-in"))
    sign_in(page, app_url, username, DEMO_PASSWORD)
    if role == "manager":  # the manager's home is Trends
        expect(page.get_by_role("heading", name="Do the plans help?")).to_be_visible(timeout=60_000)
    results.append(check_page(page, f"{role}-home"))
    if role == "trainer":
        # a triage report: its first step with a client, the result, and the confirmation of a save with plans
        choose_client_free_to_train(page)
        results.append(check_page(page, "triage-step-1"))
        walk_to_result(page)
        results.append(check_page(page, "triage-result"))
        page.get_by_text("Details (rules and sources").click()
        wait_idle(page)
        results.append(check_page(page, "triage-result-details"))
        page.get_by_role("button", name=re.compile("^Save report")).click()
        wait_idle(page)
        expect(page.get_by_role("button", name=re.compile("Download the handout"))).to_be_visible()
        results.append(check_page(page, "triage-saved-with-handout"))
        # the triage page's picker state is measured above (home); the client just reported on stays chosen
        open_page(page, "Client history")
        expect(page.get_by_role("heading", name="Training load")).to_be_visible()
        results.append(check_page(page, "history-client"))
        open_page(page, "Plans")
        results.append(check_page(page, "plans"))
    else:
        for title in other_pages:
            open_page(page, title)
            if title == "Trends":  # the page's last heading: its charts are drawn above it
                expect(page.get_by_role("heading", name="Do the plans help?")).to_be_visible(timeout=60_000)
            results.append(check_page(page, title.lower().replace(" ", "-")))
    failures = [r for r in results if r["small"] or r["clipped"]]
    report = "\n".join(
        f"{r['page']}: {len(r['small'])} of {r['targets']} targets small: {r['small']}; clipped: {r['clipped']}"
        for r in failures
    )
    assert not failures, report
