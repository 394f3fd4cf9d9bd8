"""Benchmark: publish the weekly review for a large organisation.

Generates 200 services x 12 weeks of exports (20 with per-minute SLI counters over 35 days),
ingests and builds them into a fresh data home, then times ``publish_report`` for the last
complete week and prints the time and the page's size::

    python bench/bench_report.py [--services 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ops_warehouse.build import run_build
from ops_warehouse.generate import generate_exports
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_paths
from ops_warehouse.reporting.publish import publish_report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--weeks", type=int, default=12)
    ap.add_argument("--slo-services", type=int, default=20)
    ap.add_argument("--metric-days", type=int, default=35)
    ap.add_argument("--runs", type=int, default=3, help="publish this many times and report each")
    ap.add_argument("--keep", help="use (and keep) this folder instead of a temporary one")
    args = ap.parse_args()

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        home = DataHome.resolve(root / "home").ensure()
        t0 = time.perf_counter()
        generate_exports(
            root / "gen",
            services=args.services,
            weeks=args.weeks,
            slo_services=args.slo_services,
            metric_days=args.metric_days,
        )
        shutil.copyfile(root / "gen" / "catalog.yaml", home.catalog)
        t1 = time.perf_counter()
        reports = ingest_paths(home, [root / "gen" / "exports"])
        t2 = time.perf_counter()
        result = run_build(home)
        t3 = time.perf_counter()
        if not result.success:
            print(f"build failed: {result.failed_checks or result.failed_steps}", file=sys.stderr)
            return 1
        print(
            f"setup: generate {t1 - t0:.1f}s, ingest {t2 - t1:.1f}s "
            f"({sum(r.loaded for r in reports):,} rows), build {t3 - t2:.1f}s"
        )
        for i in range(args.runs):
            start = time.perf_counter()
            page = publish_report(home)
            took = time.perf_counter() - start
            print(
                f"publish_report run {i + 1}: {took:.2f}s, {page.name} {page.stat().st_size / 1e6:.2f} MB "
                f"(index {(home.reports / 'index.html').stat().st_size / 1e3:.1f} kB)"
            )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
