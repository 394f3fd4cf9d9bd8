"""The lake's Arrow types spelled as SQL types of each engine, for empty relations and casts."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

# (is this Arrow type, DuckDB spelling, Spark spelling), tried in order; timestamps are handled first
_TYPES: tuple[tuple[Callable[[pa.DataType], bool], str, str], ...] = (
    (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "VARCHAR", "STRING"),
    (pa.types.is_int64, "BIGINT", "BIGINT"),
    (pa.types.is_int32, "INTEGER", "INT"),
    (pa.types.is_float64, "DOUBLE", "DOUBLE"),
    (pa.types.is_boolean, "BOOLEAN", "BOOLEAN"),
    (pa.types.is_date32, "DATE", "DATE"),
)


def _sql_type(t: pa.DataType, engine: str) -> str:
    spark = engine == "spark"
    if pa.types.is_timestamp(t):
        if spark:
            return "TIMESTAMP" if t.tz else "TIMESTAMP_NTZ"
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    for matches, duck, spark_name in _TYPES:
        if matches(t):
            return spark_name if spark else duck
    raise TypeError(f"no {'Spark' if spark else 'DuckDB'} type for {t}")


def duckdb_type(t: pa.DataType) -> str:
    """An Arrow type spelled as a DuckDB type.

    >>> duckdb_type(pa.timestamp("us", tz="UTC")), duckdb_type(pa.int32())
    ('TIMESTAMPTZ', 'INTEGER')
    """
    return _sql_type(t, "duckdb")


def spark_type(t: pa.DataType) -> str:
    """An Arrow type spelled as a Spark SQL type.

    >>> spark_type(pa.timestamp("us", tz="UTC")), spark_type(pa.timestamp("us")), spark_type(pa.string())
    ('TIMESTAMP', 'TIMESTAMP_NTZ', 'STRING')
    """
    return _sql_type(t, "spark")


def arrow_row(schema: pa.Schema, row: dict[str, object]) -> pa.Table:
    """One row of Python values as an Arrow table of ``schema``, converted by DuckDB. pyarrow's own
    conversion of Python values imports pandas the first time (about 0.3 s), which an ingest that
    otherwise never builds Arrow from Python would pay only to write its log row.

    >>> from datetime import UTC, datetime
    >>> schema = pa.schema([("file", pa.string()), ("rows", pa.int64()), ("at", pa.timestamp("us", tz="UTC"))])
    >>> row = {"file": "a.csv", "rows": None, "at": datetime(2026, 1, 1, 5, tzinfo=UTC)}
    >>> table = arrow_row(schema, row)
    >>> table.schema == schema, table.to_pylist() == [row]
    (True, True)
    """
    from ops_warehouse.duck import connect, quote_ident

    select = ", ".join(f"CAST(${i} AS {duckdb_type(f.type)}) AS {quote_ident(f.name)}" for i, f in enumerate(schema, 1))
    con = connect()
    try:
        return con.sql(f"SELECT {select}", params=[row.get(f.name) for f in schema]).to_arrow_table().cast(schema)
    finally:
        con.close()
