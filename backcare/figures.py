"""Line figures of the exercises, drawn by the project from each exercise's pose (data/exercises.toml).

A pose gives joint angles for a start and an end position; `figure()` turns one position into points of a
side-view stick figure (facing right) standing on a ground line. The same geometry is drawn as SVG on screen
(`svg()`) and as vector lines and circles in a PDF (`draw_pdf()`), so the two never disagree and no image
file is fetched from anywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from backcare.catalogue import Exercise, Position, Prop

# Segment lengths in figure units (about a 1.75 m person at 1 unit = 1 m).
TRUNK = 0.52
NECK = 0.07
HEAD_RADIUS = 0.1
THIGH = 0.44
SHIN = 0.44
UPPER_ARM = 0.3
FOREARM = 0.28
STEP_HEIGHT = 0.42
INK = "#1f2933"
FAR_INK = "#8a96a3"  # the far-side limbs, lighter so the near side reads first


@dataclass(frozen=True)
class Figure:
    """One position as points (x to the right, y up, ground at y = 0)."""

    hip: tuple[float, float]
    shoulder: tuple[float, float]
    neck: tuple[float, float]
    head: tuple[float, float]
    near_leg: tuple[tuple[float, float], tuple[float, float]]  # knee, foot
    far_leg: tuple[tuple[float, float], tuple[float, float]]
    near_arm: tuple[tuple[float, float], tuple[float, float]]  # elbow, hand
    far_arm: tuple[tuple[float, float], tuple[float, float]]
    prop: Prop

    def points(self) -> list[tuple[float, float]]:
        return [
            self.hip,
            self.shoulder,
            self.neck,
            self.head,
            *self.near_leg,
            *self.far_leg,
            *self.near_arm,
            *self.far_arm,
        ]

    def bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y), the head's circle included."""
        xs = [p[0] for p in self.points()]
        ys = [p[1] for p in self.points()]
        hx, hy = self.head
        return (
            min(*xs, hx - HEAD_RADIUS),
            min(*ys, hy - HEAD_RADIUS),
            max(*xs, hx + HEAD_RADIUS),
            max(*ys, hy + HEAD_RADIUS),
        )

    def segments(self) -> list[tuple[tuple[float, float], tuple[float, float], bool]]:
        """(from, to, near side) of every line, far limbs first so the near ones draw over them."""
        far = [
            (self.hip, self.far_leg[0], False),
            (self.far_leg[0], self.far_leg[1], False),
            (self.shoulder, self.far_arm[0], False),
            (self.far_arm[0], self.far_arm[1], False),
        ]
        near = [
            (self.hip, self.shoulder, True),
            (self.shoulder, self.neck, True),
            (self.hip, self.near_leg[0], True),
            (self.near_leg[0], self.near_leg[1], True),
            (self.shoulder, self.near_arm[0], True),
            (self.near_arm[0], self.near_arm[1], True),
        ]
        return far + near


def _step(point: tuple[float, float], angle_deg: float, length: float) -> tuple[float, float]:
    a = math.radians(angle_deg)
    return (point[0] + length * math.cos(a), point[1] + length * math.sin(a))


def _limb(root, base, flex, bend, upper, lower, bend_sign):
    first = base + flex
    joint = _step(root, first, upper)
    end = _step(joint, first + bend_sign * bend, lower)
    return joint, end


def figure(position: Position) -> Figure:
    """The figure of one position: joint angles to points, then lifted so its lowest point is on the ground."""
    hip = (0.0, 0.0)
    trunk_dir = 90.0 - position.trunk  # up is 90 degrees; a forward lean turns it clockwise
    down = trunk_dir + 180.0  # the trunk's line continued below the hip
    shoulder = _step(hip, trunk_dir, TRUNK)
    neck = _step(shoulder, trunk_dir - position.neck, NECK)
    head = _step(neck, trunk_dir - position.neck, HEAD_RADIUS)

    def leg(flex: float, bend: float):
        return _limb(hip, down, flex, bend, THIGH, SHIN, -1)  # a knee bends backwards

    def arm(flex: float, bend: float):
        return _limb(shoulder, down, flex, bend, UPPER_ARM, FOREARM, 1)  # an elbow bends forwards

    near_leg = leg(position.hip, position.knee)
    far_leg = leg(
        position.hip if position.hip2 is None else position.hip2,
        position.knee if position.knee2 is None else position.knee2,
    )
    near_arm = arm(position.shoulder, position.elbow)
    far_arm = arm(
        position.shoulder if position.shoulder2 is None else position.shoulder2,
        position.elbow if position.elbow2 is None else position.elbow2,
    )
    raw = Figure(hip, shoulder, neck, head, near_leg, far_leg, near_arm, far_arm, position.prop)
    # The lowest body point rests on the ground; on a step-up whose near foot is lowest, it rests on the step.
    lowest = min(min(y for _, y in raw.points()), head[1] - HEAD_RADIUS)
    lift = 0.0
    if position.prop is Prop.STEP and near_leg[1][1] <= lowest + 1e-6:
        lift = STEP_HEIGHT
    return _shift(raw, 0.0, lift - lowest)


