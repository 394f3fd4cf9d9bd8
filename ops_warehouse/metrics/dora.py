"""DORA tiers: runs ``assets/models/marts/dora_tier.sql`` with the benchmark data folder resolved.

The benchmark thresholds are data (``assets/benchmarks/<name>.csv``), read by the SQL model with
``read_csv``. A SQL model cannot know where the assets folder is, so this module registers the
``marts.dora_tier`` model in Python: it sets the ``dora_benchmarks_dir`` variable, checks that
the chosen benchmark (setting ``dora_benchmark``) exists, and returns the SQL file's SELECT
unchanged. Every rule lives in the SQL file's comments.
"""

from __future__ import annotations

import duckdb

from ops_warehouse.lake.models import _REF, assets_dir, python_model

SQL_PATH = assets_dir() / "models" / "marts" / "dora_tier.sql"
BENCHMARKS_DIR = assets_dir() / "benchmarks"


def _sql() -> str:
    return SQL_PATH.read_text(encoding="utf-8")


def _deps(sql: str) -> set[str]:
    body = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return {f"{m.group(1).lower()}.{m.group(2).lower()}" for m in _REF.finditer(body)} - {"marts.dora_tier"}


def available_benchmarks(con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """The benchmark names shipped as data (``dora-2021``, ``dora-2023``, ``dora-2024``, ...)."""
    con = con or duckdb.connect()
    pattern = str(BENCHMARKS_DIR / "*.csv")
    rows = con.execute(
        "SELECT DISTINCT benchmark FROM read_csv(?, comment = '#', header = true, all_varchar = true) ORDER BY 1",
        [pattern],
    ).fetchall()
    return [r[0] for r in rows]


def _description() -> str:
    lines = []
    for line in _sql().splitlines():
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
    con.execute("SET VARIABLE dora_benchmarks_dir = ?", [str(BENCHMARKS_DIR)])
    chosen = con.execute("SELECT getvariable('dora_benchmark')").fetchone()[0]
    known = available_benchmarks(con)
    if chosen not in known:
        raise ValueError(f"setting dora_benchmark: unknown benchmark {chosen!r} (known: {', '.join(known)})")
    return _sql().strip().rstrip(";")
