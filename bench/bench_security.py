"""Benchmark: ingest of the high-volume security formats, and what the vulnerability and alert
models add to a full build.

    python bench/bench_security.py alertmanager --mb 1000     # 1 GB of webhook notifications (NDJSON)
    python bench/bench_security.py trivy --services 200 --days 365 --layout month
    python bench/bench_security.py marts --services 200 --weeks 52

``alertmanager`` and ``trivy`` generate the files in a temporary folder, then ingest them into a
fresh data home in a child process and print rows/s and the child's peak RSS next to DuckDB's own
``read_json`` of the same files (also a child; it counts the flattened alerts or vulnerabilities).
For ``alertmanager`` a second floor is DuckDB's own COPY of every flattened alert (all versions,
unchecked) into day partitions, zstd Parquet, as the lake lays them out: what any ingest into day
partitions pays at least.
Trivy reports are NDJSON, one report per line: ``--layout day`` writes a file per day (every
image's report of that day), ``--layout month`` a file per month.

``marts`` generates the 200-service benchmark's canonical data (``bench_marts.py``) and a synthetic
organisation's security exports for as many services, ingests both, runs a full build and prints
each model's time, then the share the six vulnerability and alert models add to the others.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

START = datetime(2026, 1, 1, tzinfo=UTC)
NEW_MODELS = (
    "core.vulnerabilities",
    "marts.vulnerability_weekly",
    "core.alert_episodes",
    "marts.alert_weekly",
    "marts.alert_names_weekly",
    "marts.security_incident_weekly",
)


# ---------------------------------------------------------------- files


def write_alertmanager(path: Path, megabytes: int, seed: int = 7) -> None:
    """Notifications of 1-3 alerts each: a firing, re-sent firings, then the resolution."""
    rng = random.Random(seed)
    target = megabytes * 1_000_000
    t = START
    n = 0
    with open(path, "w") as fh:
        while fh.tell() < target:
            n += 1
            t += timedelta(seconds=rng.randint(1, 20))
            alerts = []
            for k in range(rng.randint(1, 3)):
                svc = f"svc-{rng.randrange(200)}"
                name = rng.choice(["HighErrorRate", "HighLatency", "DiskSpaceLow", "PodCrashLooping", "QueueBacklog"])
                fp = f"{rng.getrandbits(64):016x}"
                alerts.append(
                    {
                        "labels": {
                            "alertname": name,
                            "service": svc,
                            "severity": rng.choice(["critical", "warning"]),
                            "namespace": "production",
                            "pod": f"{svc}-{k}",
                        },
                        "annotations": {"summary": f"{name} on {svc}", "runbook_url": f"https://runbooks/{name}"},
                        "startsAt": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randrange(10**9):09d}Z",
                        "generatorURL": f"https://prometheus/graph?g0.expr={name}",
                        "fingerprint": fp,
                    }
                )
            end = (t + timedelta(minutes=rng.randint(1, 90))).strftime("%Y-%m-%dT%H:%M:%SZ")
            for status in ["firing"] * rng.randint(1, 3) + ["resolved"]:
                body = [
                    dict(a, status=status, endsAt=end if status == "resolved" else "0001-01-01T00:00:00Z")
                    for a in alerts
                ]
                fh.write(
                    json.dumps(
                        {
                            "receiver": "pager",
                            "status": status,
                            "alerts": body,
                            "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
                            "commonLabels": {},
                            "commonAnnotations": {},
                            "externalURL": "https://am",
                            "version": "4",
                            "groupKey": f'{{}}:{{n="{n}"}}',
                            "truncatedAlerts": 0,
                        },
                        separators=(",", ":"),
                    )
                    + "\n"
                )


def write_trivy(folder: Path, services: int, days: int, layout: str, seed: int = 7) -> int:
    """Daily reports of every service's image; each keeps ~12 findings that come and go."""
    from ops_warehouse.generate.security import OS_PACKAGES, _Vuln, trivy_report

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    live: dict[int, list[_Vuln]] = {s: [] for s in range(services)}
    files: dict[str, list[str]] = {}
    reports = 0
    for day in range(days):
        at = START + timedelta(days=day, hours=3)
        key = at.strftime("%Y-%m-%d") if layout == "day" else at.strftime("%Y-%m")
        out = files.setdefault(key, [])
        for s in range(services):
            vulns = [v for v in live[s] if rng.random() > 0.08]  # some get fixed
            while len(vulns) < 12:
                sev = rng.choice(["critical", "high", "high", "medium", "medium", "medium", "low"])
                vulns.append(_Vuln(f"CVE-2026-{rng.randrange(10000, 99999)}", rng.choice(OS_PACKAGES), sev, at, None))
            live[s] = vulns
            out.append(
                json.dumps(
                    trivy_report(f"registry.acme.example/acme/svc-{s}:1.{day % 30}", at, vulns, rng),
                    separators=(",", ":"),
                )
            )
            reports += 1
        if layout == "day" or day == days - 1 or (at + timedelta(days=1)).strftime("%Y-%m") != key:
            (folder / f"trivy-{key}.ndjson").write_text("\n".join(out) + "\n")
            files[key] = []
    return reports