def _shift(fig: Figure, dx: float, dy: float) -> Figure:
    def m(p):
        return (p[0] + dx, p[1] + dy)

    def pair(ps):
        return (m(ps[0]), m(ps[1]))

    return Figure(
        m(fig.hip),
        m(fig.shoulder),
        m(fig.neck),
        m(fig.head),
        pair(fig.near_leg),
        pair(fig.far_leg),
        pair(fig.near_arm),
        pair(fig.far_arm),
        fig.prop,
    )


def figures(exercise: Exercise) -> tuple[Figure, Figure]:
    """The start and end figures of an exercise; an exercise without a pose has no picture."""
    if exercise.pose is None:
        raise ValueError(f"exercise '{exercise.id}' has no pose")
    return figure(exercise.pose.start), figure(exercise.pose.end)


# --- layout shared by SVG and PDF -------------------------------------------------------------------

PANEL = 2.1  # each position is drawn in a square this many figure units wide
MARGIN = 0.12


def _panel_transform(fig: Figure) -> tuple[float, float]:
    """The x offset that centres a figure in its panel (its y stays on the panel's ground line)."""
    x0, _, x1, _ = fig.bounds()
    return (PANEL / 2 - (x0 + x1) / 2, 0.0)


def _scale_for(figs: tuple[Figure, Figure]) -> float:
    """One scale for both panels: the larger figure fits with a margin."""
    widest = max(f.bounds()[2] - f.bounds()[0] for f in figs)
    tallest = max(f.bounds()[3] for f in figs)
    return min(1.0, (PANEL - 2 * MARGIN) / max(widest, 1e-6), (PANEL - 2 * MARGIN - 0.1) / max(tallest, 1e-6))


def _props(fig: Figure) -> list[tuple[str, tuple[float, ...]]]:
    """Extra shapes for the prop: ('circle', (x, y, r)), ('line', (x1, y1, x2, y2)), ('rect', (x, y, w, h))."""
    hand = fig.near_arm[1]
    if fig.prop is Prop.WEIGHT:
        return [("circle", (hand[0], hand[1], 0.06))]
    if fig.prop is Prop.DOWEL:
        # along the back: from behind the head to past the tailbone
        dx, dy = fig.shoulder[0] - fig.hip[0], fig.shoulder[1] - fig.hip[1]
        length = math.hypot(dx, dy) or 1.0
        ux, uy = dx / length, dy / length
        nx, ny = -uy, ux  # the back side of a figure facing right
        off = 0.05
        return [
            (
                "line",
                (
                    fig.hip[0] - ux * 0.12 + nx * off,
                    fig.hip[1] - uy * 0.12 + ny * off,
                    fig.head[0] + ux * 0.05 + nx * off,
                    fig.head[1] + uy * 0.05 + ny * off,
                ),
            )
        ]
    if fig.prop is Prop.BOX:
        top = max(fig.hip[1] - 0.06, 0.1)
        return [("rect", (fig.hip[0] - 0.3, 0.0, 0.4, top))]
    if fig.prop is Prop.BENCH:
        top = max(fig.shoulder[1] - 0.08, 0.1)
        return [("rect", (fig.shoulder[0] - 0.3, 0.0, 0.45, top))]
    if fig.prop is Prop.STEP:
        foot = fig.near_leg[1]
        top = max(foot[1], 0.1)
        return [("rect", (foot[0] - 0.15, 0.0, 0.4, top))]
    return []


