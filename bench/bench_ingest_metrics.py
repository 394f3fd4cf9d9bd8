"""Benchmark: ingest a large Prometheus range export, a large OTLP NDJSON file and a large
Prometheus text exposition, in the 0.0.4 format and as OpenMetrics.

Generates each file (``--mb`` megabytes each, default 200) in a temporary folder, ingests each into
a fresh data home in a child process, and prints rows/s and the child's peak RSS next to DuckDB's
own reader of the same file (``read_json``, or ``read_csv`` of the text's lines; also in a child
process), with the ratio of the two times, so the numbers are comparable::

    python bench/bench_ingest_metrics.py --mb 1000
    python bench/bench_ingest_metrics.py --mb 300 --formats otlp prometheus-text
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

POINTS_PER_SERIES = 11_000  # Prometheus' cap per series and query
START = 1_767_225_600  # 2026-01-01T00:00:00Z
STEP = 15


def write_prometheus_range(path: Path, megabytes: int) -> None:
    target = megabytes * 1_000_000
    with open(path, "w") as fh:
        fh.write('{"status":"success","data":{"resultType":"matrix","result":[')
        series = 0
        while fh.tell() < target:
            if series:
                fh.write(",")
            metric = {"__name__": "http_requests_total", "job": "api", "code": "200", "instance": f"host-{series}:9090"}
            fh.write('{"metric":' + json.dumps(metric) + ',"values":[')
            fh.write(",".join(f'[{START + STEP * i},"{i * 3}"]' for i in range(POINTS_PER_SERIES)))
            fh.write("]}")
            series += 1
        fh.write("]}}")


def _otlp_request(batch: int, points: int) -> str:
    base_ns = (START + batch * 60) * 1_000_000_000
    data_points = [
        {
            "attributes": [{"key": "route", "value": {"stringValue": f"/r{i}"}}],
            "startTimeUnixNano": str(START * 1_000_000_000),
            "timeUnixNano": str(base_ns),
            "asInt": str(batch * 10 + i),
        }
        for i in range(points)
    ]
    request = {
        "resourceMetrics": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
                "scopeMetrics": [
                    {
                        "scope": {"name": "bench", "version": "1.0"},
                        "metrics": [
                            {
                                "name": "http.server.requests",
                                "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": data_points},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    return json.dumps(request, separators=(",", ":"))


def write_otlp_ndjson(path: Path, megabytes: int) -> None:
    target = megabytes * 1_000_000
    with open(path, "w") as fh:
        batch = 0
        while fh.tell() < target:
            fh.write(_otlp_request(batch, 100) + "\n")
            batch += 1


def write_prometheus_text(path: Path, megabytes: int, *, openmetrics: bool = False) -> None:
    """A text exposition (0.0.4, millisecond timestamps; or OpenMetrics, seconds with three
    decimals as Prometheus writes them, ending with ``# EOF``): a counter and a histogram per
    instance."""
    target = megabytes * 1_000_000
    bounds = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf")
    with open(path, "w") as fh:
        fh.write("# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\n")
        fh.write("# HELP http_request_duration_seconds Request latency.\n")
        fh.write("# TYPE http_request_duration_seconds histogram\n")
        step = 0
        while fh.tell() < target:
            ms = f"{START + STEP * step}.000" if openmetrics else (START + STEP * step) * 1000
            lines = []
            for i in range(100):
                inst = f'instance="host-{i}:9090",job="api"'
                lines.append(f'http_requests_total{{code="200",{inst}}} {step * 7 + i} {ms}')
                lines.extend(
                    f'http_request_duration_seconds_bucket{{{inst},le="{le}"}} {step * (n + 1)} {ms}'
                    for n, le in enumerate(bounds)
                )
                lines.append(f"http_request_duration_seconds_sum{{{inst}}} {step * 0.37:.3f} {ms}")
                lines.append(f"http_request_duration_seconds_count{{{inst}}} {step * 11} {ms}")
            fh.write("\n".join(lines) + "\n")
            step += 1
        if openmetrics:
            fh.write("# EOF\n")


def write_openmetrics(path: Path, megabytes: int) -> None:
    write_prometheus_text(path, megabytes, openmetrics=True)


def _child_ingest(path: str, home: str) -> None:
    from ops_warehouse.home import DataHome
    from ops_warehouse.ingest import ingest_file

    report = ingest_file(DataHome.resolve(home), path)
    print(json.dumps({"rows": report.read, "loaded": report.loaded, "error": report.error}))


def _child_duckdb(path: str, fmt: str) -> None:
    import duckdb

    con = duckdb.connect(":memory:")
    if fmt in ("prometheus-text", "openmetrics"):
        sql = (
            f"SELECT count(*) FROM read_csv('{path}', columns={{'line': 'VARCHAR'}}, header=false, "
            "delim='\\x01', quote='', escape='', comment='#')"
        )
    elif fmt == "prometheus":
        sql = (
            "SELECT count(*) FROM (SELECT unnest(r.values) FROM ("
            f"SELECT unnest(data.result) AS r FROM read_json('{path}', maximum_object_size=2000000000)))"
        )
    else:
        sql = (
            "SELECT count(*) FROM (SELECT unnest(m.sum.dataPoints) FROM (SELECT unnest(s.metrics) AS m FROM ("
            "SELECT unnest(rm.scopeMetrics) AS s FROM (SELECT unnest(resourceMetrics) AS rm FROM "
            f"read_json('{path}', format='newline_delimited', maximum_object_size=100000000)))))"
        )
    try:
        rows = con.execute(sql).fetchone()[0]
        print(json.dumps({"rows": rows, "error": None}))
    except duckdb.Error as exc:
        print(json.dumps({"rows": 0, "error": str(exc).splitlines()[0]}))


def run_child(args: list[str]) -> tuple[dict[str, object], float, float]:
    """Run this script as a child; return its JSON answer, wall seconds and peak RSS in MB."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # this process's only child
    lines = proc.stdout.strip().splitlines()
    answer = json.loads(lines[-1]) if lines else {"rows": 0, "error": proc.stderr.strip()[-300:]}
    return answer, seconds, peak_kb / 1024


def _report(label: str, answer: dict[str, object], seconds: float, peak_mb: float, baseline: float = 0.0) -> None:
    rows = int(answer.get("rows") or 0)
    rate = rows / seconds if seconds else 0.0
    note = f"  error: {answer['error']}" if answer.get("error") else ""
    ratio = f"  {seconds / baseline:6.1f}x duckdb" if baseline else ""
    print(
        f"  {label:<22} rows {rows:>12,}  {seconds:8.1f} s  {rate:>12,.0f} rows/s  "
        f"peak RSS {peak_mb:8.0f} MB{ratio}{note}"
    )


FORMATS: dict[str, tuple[str, str, Callable[[Path, int], None]]] = {
    "prometheus": ("range.json", "duckdb read_json", write_prometheus_range),
    "otlp": ("metrics.ndjson", "duckdb read_json", write_otlp_ndjson),
    "prometheus-text": ("metrics.prom", "duckdb read_csv", write_prometheus_text),
    "openmetrics": ("metrics.om.txt", "duckdb read_csv", write_openmetrics),
}


def bench(megabytes: int, workdir: Path, formats: list[str]) -> None:
    for fmt in formats:
        name, reader, writer = FORMATS[fmt]
        path = workdir / name
        writer(path, megabytes)
        print(f"{fmt}: {path.stat().st_size / 1e6:,.0f} MB", flush=True)
        duck = _isolated(["--child-duckdb", str(path), fmt])
        _report(reader, *duck)
        home = workdir / f"home-{fmt}"
        _report("ops-warehouse ingest", *_isolated(["--child-ingest", str(path), str(home)]), baseline=duck[1])
        sys.stdout.flush()
        path.unlink()


def _isolated(args: list[str]) -> tuple[dict[str, object], float, float]:
    """Measure one child from a fresh intermediate process, so its peak RSS is its own."""
    proc = subprocess.run([sys.executable, __file__, "--measure", *args], capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if not lines:
        return {"rows": 0, "error": proc.stderr.strip()[-300:]}, 0.0, 0.0
    answer, seconds, peak = json.loads(lines[-1])
    return answer, seconds, peak


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--measure"]:
        print(json.dumps(run_child(argv[1:])))
        return
    if argv[:1] == ["--child-ingest"]:
        _child_ingest(argv[1], argv[2])
        return
    if argv[:1] == ["--child-duckdb"]:
        _child_duckdb(argv[1], argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="size of each generated file in MB")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--formats", nargs="+", choices=sorted(FORMATS), default=list(FORMATS), help="what to measure")
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=opts.dir, prefix="bench-metrics-") as tmp:
        bench(opts.mb, Path(tmp), opts.formats)


if __name__ == "__main__":
    main()
