"""The printable handout: a valid A4 PDF with the client, the plans and the safety net, emergency first."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from backcare import pdf as pdf_base
from backcare.errors import InvalidInput
from backcare.handout import SCOPE_STATEMENT, handout_filename, latin1_safe, render_handout
from backcare.plans import customise, load_library

PDFTOTEXT = shutil.which("pdftotext") or ("/usr/bin/pdftotext" if Path("/usr/bin/pdftotext").exists() else None)
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
PDFTOPPM = shutil.which("pdftoppm")
needs_pdftoppm = pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm (poppler-utils) is not installed")

START, REVIEW = date(2025, 3, 3), date(2025, 3, 17)


@pytest.fixture(scope="module")
def library():
    return load_library()


def _render(library, **overrides) -> bytes:
    arguments = dict(
        client_name="Priya Natarajan",
        plans=list(library.in_order()),
        safety_net=library.safety_net,
        trainer="Sam Okafor",
        start_date=START,
        review_date=REVIEW,
        notes=None,
    )
    arguments.update(overrides)
    return render_handout(**arguments)


def _text(pdf: bytes, tmp_path: Path, *pages: str) -> str:
    """The PDF's text with whitespace collapsed, so wrapped lines read as one sentence (`pages`: e.g. "-l", "1")."""
    path = tmp_path / "handout.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([PDFTOTEXT, *pages, str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


@pytest.fixture(scope="module")
def full_handout(library) -> bytes:
    return _render(library, notes="Walk for 20 minutes on rest days.")


def test_handout_is_a_complete_a4_pdf_of_a_few_pages(full_handout):
    assert full_handout.startswith(b"%PDF-")
    assert full_handout.rstrip().endswith(b"%%EOF")
    assert 10_000 < len(full_handout) < 400_000
    assert b"/MediaBox [0 0 595.28 841.89]" in full_handout  # A4 in points
    pages = int(re.search(rb"/Count (\d+)", full_handout).group(1))
    assert 3 <= pages <= 12


@needs_pdftotext
def test_handout_names_client_trainer_dates_and_every_plan_title(library, full_handout, tmp_path):
    text = _text(full_handout, tmp_path)
    for expected in (
        "Priya Natarajan",
        "Sam Okafor",
        "3 March 2025",
        "17 March 2025",
        "Walk for 20 minutes on rest days.",
    ):
        assert expected in text
    for plan in library.in_order():
        assert plan.title in text
        assert plan.exercises[0].name in text


@needs_pdftotext
def test_safety_net_lists_emergency_signs_first_then_urgent_then_professional(library, full_handout, tmp_path):
    text = _text(full_handout, tmp_path)
    net = library.safety_net
    for sign in net.emergency.signs + net.urgent.signs + net.refer.signs:
        assert sign in text
    positions = [text.index(tier.heading) for tier in net.tiers]
    assert positions == sorted(positions)
    assert "999" in text and "A&E" in text and "NHS 111" in text
    assert positions[0] > text.index(library.plan("posture").title)


@needs_pdftotext
def test_every_page_carries_the_scope_statement(full_handout, tmp_path):
    text = _text(full_handout, tmp_path)
    pages = text.count("Page ")
    assert pages >= 2
    assert text.count(SCOPE_STATEMENT) == pages


@needs_pdftotext
def test_customised_plan_prints_the_clients_copy(library, tmp_path):
    mine = customise(
        library.plan("core"),
        {"doses": {"Dead bug": "2 x 5 each side"}, "drop": ["Bird-dog"], "note": "Keep the range small for now."},
    )
    text = _text(_render(library, plans=[mine]), tmp_path)
    assert "2 x 5 each side" in text and "Keep the range small for now." in text
    assert "Bird-dog" not in text
    assert library.plan("warm_up").title not in text


@needs_pdftotext
def test_handout_without_plans_still_carries_the_safety_net(library, tmp_path):
    text = _text(_render(library, plans=[]), tmp_path)
    assert "No exercise plan for now" in text
    assert library.safety_net.emergency.heading in text


@needs_pdftotext
def test_core_font_fallback_prints_typographic_characters_safely(library, tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_base, "DEJAVU_DIR", tmp_path / "no-fonts-here")
    pdf = _render(
        library,
        client_name="Zo\u00eb O\u2019Neill",
        plans=[library.plan("load")],
        notes="3\u00d710 \u2013 \u201ceasy\u201d pace\u2026",
    )
    text = _text(pdf, tmp_path)
    assert "Zo\u00eb O'Neill" in text
    assert '3x10 - "easy" pace...' in text
    assert library.safety_net.emergency.signs[0] in text


