"""Publishing: a complete snapshot replaced atomically, while analysts keep reading."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake import models as models_
from ops_warehouse.lake.models import build_models
from ops_warehouse.lake.publish import publish

HEADER = "deploy_id,service,environment,sha,started_at,finished_at,status\n"


def _deploys(path: Path, n: int) -> Path:
    rows = "".join(
        f"d{i},checkout,production,sha{i},2026-11-{10 + i % 10:02d}T10:00:00Z,2026-11-{10 + i % 10:02d}T10:05:00Z,success\n"  # noqa: E501
        for i in range(n)
    )
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_snapshot_has_every_schema(home: DataHome, tmp_path: Path) -> None:
    ingest_file(home, _deploys(tmp_path / "d.csv", 3))
    build_models(home)
    result = publish(home)
    assert result.tables["raw.deployments"] == 3
    assert result.tables["core.deployments"] == 3
    con = duckdb.connect(str(home.warehouse), read_only=True)
    schemas = {r[0] for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()}
    assert {"raw", "core", "quarantine"} <= schemas
    comment = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'core' AND table_name = 'deployments'"
    ).fetchone()[0]
    assert "last terminal status" in comment.lower()
    leftovers = [*home.root.glob(".warehouse*"), *home.tmp.glob("warehouse.duckdb*")]
    assert not leftovers, "no temporary snapshot left behind"


ANALYST = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("SELECT count(*) FROM core.deployments").fetchone()[0], flush=True)
    sys.stdin.readline()          # hold the connection open until told
    print(con.execute("SELECT count(*) FROM core.deployments").fetchone()[0], flush=True)
    """
)


def test_open_analyst_session_keeps_its_snapshot_while_a_build_publishes(home: DataHome, tmp_path: Path) -> None:
    ingest_file(home, _deploys(tmp_path / "a.csv", 3))
    build_models(home)
    publish(home)
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(home.warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert analyst.stdout is not None and analyst.stdin is not None
        assert analyst.stdout.readline().strip() == "3"
        # a build runs and publishes while the analyst's read-only connection is open
        ingest_file(home, _deploys(tmp_path / "b.csv", 7))
        build_models(home)
        t0 = time.perf_counter()
        publish(home)
        assert time.perf_counter() - t0 < 60
        # a new connection (another process) sees the new snapshot ...
        fresh = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, duckdb; print(duckdb.connect(sys.argv[1], read_only=True)"
                ".execute('SELECT count(*) FROM core.deployments').fetchone()[0])",
                str(home.warehouse),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert fresh.stdout.strip() == "7"
        # ... and the open session still reads the old one, whole
        analyst.stdin.write("\n")
        analyst.stdin.flush()
        assert analyst.stdout.readline().strip() == "3"
    finally:
        analyst.kill()
        analyst.communicate()  # reaps it and closes its pipes


def test_scratch_of_killed_runs_is_cleaned_when_old(home: DataHome, tmp_path: Path) -> None:
    import os

    old_staging = home.tmp / "ingest-dead"
    old_staging.mkdir(parents=True)
    (old_staging / "chunk.parquet").write_bytes(b"x")
    old_snapshot = home.root / ".warehouse-dead.duckdb.tmp"
    old_snapshot.write_bytes(b"x")
    fresh = home.tmp / "ingest-running"
    fresh.mkdir()
    day_ago = time.time() - 24 * 3600
    for p in (old_staging, old_snapshot):
        os.utime(p, (day_ago, day_ago))
    ingest_file(home, _deploys(tmp_path / "d.csv", 1))
    build_models(home)
    publish(home)
    assert not old_staging.exists() and not old_snapshot.exists()
    assert fresh.exists(), "a run in progress keeps its scratch"


def test_a_table_kept_by_day_is_published_as_a_view_over_linked_day_files(home: DataHome, tmp_path: Path) -> None:
    """core.sli_minutes (a year of it is raw-sized) is not copied into the snapshot: its day files
    are linked, and the snapshot keeps reading what was published while later builds replace them."""
    from tests.lake.test_incremental import SLO_DEFS, _ingest_rows, _ingest_text, _slo_samples

    _ingest_text(home, SLO_DEFS, tmp_path / "in" / "slos.csv")
    _ingest_rows(home, [r for d in range(3) for r in _slo_samples(d)], tmp_path / "in" / "a.parquet")
    built = build_models(home)
    result = publish(home)
    assert result.tables["core.sli_minutes"] == built["core.sli_minutes"] > 0
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        kind = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_schema = 'core' "
            "AND table_name = 'sli_minutes'"
        ).fetchone()[0]
        assert kind == "VIEW"
        # late samples two minutes off the grid of day 1: new minutes, so day 1's file is replaced
        late = [{**r, "ts": r["ts"] + timedelta(minutes=2)} for r in _slo_samples(1)]
        _ingest_rows(home, late, tmp_path / "in" / "b.parquet")
        rebuilt = build_models(home)
        assert rebuilt["core.sli_minutes"] > built["core.sli_minutes"]
        assert models_.LAST_DECISIONS["core.sli_minutes"].startswith("incremental from 2025-09-30")
        # the open snapshot still answers with what it published, though the lake's day files moved on
        assert con.execute("SELECT count(*) FROM core.sli_minutes").fetchone()[0] == built["core.sli_minutes"]
    finally:
        con.close()
    assert publish(home).tables["core.sli_minutes"] == rebuilt["core.sli_minutes"]
