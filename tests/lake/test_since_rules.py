"""A model's since rule is a SQL file beside it (``<name>.since.sql``): discovery insists on the
pair, and the rule's one value decides the build (NULL keeps the table, '-infinity' rebuilds it
whole, a time recomputes from there)."""

from __future__ import annotations

import importlib.util
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ops_warehouse.duck import connect
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake import incremental, models
from ops_warehouse.lake.store import derived_location, derived_read_sql

ROOT = Path(__file__).resolve().parents[2]
MODEL = "-- a model\n-- incremental: key=t\nSELECT TIMESTAMPTZ '2025-01-01' AS t\n"
BY_DAY = MODEL.replace("key=t", "key=t partition=day chunks=raw.deployments")
PLAIN = "-- a model\nSELECT 1 AS x\n"
SINCE = "SELECT NULL::TIMESTAMPTZ AS since\n"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for layer in models.LAYERS:
        (root / layer).mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_rule_files_are_attached_to_their_model_and_are_not_models(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {"core/a.sql": BY_DAY, "core/a.since.sql": SINCE, "core/a.span.sql": "SELECT 1 AS since", "marts/b.sql": PLAIN},
    )
    found = models.discover_models(root)
    assert sorted(found) == ["core.a", "marts.b"]
    assert found["core.a"].since_sql == SINCE and found["core.a"].span_sql == "SELECT 1 AS since"
    assert found["marts.b"].since_sql is None


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"core/a.sql": MODEL}, "core.a declares an incremental key but has no since query"),
        ({"core/a.sql": PLAIN, "core/a.since.sql": SINCE}, "core/a.since.sql is beside no incremental model"),
        ({"core/b.since.sql": SINCE}, "core/b.since.sql is beside no incremental model core.b"),
        (
            {"core/a.sql": MODEL, "core/a.since.sql": SINCE, "core/a.span.sql": "SELECT 1 AS since"},
            "a.span.sql is only for a model kept by day",
        ),
        (
            {"core/a.sql": MODEL.replace("key=t", "key=t rule=a"), "core/a.since.sql": SINCE},
            "a model's rule is its <name>.since.sql file",
        ),
        (
            {"core/a.sql": MODEL, "core/a.since.sql": "SELECT min(x) FROM changed.marts_b", "marts/b.sql": PLAIN},
            "core.a: its rules read marts.b, which it does not depend on",
        ),
        (
            {"core/a.sql": MODEL, "core/a.since.sql": "-- compare: core.b(x)\nSELECT NULL::TIMESTAMPTZ"},
            "core.a: its since rule compares core.b but reads no changed relation of it",
        ),
    ],
    ids=[
        "no-since-file",
        "since-beside-plain-model",
        "stray-since-file",
        "span-not-by-day",
        "old-rule-field",
        "reads-a-model-not-upstream",
        "compares-what-it-does-not-read",
    ],
)
def test_discovery_fails_on_a_model_and_its_rule_not_in_pairs(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        models.discover_models(_tree(tmp_path, files))


def test_the_shipped_models_and_rules_pair_up() -> None:
    found = models.discover_models()
    declared = {k for k, m in found.items() if incremental.declaration(m.sql) is not None}
    assert declared == {k for k, m in found.items() if m.since_sql}
    assert len(declared) >= 20
    assert not any(k.endswith((".since", ".span")) for k in found)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1 AS a, 2 AS b", "one column"),
        ("SELECT * FROM range(2)", "one row"),
        ("SELECT TIMESTAMPTZ 'infinity'", "infinity"),
    ],
)
def test_a_since_query_returns_one_value(sql: str, message: str) -> None:
    con = duckdb.connect()
    with pytest.raises(ValueError, match=message):
        incremental._since_value(con, sql)


def test_since_values() -> None:
    con = duckdb.connect()
    assert incremental._since_value(con, "SELECT NULL::TIMESTAMPTZ") is None
    assert incremental._since_value(con, "SELECT TIMESTAMPTZ '-infinity'") == incremental.FULL
    assert incremental._since_value(con, "SELECT DATE '-infinity'") == incremental.FULL
    got = incremental._since_value(con, "SELECT TIMESTAMPTZ '2025-01-02 03:04:05+00'")
    assert got == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def _deployments(tmp_path: Path) -> pl.DataFrame:
    spec = importlib.util.spec_from_file_location("bench_marts", ROOT / "bench" / "bench_marts.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    src = tmp_path / "gen"
    bench.generate(src, 2, 10, 0, 11, "")
    return pl.read_parquet(src / "deployments.parquet").sort("finished_at")


def _rows(home: DataHome) -> int:
    con = connect()
    try:
        return con.execute(
            f"SELECT count(*) FROM ({derived_read_sql(derived_location(home.lake, 'core', 'deployments'))})"
        ).fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("since", "reason", "grows"),
    [("NULL::TIMESTAMPTZ", "unchanged", False), ("TIMESTAMPTZ '-infinity'", "full: rule asked for it", True)],
    ids=["null-keeps", "minus-infinity-rebuilds"],
)
def test_a_since_rule_decides_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, since: str, reason: str, grows: bool
) -> None:
    """core.deployments with its rule replaced: new deployments arrive, and the rule alone says
    whether the table keeps its old rows or is rebuilt with them."""
    assets = tmp_path / "assets"
    shutil.copytree(ROOT / "assets", assets)
    (assets / "models" / "core" / "deployments.since.sql").write_text(f"SELECT {since} AS since\n", encoding="utf-8")
    monkeypatch.setenv("OPS_WAREHOUSE_ASSETS", str(assets))
    dep = _deployments(tmp_path)
    half = dep.height // 2
    home = DataHome.resolve(tmp_path / "home").ensure()
    for i, part in enumerate((dep.head(half), dep.tail(dep.height - half))):
        f = tmp_path / f"deployments{i}.parquet"
        part.write_parquet(f)
        assert ingest_file(home, f, kind="canonical").ok
        if i == 0:
            models.build_models(home)
            before = _rows(home)
    models.run_model(home, models.discover_models()["core.deployments"])
    assert models.LAST_DECISIONS["core.deployments"] == reason
    assert _rows(home) == (dep.height if grows else before)
    assert before == half


def test_a_table_kept_by_day_refuses_rows_without_its_key(tmp_path: Path) -> None:
    """A model kept by day writes each row into the file of its key's UTC day: a row without a key
    has no day, so the build stops with the model and the column named, and writes nothing."""
    home = DataHome.resolve(tmp_path / "home").ensure()
    sql = "-- incremental: key=t partition=day\nSELECT TIMESTAMPTZ '2025-01-01 10:00:00+00' AS t UNION ALL SELECT NULL"
    model = models.Model("core", "day_kept", sql=sql)
    with pytest.raises(ValueError, match="day_kept is kept by day but has rows without a t"):
        models.run_model(home, model, incremental=False)
    assert not list((home.lake / "core").rglob("*.parquet"))  # not even the day that has a key
