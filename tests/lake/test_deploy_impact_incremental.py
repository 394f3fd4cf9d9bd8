"""Deploy impact on SLOs builds incrementally to the same tables as a full rebuild.

Two services with one SLO each report per-minute request counts; some deployments are followed by a
burn. Days of samples and deployments arrive one at a time; after each the warehouse is built
incrementally and the deploy-impact marts are compared, row for row, with a full rebuild of the
same lake. A late, corrected export of an old hour must recompute the deployments around it.
"""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ops_warehouse.duck import connect
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake import models
from ops_warehouse.lake.store import derived_location, derived_read_sql

START = datetime(2024, 1, 1, tzinfo=UTC)
SERVICES = ("api", "web")
DAYS = 3
TABLES = ("marts.deploy_slo_impact", "marts.deploy_impact_weekly")


def _deploys() -> list[dict[str, str]]:
    rng = random.Random(5)
    out = []
    for day in range(DAYS):
        for svc in SERVICES:
            for k in range(3):
                started = START + timedelta(days=day, hours=rng.uniform(1, 22))
                out.append(
                    {
                        "deploy_id": f"{svc}-{day}-{k}",
                        "service": svc,
                        "environment": "production",
                        "started_at": started.isoformat(),
                        "finished_at": (started + timedelta(minutes=7)).isoformat(),
                        "status": "success",
                    }
                )
    return out


def _bad(svc: str, t: datetime, deploys: list[dict[str, str]]) -> int:
    """30 minutes of errors after every first deploy of a day: a visible burn."""
    for d in deploys:
        end = datetime.fromisoformat(d["finished_at"])
        if d["service"] == svc and d["deploy_id"].endswith("-0") and end < t <= end + timedelta(minutes=30):
            return 80
    return 1 if t.minute % 17 == 0 else 0


def _samples(day: int, deploys: list[dict[str, str]], bump: int = 0) -> list[str]:
    lines = []
    t = START + timedelta(days=day)
    for _ in range(1440):
        for svc in SERVICES:
            bad = _bad(svc, t, deploys) + (bump if t.hour == 5 else 0)
            for metric, value in (("req_total", 500), ("req_good", 500 - bad)):
                lines.append(
                    json.dumps(
                        {
                            "metric": metric,
                            "labels": {"service": svc},
                            "ts": t.isoformat(),
                            "value": float(value),
                            "kind": "gauge",
                        }
                    )
                )
        t += timedelta(minutes=1)
    return lines


def _ingest(home: DataHome, folder: Path, name: str, lines: list[str], header: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text((header + "\n" if header else "") + "\n".join(lines) + "\n", encoding="utf-8")
    report = ingest_file(home, path, kind="canonical")
    assert report.ok and not report.quarantined, report.line()


def _deploy_lines(deploys: list[dict[str, str]]) -> list[str]:
    return [
        ",".join(d[c] for c in ("deploy_id", "service", "environment", "started_at", "finished_at", "status"))
        for d in deploys
    ]


def _day(home: DataHome, folder: Path, day: int, deploys: list[dict[str, str]]) -> None:
    todays = [d for d in deploys if d["deploy_id"].split("-")[1] == str(day)]
    _ingest(
        home,
        folder,
        f"deploys-{day}.csv",
        _deploy_lines(todays),
        "deploy_id,service,environment,started_at,finished_at,status",
    )
    _ingest(home, folder, f"samples-{day}.ndjson", _samples(day, deploys))


def _assert_same_as_full(home: DataHome, scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
    ref = DataHome.resolve(scratch).ensure()
    shutil.copytree(home.lake / "raw", ref.lake / "raw")
    models.build_models(ref, incremental=False)
    con = connect()
    try:
        for key in TABLES:
            layer, name = key.split(".")
            a = derived_read_sql(derived_location(home.lake, layer, name))
            b = derived_read_sql(derived_location(ref.lake, layer, name))
            n_a, n_b = (con.execute(f"SELECT count(*) FROM ({x})").fetchone()[0] for x in (a, b))
            diff = con.execute(
                f"SELECT count(*) FROM (({a} EXCEPT ALL {b}) UNION ALL ({b} EXCEPT ALL {a}))"
            ).fetchone()[0]
            assert n_a > 0 and (n_a, diff) == (n_b, 0), f"{key}: {n_a} rows vs {n_b} in a full rebuild, {diff} differ"
    finally:
        con.close()


def _suspects(home: DataHome) -> int:
    """Suspect first deploys of a day (a later deploy of the day may fall inside their burn too)."""
    con = connect()
    try:
        table = derived_read_sql(derived_location(home.lake, "marts", "deploy_slo_impact"))
        return con.execute(f"SELECT count(*) FROM ({table}) WHERE suspect AND deploy_id LIKE '%-0'").fetchone()[0]
    finally:
        con.close()


def test_deploy_impact_incremental_days_and_late_samples(tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path / "home").ensure()
    deploys = _deploys()
    slos = "slo_name,target,service,budgeting_method,time_window,good_query,total_query"
    _ingest(
        home,
        tmp_path / "in",
        "slos.csv",
        [
            f'{s}-availability,0.99,{s},Occurrences,28d,"req_good{{service=""{s}""}}","req_total{{service=""{s}""}}"'
            for s in SERVICES
        ],
        slos,
    )
    for day in range(DAYS - 1):
        _day(home, tmp_path / "in", day, deploys)
    models.build_models(home)
    _assert_same_as_full(home, tmp_path / "ref")

    # one more day: only the deployments of its hours (and the hour before) are recomputed
    _day(home, tmp_path / "in", DAYS - 1, deploys)
    models.build_models(home)
    since = START + timedelta(days=DAYS - 1) - timedelta(hours=1)
    for key in TABLES:
        assert models.LAST_DECISIONS[key].startswith("incremental from"), models.LAST_DECISIONS[key]
    assert str(since.date()) in models.LAST_DECISIONS["marts.deploy_slo_impact"]
    _assert_same_as_full(home, tmp_path / "ref")
    # each first deploy of a day: 80 / 500 bad for 30 of the 60 minutes after it, 8% -> burn 8 >= 6
    assert _suspects(home) == DAYS * len(SERVICES)

    # a late, corrected export of day 1: every minute of 05:00..05:59 had 30 more bad events
    _ingest(
        home,
        tmp_path / "late",
        "samples-1-corrected.ndjson",
        [line for line in _samples(1, deploys, bump=30) if json.loads(line)["ts"][11:13] == "05"],
    )
    models.build_models(home)
    for key in TABLES:
        assert models.LAST_DECISIONS[key].startswith("incremental from"), models.LAST_DECISIONS[key]
    _assert_same_as_full(home, tmp_path / "ref")

    # nothing new: nothing to recompute
    models.build_models(home)
    assert all(models.LAST_DECISIONS[key] == "unchanged" for key in TABLES), models.LAST_DECISIONS
