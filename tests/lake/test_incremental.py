"""Incremental rebuilds give the same tables as a full rebuild.

A few weeks of synthetic canonical data arrive day by day, each row on the day its source would
export it (a deployment when it finishes, a commit when it merges, an incident when it opens and
again, resolved, when it resolves). After every day the warehouse is built incrementally and each
core and mart table is compared, all columns, order-insensitive, with a full rebuild of the same
raw data from scratch. Late data for an old week (a rollback, an incident naming an old
deployment, a commit authored weeks ago) must be recomputed the same way.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from ops_warehouse.duck import connect, quote_literal
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake import models
from ops_warehouse.lake.store import derived_location, derived_read_sql

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_marts.py"
SERVICES, DAYS, FIRST_BUILD_DAY = 5, 35, 33
START = datetime(2025, 1, 6, tzinfo=UTC)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_marts", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _arrivals(src: Path) -> dict[str, pl.DataFrame]:
    """Each table with an `_arrives` column: when its source would export the row."""
    dep = pl.read_parquet(src / "deployments.parquet").with_columns(pl.col("finished_at").alias("_arrives"))
    chg = pl.read_parquet(src / "changes.parquet").with_columns(pl.col("merged_at").alias("_arrives"))
    inc = pl.read_parquet(src / "incidents.parquet")
    opened = inc.with_columns(
        pl.lit(None, dtype=inc.schema["resolved_at"]).alias("resolved_at"), pl.col("created_at").alias("_arrives")
    )
    resolved = inc.filter(pl.col("resolved_at").is_not_null()).with_columns(pl.col("resolved_at").alias("_arrives"))
    items = pl.read_parquet(src / "action_items.parquet").with_columns(pl.col("created_at").alias("_arrives"))
    return {
        "deployments": dep,
        "changes": chg,
        "incidents_opened": opened,
        "incidents_resolved": resolved,
        "action_items": items,
    }


def _ingest(home: DataHome, tables: dict[str, pl.DataFrame], lo: datetime | None, hi: datetime, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        part = df.filter(pl.col("_arrives") < hi)
        if lo is not None:
            part = part.filter(pl.col("_arrives") >= lo)
        if part.height == 0:
            continue
        f = folder / f"{name}.parquet"
        part.drop("_arrives").write_parquet(f)
        rep = ingest_file(home, f, kind="canonical")
        assert rep.ok and not rep.quarantined, rep.line()


def _full_rebuild(home: DataHome, scratch: Path) -> DataHome:
    shutil.rmtree(scratch, ignore_errors=True)
    ref = DataHome.resolve(scratch).ensure()
    shutil.copytree(home.lake / "raw", ref.lake / "raw")
    models.build_models(ref, incremental=False)
    return ref


def _assert_same(home: DataHome, ref: DataHome) -> None:
    con = connect()
    try:
        for key in sorted(models.discover_models()):
            layer, name = key.split(".")
            a = derived_read_sql(derived_location(home.lake, layer, name))
            b = derived_read_sql(derived_location(ref.lake, layer, name))
            n_a, n_b = (con.execute(f"SELECT count(*) FROM ({x})").fetchone()[0] for x in (a, b))
            diff = con.execute(
                f"SELECT count(*) FROM (({a} EXCEPT ALL {b}) UNION ALL ({b} EXCEPT ALL {a}))"
            ).fetchone()[0]
            assert (n_a, diff) == (n_b, 0), f"{key}: {n_a} rows vs {n_b} in a full rebuild, {diff} differ"
    finally:
        con.close()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    src = tmp_path_factory.mktemp("gen")
    _bench().generate(src, SERVICES, DAYS, 0, 11, "")
    return _arrivals(src)


def test_incremental_days_and_late_data_equal_full_rebuild(data: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path / "home").ensure()
    first = START + timedelta(days=FIRST_BUILD_DAY)
    _ingest(home, data, None, first, tmp_path / "in" / "initial")
    models.build_models(home)
    assert all(r.startswith("full") for r in models.LAST_DECISIONS.values())
    _assert_same(home, _full_rebuild(home, tmp_path / "ref"))

    incremental_seen = False
    for day in range(FIRST_BUILD_DAY, DAYS + 2):
        lo, hi = START + timedelta(days=day), START + timedelta(days=day + 1)
        _ingest(home, data, lo, hi, tmp_path / "in" / f"day{day}")
        models.build_models(home)
        decisions = dict(models.LAST_DECISIONS)
        incremental_seen |= any(r.startswith("incremental") for r in decisions.values())
        _assert_same(home, _full_rebuild(home, tmp_path / "ref"))
    assert incremental_seen

    # a rebuild with nothing new changes nothing
    models.build_models(home)
    assert models.LAST_DECISIONS["marts.dora_tier"] == "unchanged"
    _assert_same(home, _full_rebuild(home, tmp_path / "ref"))

    # late data for an old week: a rollback of week 2, an incident naming an old deployment,
    # a commit authored four weeks ago and shipped by that old deployment
    dep = data["deployments"]
    old = dep.filter((pl.col("status") == "success") & (pl.col("environment") == "production")).sort("finished_at")
    victim = old.row(40, named=True)
    t = victim["finished_at"] + timedelta(minutes=1)
    late = {
        "deployments": pl.DataFrame(
            [
                {
                    **victim,
                    "deploy_id": "late-rollback",
                    "sha": "late-sha",
                    "started_at": t,
                    "finished_at": t + timedelta(minutes=5),
                    "is_rollback": True,
                    "is_hotfix": False,
                    "_arrives": None,
                }
            ],
            schema=dep.schema,
        ),
        "incidents_opened": data["incidents_opened"]
        .head(1)
        .with_columns(
            pl.lit("late-incident").alias("incident_id"),
            pl.lit(victim["service"]).alias("service"),
            pl.lit(victim["finished_at"] + timedelta(hours=30))
            .cast(data["incidents_opened"].schema["created_at"])
            .alias("created_at"),
            pl.lit(old.row(25, named=True)["deploy_id"]).alias("caused_by_deploy_id"),
        ),
        "changes": data["changes"]
        .head(1)
        .with_columns(
            pl.lit("late-commit").alias("change_id"),
            pl.lit(victim["service"]).alias("service"),
            pl.lit(victim["finished_at"] - timedelta(days=20))
            .cast(data["changes"].schema["authored_at"])
            .alias("authored_at"),
            pl.lit(victim["finished_at"] - timedelta(hours=2))
            .cast(data["changes"].schema["merged_at"])
            .alias("merged_at"),
            pl.lit(None, dtype=pl.String).alias("deploy_id"),
        ),
    }
    late = {
        k: v.with_columns(pl.lit(START + timedelta(days=DAYS + 5)).cast(pl.Datetime("us", "UTC")).alias("_arrives"))
        for k, v in late.items()
    }
    _ingest(home, late, None, START + timedelta(days=DAYS + 6), tmp_path / "in" / "late")
    models.build_models(home)
    assert models.LAST_DECISIONS["marts.deployment_failures"].startswith("incremental")
    _assert_same(home, _full_rebuild(home, tmp_path / "ref"))
    con = connect()
    try:
        failed = con.execute(
            f"SELECT failed_by_rollback FROM read_parquet({quote_literal(str(home.lake / 'marts' / 'deployment_failures.parquet'))}) "  # noqa: E501
            "WHERE deploy_id = ?",
            [victim["deploy_id"]],
        ).fetchone()
    finally:
        con.close()
    assert failed == (True,)


# ---------------------------------------------------------------------------------------- SLOs

SLO_START = datetime(2025, 9, 29, tzinfo=UTC)  # a Monday; the month ends inside the data
SLO_DAYS, SLO_FIRST_BUILD = 30, 27
SLO_TABLES = (
    "core.sli_minutes",
    "core.sli_hours",
    "core.slo_windows",
    "marts.slo_weekly",
    "marts.slo_alerts",
    "marts.slo_budget_daily",
)
SLO_DEFS = """slo_name,service,budgeting_method,target,time_window,is_rolling,time_zone,good_query,bad_query,total_query,time_slice_target,time_slice_window
avail,api,Occurrences,0.99,28d,true,UTC,,"sum(rate(req_errors_total{job=""api""}[5m]))","sum(rate(req_total{job=""api""}[5m]))",,
cal,api,Timeslices,0.95,1M,false,Europe/Berlin,"req_good{job=""api""}",,"sum(rate(req_total{job=""api""}[5m]))",0.9,15m
ratio,web,RatioTimeslices,0.9,7d,true,UTC,web_good,,web_all,,1h
"""  # noqa: E501
LATER_DEF = """slo_name,service,budgeting_method,target,time_window,is_rolling,time_zone,good_query,total_query
web-later,web,Occurrences,0.999,30d,true,UTC,web_good,web_all
"""


def _slo_samples(day: int) -> list[dict]:
    """One day of samples every 5 minutes: a request counter with a reset each week, its error
    counter, per-interval good counts and a second service's gauges; error bursts make alerts."""
    out = []
    for i in range(288):
        t = SLO_START + timedelta(days=day, minutes=5 * i)
        n = day * 288 + i
        burst = (day % 6 == 2 and 100 <= i < 112) or (day % 9 == 4 and i >= 250)
        total = 100 * (n % (7 * 288)) + 100
        errors = (n % (7 * 288)) + (40 * i if burst else 0)
        out += [
            {"metric": "req_total", "labels": {"job": "api"}, "ts": t, "value": float(total), "kind": "counter"},
            {
                "metric": "req_errors_total",
                "labels": {"job": "api"},
                "ts": t,
                "value": float(errors),
                "kind": "counter",
            },
            {
                "metric": "req_good",
                "labels": {"job": "api"},
                "ts": t,
                "value": 60.0 if burst else 99.0 + (n % 2),
                "kind": "gauge",
            },
            {"metric": "web_all", "labels": {}, "ts": t, "value": 10.0 + n % 3, "kind": "gauge"},
            {
                "metric": "web_good",
                "labels": {},
                "ts": t,
                "value": 10.0 + n % 3 - (5 if burst else n % 2),
                "kind": "gauge",
            },
        ]
    return out


