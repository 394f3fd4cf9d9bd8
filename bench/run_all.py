"""The whole product at scale, each figure next to its floor, in one run.

    .venv/bin/python bench/run_all.py                       # 200 services x 52 weeks, 200 SLOs x 365 days
    .venv/bin/python bench/run_all.py --quick               # a small run to try it
    .venv/bin/python bench/run_all.py --out bench/out/results.md
    .venv/bin/python bench/run_all.py --skip-build          # only the ingest rows
    .venv/bin/python bench/run_all.py --engine spark        # the build also on Spark local[*] (small by default)

Prints one table. Every measured step runs in a fresh child process, so wall time and peak RSS are
that step's own. The floor of each step is a hand-written DuckDB query over the same files: the
cost of merely reading the data on this machine.

1. Ingest, per format: rows/s of ``ingest_file`` (adapter, contract check, quarantine, lake merge)
   next to DuckDB's own reader of the same file (``read_csv``, ``read_parquet``, ``read_json``).
2. Build: one year of DORA data (bench_marts' generator: ~291k deployments, ~1M commits, 31k
   incidents, 62k action items for 200 services) and per-minute SLIs for the SLOs (bench_slo's
   generator, written straight into the lake's raw layout). Full rebuild of every model, then one
   more day of data and an incremental rebuild. Floor: bench_marts' weekly deployments and change
   failure rate query plus bench_slo's weekly good/total aggregate.
3. Publishing the snapshot, as a share of the full build (it links the lake's raw files instead of
   copying them), then one weekly review. Floor of the report: reading the week's headline rows.

With ``--engine spark`` the same lake is also built on Apache Spark (a ``local[*]`` session, or the
Spark Connect server in ``OPS_WAREHOUSE_SPARK_REMOTE``), and a second table shows steps 2 and 3 for
it beside DuckDB's: the cost of the distributed path on one machine. Spark builds are full builds,
so its "one more day" row is a full rebuild; its times include starting the session (the JVM), and
its peak RSS is the Python driver's plus the JVM's. Without ``--services``/``--quick`` etc. given,
``--engine spark`` runs at the ``--quick`` scale (``--full-scale`` keeps the defaults).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

CHILD_PRELUDE = textwrap.dedent(
    """
    import json, resource, sys, time
    sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
    """
)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would report the parent's peak
CHILD_EPILOGUE = textwrap.dedent(
    """
    _hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
    _peak = _hwm / 1024 + globals().get("_extra_mb", 0.0)  # a step's other processes (Spark's JVM)
    _out = {{"seconds": _seconds, "rows": _rows, "peak_mb": _peak, "note": globals().get("_note", "")}}
    print("@@" + json.dumps(_out))
    """
)


def child(body: str, **env: str) -> dict:
    """Run ``body`` (which sets ``_seconds`` and ``_rows``) in a fresh interpreter; its figures."""
    code = CHILD_PRELUDE.format(root=str(ROOT), bench=str(BENCH)) + textwrap.dedent(body) + CHILD_EPILOGUE.format()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env})
    for line in proc.stdout.splitlines():
        if "@@" in line:  # a progress bar may share the line
            return json.loads(line.split("@@", 1)[1])
    raise RuntimeError(f"benchmark step failed (exit code {proc.returncode}):\n{proc.stderr[-3000:]}")


def ingest_step(path: Path, home: Path, kind: str) -> dict:
    return child(
        f"""
        from ops_warehouse.home import DataHome
        from ops_warehouse.ingest import ingest_file
        t = time.perf_counter()
        r = ingest_file(DataHome.resolve({str(home)!r}), {str(path)!r}, kind={kind!r})
        _seconds = time.perf_counter() - t
        assert r.ok, r.line()
        _rows = r.read
        """
    )


BIG = "maximum_object_size = 2000000000"
READERS = {
    "csv": "SELECT * FROM read_csv('{p}')",
    "parquet": "SELECT * FROM read_parquet('{p}')",
    "prometheus": f"SELECT unnest(r.values) AS v FROM (SELECT unnest(data.result) AS r FROM read_json('{{p}}', {BIG}))",
    "otlp": (
        "SELECT unnest(m.sum.dataPoints) AS p FROM (SELECT unnest(s.metrics) AS m FROM (SELECT unnest(rm.scopeMetrics) AS s "  # noqa: E501
        f"FROM (SELECT unnest(resourceMetrics) AS rm FROM read_json('{{p}}', format = 'newline_delimited', {BIG}))))"
    ),
    "ndjson": f"SELECT * FROM read_json('{{p}}', format = 'newline_delimited', {BIG})",
    "incidents": f"SELECT unnest(incidents) AS i FROM read_json('{{p}}', {BIG})",
    "issues": f"SELECT unnest(issues) AS i FROM read_json('{{p}}', {BIG})",
}


def reader_step(path: Path, reader: str) -> dict:
    """DuckDB reading the same file into a table of its records (samples, for metric files)."""
    sql = READERS[reader].format(p=path)
    return child(
        f"""
        import duckdb
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        t = time.perf_counter()
        con.execute({("CREATE TABLE t AS " + sql)!r})
        _seconds = time.perf_counter() - t
        _rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
        """
    )


def lake_write_step(path: Path, reader: str, out: Path) -> dict:
    """DuckDB itself writing the same file into the lake's layout (zstd Parquet, a folder per UTC day
    of ``started_at``), with no check at all: what any ingest into day partitions pays at least."""
    day = "CAST(timezone('UTC', CAST(started_at AS TIMESTAMPTZ)) AS DATE)"
    copy = (
        f"COPY (SELECT *, {day} AS day FROM ({READERS[reader].format(p=path)})) TO '{out}' "
        "(FORMAT parquet, PARTITION_BY (day), COMPRESSION zstd, WRITE_PARTITION_COLUMNS false)"
    )
    return child(
        f"""
        import duckdb
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = false")
        t = time.perf_counter()
        _rows = con.execute({copy!r}).fetchone()[0]
        _seconds = time.perf_counter() - t
        """
    )


def query_step(sql: str) -> dict:
    return child(
        f"""
        from ops_warehouse.duck import connect
        con = connect(memory_limit="4GB")  # the limit the product's models run under
        t = time.perf_counter()
        _rows = 0
        for q in {sql!r}.split(";;"):
            _rows += con.execute(f"SELECT count(*) FROM ({{q}})").fetchone()[0]
        _seconds = time.perf_counter() - t
        """
    )


class Table:
    def __init__(self, title: str = "ops-warehouse") -> None:
        self.title = title
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.full_build: dict | None = None

    def add_share(self, step: str, ours: dict, whole: dict, whole_label: str) -> None:
        """A step measured as a share of another (publishing against the full build)."""
        share = f"{100 * ours['seconds'] / whole['seconds']:.1f}%"
        row = (
            step,
            f"{ours['seconds']:.1f} s",
            f"{whole_label} {whole['seconds']:.1f} s",
            share,
            f"{ours['peak_mb']:,.0f} MiB",
        )
        self.rows.append(row)
        print(f"  {step}: {row[1]} ({share} of {whole_label}), peak {row[4]}", flush=True)

    def add(self, step: str, ours: dict, floor: dict | None, *, rate: bool = False) -> None:
        if rate:
            value = f"{ours['rows'] / ours['seconds']:,.0f} rows/s"
            floor_text = f"{floor['rows'] / floor['seconds']:,.0f} rows/s" if floor else ""
        else:
            value = f"{ours['seconds']:.1f} s"
            floor_text = f"{floor['seconds']:.2f} s" if floor else ""
        if rate and floor:  # how many times DuckDB's own reader's rate is ours
            ratio = f"{(floor['rows'] / floor['seconds']) / (ours['rows'] / ours['seconds']):.1f}x"
        else:
            ratio = f"{ours['seconds'] / floor['seconds']:.0f}x" if floor and floor["seconds"] > 0 else ""
        self.rows.append((step, value, floor_text, ratio, f"{ours['peak_mb']:,.0f} MiB"))
        print(
            f"  {step}: {value} (floor {floor_text or '-'}, {ratio or '-'}), peak {ours['peak_mb']:,.0f} MiB",
            flush=True,
        )

    def markdown(self) -> str:
        head = f"| step | {self.title} | floor (DuckDB) | ratio | peak RSS |\n|---|---|---|---|---|\n"
        return head + "\n".join(f"| {' | '.join(r)} |" for r in self.rows) + "\n"


def machine() -> str:
    mem = ""
    try:
        kb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    import duckdb

    return f"{os.cpu_count()} cores{mem}, {platform.system()} {platform.machine()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}"  # noqa: E501


def bench_ingest(table: Table, work: Path, args: argparse.Namespace) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    from bench_ingest_canonical import make_table
    from bench_ingest_metrics import write_otlp_ndjson, write_prometheus_range

    from ops_warehouse.generate import generate_exports

    files = work / "ingest"
    files.mkdir()
    canon = make_table(args.canonical_rows)
    pacsv.write_csv(canon, files / "deployments.csv")
    pq.write_table(canon, files / "deployments.parquet")
    write_prometheus_range(files / "range.json", args.ingest_mb)
    write_otlp_ndjson(files / "otlp.ndjson", args.ingest_mb)
    generate_exports(files / "real", services=args.services, weeks=args.real_weeks, seed=3, slo_services=0)
    exports = files / "real" / "exports"
    pagerduty = max((exports / "pagerduty").glob("incidents-*.json"), key=lambda p: p.stat().st_size)
    cases = [
        ("canonical CSV", files / "deployments.csv", "canonical", "csv"),
        ("canonical Parquet", files / "deployments.parquet", "canonical", "parquet"),
        ("prometheus-range JSON", files / "range.json", "prometheus-range", "prometheus"),
        ("otlp-metrics NDJSON", files / "otlp.ndjson", "otlp-metrics", "otlp"),
        ("github-webhooks NDJSON", exports / "github" / "deployment-events.ndjson", "github-webhooks", "ndjson"),
        ("pagerduty-incidents JSON", pagerduty, "pagerduty-incidents", "incidents"),
        ("jira-issues JSON", exports / "jira" / "postmortem-actions.json", "jira-issues", "issues"),
    ]
    for label, path, kind, reader in cases:
        ours = ingest_step(path, work / f"home-{reader}", kind)  # a fresh lake each
        floor = reader_step(path, reader)
        size = path.stat().st_size / 1e6
        step = f"ingest {label} ({size:,.0f} MB, {ours['rows']:,} rows)"
        if kind == "canonical":  # rows with a time of their own: DuckDB's own write into day partitions too
            written = lake_write_step(path, reader, work / f"days-{reader}")
            step += (
                f"; DuckDB's own COPY of it into day partitions, unchecked: {written['seconds']:.2f} s, "
                f"{written['seconds'] / floor['seconds']:.1f}x its reader"
            )
        table.add(step, ours, floor, rate=True)


SPARK_BUILD = """
    from ops_warehouse.catalog import Catalog
    from ops_warehouse.home import DataHome
    from ops_warehouse.lake.engines import get_engine
    from ops_warehouse.lake.models import discover_models, topological
    home = DataHome.resolve({root!r})
    t = time.perf_counter()
    engine = get_engine("spark")
    runner = engine.runner()  # opens the session (starts the JVM)
    _started = time.perf_counter() - t
    catalog = Catalog.load(home.catalog)
    runs = [engine.run_model(home, m, catalog) for m in topological(discover_models())]
    _seconds = time.perf_counter() - t
    assert not [r for r in runs if r.skipped], [r.skipped for r in runs if r.skipped]
    _rows = sum(r.rows or 0 for r in runs)
    _note = f"session start {{_started:.1f}} s"
    from pyspark import SparkContext
    gateway = SparkContext._gateway
    if gateway is not None and getattr(gateway, "proc", None) is not None:
        _jvm = next(int(l.split()[1]) for l in open(f"/proc/{{gateway.proc.pid}}/status") if l.startswith("VmHWM"))
        _extra_mb = _jvm / 1024
    runner.stop()
    """


def bench_build(tables: dict[str, Table], work: Path, args: argparse.Namespace) -> None:
    """Steps 2 and 3 on each engine in ``tables`` (DuckDB first), each over its own copy of the lake."""
    from bench_marts import FLOOR as DORA_FLOOR
    from bench_marts import generate as generate_dora
    from bench_marts import ingest_all
    from bench_slo import generate as generate_slo

    from ops_warehouse.home import DataHome

    home = DataHome.resolve(work / "home").ensure()
    print(
        f"generating {args.services} services x {args.weeks} weeks and {args.slos} SLOs x {args.slo_days} days",
        flush=True,
    )
    generate_dora(work / "year", args.services, args.weeks * 7, 0, 7, "")
    ingest_all(home, work / "year")
    generate_slo(home.root, args.slos, args.slo_days)
    homes = {"duckdb": home}
    for engine in tables:
        if engine != "duckdb":  # the same raw lake, before any build
            shutil.copytree(home.root, work / f"home-{engine}", symlinks=True)
            homes[engine] = DataHome.resolve(work / f"home-{engine}")
    slo_floor = (
        f"SELECT json_extract_string(labels, '$.slo') AS slo, date_trunc('week', ts) AS week, "
        f"sum(value) FILTER (WHERE metric = 'bench_good') AS good, sum(value) FILTER (WHERE metric = 'bench_total') AS total "  # noqa: E501
        f"FROM read_parquet('{home.lake}/raw/metric_samples/*/*.parquet') GROUP BY ALL"
    )
    floor_sql = DORA_FLOOR.format(lake=home.lake) + ";;" + slo_floor
    build = """
        from ops_warehouse.home import DataHome
        from ops_warehouse.lake.models import build_models
        t = time.perf_counter()
        counts = build_models(DataHome.resolve({root!r}), incremental={incremental})
        _seconds = time.perf_counter() - t
        _rows = sum(counts.values())
        """

    def run(engine: str, incremental: bool) -> dict:
        root = str(homes[engine].root)
        if engine == "spark":
            return child(SPARK_BUILD.format(root=root))
        return child(build.format(root=root, incremental=incremental))

    floor = query_step(floor_sql)
    for engine, table in tables.items():
        full = run(engine, False)
        print(f"  {engine} full build: {full['seconds']:.1f} s, peak {full['peak_mb']:,.0f} MiB", flush=True)
        table.add(_noted("full build, every model", full), full, floor)
        table.full_build = full
    generate_dora(work / "day", args.services, 1, args.weeks * 7, 8, "n")
    for engine in tables:
        ingest_all(homes[engine], work / "day")
        generate_slo(homes[engine].root, args.slos, 1, args.slo_days)  # and one more day of every SLO's samples
    floor = query_step(floor_sql)
    for engine, table in tables.items():
        label = "incremental build, one more day" if engine == "duckdb" else "rebuild (full), one more day"
        again = run(engine, True)
        table.add(_noted(label, again), again, floor)
    for engine, table in tables.items():
        bench_report(table, homes[engine])


def _noted(label: str, figures: dict) -> str:
    return f"{label} ({figures['note']})" if figures.get("note") else label


def bench_report(table: Table, home) -> None:
    published = child(
        f"""
        from ops_warehouse.home import DataHome
        from ops_warehouse.lake.publish import publish
        home = DataHome.resolve({str(home.root)!r})
        t = time.perf_counter()
        result = publish(home)
        _seconds = time.perf_counter() - t
        _rows = sum(result.tables.values())
        """
    )
    if table.full_build is not None:
        table.add_share(f"publish snapshot ({published['rows']:,} rows)", published, table.full_build, "full build")
    ours = child(
        f"""
        from ops_warehouse.home import DataHome
        from ops_warehouse.reporting.publish import publish_report
        from ops_warehouse.query import run_query
        from ops_warehouse.timeutil import iso_week_label
        home = DataHome.resolve({str(home.root)!r})
        t = time.perf_counter()
        last = run_query(home, "SELECT max(week_start) FROM marts.dora_weekly")[1][0][0]
        path = publish_report(home, week=iso_week_label(last))
        _seconds = time.perf_counter() - t
        _rows = path.stat().st_size
        """
    )
    floor = child(
        f"""
        import duckdb
        t = time.perf_counter()
        con = duckdb.connect({str(home.warehouse)!r}, read_only=True)
        _rows = con.execute("SELECT count(*) FROM marts.dora_weekly WHERE week_start = (SELECT max(week_start) FROM marts.dora_weekly)").fetchone()[0]
        _seconds = time.perf_counter() - t
        """  # noqa: E501
    )
    table.add(f"weekly report ({ours['rows'] / 1e6:.1f} MB page)", ours, floor)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--slos", type=int, default=200)
    ap.add_argument("--slo-days", type=int, default=365)
    ap.add_argument("--ingest-mb", type=int, default=200)
    ap.add_argument("--canonical-rows", type=int, default=1_000_000)
    ap.add_argument("--real-weeks", type=int, default=8, help="weeks of real-format exports for the JSON formats")
    ap.add_argument("--quick", action="store_true", help="a small run: 20 services x 8 weeks, 10 SLOs x 30 days")
    ap.add_argument("--skip-ingest", action="store_true")
    ap.add_argument("--skip-build", action="store_true", help="only the ingest rows (steps 2 and 3 left out)")
    ap.add_argument("--out", type=Path, help="also write the table as Markdown here")
    ap.add_argument(
        "--engine", choices=("duckdb", "spark"), default="duckdb", help="spark: also build on Spark, a second table"
    )
    ap.add_argument("--full-scale", action="store_true", help="with --engine spark: the default scale, not --quick's")
    args = ap.parse_args()
    scale = ("--services", "--weeks", "--slos", "--slo-days", "--ingest-mb", "--canonical-rows", "--real-weeks")
    if args.engine == "spark" and not args.full_scale and not any(a.split("=")[0] in scale for a in sys.argv[1:]):
        args.quick = True  # Spark on one machine: a small run unless asked otherwise
    if args.quick:
        args.services, args.weeks, args.slos, args.slo_days = 20, 8, 10, 30
        args.ingest_mb, args.canonical_rows, args.real_weeks = 20, 100_000, 2
    print(f"machine: {machine()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="ops-warehouse-bench-"))
    table = Table()
    tables = {"duckdb": table}
    if args.engine == "spark":
        remote = os.environ.get("OPS_WAREHOUSE_SPARK_REMOTE")
        tables["spark"] = Table(f"ops-warehouse on Spark ({remote or 'local[*]'})")
    try:
        if not args.skip_ingest:
            bench_ingest(table, work, args)
        if not args.skip_build:
            bench_build(tables, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = f"Machine: {machine()}\n\n" + "\n".join(t.markdown() for t in tables.values())
    print()
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
