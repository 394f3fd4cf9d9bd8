"""Benchmark of the SLO engine: N SLOs x D days of per-minute samples.

Usage::

    python bench/bench_slo.py                      # 100 SLOs x 365 days (~105M samples)
    python bench/bench_slo.py --slos 10 --days 30  # a quick run

Data: each SLO has two gauge series carrying per-minute event counts (``bench_good{slo="i"}`` and
``bench_total{slo="i"}``), one sample a minute. The samples are written directly as Parquet into
the lake's raw layout (``lake/raw/metric_samples/day=YYYY-MM-DD/part-0.parquet``) by one DuckDB
``COPY ... PARTITION_BY``, not through ``ingest`` (which is row-by-row Python and would dominate
the run). The SLO definitions (80% Occurrences rolling 28d, 10% Timeslices on a calendar month,
10% RatioTimeslices) go through ``ingest`` as a canonical CSV.

Measured, each in its own process so peak memory is its own:
1. the whole SLO build: every model in ``SLO_MODELS`` (the same ``run_model`` calls the product
   runs, in dependency order; the other models run too, on empty tables, so the build state allows
   the next build to be incremental);
2. one hand-written DuckDB aggregate of good/total per SLO per ISO week over the same Parquet,
   as the floor any SLO engine has to pay to read the data;
3. the per-minute floor: hand-written DuckDB that does only what a per-minute SLI grid cannot
   avoid (each counter sample's previous one for its increase, good/total summed per SLO and
   minute, the rows written as day files), to show how much of the build is the grid itself;
4. one more day of samples written into the lake, then the same build again (incremental).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import queue
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SLO_MODELS = (
    "core.slos",
    "core.slo_selectors",
    "core.sli_minutes",
    "core.sli_hours",
    "core.slo_windows",
    "marts.slo_weekly",
    "marts.slo_alerts",
    "marts.slo_budget_daily",
)


def generate(root: Path, slos: int, days: int, start_day: int = 0) -> int:
    """Write the SLO definitions and ``days`` days of samples from ``start_day`` (0: the first day,
    Mon 2025-01-06, as bench_marts); returns the samples of those days. SLO i belongs to service
    ``svc{i % 200:03d}``, bench_marts' service names, so deployments meet their SLOs."""
    import duckdb

    from ops_warehouse.home import DataHome
    from ops_warehouse.ingest import ingest_file

    home = DataHome.resolve(root).ensure()
    defs = root / "slos.csv"
    with open(defs, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "slo_name",
                "service",
                "budgeting_method",
                "target",
                "time_window",
                "is_rolling",
                "time_zone",
                "good_query",
                "total_query",
                "time_slice_target",
                "time_slice_window",
            ]
        )
        for i in range(slos):
            method = "Occurrences" if i % 10 < 8 else ("Timeslices" if i % 10 == 8 else "RatioTimeslices")
            rolling = method != "Timeslices"
            w.writerow(
                [
                    f"slo-{i:04d}",
                    f"svc{i % 200:03d}",
                    method,
                    "0.999",
                    "28d" if rolling else "1M",
                    "true" if rolling else "false",
                    "UTC" if rolling else "Europe/Berlin",
                    f'bench_good{{slo="{i}"}}',
                    f'sum(rate(bench_total{{slo="{i}"}}[{{{{.window}}}}]))' if i % 2 else f'bench_total{{slo="{i}"}}',
                    "0.99" if method == "Timeslices" else "",
                    "5m" if method != "Occurrences" else "",
                ]
            )
    report = ingest_file(home, defs)
    assert report.ok and report.loaded + report.duplicates == slos, report.line()
    out = home.lake / "raw" / "metric_samples"
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET memory_limit = '4GB'")  # the generator must not crowd out the build it feeds
    con.execute(f"SET temp_directory = '{home.tmp / 'bench-duckdb'}'")
    # odd SLOs: total is a counter (cumulative, with a reset every 10 days); even: per-minute gauges.
    # value is DOUBLE as the lake's raw table types it (a DECIMAL column is unreadable to Spark as one)
    con.execute(
        f"""
        COPY (
            WITH m AS (
                SELECT TIMESTAMPTZ '2025-01-06 00:00:00+00' + to_minutes(i) AS ts, i
                FROM range({start_day * 1440}, {(start_day + days) * 1440}) t(i)
            ),
            s AS (SELECT range AS slo FROM range(0, {slos}))
            SELECT metric, labels, ts, CAST(value AS DOUBLE) AS value, kind, 'bench' AS source,
                   NULL::TIMESTAMPTZ AS updated_at,
                   'bench' AS source_file, now() AS ingested_at, strftime(ts, '%Y-%m-%d') AS day
            FROM (
                SELECT 'bench_total' AS metric, '{{"slo":"' || slo || '"}}' AS labels, ts,
                       CASE WHEN slo % 2 = 1 THEN (i % 14400) * 1000.0 ELSE 1000.0 END AS value,
                       CASE WHEN slo % 2 = 1 THEN 'counter' ELSE 'gauge' END AS kind
                FROM m, s
                UNION ALL
                SELECT 'bench_good', '{{"slo":"' || slo || '"}}', ts,
                       1000.0 - CASE WHEN hash(slo, i) % 1000 = 0 THEN 50 + hash(i) % 200 ELSE hash(slo, i) % 2 END,
                       'gauge'
                FROM m, s
            )
        ) TO '{out}' (FORMAT parquet, PARTITION_BY (day), FILENAME_PATTERN 'part-{{i}}', COMPRESSION zstd,
                      OVERWRITE_OR_IGNORE true)
        """
    )
    first = f"TIMESTAMPTZ '2025-01-06 00:00:00+00' + INTERVAL {start_day} DAY"
    n = con.execute(f"SELECT count(*) FROM read_parquet('{out}/*/*.parquet') WHERE ts >= {first}").fetchone()[0]
    con.close()
    return n