def svg(exercise: Exercise, *, width: int = 280) -> str:
    """The start and end positions side by side as one SVG, with a ground line and an arrow between them."""
    start, end = figures(exercise)
    scale = _scale_for((start, end))
    height = width / 2
    unit = (width / 2) / PANEL  # pixels per figure unit
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" role="img" aria-label="{_esc(exercise.name)}: start and end position">'
    ]
    ground = height - MARGIN * unit
    for index, fig in enumerate((start, end)):
        left = index * width / 2
        dx, _ = _panel_transform(fig)
        cx = (PANEL / 2) * unit + left

        def at(p, dx=dx, cx=cx):
            x = cx + (p[0] + dx - PANEL / 2) * scale * unit
            return x, ground - p[1] * scale * unit

        label = "Start" if index == 0 else "End"
        parts.append(
            f'<text x="{left + 6:.1f}" y="14" font-family="sans-serif" font-size="12" fill="{FAR_INK}">{label}</text>'
        )
        parts.append(
            f'<line x1="{left + 8:.1f}" y1="{ground:.1f}" x2="{left + width / 2 - 8:.1f}" y2="{ground:.1f}" '
            f'stroke="{FAR_INK}" stroke-width="1.5"/>'
        )
        for kind, values in _props(fig):
            if kind == "circle":
                x, y = at(values[:2])
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{values[2] * scale * unit:.1f}" fill="{INK}"/>')
            elif kind == "line":
                x1, y1 = at(values[:2])
                x2, y2 = at(values[2:])
                parts.append(
                    f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#b07a2a" '
                    'stroke-width="3" stroke-linecap="round"/>'
                )
            else:
                x, y = at((values[0], values[1] + values[3]))
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{values[2] * scale * unit:.1f}" '
                    f'height="{values[3] * scale * unit:.1f}" fill="none" stroke="{FAR_INK}" stroke-width="1.5"/>'
                )
        for a, b, near in fig.segments():
            x1, y1 = at(a)
            x2, y2 = at(b)
            colour = INK if near else FAR_INK
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
                'stroke-width="4" stroke-linecap="round"/>'
            )
        hx, hy = at(fig.head)
        parts.append(
            f'<circle cx="{hx:.1f}" cy="{hy:.1f}" r="{HEAD_RADIUS * scale * unit:.1f}" fill="white" '
            f'stroke="{INK}" stroke-width="3"/>'
        )
    mid = width / 2
    parts.append(
        f'<path d="M {mid - 7:.1f} {height / 2:.1f} L {mid + 5:.1f} {height / 2:.1f} M {mid:.1f} {height / 2 - 5:.1f} '
        f'L {mid + 5:.1f} {height / 2:.1f} L {mid:.1f} {height / 2 + 5:.1f}" stroke="{FAR_INK}" stroke-width="2" '
        'fill="none"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def draw_pdf(pdf, exercise: Exercise, x: float, y: float, width: float) -> float:
    """Draw the start and end positions at (x, y) in an fpdf2 document, `width` mm wide; returns the height
    used. Lines and circles only: a vector drawing that prints sharp at any size."""
    start, end = figures(exercise)
    scale = _scale_for((start, end))
    height = width / 2
    unit = (width / 2) / PANEL
    ground = y + height - MARGIN * unit
    pdf.set_line_width(0.25)
    for index, fig in enumerate((start, end)):
        left = x + index * width / 2
        dx, _ = _panel_transform(fig)
        cx = (PANEL / 2) * unit + left

        def at(p, dx=dx, cx=cx):
            return cx + (p[0] + dx - PANEL / 2) * scale * unit, ground - p[1] * scale * unit

        pdf.set_draw_color(138, 150, 163)
        pdf.set_line_width(0.3)
        pdf.line(left + 1, ground, left + width / 2 - 1, ground)
        for kind, values in _props(fig):
            if kind == "circle":
                px, py = at(values[:2])
                r = values[2] * scale * unit
                pdf.set_fill_color(31, 41, 51)
                pdf.circle(x=px, y=py, radius=r, style="F")
            elif kind == "line":
                pdf.set_draw_color(176, 122, 42)
                pdf.set_line_width(0.7)
                x1, y1 = at(values[:2])
                x2, y2 = at(values[2:])
                pdf.line(x1, y1, x2, y2)
            else:
                pdf.set_draw_color(138, 150, 163)
                pdf.set_line_width(0.3)
                rx, ry = at((values[0], values[1] + values[3]))
                pdf.rect(rx, ry, values[2] * scale * unit, values[3] * scale * unit)
        for a, b, near in fig.segments():
            pdf.set_draw_color(*((31, 41, 51) if near else (138, 150, 163)))
            pdf.set_line_width(0.9)
            x1, y1 = at(a)
            x2, y2 = at(b)
            pdf.line(x1, y1, x2, y2)
        hx, hy = at(fig.head)
        pdf.set_draw_color(31, 41, 51)
        pdf.set_fill_color(255, 255, 255)
        pdf.set_line_width(0.7)
        pdf.circle(x=hx, y=hy, radius=HEAD_RADIUS * scale * unit, style="DF")
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    return height
