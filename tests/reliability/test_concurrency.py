"""Concurrency: analysts never see a lock error or a half-built warehouse, and concurrent ingests
never lose each other's rows.

Analysts are separate processes that open the published snapshot the way ``ops-warehouse sql``
does, over and over, while builds publish new snapshots and an ingest runs next to a build. Every
answer must come from one complete snapshot: every table present, and marts that agree with core.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb

from ops_warehouse.catalog import Catalog
from ops_warehouse.home import DataHome
from ops_warehouse.lake.models import build_models, discover_models, run_model, topological
from ops_warehouse.lake.publish import publish

from .conftest import (
    Exports,
    Reference,
    assert_lake_readable,
    assert_snapshot_complete,
    diff,
    ingest_all,
    lake_checksums,
    new_home,
    raw_checksums,
)

# One statement, so every number comes from the same snapshot.
PROBE = """
SELECT
    (SELECT count(*) FROM information_schema.tables
      WHERE table_schema IN ('raw', 'core', 'marts', 'quarantine')) AS tables,
    (SELECT count(*) FROM core.deployments WHERE is_production AND status = 'success') AS core_deployments,
    (SELECT coalesce(sum(deployments), 0) FROM marts.dora_weekly WHERE scope = 'service') AS mart_deployments,
    (SELECT count(*) FROM core.incidents) AS core_incidents,
    (SELECT coalesce(sum(incidents), 0) FROM marts.incident_weekly WHERE scope = 'overall') AS mart_incidents
"""

ANALYST = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from ops_warehouse.home import DataHome
    from ops_warehouse.query import connect_readonly

    home, stop, probe = DataHome.resolve(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    while not stop.exists():
        t0 = time.perf_counter()
        try:
            con = connect_readonly(home)
            try:
                row = con.execute(probe).fetchone()
            finally:
                con.close()
            out = {"row": list(row)}
        except Exception as exc:
            out = {"error": f"{type(exc).__name__}: {exc}"}
        out["took"] = time.perf_counter() - t0
        print(json.dumps(out), flush=True)
    """
)


