"""Plain DuckDB helpers every layer uses: an in-memory connection set up the same way everywhere,
SQL quoting, and a cheap test for text that Python's str.strip() might change.

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


def may_strip(text: str) -> str:
    """SQL true when the VARCHAR ``text`` might start or end with what Python's str.strip() removes
    (every such character is ASCII up to a space, or beyond ASCII), so that the costly strip runs
    only there: the first byte is up to a space or starts a character beyond ASCII (strings compare
    byte by byte), or the last character is up to a space. Text beyond ASCII has no character at its
    byte length, so it is always true there (and for ''). right() is not used: it counts the
    characters of the whole value.

    >>> con = connect()
    >>> [con.execute(f"SELECT {may_strip('$1')}", [v]).fetchone()[0] for v in ("ab", " ab", "ab\\t", "é")]
    [False, True, True, True]
    """
    return f"({text} < '!' OR {text} >= chr(128) OR substr({text}, strlen({text}), 1) <= ' ')"
