"""Every model file carries to Spark SQL: sqlglot transpiles it from DuckDB's dialect without an
unsupported construct (DESIGN.md, Scale). sqlglot passes a few DuckDB-only joins through without
complaint, so those are looked for in its output too. This says nothing about equal results; the
parity test on Spark does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot

from ops_warehouse.lake.models import is_model_file

# the models, not their incremental rule files (<name>.since.sql, <name>.span.sql: DuckDB only)
MODELS = sorted(
    p for p in (Path(__file__).resolve().parents[1] / "assets" / "models").rglob("*.sql") if is_model_file(p)
)
# models still written with a DuckDB-only construct (strict: once rewritten, this list must shrink)
KNOWN: dict[str, str] = {}
DUCKDB_ONLY = re.compile(r"\b(ASOF|POSITIONAL)\s+(LEFT\s+)?JOIN\b", re.IGNORECASE)


def to_spark(sql: str) -> str:
    out = sqlglot.transpile(
        sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE, comments=False
    )
    assert len(out) == 1, "a model file is one statement"
    found = DUCKDB_ONLY.search(out[0])
    if found:
        raise sqlglot.errors.UnsupportedError(f"{found.group(0)} has no Spark equivalent")
    return out[0]


def _case(path: Path) -> object:
    name = f"{path.parent.name}/{path.stem}"
    marks = (
        [pytest.mark.xfail(reason=KNOWN[name], strict=True, raises=sqlglot.errors.UnsupportedError)]
        if name in KNOWN
        else []
    )
    return pytest.param(path, id=name, marks=marks)


@pytest.mark.parametrize("path", [_case(p) for p in MODELS])
def test_model_transpiles_to_spark(path: Path) -> None:
    assert to_spark(path.read_text(encoding="utf-8")).strip()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM a ASOF JOIN b ON a.k = b.k AND a.t >= b.t",
        "SELECT * FROM a POSITIONAL JOIN b",
        "SELECT arg_max(a, b, 3) FROM t",
    ],
)
def test_unsupported_construct_fails(sql: str) -> None:
    """The check can fail: a construct Spark cannot run raises."""
    with pytest.raises(sqlglot.errors.UnsupportedError):
        to_spark(sql)