def test_plain_helvetica_handout_holds_client_plan_titles_and_emergency_signs(library, monkeypatch, tmp_path):
    """Runs without pdftotext: uncompressed Helvetica content streams hold each printed line as a string."""
    monkeypatch.setattr(pdf_base, "DEJAVU_DIR", tmp_path / "no-fonts-here")
    monkeypatch.setattr(pdf_base, "COMPRESS", False)
    pdf = _render(library).decode("latin-1")
    net = library.safety_net
    for expected in [
        "Priya Natarajan",
        "Chest pain",
        net.emergency.heading,
        net.urgent.heading,
        net.refer.heading,
        *(plan.title for plan in library.in_order()),
    ]:
        assert f"({expected})" in pdf
    assert pdf.index(net.emergency.heading) < pdf.index(net.urgent.heading) < pdf.index(net.refer.heading)


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("O\u2019Neill", "O'Neill"),
        ("\u201cbrace\u201d", '"brace"'),
        ("3\u00d710", "3x10"),
        ("20\u201330 s \u2014 slowly", "20-30 s - slowly"),
        ("\u2265 7\u2026", ">= 7..."),
        ("caf\u00e9", "caf\u00e9"),
        ("\u4f60\u597d", "??"),
    ],
)
def test_latin1_safe_replaces_what_helvetica_cannot_print(raw, safe):
    assert latin1_safe(raw) == safe
    safe.encode("latin-1")


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"client_name": "  "}, "client_name"),
        ({"trainer": ""}, "trainer"),
        ({"review_date": date(2025, 3, 2)}, "review_date"),
    ],
)
def test_invalid_handout_inputs_name_the_field(library, overrides, field):
    with pytest.raises(InvalidInput) as caught:
        _render(library, plans=[library.plan("core")], **overrides)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Priya Natarajan", "backcare-plan-priya-natarajan-2025-03-03.pdf"),
        ("Zo\u00eb O'Neill", "backcare-plan-zoe-oneill-2025-03-03.pdf"),
        ("../../etc/passwd", "backcare-plan-etc-passwd-2025-03-03.pdf"),
        ("\u4f60\u597d", "backcare-plan-client-2025-03-03.pdf"),
    ],
)
def test_handout_filename_is_a_safe_ascii_slug(name, expected):
    assert handout_filename(name, START) == expected


# --- issue 15: stages, pain rule, stop rules, pictures, trainer's name and contact on the first page ------


def _two_plans(library):
    return [library.plan("core", 2), library.plan("posterior_chain", 1)]


@pytest.fixture(scope="module")
def two_plan_handout(library):
    layout: list = []
    pdf = _render(library, plans=_two_plans(library), trainer_contact="sam@gym.example, 07700 900123", layout=layout)
    return pdf, layout


@needs_pdftotext
def test_the_first_page_holds_name_trainer_contact_review_stages_pain_rule_and_stop_rules(
    library, two_plan_handout, tmp_path
):
    pdf, layout = two_plan_handout
    first = _text(pdf, tmp_path, "-f", "1", "-l", "1")
    core, chain = _two_plans(library)
    for expected in (
        "Priya Natarajan",
        "Sam Okafor",
        "sam@gym.example, 07700 900123",
        "17 March 2025",
        "Core stability: stage 2: light load",
        "Glutes and hamstrings: stage 1: unloaded",
        "The pain rule",
        library.pain_rule.text,
        "Stop and tell your trainer if",
        *core.stop_rules,
        *chain.stop_rules,
        "Your exercises",
        core.exercises[0].name,
    ):
        assert expected in first, expected
    assert any(page == 1 for page, *_ in layout)  # at least one picture on the first page


@needs_pdftotext
def test_an_exercise_in_two_plans_prints_once_at_the_higher_stages_dose(library, two_plan_handout, tmp_path):
    pdf, _ = two_plan_handout
    text = _text(pdf, tmp_path)
    bridge_at_2 = library.plan("core", 2).exercise("Glute bridge")
    assert text.count("Glute bridge 3 × 12") == 1 and bridge_at_2.dose == "3 × 12"
    assert "2 × 10, rest 45 s" not in text  # the stage-1 dose of the bridge is not printed
    assert "In your plans: Core stability and Glutes and hamstrings" in text


def test_every_exercise_of_the_chosen_plans_gets_its_picture(library, two_plan_handout):
    _, layout = two_plan_handout
    exercises = {e.exercise_id for p in _two_plans(library) for e in p.exercises}
    assert len(layout) == len(exercises)


def test_the_handout_fits_a4(two_plan_handout):
    pdf, layout = two_plan_handout
    assert b"/MediaBox [0 0 595.28 841.89]" in pdf
    assert all(16 <= x and x + w <= 210 - 16 + 0.01 and 0 < y and y + h <= 297 - 22 for _, x, y, w, h in layout)


@needs_pdftoppm
def test_at_60_dpi_the_first_pages_pictures_are_drawn_and_the_space_beside_them_is_not_blank(
    two_plan_handout, tmp_path
):
    from PIL import Image

    pdf, layout = two_plan_handout
    path = tmp_path / "handout.pdf"
    path.write_bytes(pdf)
    subprocess.run([PDFTOPPM, "-r", "60", "-f", "1", "-l", "1", "-png", str(path), str(tmp_path / "p")], check=True)
    page = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    assert page.size == (497, 702)  # A4 at 60 dpi

    def dark_share(box) -> float:
        x, y, w, h = (round(v / 25.4 * 60) for v in box)
        crop = page.crop((x, y, x + w, y + h))
        histogram = crop.histogram()  # 256 grey levels
        return sum(histogram[:160]) / (crop.width * crop.height)

    first_page = [(x, y, w, h) for number, x, y, w, h in layout if number == 1]
    assert first_page
    for box in first_page:
        assert dark_share(box) > 0.01  # the figure's lines are there
    left, top, width, height = first_page[0]
    assert dark_share((left + width + 4, top, 100, 12)) > 0.01  # its name and dose beside it
    assert dark_share((left, 297 - 30, 60, 6)) < 0.01  # a blank strip above the footer: the check can fail


def test_render_handout_draws_pictures_as_vectors_not_images(two_plan_handout):
    pdf, _ = two_plan_handout
    assert b"/Subtype /Image" not in pdf
