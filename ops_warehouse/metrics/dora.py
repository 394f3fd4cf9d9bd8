"""DORA benchmark models: run ``assets/models/marts/dora_tier.sql`` and ``dora_benchmark.sql`` with
the benchmark data folder resolved.

The benchmark thresholds are data (``assets/benchmarks/<name>.csv``), read by the SQL models with
``read_csv``. A SQL model cannot know where the assets folder is, so this module registers the
``marts.dora_tier`` and ``marts.dora_benchmark`` models in Python: each sets the
``dora_benchmarks_dir`` variable, checks that the chosen benchmark (setting ``dora_benchmark``)
exists, and returns its SQL file's SELECT unchanged. Every rule lives in the SQL files' comments.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ops_warehouse.lake.models import assets_dir, python_model, sql_dependencies

SQL_PATH = assets_dir() / "models" / "marts" / "dora_tier.sql"
BENCHMARK_SQL_PATH = assets_dir() / "models" / "marts" / "dora_benchmark.sql"
BENCHMARKS_DIR = assets_dir() / "benchmarks"


def _sql(path: Path = SQL_PATH) -> str:
    return path.read_text(encoding="utf-8")


def _deps(sql: str, own: str = "marts.dora_tier") -> set[str]:
    return sql_dependencies(sql, own)


def available_benchmarks(con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """The benchmark names shipped as data (``dora-2021``, ``dora-2023``, ``dora-2024``, ...)."""
    con = con or duckdb.connect()
    pattern = str(BENCHMARKS_DIR / "*.csv")
    rows = con.execute(
        "SELECT DISTINCT benchmark FROM read_csv(?, comment = '#', header = true, all_varchar = true) ORDER BY 1",
        [pattern],
    ).fetchall()
    return [r[0] for r in rows]


def _description(path: Path = SQL_PATH) -> str:
    lines = []
    for line in _sql(path).splitlines():
        s = line.strip()
        if not s.startswith("--"):
            break
        lines.append(s[2:].strip())
    return "\n".join(lines)


@python_model("marts", "dora_tier", deps=_deps(_sql()), description=_description())
def dora_tier(con: duckdb.DuckDBPyConnection) -> str:
    """Prepare the benchmark folder variable and return the SELECT of ``dora_tier.sql``.

    Rule (METRICS.md): "Tiers per metric over the trailing 12 weeks (empty weeks included), from
    versioned benchmark data. Default dora-2023"; the setting ``dora_benchmark`` chooses.
    """
    _prepare(con)
    return _sql().strip().rstrip(";")


@python_model(
    "marts",
    "dora_benchmark",
    deps=_deps(_sql(BENCHMARK_SQL_PATH), "marts.dora_benchmark"),
    description=_description(BENCHMARK_SQL_PATH),
)
def dora_benchmark(con: duckdb.DuckDBPyConnection) -> str:
    """The benchmark in force with each tier's band on the weekly charts (``dora_benchmark.sql``)."""
    _prepare(con)
    return _sql(BENCHMARK_SQL_PATH).strip().rstrip(";")


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Point the models at the benchmark folder; an unknown setting dora_benchmark is an error."""
    con.execute("SET VARIABLE dora_benchmarks_dir = ?", [str(BENCHMARKS_DIR)])
    row = con.execute("SELECT getvariable('dora_benchmark')").fetchone()
    chosen = row[0] if row else None
    known = available_benchmarks(con)
    if chosen not in known:
        raise ValueError(f"setting dora_benchmark: unknown benchmark {chosen!r} (known: {', '.join(known)})")
