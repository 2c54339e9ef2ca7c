"""The exercise pictures (issue 15): every exercise with a pose draws a start and an end figure, as SVG on
screen and as vector lines in a PDF; every exercise a plan uses has one; the geometry is sane."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from fpdf import FPDF

from backcare import figures
from backcare.catalogue import Exercise, Position, load_catalogue
from backcare.plans import load_library

CATALOGUE = load_catalogue()
WITH_POSE = [e for e in CATALOGUE.exercises if e.pose is not None]
PLAN_EXERCISES = sorted(
    {e.exercise_id for stage in (1, 2, 3) for plan in load_library().in_order(stage) for e in plan.exercises}
)
# How far apart the drawn joints of a figure are (figure units): the segment lengths the pose sets.
SEGMENTS = {
    "trunk": figures.TRUNK,
    "thigh": figures.THIGH,
    "shin": figures.SHIN,
    "upper arm": figures.UPPER_ARM,
    "forearm": figures.FOREARM,
}


def test_every_exercise_of_the_catalogue_has_its_picture():
    assert WITH_POSE == list(CATALOGUE.exercises)


def test_every_exercise_a_plan_uses_has_a_picture():
    assert PLAN_EXERCISES and all(CATALOGUE.get(i).pose is not None for i in PLAN_EXERCISES)
    assert {"hamstring_stretch", "hip_flexor_stretch", "bird_dog", "dead_bug"} <= set(PLAN_EXERCISES)


@pytest.mark.parametrize("exercise", WITH_POSE, ids=[e.id for e in WITH_POSE])
def test_every_exercise_renders_start_and_end_as_a_non_empty_svg(exercise: Exercise):
    svg = figures.svg(exercise)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag.endswith("svg")
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert texts == ["Start", "End"]
    heads = [c for c in root.iter(f"{ns}circle") if c.get("fill") == "white"]
    assert len(heads) == 2  # one head per position
    lines = list(root.iter(f"{ns}line"))
    assert len(lines) >= 2 * (10 + 1)  # ten body lines and a ground line per position
    width, height = float(root.get("width")), float(root.get("height"))
    for line in lines:
        for x, y in ((line.get("x1"), line.get("y1")), (line.get("x2"), line.get("y2"))):
            assert -0.5 <= float(x) <= width + 0.5 and -0.5 <= float(y) <= height + 0.5, (exercise.id, x, y)
    assert root.get("aria-label") == f"{exercise.name}: start and end position"


@pytest.mark.parametrize("exercise", WITH_POSE, ids=[e.id for e in WITH_POSE])
def test_every_figure_has_sane_geometry(exercise: Exercise):
    start, end = figures.figures(exercise)
    assert start != end  # the picture shows a movement
    for fig in (start, end):
        points = fig.points()
        assert all(math.isfinite(c) for p in points for c in p)
        x0, y0, x1, y1 = fig.bounds()
        assert y0 >= -1e-9  # nothing below the ground
        assert min(y for _, y in points) <= figures.STEP_HEIGHT + 1e-6  # standing on the ground (or a step)
        assert x1 - x0 < figures.PANEL and y1 < figures.PANEL  # fits its panel
        assert math.dist(fig.hip, fig.shoulder) == pytest.approx(SEGMENTS["trunk"])
        for root, (joint, end_point), upper, lower in (
            (fig.hip, fig.near_leg, "thigh", "shin"),
            (fig.hip, fig.far_leg, "thigh", "shin"),
            (fig.shoulder, fig.near_arm, "upper arm", "forearm"),
            (fig.shoulder, fig.far_arm, "upper arm", "forearm"),
        ):
            assert math.dist(root, joint) == pytest.approx(SEGMENTS[upper])
            assert math.dist(joint, end_point) == pytest.approx(SEGMENTS[lower])
        assert fig.head[1] > 0  # the head is off the ground


def test_standing_upright_puts_the_head_on_top_and_the_feet_on_the_ground():
    fig = figures.figure(Position(trunk=0))
    assert fig.near_leg[1][1] == pytest.approx(0)
    assert fig.head[1] == pytest.approx(
        figures.THIGH + figures.SHIN + figures.TRUNK + figures.NECK + figures.HEAD_RADIUS
    )
    assert fig.head[0] == pytest.approx(fig.hip[0])


def test_joint_angles_bend_the_way_a_body_does():
    # facing right: hip flexion brings the thigh forward (+x), a bent knee sends the foot back, a bent elbow
    # brings the hand forward
    seated = figures.figure(Position(trunk=0, hip=90, knee=90, shoulder=0, elbow=90))
    assert seated.near_leg[0][0] > seated.hip[0] + 0.4
    assert seated.near_leg[1][0] == pytest.approx(seated.near_leg[0][0])
    assert seated.near_arm[1][0] > seated.near_arm[0][0] + 0.2
    lying = figures.figure(Position(trunk=-90))
    assert lying.head[0] < lying.hip[0] and lying.head[1] == pytest.approx(lying.hip[1])


def test_an_exercise_without_a_pose_has_no_picture():
    plain = CATALOGUE.get("snatch").model_copy(update={"pose": None})
    with pytest.raises(ValueError, match="no pose"):
        figures.svg(plain)


@pytest.mark.parametrize("exercise_id", PLAN_EXERCISES)
def test_every_plan_exercise_draws_as_vector_lines_in_a_pdf(exercise_id):
    pdf = FPDF(format="A4")
    pdf.set_compression(False)
    pdf.add_page()
    height = figures.draw_pdf(pdf, CATALOGUE.get(exercise_id), 20, 20, 60)
    assert height == pytest.approx(30)
    content = bytes(pdf.output())
    assert b"/Subtype /Image" not in content
    strokes = len(re.findall(rb" l S", content)) + len(re.findall(rb" re S", content))
    assert strokes >= 20  # the body's lines and ground lines of both positions