def _peak_mb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would carry the parent's over exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_slo_build(root: str, q: mp.Queue) -> None:
    from ops_warehouse.home import DataHome
    from ops_warehouse.lake.models import (
        LAST_DECISIONS,
        discover_models,
        run_model,
        topological,
    )

    home = DataHome.resolve(root)
    timings = {}
    counts = {}
    for model in topological(discover_models()):
        t1 = time.perf_counter()
        counts[model.key] = run_model(home, model)
        timings[model.key] = time.perf_counter() - t1
    q.put(
        {
            "wall": sum(timings[k] for k in SLO_MODELS),
            "peak_mb": _peak_mb(),
            "timings": {k: timings[k] for k in SLO_MODELS},
            "rows": {k: counts[k] for k in SLO_MODELS},
            "decisions": {k: LAST_DECISIONS.get(k, "") for k in SLO_MODELS},
        }
    )


def run_baseline(root: str, q: mp.Queue) -> None:
    import duckdb

    t = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    n = con.execute(
        f"""
        SELECT count(*) FROM (
            SELECT json_extract_string(labels, '$.slo') AS slo, date_trunc('week', ts) AS week,
                   sum(value) FILTER (WHERE metric = 'bench_good') AS good,
                   sum(value) FILTER (WHERE metric = 'bench_total') AS total
            FROM read_parquet('{root}/lake/raw/metric_samples/*/*.parquet')
            GROUP BY ALL
        )
        """
    ).fetchone()[0]
    q.put({"wall": time.perf_counter() - t, "peak_mb": _peak_mb(), "rows": n})