def _ingest_rows(home: DataHome, rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame([{**r, "labels": json.dumps(r["labels"], sort_keys=True)} for r in rows]).write_parquet(path)
    rep = ingest_file(home, path, kind="canonical")
    assert rep.ok and not rep.quarantined, rep.line()


def _ingest_text(home: DataHome, text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    rep = ingest_file(home, path, kind="canonical")
    assert rep.ok and not rep.quarantined, rep.line()


def test_slo_incremental_days_late_data_and_new_definition_equal_full_rebuild(tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path / "home").ensure()
    _ingest_text(home, SLO_DEFS, tmp_path / "in" / "slos.csv")
    _ingest_rows(home, [r for d in range(SLO_FIRST_BUILD) for r in _slo_samples(d)], tmp_path / "in" / "first.parquet")
    models.build_models(home)
    _assert_same(home, _full_rebuild(home, tmp_path / "ref"))
    con = connect()
    try:
        alerts = con.execute(
            f"SELECT count(*) FROM ({derived_read_sql(home.lake / 'marts' / 'slo_alerts')})"
        ).fetchone()[0]
    finally:
        con.close()
    assert alerts > 0

    for day in range(SLO_FIRST_BUILD, SLO_DAYS):
        _ingest_rows(home, _slo_samples(day), tmp_path / "in" / f"day{day}.parquet")
        models.build_models(home)
        decisions = dict(models.LAST_DECISIONS)
        assert all(decisions[k].startswith("incremental") for k in SLO_TABLES), decisions
        _assert_same(home, _full_rebuild(home, tmp_path / "ref"))

    # nothing new: nothing recomputed
    models.build_models(home)
    assert all(models.LAST_DECISIONS[k] == "unchanged" for k in SLO_TABLES), models.LAST_DECISIONS

    # late data for an old week: a sample between two of week 2 (it changes the next one's
    # increase), and a new series the availability SLO selects
    late_at = SLO_START + timedelta(days=9, hours=3, minutes=2)
    late = [{"metric": "req_errors_total", "labels": {"job": "api"}, "ts": late_at, "value": 1.0e6, "kind": "counter"}]
    late += [
        {
            "metric": "req_total",
            "labels": {"job": "api", "pod": "b"},
            "ts": late_at + timedelta(minutes=m),
            "value": 10.0 * m,
            "kind": "counter",
        }
        for m in range(30)
    ]
    _ingest_rows(home, late, tmp_path / "in" / "late.parquet")
    models.build_models(home)
    assert models.LAST_DECISIONS["core.sli_minutes"].startswith("incremental from 2025-10-08"), models.LAST_DECISIONS
    _assert_same(home, _full_rebuild(home, tmp_path / "ref"))

    # a definition added later is computed over all its history
    _ingest_text(home, LATER_DEF, tmp_path / "in" / "later.csv")
    models.build_models(home)
    _assert_same(home, _full_rebuild(home, tmp_path / "ref"))
    con = connect()
    try:
        first = con.execute(
            f"SELECT min(week_start) FROM read_parquet({quote_literal(str(home.lake / 'marts' / 'slo_weekly.parquet'))}) "  # noqa: E501
            "WHERE slo_name = 'web-later'"
        ).fetchone()[0]
    finally:
        con.close()
    assert str(first) == "2025-09-29"


# A fourth SLO whose data pauses from 22:00 on day 6 to 02:00 on day 7; before the pause, half an
# hour of heavy good traffic and then 5.5 hours of errors: as the heavy minutes leave its 6h window
# during the pause, the 6h/30m page fires (22:06) and resolves (22:26) with no data.
PAUSE = (SLO_START + timedelta(days=6, hours=22), SLO_START + timedelta(days=7, hours=2))
PAUSED_DEF = "paused,web,Occurrences,0.9,30d,true,UTC,p_good,,p_all,,\n"


def _paused_rows(days: int) -> list[dict]:
    heavy = SLO_START + timedelta(days=6, hours=16)
    rows = []
    for i in range(days * 288):
        t = SLO_START + timedelta(minutes=5 * i)
        if PAUSE[0] <= t < PAUSE[1]:
            continue
        total, good = (100.0, 100.0) if heavy <= t < heavy + timedelta(minutes=30) else (10.0, 10.0)
        if heavy + timedelta(minutes=30) <= t < PAUSE[0]:
            total, good = 11.0, 0.0
        rows.append({"metric": "p_all", "labels": {}, "ts": t, "value": total, "kind": "gauge"})
        rows.append({"metric": "p_good", "labels": {}, "ts": t, "value": good, "kind": "gauge"})
    return rows


def _firings_inside_pause(home: DataHome) -> int:
    """The firings of the paused SLO that start and resolve inside its pause."""
    con = connect()
    try:
        return int(
            con.execute(
                f"SELECT count(*) FROM ({derived_read_sql(home.lake / 'marts' / 'slo_alerts')}) "
                "WHERE slo_name = 'paused' AND fired_at > ? AND resolved_at < ?",
                list(PAUSE),
            ).fetchone()[0]
        )
    finally:
        con.close()


def test_an_slo_whose_data_resumes_after_a_pause_is_evaluated_through_it(tmp_path: Path) -> None:
    """The data ends at the pause, then resumes after it: the incremental build evaluates the
    instants of the pause (the previous build stopped at the end of its last minute), as a full
    rebuild does, and finds the firing that starts and ends inside it."""
    home = DataHome.resolve(tmp_path / "home").ensure()
    _ingest_text(home, SLO_DEFS.splitlines()[0] + "\n" + PAUSED_DEF, tmp_path / "in" / "slos.csv")
    rows = _paused_rows(9)
    _ingest_rows(home, [r for r in rows if r["ts"] < PAUSE[0]], tmp_path / "in" / "before.parquet")
    models.build_models(home)
    _ingest_rows(home, [r for r in rows if r["ts"] >= PAUSE[1]], tmp_path / "in" / "after.parquet")
    models.build_models(home)
    assert models.LAST_DECISIONS["marts.slo_alerts"].startswith("incremental"), models.LAST_DECISIONS
    _assert_same(home, _full_rebuild(home, tmp_path / "ref"))
    assert _firings_inside_pause(home) == 1


def test_slo_tables_computed_in_day_spans_equal_one_span(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """core.sli_minutes and marts.slo_alerts are computed in spans of days sized by their input
    rows. With one day per span the tables equal those of one span over everything: a counter whose
    previous sample is days older than a span's start keeps its baseline, a firing still open at
    midnight resolves in a later span, and an SLO whose data pauses across midnight is evaluated
    through the pause."""
    days = 12
    rows = [r for d in range(days) for r in _slo_samples(d)]
    # a second request counter seen on day 1 and again on day 4: its day-4 increase needs day 1
    for day, base in ((1, 0.0), (4, 5000.0)):
        for i in range(0, 288, 12):
            t = SLO_START + timedelta(days=day, minutes=5 * i)
            rows.append(
                {
                    "metric": "req_total",
                    "labels": {"job": "api", "pod": "c"},
                    "ts": t,
                    "value": base + i,
                    "kind": "counter",
                }
            )
    rows += _paused_rows(days)
    defs = SLO_DEFS + PAUSED_DEF
    paused_defs = SLO_DEFS.splitlines()[0] + "\n" + PAUSED_DEF
    paused_rows = [r for r in rows if r["metric"].startswith("p_")]
    # the paused SLO alone too: with the others, a firing of theirs open at midnight moves the next
    # span's start back before the pause and would hide a pause left unevaluated
    for label, slo_defs, data in (("all", defs, rows), ("paused", paused_defs, paused_rows)):
        homes = {}
        for name, chunk in (("spans", 1), ("one", 10**12)):
            monkeypatch.setattr(models, "CHUNK_ROWS", chunk)
            home = DataHome.resolve(tmp_path / label / name).ensure()
            _ingest_text(home, slo_defs, tmp_path / label / "in" / "slos.csv")
            _ingest_rows(home, data, tmp_path / label / "in" / f"{name}.parquet")
            models.build_models(home, incremental=False)
            homes[name] = home
        assert len(list((homes["spans"].lake / "core" / "sli_minutes").glob("day=*"))) == days
        _assert_same(homes["spans"], homes["one"])
    con = connect()
    try:
        overnight = con.execute(
            f"SELECT count(*) FROM ({derived_read_sql(tmp_path / 'all' / 'one' / 'lake' / 'marts' / 'slo_alerts')}) "
            "WHERE CAST(fired_at AS DATE) < CAST(coalesce(resolved_at, fired_at) AS DATE)"
        ).fetchone()[0]
    finally:
        con.close()
    assert overnight > 0  # the cases the spans must handle are in the data
    assert _firings_inside_pause(homes["one"]) == 1
