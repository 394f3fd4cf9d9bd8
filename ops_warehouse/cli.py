"""The ``ops-warehouse`` command line.

Every command takes ``--home DIR`` (or ``OPS_WAREHOUSE_HOME``; default ``./data``). Errors are one
line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import shutil
import sys
import time
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ops_warehouse.home import DataHome

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    pass


def _home(args: argparse.Namespace) -> DataHome:
    return DataHome.resolve(args.home)


# ---------------------------------------------------------------- commands


def cmd_generate(args: argparse.Namespace) -> int:
    from ops_warehouse.generate import generate_exports

    end = date.fromisoformat(args.end) if args.end else None
    out = Path(args.out)
    org, paths = generate_exports(
        out,
        services=args.services,
        weeks=args.weeks,
        seed=args.seed,
        end=end,
        fmt=args.format,
        slo_services=min(args.slo_services, args.services),
        metric_days=args.metric_days,
    )
    print(
        f"wrote {len(paths)} files to {out / 'exports'} ({args.format} format): "
        f"{len(org.services)} services, {len(org.deployments)} deployments, {sum(len(p.commits) for p in org.pushes)} commits, "  # noqa: E501
        f"{len(org.incidents)} incidents, {len(org.action_items)} action items, "
        f"{sum(len(s.points) for s in org.series)} metric samples"
    )
    print(f"service catalog: {out / 'catalog.yaml'} (copy it to your data home as catalog.yaml)")
    return EXIT_OK


def cmd_ingest(args: argparse.Namespace) -> int:
    from ops_warehouse.ingest import ingest_paths

    home = _home(args)
    reports = ingest_paths(home, args.paths, kind=args.source, default_tz=args.tz)
    if not reports:
        raise CliError("no files found in " + ", ".join(args.paths))
    _record_in_dagster(home, reports)
    for r in reports:
        print(r.line(), file=sys.stderr if r.error else sys.stdout)
    totals = [sum(getattr(r, k) for r in reports) for k in ("read", "loaded", "duplicates", "quarantined")]
    failed = sum(1 for r in reports if r.error)
    print(
        f"{len(reports)} files ({failed} failed): read {totals[0]}, loaded {totals[1]}, "
        f"duplicates {totals[2]}, quarantined {totals[3]}"
    )
    return EXIT_FAIL if failed else EXIT_OK


def _record_in_dagster(home: DataHome, reports: list[Any]) -> None:
    """The raw tables' new partitions, as runless events in the data home's Dagster instance."""
    from ops_warehouse.defs.instance import record_ingest

    record_ingest(home, reports)


def cmd_build(args: argparse.Namespace) -> int:
    from ops_warehouse.build import run_build

    home = _home(args)
    t0 = time.perf_counter()
    try:
        result = run_build(home, engine=getattr(args, "engine", None))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    took = time.perf_counter() - t0
    if not result.success:
        problems = result.failed_checks + [f"step {s}" for s in result.failed_steps]
        raise CliError(
            "build failed: "
            + (", ".join(problems) or "see the Dagster run log")
            + "; the published warehouse was left as it was"
        )
    on = f" on {result.engine}" if result.engine != "duckdb" else ""
    print(f"built {len(result.materialized)} assets{on} in {took:.1f}s; published {home.warehouse}")
    if result.not_rebuilt:
        print(
            f"not rebuilt on {result.engine} (left as they were): "
            + "; ".join(f"{k} ({why})" for k, why in sorted(result.not_rebuilt.items()))
        )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    try:
        from ops_warehouse.reporting.publish import publish_report
    except ImportError as exc:  # pragma: no cover - reporting ships with the package
        raise CliError(f"reporting is not available: {exc}") from exc
    home = _home(args)
    path = publish_report(home, week=args.week)
    print(path)
    return EXIT_OK


def cmd_sql(args: argparse.Namespace) -> int:
    from ops_warehouse.query import QueryError, run_query

    try:
        columns, rows = run_query(_home(args), args.query)
    except QueryError as exc:
        raise CliError(str(exc)) from None
    print(format_rows(columns, rows, args.format), end="")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from ops_warehouse.generate import generate_exports
    from ops_warehouse.ingest import ingest_paths

    home = _home(args).ensure()
    t0 = time.perf_counter()
    gen_dir = home.root / "demo-exports"
    if gen_dir.exists():
        shutil.rmtree(gen_dir)
    org, _ = generate_exports(gen_dir, services=args.services, weeks=args.weeks, seed=args.seed)
    if not home.catalog.exists():
        shutil.copyfile(gen_dir / "catalog.yaml", home.catalog)
    print(f"generated {len(org.services)} services x {args.weeks} weeks of exports in {gen_dir / 'exports'}")
    reports = ingest_paths(home, [gen_dir / "exports"])
    _record_in_dagster(home, reports)
    failed = [r for r in reports if r.error]
    for r in failed:
        print(r.line(), file=sys.stderr)
    print(
        f"ingested {len(reports) - len(failed)} files: read {sum(r.read for r in reports)}, "
        f"loaded {sum(r.loaded for r in reports)}, duplicates {sum(r.duplicates for r in reports)}, "
        f"quarantined {sum(r.quarantined for r in reports)}"
    )
    cmd_build(args)
    report_path = None
    try:
        from ops_warehouse.reporting.publish import publish_report
    except ImportError:
        publish_report = None  # type: ignore[assignment]
    if publish_report is not None:
        report_path = publish_report(home)
    took = time.perf_counter() - t0
    print()
    print(f"done in {took:.0f}s.")
    print(f"  warehouse: {home.warehouse}")
    if report_path:
        print(f"  weekly report: {report_path}")
        print(f"  all reports: {home.reports / 'index.html'}")
    print("  try:")
    print(
        '    ops-warehouse sql "SELECT service, week_start, deployments, change_failure_rate FROM marts.dora_weekly ORDER BY week_start DESC LIMIT 10"'  # noqa: E501
    )
    print(
        '    ops-warehouse sql "SELECT severity, count(*) AS incidents, median(epoch(resolved_at - created_at) / 60) AS mttr_minutes FROM core.incidents GROUP BY ALL ORDER BY 1"'  # noqa: E501
    )
    print('    ops-warehouse sql "SELECT source_kind, reason, count(*) FROM quarantine.rejected_rows GROUP BY ALL"')
    print("    dagster dev -w workspace.yaml   # the asset graph, runs, schedules and the landing sensor")
    return EXIT_FAIL if failed else EXIT_OK


# ---------------------------------------------------------------- output


def _cell(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, datetime):
        return v.isoformat()
    return str(v)


def format_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> str:
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(columns)
        w.writerows(["" if v is None else v for v in r] for r in rows)
        return buf.getvalue()
    if fmt == "json":
        return json.dumps([dict(zip(columns, r, strict=False)) for r in rows], default=str, indent=2) + "\n"
    cells = [[_cell(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False)), "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)) for r in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ops-warehouse", description="Observability data warehouse: DORA, SLOs, incidents."
    )
    p.add_argument("--home", help="data home (default: $OPS_WAREHOUSE_HOME or ./data)")
    sub = p.add_subparsers(dest="command", required=True)

    def home_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--home", default=argparse.SUPPRESS, help="data home (default: $OPS_WAREHOUSE_HOME or ./data)")

    d = sub.add_parser("demo", help="generate sample exports, ingest, build and publish the report")
    home_opt(d)
    d.add_argument("--services", type=int, default=12)
    d.add_argument("--weeks", type=int, default=12)
    d.add_argument("--seed", type=int, default=7)
    d.set_defaults(func=cmd_demo)

    g = sub.add_parser("generate", help="write synthetic exports in the real formats")
    home_opt(g)
    g.add_argument("--out", required=True)
    g.add_argument("--services", type=int, default=12)
    g.add_argument("--weeks", type=int, default=12)
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--end", help="last day (YYYY-MM-DD, default today)")
    g.add_argument("--format", choices=["real", "canonical"], default="real")
    g.add_argument("--slo-services", type=int, default=4, help="services with per-minute SLI counters")
    g.add_argument("--metric-days", type=int, default=35, help="days of per-minute counters")
    g.set_defaults(func=cmd_generate)

    i = sub.add_parser("ingest", help="ingest export files or folders")
    home_opt(i)
    i.add_argument("paths", nargs="+")
    i.add_argument("--source", help="the source kind (detected from content when absent)")
    i.add_argument("--tz", help="time zone of timestamps that carry no UTC offset (e.g. Europe/Berlin)")
    i.set_defaults(func=cmd_ingest)

    b = sub.add_parser("build", help="materialize every derived asset through Dagster and publish the snapshot")
    home_opt(b)
    b.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        help="the engine that runs the models (default: $OPS_WAREHOUSE_ENGINE or duckdb); spark uses "
        "Spark Connect at $OPS_WAREHOUSE_SPARK_REMOTE, or local[*] when it is unset",
    )
    b.set_defaults(func=cmd_build)

    r = sub.add_parser("report", help="publish a week's metrics review")
    home_opt(r)
    r.add_argument("--week", help="ISO week like 2026-W48 (default: the last complete week)")
    r.set_defaults(func=cmd_report)

    s = sub.add_parser("sql", help="read-only SQL against the published warehouse")
    home_opt(s)
    s.add_argument("query")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    s.set_defaults(func=cmd_sql)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    # with the spark extra installed, importing Great Expectations imports pyspark, which warns about pandas 3
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"ops-warehouse: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: one line, not a traceback
        logging.getLogger("ops_warehouse").debug("unexpected error", exc_info=True)
        print(f"ops-warehouse: {args.command} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
