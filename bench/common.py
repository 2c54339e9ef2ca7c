"""What every benchmark shares: the machine and its load, medians and percentiles, targets that can be
missed (and say so), and writing only the benchmark's own section of docs/PERFORMANCE.md."""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Cached histories and JSON copies; tests point it at their own temporary directory.
OUT = Path(os.environ.get("BACKCARE_BENCH_OUT") or ROOT / "bench" / "out")
DOC = ROOT / "docs" / "PERFORMANCE.md"


def machine() -> str:
    """CPU model, cores, memory, Python: one line for the record."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory = next(
        (
            int(line.split()[1]) // 1024 // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return f"{model}, {os.cpu_count()} cores, {memory} GB RAM, Python {platform.python_version()}, {platform.system()}"


def load_average() -> float:
    return os.getloadavg()[0]


def now_utc() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def percentile(values, share: float) -> float:
    """The nearest-rank percentile (share 0.95 for p95); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def median(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class Target:
    """One target of one benchmark: what it is, the limit, and which way is good."""

    name: str  # e.g. "store.client_history median at chain scale"
    limit: float
    unit: str  # e.g. "ms"
    at_most: bool = True

    def met(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit

    def verdict(self, value: float) -> str:
        sign = "<=" if self.at_most else ">="
        word = "met" if self.met(value) else "MISSED"
        shown = lambda v: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"  # noqa: E731
        unit = f" {self.unit}" if self.unit else ""
        return f"{word}: {self.name} {shown(value)}{unit} (target {sign} {shown(self.limit)}{unit})"


def report_targets(checks: list[tuple[Target, float]]) -> int:
    """Print one line per target; 1 when any is missed (the benchmark's exit status), else 0."""
    missed = [target.verdict(value) for target, value in checks if not target.met(value)]
    for target, value in checks:
        print(target.verdict(value))
    if missed:
        print(f"{len(missed)} target(s) missed: " + "; ".join(line.removeprefix("MISSED: ") for line in missed))
    return 1 if missed else 0


def write_section(title: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) only the section headed `title` in docs/PERFORMANCE.md."""
    heading = f"## {title}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n"
    section = heading + "\n\n" + body.strip("\n") + "\n"
    start = text.find(heading + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = text.find("\n## ", start + len(heading))
        text = text[:start] + section + ("" if following == -1 else text[following:])
    doc.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
