"""Benchmark the DORA / incident / action-item marts on a year of synthetic canonical data.

    python bench/bench_marts.py                      # 200 services x 52 weeks
    python bench/bench_marts.py --services 10 --weeks 8

Generates canonical Parquet files (deployments, commits, incidents, action items) with numpy and
polars, ingests them into a fresh data home, then reports wall time and peak memory (RSS of this
process, sampled every 20 ms) of:

1. a full rebuild of every model (per model, then the total),
2. the incremental rebuild after one more day of data arrives: ingest the day, rebuild (models
   that declare an incremental key recompute only the tail the new day can change; how each
   model ran is printed),
3. a full rebuild of that same data (``incremental=False``), for comparison with 2,
4. the floor: one hand-written DuckDB query over the same raw Parquet computing weekly
   deployments and change failure rate (explicit causes and rollbacks only).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ops_warehouse.duck import connect  # noqa: E402
from ops_warehouse.home import DataHome  # noqa: E402
from ops_warehouse.ingest import ingest_file  # noqa: E402
from ops_warehouse.lake import models  # noqa: E402

START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
US_PER_H = 3_600_000_000


@contextmanager
def measure(label: str, results: list[tuple[str, float, float]]):
    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            stop.wait(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        wall = time.perf_counter() - t0
        stop.set()
        t.join()
        results.append((label, wall, peak[0] / 2**20))
        print(f"{label:<44} {wall:9.2f} s  peak RSS {peak[0] / 2**20:8.0f} MiB", flush=True)


def _ts(us: np.ndarray) -> pl.Series:
    base = int(START.timestamp() * 1_000_000)
    return pl.Series(us.astype(np.int64) + base).cast(pl.Datetime("us", "UTC"))


def generate(out: Path, services: int, days: float, day0: float, seed: int, prefix: str) -> dict[str, int]:
    """Canonical files for `days` days starting `day0` days after START; ids carry `prefix`."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    span = days * 24 * US_PER_H
    svc_names = np.array([f"svc{i:03d}" for i in range(services)])
    team_names = np.array([f"team{i // 10:02d}" for i in range(services)])

    n_dep = int(services * days * 4)  # ~4 deploy attempts per service per day
    svc = rng.integers(0, services, n_dep)
    start_us = (day0 * 24 * US_PER_H + rng.random(n_dep) * span).astype(np.int64)
    dur_us = (rng.uniform(3, 30, n_dep) * 60_000_000).astype(np.int64)
    status = rng.choice(["success", "failure", "error"], n_dep, p=[0.97, 0.02, 0.01])
    env = rng.choice(["production", "staging"], n_dep, p=[0.9, 0.1])
    ids = np.array([f"{prefix}d{i}" for i in range(n_dep)])
    deployments = pl.DataFrame(
        {
            "deploy_id": ids,
            "service": svc_names[svc],
            "team": team_names[svc],
            "environment": env,
            "sha": np.char.add(f"{prefix}s", np.arange(n_dep).astype(str)),
            "started_at": _ts(start_us),
            "finished_at": _ts(start_us + dur_us),
            "status": status,
            "is_rollback": rng.random(n_dep) < 0.01,
            "is_hotfix": rng.random(n_dep) < 0.02,
        }
    )
    deployments.write_parquet(out / "deployments.parquet")

    ok = np.flatnonzero((status == "success") & (env == "production"))
    n_chg = len(ok) * 4  # ~4 commits per deployment
    pick = rng.choice(ok, n_chg)
    fin = start_us[pick] + dur_us[pick]
    authored = fin - (rng.exponential(30, n_chg) * US_PER_H).astype(np.int64)
    merged = np.minimum(fin - 60_000_000, authored + (rng.exponential(4, n_chg) * US_PER_H).astype(np.int64))
    explicit = rng.random(n_chg) < 0.5
    changes = pl.DataFrame(
        {
            "change_id": np.char.add(f"{prefix}c", np.arange(n_chg).astype(str)),
            "service": svc_names[svc[pick]],
            "authored_at": _ts(authored),
            "merged_at": _ts(merged),
            "deploy_id": pl.Series(np.where(explicit, ids[pick], None).tolist(), dtype=pl.String),
        }
    )
    changes.write_parquet(out / "changes.parquet")

    n_inc = max(1, int(services * days * 3 / 7))  # ~3 incidents per service per week
    isvc = rng.integers(0, services, n_inc)
    created = (day0 * 24 * US_PER_H + rng.random(n_inc) * span).astype(np.int64)
    acked = created + (rng.exponential(10, n_inc) * 60_000_000).astype(np.int64)
    resolved = created + (rng.exponential(90, n_inc) * 60_000_000).astype(np.int64)
    is_resolved = rng.random(n_inc) < 0.97
    cause = np.where(rng.random(n_inc) < 0.3, ids[rng.integers(0, n_dep, n_inc)], None)
    incidents = pl.DataFrame(
        {
            "incident_id": np.char.add(f"{prefix}i", np.arange(n_inc).astype(str)),
            "service": svc_names[isvc],
            "team": team_names[isvc],
            "severity": rng.choice(["sev1", "sev2", "sev3", "sev4"], n_inc, p=[0.05, 0.2, 0.45, 0.3]),
            "title": np.char.add("Alert ", rng.integers(0, 40, n_inc).astype(str)),
            "dedup_key": np.char.add("k", rng.integers(0, 40, n_inc).astype(str)),
            "created_at": _ts(created),
            "acknowledged_at": _ts(acked),
            "resolved_at": _ts(resolved).zip_with(
                pl.Series(is_resolved), pl.Series([None] * n_inc, dtype=pl.Datetime("us", "UTC"))
            ),
            "escalations": rng.poisson(0.2, n_inc),
            "caused_by_deploy_id": pl.Series(cause.tolist(), dtype=pl.String),
        }
    )
    incidents.write_parquet(out / "incidents.parquet")

    n_ai = n_inc * 2
    owner = rng.integers(0, n_inc, n_ai)
    ai_status = rng.choice(["done", "open", "not_doing"], n_ai, p=[0.7, 0.25, 0.05])
    completed = created[owner] + (rng.exponential(20, n_ai) * 24 * US_PER_H).astype(np.int64)
    items = pl.DataFrame(
        {
            "item_id": np.char.add(f"{prefix}a", np.arange(n_ai).astype(str)),
            "title": np.full(n_ai, "Follow up"),
            "team": team_names[isvc[owner]],
            "category": rng.choice(["immediate", "short_term", "long_term", "process"], n_ai),
            "created_at": _ts(created[owner]),
            "completed_at": _ts(completed).zip_with(
                pl.Series(ai_status == "done"), pl.Series([None] * n_ai, dtype=pl.Datetime("us", "UTC"))
            ),
            "status": ai_status,
        }
    )
    items.write_parquet(out / "action_items.parquet")
    return {"deployments": n_dep, "changes": n_chg, "incidents": n_inc, "action_items": n_ai}


