"""Plain DuckDB helpers every layer uses: an in-memory connection set up the same way everywhere,
and SQL quoting.

>>> quote_ident('a"b'), quote_literal("it's")
('"a""b"', "'it''s'")
>>> connect().execute("SELECT current_setting('TimeZone')").fetchone()
('UTC',)
"""

from __future__ import annotations

from pathlib import Path

import duckdb


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def connect(*, memory_limit: str | None = None, temp_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with UTC as its time zone; ``memory_limit`` and
    ``temp_dir`` (created if missing) bound its memory and say where it spills."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # long queries must not draw on the CLI's stdout
    if memory_limit:
        con.execute(f"SET memory_limit = {quote_literal(memory_limit)}")
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = {quote_literal(str(temp_dir))}")
    return con