def _cli(home: DataHome, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops_warehouse.cli", "--home", str(home.root), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


class _CliAnalyst(threading.Thread):
    """An analyst typing ``ops-warehouse sql`` again and again."""

    def __init__(self, home: DataHome, stop: Path) -> None:
        super().__init__(daemon=True)
        self.home, self.stop, self.results = home, stop, []

    def run(self) -> None:
        while not self.stop.exists():
            r = _cli(self.home, "sql", PROBE, "--format", "json")
            if r.returncode == 0:
                self.results.append({"row": list(json.loads(r.stdout)[0].values())})
            else:
                self.results.append({"error": r.stderr.strip()})


def _check_answers(answers: list[dict], expected_tables: int, who: str) -> set[tuple]:
    errors = [a["error"] for a in answers if "error" in a]
    assert not errors, f"{who}: {len(errors)} failed queries, e.g. {errors[:3]}"
    seen = set()
    for a in answers:
        tables, core_d, mart_d, core_i, mart_i = a["row"]
        assert tables == expected_tables, f"{who} saw {tables} tables, expected {expected_tables}"
        assert core_d == mart_d, f"{who} saw marts.dora_weekly disagree with core: {a['row']}"
        assert core_i == mart_i, f"{who} saw marts.incident_weekly disagree with core: {a['row']}"
        seen.add((core_d, core_i))
    return seen


def test_analysts_never_fail_or_see_half_a_warehouse(reference: Reference, exports: Exports, tmp_path: Path) -> None:
    incident_weeks = sorted(f for f in exports.files if f.name.startswith("incidents-"))
    deploy_events = next(f for f in exports.files if f.name == "deployment-events.ndjson")
    late = set(incident_weeks[1:]) | {deploy_events}
    lines = deploy_events.read_text(encoding="utf-8").splitlines(keepends=True)
    first_half = tmp_path / "deployment-events-first-half.ndjson"
    first_half.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    home = new_home(tmp_path / "home", exports)
    ingest_all(home, [first_half] + [f for f in exports.files if f not in late])
    build_models(home)
    publish(home)
    expected_tables = len(reference.snapshot_tables)

    stop = tmp_path / "stop"
    analysts = [
        subprocess.Popen(
            [sys.executable, "-c", ANALYST, str(home.root), str(stop), PROBE],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    cli_analyst = _CliAnalyst(home, stop)
    try:
        # wait until both analysts are answering
        for a in analysts:
            assert a.stdout is not None
            first = a.stdout.readline()
            assert first, a.stderr.read() if a.stderr else "analyst died"
        cli_analyst.start()

        # An ingest in another process runs while this process builds and publishes ...
        ingest = subprocess.Popen(
            [sys.executable, "-m", "ops_warehouse.cli", "--home", str(home.root), "ingest", *map(str, sorted(late))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        build_models(home)
        t0 = time.perf_counter()
        publish(home)
        publish_took = time.perf_counter() - t0
        out, err = ingest.communicate(timeout=600)
        assert ingest.returncode == 0, err
        # ... then the build that sees everything, and a few more snapshot swaps.
        build_models(home)
        for _ in range(3):
            publish(home)
        time.sleep(0.5)
    finally:
        stop.touch()
        outputs = []
        for a in analysts:
            try:
                o, e = a.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                a.kill()
                o, e = a.communicate()
            outputs.append((o, e))
        cli_analyst.join(timeout=120)

    # a publish never waits on analysts (it took seconds, not the time analysts held the file)
    assert publish_took < 60
    seen: set[tuple] = set()
    total = 0
    for i, (o, e) in enumerate(outputs):
        answers = [json.loads(line) for line in o.splitlines() if line.strip()]
        assert answers, f"analyst {i} produced nothing: {e}"
        assert "Traceback" not in e, e
        total += len(answers)
        seen |= _check_answers(answers, expected_tables, f"analyst {i}")
    assert cli_analyst.results, "the CLI analyst ran no query"
    seen |= _check_answers(cli_analyst.results, expected_tables, "CLI analyst")
    total += len(cli_analyst.results)
    assert total >= 20, f"only {total} queries ran during the builds"
    # the analysts were there before and after new data arrived
    assert len(seen) >= 2, f"analysts saw only one state of the warehouse: {seen}"
    assert all(core_d > 0 for core_d, _ in seen), f"a state without deployments proves little: {seen}"

    assert_snapshot_complete(home, reference.snapshot_tables)
    # the ingest that ran beside a build lost nothing ...
    raw = raw_checksums(home)
    assert raw == reference.raw, f"raw differs from a clean ingest: {diff(raw, reference.raw)}"
    # ... and a full rebuild from it is the clean warehouse (whether an incremental build
    # converges after data arrived mid-build is test_data_arriving_mid_build_is_picked_up_later)
    build_models(home, incremental=False)
    sums = lake_checksums(home)
    assert sums == reference.checksums, f"differs from a clean run: {diff(sums, reference.checksums)}"


def test_data_arriving_mid_build_is_picked_up_later(reference: Reference, exports: Exports, tmp_path: Path) -> None:
    """The interleaving a concurrent ingest produces, made deterministic: half the models run,
    the late exports are ingested, the other half run; then ordinary builds follow."""
    incident_weeks = sorted(f for f in exports.files if f.name.startswith("incidents-"))
    deploy_events = next(f for f in exports.files if f.name == "deployment-events.ndjson")
    late = set(incident_weeks[1:]) | {deploy_events}
    lines = deploy_events.read_text(encoding="utf-8").splitlines(keepends=True)
    first_half = tmp_path / "deployment-events-first-half.ndjson"
    first_half.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    home = new_home(tmp_path / "home", exports)
    ingest_all(home, [first_half] + [f for f in exports.files if f not in late])
    build_models(home)

    catalog = Catalog.load(home.catalog)
    models = topological(discover_models())
    keys = [m.key for m in models]
    cut = keys.index("core.deployments") + 1
    for m in models[:cut]:
        run_model(home, m, catalog)
    ingest_all(home, sorted(late))  # the concurrent ingest lands here
    for m in models[cut:]:
        run_model(home, m, catalog)

    build_models(home)
    build_models(home)
    sums = lake_checksums(home)
    assert sums == reference.checksums, f"still differs after two builds: {diff(sums, reference.checksums)}"


INGESTER = textwrap.dedent(
    """
    import json, sys
    from ops_warehouse.home import DataHome
    from ops_warehouse.ingest import ingest_file
    from ops_warehouse.sources.base import all_adapters

    home = DataHome.resolve(sys.argv[1])
    all_adapters()
    print("ready", flush=True)
    sys.stdin.readline()
    print(json.dumps([ingest_file(home, f).as_dict() for f in sys.argv[2:]]), flush=True)
    """
)


def _interleave(path: Path, out: Path, parts: int) -> list[Path]:
    """Line i of an NDJSON export goes to part i % parts: every part touches every day."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    paths = []
    for p in range(parts):
        target = out / f"{path.stem}.{p:02d}.ndjson"
        target.write_text("".join(lines[p::parts]), encoding="utf-8")
        paths.append(target)
    return paths


def test_concurrent_ingests_lose_no_rows(reference: Reference, exports: Exports, tmp_path: Path) -> None:
    """Four processes ingest interleaved slices of the GitHub exports at once; each slice touches
    every day partition, so their merges contend for the same files."""
    workers = 4
    pieces: list[Path] = []
    for name in ("deployment-events.ndjson", "push-events.ndjson"):
        src = next(f for f in exports.files if f.name == name)
        pieces += _interleave(src, tmp_path, workers * 2)
    home = new_home(tmp_path / "home", exports)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", INGESTER, str(home.root), *map(str, pieces[w::workers])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    reports = []
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:  # start them together
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err
            reports += json.loads(out.splitlines()[-1])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert len(reports) == len(pieces)
    for r in reports:
        assert r["error"] is None, r
        assert r["read"] == r["loaded"] + r["duplicates"] + r["quarantined"], r
    assert_lake_readable(home)
    raw = raw_checksums(home)
    for table in ("raw.deployments", "raw.deployment_statuses", "raw.changes"):
        assert raw[table] == reference.raw[table], (
            f"{table} after concurrent ingests {raw[table]} differs from one ingest {reference.raw[table]}"
        )
    # every file's ingest is in the log: the log's read-modify-write is under the lock too
    con = duckdb.connect()
    logged = con.execute(
        "SELECT count(*) FROM read_parquet(?)", [str(home.lake / "meta" / "ingest_log" / "part-0.parquet")]
    ).fetchone()[0]
    assert logged == len(pieces)