# ---------------------------------------------------------------- children


def _child_ingest(path: str, home: str) -> None:
    from ops_warehouse.home import DataHome
    from ops_warehouse.ingest import ingest_paths

    reports = ingest_paths(DataHome.resolve(home), [path])
    errors = [r.line() for r in reports if not r.ok]
    print(
        json.dumps(
            {
                "rows": sum(r.read for r in reports),
                "loaded": sum(r.loaded for r in reports),
                "files": len(reports),
                "error": errors[0] if errors else None,
            }
        )
    )


def _child_duckdb(path: str, fmt: str) -> None:
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET memory_limit = '4GB'")
    if fmt == "alertmanager":
        sql = (
            f"SELECT count(*) FROM (SELECT unnest(alerts) FROM read_json('{path}', format='newline_delimited', "
            "maximum_object_size=100000000))"
        )
    else:
        sql = (
            f"SELECT count(*) + (SELECT count(*) FROM read_json('{path}/*.ndjson', format='newline_delimited')) FROM "
            '(SELECT unnest(r."Vulnerabilities") FROM (SELECT unnest("Results") AS r FROM '
            f"read_json('{path}/*.ndjson', format='newline_delimited', maximum_object_size=100000000)))"
        )
    try:
        print(json.dumps({"rows": con.execute(sql).fetchone()[0], "error": None}))
    except duckdb.Error as exc:
        print(json.dumps({"rows": 0, "error": str(exc).splitlines()[0]}))


# DuckDB's own unchecked COPY of every flattened alert into the lake's layout (zstd Parquet, a
# folder per UTC day of startsAt): what any ingest into day partitions pays at least
ALERT_DAYS_COPY = """
COPY (
    SELECT a.fingerprint, a."startsAt" AS started_at, a.status, a."endsAt" AS ends_at, a.annotations.summary AS summary,
           CAST(a.labels AS VARCHAR) AS labels, status AS notification_status,
           CAST(timezone('UTC', a."startsAt") AS DATE) AS day
    FROM (SELECT status, unnest(alerts) AS a FROM read_json({src}, format = 'newline_delimited', records = true,
          columns = {{status: 'VARCHAR', alerts: 'STRUCT(status VARCHAR, labels JSON,
                     annotations STRUCT(summary VARCHAR), "startsAt" TIMESTAMPTZ, "endsAt" VARCHAR,
                     fingerprint VARCHAR)[]'}}))
) TO {out} (FORMAT parquet, PARTITION_BY (day), COMPRESSION zstd, WRITE_PARTITION_COLUMNS false)
"""


def _child_duckdb_days(path: str, out: str) -> None:
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET memory_limit = '4GB'")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    quote = "'{}'".format
    try:
        rows = con.execute(ALERT_DAYS_COPY.format(src=quote(path), out=quote(out))).fetchone()[0]
        days = sum(1 for d in Path(out).iterdir() if d.is_dir())
        print(json.dumps({"rows": rows, "error": None, "days": days}))
    except duckdb.Error as exc:
        print(json.dumps({"rows": 0, "error": str(exc).splitlines()[0]}))


def _run_child(args: list[str]) -> tuple[dict[str, object], float, float]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    lines = proc.stdout.strip().splitlines()
    answer = json.loads(lines[-1]) if lines else {"rows": 0, "error": proc.stderr.strip()[-300:]}
    return answer, seconds, peak_kb / 1024