def ingest_all(home: DataHome, folder: Path) -> None:
    for f in sorted(folder.glob("*.parquet")):
        rep = ingest_file(home, f, kind="canonical")
        if not rep.ok or rep.quarantined:
            raise SystemExit(rep.line())


def rebuild(home: DataHome, label: str, results: list, *, incremental: bool = True) -> None:
    with measure(f"{label}: all models", results):
        for m in models.topological(models.discover_models()):
            t0 = time.perf_counter()
            n = models.run_model(home, m, incremental=incremental)
            how = models.LAST_DECISIONS.get(m.key, "")
            print(f"    {m.key:<36} {time.perf_counter() - t0:7.2f} s  {n:>9} rows  {how}", flush=True)


FLOOR = """
WITH d AS (
    SELECT deploy_id, service, finished_at, is_rollback
    FROM read_parquet('{lake}/raw/deployments/**/*.parquet', hive_partitioning = false)
    WHERE lower(environment) IN ('production', 'prod') AND status = 'success'
),
rolled AS (  -- each rollback fails the previous successful deployment of its service
    SELECT lag(deploy_id) OVER (PARTITION BY service ORDER BY finished_at) AS deploy_id, is_rollback FROM d
),
failed AS (
    SELECT deploy_id FROM rolled WHERE is_rollback
    UNION
    SELECT caused_by_deploy_id
    FROM read_parquet('{lake}/raw/incidents/**/*.parquet', hive_partitioning = false)
    WHERE caused_by_deploy_id IS NOT NULL
)
SELECT service, date_trunc('week', timezone('UTC', finished_at)) AS week_start,
       count(*) AS deployments,
       count(f.deploy_id) / count(*) AS change_failure_rate
FROM d LEFT JOIN failed AS f USING (deploy_id)
GROUP BY ALL
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--home", type=Path, help="data home to use (default: a temporary folder, removed)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-marts-"))
    home = DataHome.resolve(args.home or tmp / "home").ensure()
    results: list = []
    try:
        with measure("generate canonical Parquet", results):
            counts = generate(tmp / "year", args.services, args.weeks * 7, 0, args.seed, "")
        print("    rows:", counts, flush=True)
        with measure("ingest", results):
            ingest_all(home, tmp / "year")
        rebuild(home, "full rebuild", results)
        with measure("generate + ingest one more day", results):
            generate(tmp / "day", args.services, 1, args.weeks * 7, args.seed + 1, "n")
            ingest_all(home, tmp / "day")
        rebuild(home, "incremental (one day more)", results)
        rebuild(home, "full rebuild (same data)", results, incremental=False)
        full, inc = results[-1][1], results[-2][1]
        print(f"one more day: incremental {inc:.2f} s vs full {full:.2f} s ({inc / full:.0%} of a full rebuild)")
        con = connect()
        with measure("floor: one DuckDB query (weekly deploys + CFR)", results):
            rows = con.execute(f"SELECT count(*) FROM ({FLOOR.format(lake=home.lake)})").fetchone()[0]
        print(f"    floor rows: {rows}")
    finally:
        if args.home is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
