"""The command line as a user runs it: real processes, a real data home."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops_warehouse.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("demo") / "home"
    r = run(home, "demo", "--services", "3", "--weeks", "4")
    assert r.returncode == 0, r.stderr
    assert "warehouse:" in r.stdout
    return home


def test_demo_publishes_a_queryable_warehouse(demo_home: Path) -> None:
    r = run(demo_home, "sql", "SELECT count(*) AS n FROM core.deployments WHERE is_production", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["n"] > 10
    r = run(demo_home, "sql", "SELECT count(*) AS n FROM core.incidents", "--format", "csv")
    assert r.stdout.splitlines()[0] == "n" and int(r.stdout.splitlines()[1]) > 0


def test_ingest_prints_the_accounting_per_file(demo_home: Path) -> None:
    exports = demo_home / "demo-exports" / "exports"
    r = run(demo_home, "ingest", str(exports / "jira"))
    assert r.returncode == 0, r.stderr
    line = r.stdout.splitlines()[0]
    assert "[jira-issues]" in line and "loaded 0" in line and "quarantined 0" in line


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO core.deployments SELECT * FROM core.deployments LIMIT 1",
        "DROP TABLE core.deployments",
        "CREATE TABLE core.x AS SELECT 1",
        "COPY core.deployments TO 'stolen.csv'",
        "ATTACH 'other.duckdb' AS other",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
)
def test_sql_cannot_write_or_reach_files(demo_home: Path, statement: str, tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ops_warehouse.cli", "--home", str(demo_home), "sql", statement],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 1
    assert r.stderr.startswith("ops-warehouse: ") and "Traceback" not in r.stderr
    assert not (tmp_path / "stolen.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_unreadable_file_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"incidents": [{"id": "P1"', encoding="utf-8")
    r = run(tmp_path / "home", "ingest", "--source", "pagerduty-incidents", str(bad))
    assert r.returncode == 1
    err = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and str(bad) in err[0] and "line 1" in err[0]
    assert "Traceback" not in r.stderr


def test_ambiguous_or_unknown_content_asks_for_source(tmp_path: Path) -> None:
    f = tmp_path / "mystery.json"
    f.write_text('{"hello": "world"}', encoding="utf-8")
    r = run(tmp_path / "home", "ingest", str(f))
    assert r.returncode == 1 and "--source" in r.stderr


def test_sql_without_a_warehouse(tmp_path: Path) -> None:
    r = run(tmp_path / "empty", "sql", "SELECT 1")
    assert r.returncode == 1 and "run `ops-warehouse build`" in r.stderr


def test_generate_then_ingest_recognizes_the_catalog(tmp_path: Path) -> None:
    out, home = tmp_path / "out", tmp_path / "home"
    small = ("--services", "2", "--weeks", "1", "--slo-services", "1", "--metric-days", "1")
    assert run(home, "generate", "--out", str(out), *small).returncode == 0
    r = run(home, "ingest", str(out))
    assert r.returncode == 0, r.stderr
    catalog_lines = [ln for ln in r.stdout.splitlines() if ln.startswith(str(out / "catalog.yaml"))]
    assert catalog_lines == [
        f"{out / 'catalog.yaml'} [catalog]: service catalog (2 services), not an export: "
        f"copy it to {home.resolve() / 'catalog.yaml'} (create) for builds to use it"
    ]
    assert "(0 failed)" in r.stdout and r.stderr == ""
