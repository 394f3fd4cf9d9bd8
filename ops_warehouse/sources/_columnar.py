"""What the columnar (DuckDB) paths of the adapters share: the adapter's own connection, whose
tables the engine writes the batches from, released once the engine is through with them.
"""

from __future__ import annotations

import shutil
import weakref
from pathlib import Path
from typing import Any

import duckdb


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
