"""Canonical ingest throughput next to DuckDB's own readers, and the demo's wall time.

    .venv/bin/python bench/bench_ingest_canonical.py [--rows 500000] [--skip-demo]

Writes a canonical deployments file as CSV and as Parquet, ingests each into a fresh data home
(rows/s through the adapter, the contract check and the lake merge), then times DuckDB reading
the same file (``read_csv`` / ``read_parquet`` into a table: the floor on this machine). Last,
runs ``ops-warehouse demo`` on a fresh data home and prints its wall time.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file


def make_table(rows: int, seed: int = 1) -> pa.Table:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    started = [start + timedelta(seconds=rng.randrange(330 * 86400)) for _ in range(rows)]
    return pa.table(
        {
            "deploy_id": [f"d{i}" for i in range(rows)],
            "service": [f"svc-{rng.randrange(200)}" for _ in range(rows)],
            "environment": [rng.choice(["production", "staging"]) for _ in range(rows)],
            "sha": [f"{rng.getrandbits(160):040x}" for _ in range(rows)],
            "started_at": [t.isoformat() for t in started],
            "finished_at": [(t + timedelta(minutes=6)).isoformat() for t in started],
            "status": [rng.choice(["success", "success", "success", "failure"]) for _ in range(rows)],
            "is_rollback": ["false"] * rows,
        }
    )


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--skip-demo", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        table = make_table(args.rows)
        csv_path, parquet_path = root / "deployments.csv", root / "deployments.parquet"
        pacsv.write_csv(table, csv_path)
        pq.write_table(table, parquet_path)
        print(f"{args.rows:,} canonical deployment rows; csv {csv_path.stat().st_size / 1e6:.1f} MB")
        print(f"{'format':<10}{'ingest s':>10}{'rows/s':>12}{'duckdb s':>10}{'rows/s':>14}{'ratio':>8}")
        for fmt, path, reader in (("csv", csv_path, "read_csv"), ("parquet", parquet_path, "read_parquet")):
            home = DataHome.resolve(root / f"home-{fmt}").ensure()
            report = None

            def run(home: DataHome = home, path: Path = path) -> None:
                nonlocal report
                report = ingest_file(home, path, kind="canonical")

            took = timed(run)
            assert report is not None and report.ok and report.loaded == args.rows, report
            con = duckdb.connect()
            query = f"CREATE TABLE t AS SELECT * FROM {reader}('{path}')"
            floor = timed(lambda con=con, query=query: con.execute(query))
            print(
                f"{fmt:<10}{took:>10.2f}{args.rows / took:>12,.0f}{floor:>10.2f}{args.rows / floor:>14,.0f}{took / floor:>8.0f}x"  # noqa: E501
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process: {peak:,.0f} MiB")
        if not args.skip_demo:
            env = dict(os.environ, OPS_WAREHOUSE_HOME=str(root / "demo-home"))
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "ops_warehouse.cli", "demo"], env=env, check=True, stdout=subprocess.DEVNULL
            )
            print(f"ops-warehouse demo on a fresh data home: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