def run_minute_floor(root: str, q: mp.Queue) -> None:
    """The per-minute grid written by hand for this benchmark's two series per SLO: no selector
    matching, no exact sums, no slices; one COPY into day files, as ``core.sli_minutes`` is kept."""
    import duckdb

    t = time.perf_counter()
    out = Path(root) / "bench-minute-floor"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET memory_limit = '4GB'")
    spill = Path(root) / "bench-floor-duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory = '{spill}'")
    n = con.execute(
        f"""
        COPY (
            WITH s AS (
                SELECT metric, json_extract_string(labels, '$.slo') AS slo, ts, value, kind
                FROM read_parquet('{root}/lake/raw/metric_samples/*/*.parquet')
            ),
            v AS (
                SELECT metric, slo, ts,
                       CASE WHEN prev IS NULL THEN 0.0 WHEN value < prev THEN value ELSE value - prev END AS v
                FROM (SELECT *, lag(value) OVER (PARTITION BY metric, slo ORDER BY ts) AS prev
                      FROM s WHERE kind = 'counter') AS c
                UNION ALL
                SELECT metric, slo, ts, value FROM s WHERE kind <> 'counter'
            )
            SELECT slo, make_timestamptz(epoch_us(ts) // 60000000 * 60000000) AS minute,
                   sum(v) FILTER (WHERE metric = 'bench_good') AS good,
                   sum(v) FILTER (WHERE metric = 'bench_total') AS total,
                   CAST(min(ts) AS DATE) AS day
            FROM v
            GROUP BY ALL
        ) TO '{out}' (FORMAT parquet, PARTITION_BY (day), COMPRESSION zstd, OVERWRITE_OR_IGNORE true)
        """
    ).fetchone()[0]
    q.put({"wall": time.perf_counter() - t, "peak_mb": _peak_mb(), "rows": n})
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(spill, ignore_errors=True)


def measure(fn, root: Path) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=fn, args=(str(root), q))
    p.start()
    while True:  # a child that died (out of memory) must not leave the parent waiting forever
        try:
            result = q.get(timeout=5)
            break
        except queue.Empty:
            if not p.is_alive():
                raise SystemExit(f"{fn.__name__} failed with exit code {p.exitcode}") from None
    p.join()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slos", type=int, default=100)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--home", type=Path, help="data home to use (default: a temporary folder, removed after)")
    args = ap.parse_args()
    root = args.home or Path(tempfile.mkdtemp(prefix="bench-slo-"))
    try:
        t = time.perf_counter()
        n = generate(root, args.slos, args.days)
        print(
            f"data: {args.slos} SLOs x {args.days} days = {n:,} samples written as Parquet in "
            f"{time.perf_counter() - t:.1f} s"
        )
        build = measure(run_slo_build, root)  # each figure printed as soon as it is measured
        print(f"{'':34} {'wall s':>8} {'peak MB':>8}")
        print(f"{'SLO build (full)':34} {build['wall']:8.1f} {build['peak_mb']:8.0f}")
        for key, secs in build["timings"].items():
            print(f"  {key:32} {secs:8.1f} {'':8} rows {build['rows'][key]:,}", flush=True)
        base = measure(run_baseline, root)
        print(
            f"{'hand-written weekly good/total':34} {base['wall']:8.1f} {base['peak_mb']:8.0f}   rows {base['rows']:,}",
            flush=True,
        )
        grid = measure(run_minute_floor, root)
        print(
            f"{'hand-written per-minute grid':34} {grid['wall']:8.1f} {grid['peak_mb']:8.0f}   rows {grid['rows']:,}",
            flush=True,
        )
        generate(root, args.slos, 1, args.days)
        inc = measure(run_slo_build, root)
        print(f"{'SLO build, one more day':34} {inc['wall']:8.1f} {inc['peak_mb']:8.0f}")
        for key, secs in inc["timings"].items():
            print(f"  {key:32} {secs:8.1f} {'':8} {inc['decisions'][key]}")
        print(
            f"full build / floor: {build['wall'] / base['wall']:.1f}x (goal <= 3x); "
            f"full build / per-minute grid: {build['wall'] / grid['wall']:.1f}x; "
            f"incremental day / full build: {100 * inc['wall'] / build['wall']:.1f}% (goal <= 5%); "
            f"peak MB {max(build['peak_mb'], inc['peak_mb']):.0f} (goal <= 4096)"
        )
    finally:
        if args.home is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
