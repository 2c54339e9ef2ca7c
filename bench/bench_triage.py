"""Benchmark of the triage rule module (issue 2): reports per second through evaluate(), through
validation + evaluate(), and through the `triage` command, each next to a baseline measured in the
same run so that the figures can be compared across machines as ratios.

    .venv/bin/python -m bench.bench_triage                 # 100,000 reports, markdown table on stdout
    .venv/bin/python -m bench.bench_triage --reports 20000 --no-cli
    .venv/bin/python -m bench.bench_triage --target-per-second 1e9    # a target it cannot meet: exits 1

Not a test. Exits 1, naming the target, when evaluate() runs below --target-per-second (50,000 reports/s).
JSON results go to bench/out/ (git-ignored); --write-doc records the run in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from backcare import questions
from backcare.models import TriageHistory, TriageReport
from backcare.rules import RULES_VERSION, evaluate

REPO = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("BACKCARE_BENCH_OUT") or REPO / "bench" / "out")
TARGET_PER_SECOND = 50_000
EXERCISES = (
    "deadlift",
    "back squat",
    "romanian deadlift",
    "overhead press",
    "bench press",
    "plank",
    "running",
    "leg press",
    "hip thrust",
    "pull-up",
)


def generate_reports(count: int, seed: int = 2) -> list[dict]:
    """`count` varied report objects of the JSON contract, the same for the same seed.

    Mostly mild reports (as in a gym), with every level, every question and every cause represented."""
    rng = random.Random(seed)
    # Every yes/no question of the registry, asked and mostly answered "no" (the follow-up only when it applies);
    # one report in fifty leaves a question not asked.
    rare_questions = tuple(
        q.field
        for q in questions.QUESTIONS
        if q.kind is questions.Kind.YES_NO and q.asked_when is None and q.risk_answer
    )
    reports = []
    for _n in range(count):
        report = {
            "client_id": f"C-{rng.randrange(1, 5000):05d}",
            "hours_since_workout": rng.choice((rng.randint(1, 48), round(rng.uniform(0, 120), 1), 24, 48, 72)),
            "pain_score": rng.choices(range(11), weights=(4, 10, 12, 10, 7, 5, 4, 3, 2, 1, 1))[0],
            "pain_quality": rng.choices(
                ("dull_ache", "stiffness", "tightness", "sharp", "stabbing"), weights=(10, 8, 8, 2, 1)
            )[0],
            "trend": rng.choices(("easing", "same", "worse"), weights=(6, 3, 1))[0],
            "eases_with_movement": rng.random() < 0.75,
            "leg_symptoms": rng.choices(("none", "one_leg", "both_legs"), weights=(40, 3, 1))[0],
        }
        for question in rare_questions:
            report[question] = rng.random() < 0.006
        if report["pregnant"]:
            report["pregnancy_warning_signs"] = rng.random() < 0.1
        if rng.random() < 0.3:
            report["age"] = rng.randint(14, 85)
        if rng.random() < 0.02:
            del report[rng.choice(rare_questions)]
        if rng.random() < 0.6:
            report["context"] = {
                "exercises": rng.sample(EXERCISES, rng.randint(0, 3)),
                "form_breakdown_seen": rng.random() < 0.1,
                "load_increased": rng.random() < 0.25,
                "volume_increased": rng.random() < 0.2,
                "new_exercise": rng.random() < 0.1,
                "warmup_minutes": rng.choice((None, 0, 3, 5, 10)),
                "cooldown_done": rng.choice((None, True, False)),
                "core_sessions_per_week": rng.choice((None, 0, 1, 2, 3)),
                "rest_days_last_7": rng.choice((None, 0, 1, 2, 3)),
                "sleep_hours": rng.choice((None, 5.5, 6.5, 7, 8)),
                "sitting_hours_per_day": rng.choice((None, 2, 5, 6, 9)),
                "posture_concern": rng.random() < 0.15,
                "glute_or_hamstring_weakness": rng.random() < 0.1,
            }
        reports.append(report)
    return reports


def generate_histories(count: int, seed: int = 3) -> list[TriageHistory]:
    rng = random.Random(seed)
    return [
        TriageHistory(
            episode_pain_scores=rng.choice(((), (), (0,), (2,), (4,), (2, 3))),
            prior_reports_28d=rng.choice((0, 0, 0, 1, 2, 3)),
            acute_chronic_ratio=rng.choice((None, 0.9, 1.2, 1.6)),
        )
        for _ in range(count)
    ]


def timed(run, repeat: int) -> float:
    """Best wall time of `repeat` runs: the least disturbed by other work on a shared machine."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def touch_fields(reports: list[TriageReport]) -> None:
    """Baseline: read every field the rules and detectors read, and nothing more."""
    for r in reports:
        (  # noqa: B018  (the baseline reads the fields and keeps nothing)
            r.saddle_numbness,
            r.bladder_or_bowel_change,
            r.sexual_dysfunction,
            r.leg_symptoms,
            r.weakness_worsening,
            r.major_trauma,
            r.chest_pain,
            r.collapse_or_tearing_pain,
            r.fever_or_unwell,
            r.unexplained_weight_loss,
            r.history_of_cancer,
            r.night_or_rest_pain,
            r.worse_on_cough_or_sneeze,
            r.osteoporosis_or_steroids,
            r.upper_back_pain,
            r.back_shape_change,
            r.pregnant,
            r.pregnancy_warning_signs,
            r.pain_quality,
            r.numbness,
            r.tingling,
            r.weakness,
            r.trend,
            r.hours_since_workout,
            r.limits_daily_activities,
            r.pain_score,
            r.eases_with_movement,
            r.persistent_fatigue,
            r.age,
            r.context,
            r.client_id,
        )