def _isolated(args: list[str]) -> tuple[dict[str, object], float, float]:
    proc = subprocess.run([sys.executable, __file__, "--measure", *args], capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if not lines:
        return {"rows": 0, "error": proc.stderr.strip()[-300:]}, 0.0, 0.0
    answer, seconds, peak = json.loads(lines[-1])
    return answer, seconds, peak


def _report(label: str, answer: dict[str, object], seconds: float, peak_mb: float) -> None:
    rows = int(answer.get("rows") or 0)
    rate = rows / seconds if seconds else 0.0
    note = f"  error: {answer['error']}" if answer.get("error") else ""
    print(
        f"  {label:<22} rows {rows:>12,}  {seconds:8.1f} s  {rate:>12,.0f} rows/s  peak RSS {peak_mb:8.0f} MB{note}",
        flush=True,
    )


def _compare(path: Path, fmt: str, workdir: Path) -> None:
    floor = _isolated(["--child-duckdb", str(path), fmt])
    _report("duckdb read_json", *floor)
    written = None
    if fmt == "alertmanager":  # a second floor: the same alerts written into day partitions, unchecked
        written = _isolated(["--child-duckdb-days", str(path), str(workdir / "duckdb-days")])
        _report("duckdb COPY into days", *written)
    ours = _isolated(["--child-ingest", str(path), str(workdir / f"home-{fmt}")])
    _report("ops-warehouse ingest", *ours)
    if floor[1]:
        print(f"  ingest / DuckDB reader: {ours[1] / floor[1]:.2f}x (target <= 2x)", flush=True)
    if written is not None and written[1] and floor[1]:
        print(
            f"  DuckDB's own COPY of every alert into {written[0].get('days', 0)} day partitions, unchecked: "
            f"{written[1] / floor[1]:.2f}x its reader; ingest / that COPY: {ours[1] / written[1]:.2f}x",
            flush=True,
        )


# ---------------------------------------------------------------- the marts share


def bench_marts_share(services: int, weeks: int, workdir: Path) -> None:
    import importlib.util

    import yaml

    from ops_warehouse.catalog import Catalog
    from ops_warehouse.generate.security import with_time_zones, write_security
    from ops_warehouse.generate.synthetic import generate
    from ops_warehouse.generate.writers_real import _write_pagerduty, catalog_for
    from ops_warehouse.home import DataHome
    from ops_warehouse.ingest import ingest_file, ingest_paths
    from ops_warehouse.lake import models

    spec = importlib.util.spec_from_file_location("bench_marts", Path(__file__).with_name("bench_marts.py"))
    bench_marts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_marts)  # type: ignore[union-attr]
    home = DataHome.resolve(workdir / "home").ensure()
    t0 = time.perf_counter()
    bench_marts.generate(workdir / "year", services, weeks * 7, 0, 7, "")
    for f in sorted((workdir / "year").glob("*.parquet")):
        rep = ingest_file(home, f, kind="canonical")
        assert rep.ok, rep.line()
    org = generate(services=services, weeks=weeks, seed=7, end=date(2026, 11, 30), slo_services=0, metric_days=0)
    out = workdir / "security"
    files = write_security(org, out, seed=7)
    files += _write_pagerduty(org, {s.name: s for s in org.services}, out / "pagerduty")
    home.catalog.write_text(yaml.safe_dump(with_time_zones(catalog_for(org))), encoding="utf-8")
    reports = ingest_paths(home, files)
    rows = sum(r.loaded for r in reports)
    print(
        f"  generated and ingested in {time.perf_counter() - t0:.0f} s ({rows:,} security and alert rows)", flush=True
    )
    times: dict[str, float] = {}
    catalog = Catalog.load(home.catalog)  # loaded once for the build, as the engines do
    for m in models.topological(models.discover_models()):
        t = time.perf_counter()
        n = models.run_model(home, m, catalog, incremental=False)
        times[m.key] = time.perf_counter() - t
        print(f"    {m.key:<36} {times[m.key]:7.2f} s  {n:>9} rows", flush=True)
    mine = sum(v for k, v in times.items() if k in NEW_MODELS)
    others = sum(v for k, v in times.items() if k not in NEW_MODELS)
    print(
        f"  full build: {others + mine:.1f} s; the six vulnerability and alert models {mine:.1f} s = "
        f"{mine / others:.1%} on top of the other models' {others:.1f} s (target <= 10%)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--measure"]:
        print(json.dumps(_run_child(argv[1:])))
        return
    if argv[:1] == ["--child-ingest"]:
        _child_ingest(argv[1], argv[2])
        return
    if argv[:1] == ["--child-duckdb"]:
        _child_duckdb(argv[1], argv[2])
        return
    if argv[:1] == ["--child-duckdb-days"]:
        _child_duckdb_days(argv[1], argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("alertmanager", "trivy", "marts"))
    ap.add_argument("--mb", type=int, default=1000, help="alertmanager: size of the notification file in MB")
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--days", type=int, default=365, help="trivy: days of daily scans")
    ap.add_argument("--layout", choices=("day", "month"), default="month", help="trivy: a file per day or month")
    ap.add_argument("--weeks", type=int, default=52, help="marts: weeks of data")
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    opts = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=opts.dir, prefix="bench-security-") as tmp:
        work = Path(tmp)
        if opts.what == "alertmanager":
            path = work / "notifications.ndjson"
            t = time.perf_counter()
            write_alertmanager(path, opts.mb)
            print(
                f"alertmanager: {path.stat().st_size / 1e6:,.0f} MB written in {time.perf_counter() - t:.0f} s",
                flush=True,
            )
            _compare(path, "alertmanager", work)
        elif opts.what == "trivy":
            folder = work / "trivy"
            t = time.perf_counter()
            n = write_trivy(folder, opts.services, opts.days, opts.layout)
            size = sum(f.stat().st_size for f in folder.iterdir())
            print(
                f"trivy: {n:,} reports in {len(list(folder.iterdir()))} files, {size / 1e6:,.0f} MB, written in "
                f"{time.perf_counter() - t:.0f} s",
                flush=True,
            )
            _compare(folder, "trivy", work)
        else:
            print(f"marts: {opts.services} services x {opts.weeks} weeks", flush=True)
            bench_marts_share(opts.services, opts.weeks, work)


if __name__ == "__main__":
    main()
