"""Benchmark of deploy impact on SLOs inside the whole build, and of one more day.

Usage::

    flock /tmp/ow-bench.lock python bench/bench_deploy_impact.py   # 200 services x 52 weeks, 200 SLOs x 364 days
    python bench/bench_deploy_impact.py --services 20 --weeks 4 --slos 20          # a quick run

Data: bench_marts' deployments, commits, incidents and action items of N services over W weeks,
and bench_slo's per-minute samples of one SLO per service (SLO i belongs to ``svc{i:03d}``), so
each successful production deployment meets an SLO. Then one more day of both arrives.

Printed: every model's time in the full build (incremental=False) and in the incremental build of
the one more day, and the share of deploy impact (``marts.deploy_slo_impact`` and
``marts.deploy_impact_weekly``) in each: it should add at most 10% to the full build and cost, for a
day, time in proportion to the day.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DEPLOY_IMPACT = ("marts.deploy_slo_impact", "marts.deploy_impact_weekly")


def build(home, label: str, *, incremental: bool) -> dict[str, float]:
    from ops_warehouse.lake import models

    print(f"{label}:", flush=True)
    times: dict[str, float] = {}
    t = time.perf_counter()
    for m in models.topological(models.discover_models()):
        t0 = time.perf_counter()
        n = models.run_model(home, m, incremental=incremental)
        times[m.key] = time.perf_counter() - t0
        print(
            f"    {m.key:<36} {times[m.key]:7.2f} s  {n:>10,} rows  {models.LAST_DECISIONS.get(m.key, '')}", flush=True
        )
    total = time.perf_counter() - t
    ours = sum(times[k] for k in DEPLOY_IMPACT)
    print(
        f"  {label}: {total:.1f} s, deploy impact {ours:.2f} s = {ours / total:.1%} of the build "
        f"({ours / max(total - ours, 1e-9):.1%} added to the rest)",
        flush=True,
    )
    return {"total": total, "deploy_impact": ours}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--slos", type=int, default=200)
    ap.add_argument("--home", type=Path, help="data home to use (default: a temporary folder, removed after)")
    args = ap.parse_args()

    from bench_marts import generate as generate_dora
    from bench_marts import ingest_all
    from bench_slo import generate as generate_slo

    from ops_warehouse.home import DataHome

    root = args.home or Path(tempfile.mkdtemp(prefix="bench-deploy-impact-"))
    days = args.weeks * 7
    try:
        home = DataHome.resolve(root / "home").ensure()
        t = time.perf_counter()
        generate_dora(root / "year", args.services, days, 0, 7, "")
        ingest_all(home, root / "year")
        n = generate_slo(home.root, args.slos, days)
        print(
            f"data: {args.services} services x {days} days, {args.slos} SLOs ({n:,} samples) "
            f"in {time.perf_counter() - t:.0f} s",
            flush=True,
        )
        full = build(home, "full build", incremental=False)
        generate_dora(root / "day", args.services, 1, days, 8, "n")
        ingest_all(home, root / "day")
        n = generate_slo(home.root, args.slos, 1, start_day=days)
        print(f"one more day: deployments and {n:,} samples", flush=True)
        day = build(home, "incremental build, one more day", incremental=True)
        print(
            f"\ndeploy impact: full build {full['deploy_impact']:.2f} s of {full['total']:.1f} s "
            f"(+{full['deploy_impact'] / max(full['total'] - full['deploy_impact'], 1e-9):.1%}); "
            f"one more day {day['deploy_impact']:.2f} s of {day['total']:.1f} s "
            f"({day['deploy_impact'] / max(full['deploy_impact'], 1e-9):.1%} of its full build, "
            f"the day is {1 / (days + 1):.1%} of the data)"
        )
    finally:
        if args.home is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