def run_cli(path: Path, out: Path) -> float:
    """Wall time of `python -m backcare triage FILE > OUT`, interpreter start included."""
    start = time.perf_counter()
    with out.open("wb") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "backcare", "triage", str(path)],
            stdout=sink,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the triage command failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs per in-process measurement (best is kept)")
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line measurement")
    parser.add_argument(
        "--target-per-second",
        type=float,
        default=TARGET_PER_SECOND,
        help="reports/s through evaluate() on validated reports",
    )
    parser.add_argument("--write-doc", action="store_true", help="record the run in docs/PERFORMANCE.md")
    args = parser.parse_args(argv)

    inputs = generate_reports(args.reports, args.seed)
    lines = [json.dumps(data) for data in inputs]
    reports = [TriageReport.model_validate(data) for data in inputs]
    histories = generate_histories(args.reports)
    levels = Counter(evaluate(r).level.value for r in reports)
    n = len(reports)

    rows: list[tuple[str, float, str]] = []  # (what, seconds, compared with)

    def measure(name: str, run, baseline: str = "") -> float:
        seconds = timed(run, args.repeat)
        rows.append((name, seconds, baseline))
        return seconds

    # Each loop streams, as the CLI does: results are dropped as they are made, not kept in a list
    # (keeping 100,000 results would time the garbage collector walking them, not the rules).
    def touch():
        touch_fields(reports)

    def evaluate_all():
        for report in reports:
            evaluate(report)

    def evaluate_with_history():
        for report, history in zip(reports, histories, strict=True):
            evaluate(report, history)

    def parse_all():
        for line in lines:
            json.loads(line)

    def validate_and_evaluate():
        for line in lines:
            evaluate(TriageReport.model_validate_json(line))

    def validate_evaluate_and_serialise():
        for line in lines:
            evaluate(TriageReport.model_validate_json(line)).model_dump_json()

    touch_baseline, json_baseline = "baseline: touch the fields evaluate() reads", "baseline: json.loads of each line"
    measure(touch_baseline, touch)
    measure("evaluate() on validated reports", evaluate_all, touch_baseline)
    measure("evaluate() with a history", evaluate_with_history, touch_baseline)
    measure(json_baseline, parse_all)
    measure("validate JSON line + evaluate()", validate_and_evaluate, json_baseline)
    measure("validate + evaluate() + result as JSON", validate_evaluate_and_serialise, json_baseline)

    if not args.no_cli:
        with tempfile.TemporaryDirectory(prefix="bench-triage-") as tmp:
            batch, one = Path(tmp) / "reports.jsonl", Path(tmp) / "one.jsonl"
            batch.write_text("\n".join(lines) + "\n")
            one.write_text(lines[0] + "\n")
            startup = min(run_cli(one, Path(tmp) / "one.out") for _ in range(2))
            rows.append(("baseline: CLI start-up with 1 report", startup, ""))
            whole = min(run_cli(batch, Path(tmp) / "all.out") for _ in range(2))
            rows.append(("CLI `triage FILE` (JSON Lines, start-up included)", whole, json_baseline))
            rows.append(("CLI without start-up (difference)", max(whole - startup, 1e-9), json_baseline))

    seconds_of = {name: seconds for name, seconds, _ in rows}
    results = []
    for name, seconds, baseline in rows:
        count = 1 if name.startswith("baseline: CLI start-up") else n
        results.append(
            {
                "measurement": name,
                "reports": count,
                "seconds": round(seconds, 4),
                "reports_per_second": round(count / seconds),
                "compared_with": baseline or None,
                "slowdown_vs_baseline": round(seconds / seconds_of[baseline], 2) if baseline else None,
            }
        )
    per_second = {r["measurement"]: r["reports_per_second"] for r in results}
    evaluate_rate = per_second["evaluate() on validated reports"]

    from bench.common import Target, load_average, now_utc, report_targets, write_section
    from bench.common import machine as machine_line

    target = Target("evaluate() on validated reports", args.target_per_second, "reports/s", at_most=False)
    command = ".venv/bin/python -m bench.bench_triage " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [
        f"Run {now_utc()} on {machine_line()}; load average {load_average():.1f} at the end (a shared "
        f"machine). `{command.strip()}`: {n:,} generated reports (seed {args.seed}), best of {args.repeat}, "
        f"{RULES_VERSION}.",
        f"Levels: {', '.join(f'{k} {v:,}' for k, v in sorted(levels.items()))}.",
        "",
        "| measurement | reports/s | time (s) | vs. baseline |",
        "|---|---:|---:|---|",
    ]
    for r in results:
        ratio = (
            f"{r['slowdown_vs_baseline']:.1f}x the time of {r['compared_with'].removeprefix('baseline: ')}"
            if r["compared_with"]
            else "baseline"
        )
        lines.append(f"| {r['measurement']} | {r['reports_per_second']:,} | {r['seconds']:.3f} | {ratio} |")
    lines += ["", f"Verdict of this run: {target.verdict(evaluate_rate)}."]
    print("\n".join(lines))
    if args.write_doc:
        write_section("Triage rule module (issue 2): latest run", "\n".join(lines))

    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    record = {
        "benchmark": "triage",
        "when": stamp,
        "rules_version": RULES_VERSION,
        "reports": n,
        "seed": args.seed,
        "repeat": args.repeat,
        "machine": machine(),
        "levels": dict(levels),
        "target_reports_per_second": TARGET_PER_SECOND,
        "results": results,
    }
    path = OUT / f"triage-{stamp}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path}")
    return report_targets([(target, evaluate_rate)])


if __name__ == "__main__":
    raise SystemExit(main())
