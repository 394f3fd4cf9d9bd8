"""What the columnar (DuckDB) paths of the JSON adapters share: JSON values read in SQL as the
record-by-record mappers read them in Python, and the adapter's own connection released once the
engine is through with its batches.

A value read with the ``JSON`` type keeps its JSON form (``"text"``, ``42``, ``{...}``), so SQL can
tell a string from a number as ``isinstance`` does; :func:`json_string` and :func:`stripped` turn
it into Python's ``text()`` in two projections, each worked out once per row.
"""

from __future__ import annotations

import shutil
import weakref
from pathlib import Path
from typing import Any

import duckdb

from ops_warehouse.duck import may_strip, quote_literal

# exactly the characters Python's str.strip() removes (an RE2 class)
WHITESPACE = (
    r"[\x{9}-\x{d}\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}"
    r"\x{3000}]"
)
# an ISO 8601 time that Python's datetime.fromisoformat and DuckDB's TIMESTAMPTZ cast read as the
# same instant (when the date exists: a cast to NULL says it does not)
ISO_TIME = (
    r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


def json_string(col: str) -> str:
    """The value of the JSON string ``col`` (NULL for any other JSON value); the JSON functions
    unescape it only when it holds an escape."""
    return (
        f"CASE WHEN starts_with({col}, '\"') THEN CASE WHEN contains({col}, '\\') "
        f"THEN json_extract_string({col}, '$') ELSE substr({col}, 2, length({col}) - 2) END END"
    )


def stripped(col: str) -> str:
    """Python's ``text()`` of the VARCHAR ``col``: stripped as str.strip() strips, '' is NULL. The
    pattern runs only where an end might be white space."""
    strip = f"regexp_replace({col}, {quote_literal(f'^{WHITESPACE}+|{WHITESPACE}+$')}, '', 'g')"
    return f"nullif(CASE WHEN {may_strip(col)} THEN {strip} ELSE {col} END, '')"


def is_number(col: str) -> str:
    """SQL true when the JSON value ``col`` is a number (Python reads an int or a float): present,
    and neither a string, an object, an array, null, true nor false."""
    return (
        f"coalesce(NOT (starts_with({col}, '\"') OR starts_with({col}, '{{') OR starts_with({col}, '[') "
        f"OR {col} IN ('null', 'true', 'false')), false)"
    )


def iso_time(col: str) -> str:
    """The stripped text ``col`` as TIMESTAMPTZ when it is a time :data:`ISO_TIME` accepts, else NULL."""
    return f"CASE WHEN regexp_matches({col}, {quote_literal(ISO_TIME)}) THEN TRY_CAST({col} AS TIMESTAMPTZ) END"


# what DuckDB's JSON reader accepts and Python's json module refuses: a comma before a closing
# bracket, and NaN or infinity literals in any case (Python takes NaN, Infinity and -Infinity,
# DuckDB also nan, inf, -INF...). A file whose text might hold one (a string may only look like it)
# is read record by record. Each pattern starts with a character RE2 can skip to.
_BLANKS = "[ \\t\\r\\n]*"
_ODD_LITERAL = "-?(?:[iI]|[nN][aA])"
_LENIENT = (
    f",{_BLANKS}(?:[\\]}}]|{_ODD_LITERAL})",
    f":{_BLANKS}{_ODD_LITERAL}",
    f"\\[{_BLANKS}{_ODD_LITERAL}",
)


def lenient_lines(con: duckdb.DuckDBPyConnection, path: Path, max_line: int) -> bool:
    """Whether a line of the NDJSON file might be JSON that DuckDB's reader accepts and Python's
    refuses (see ``_LENIENT``); one pass over the lines as text, without parsing them."""
    tests = " OR ".join(f"regexp_matches(json, {quote_literal(p)})" for p in _LENIENT)
    read = f"read_ndjson_objects({quote_literal(str(path))}, maximum_object_size = {max_line})"
    return bool(one(con, f"SELECT coalesce(bool_or({tests}), false) FROM {read}")[0])


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    assert row is not None  # an aggregate answers one row
    return row


def release(con: duckdb.DuckDBPyConnection, folder: Path | None) -> None:
    con.close()
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


class Done:
    """The adapter's connection (and its own scratch folder) go when all ``tables`` are through;
    when the engine stops early (a table gave way to the record-by-record reader, or the batches
    were never read), they go with the last reference to the batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection, folder: Path | None, tables: int = 2) -> None:
        self.con, self.left = con, tables
        self.release = weakref.finalize(self, release, con, folder)

    def one(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.release()
