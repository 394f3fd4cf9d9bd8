"""Read-only SQL against the published snapshot (``ops-warehouse sql``).

The connection is opened read-only, external file access is switched off except for reading the
snapshot's own linked lake files under ``<home>/snapshots`` (the ``raw`` and ``quarantine`` views
read them, see :mod:`ops_warehouse.lake.publish`), and the configuration locked. Statements that
write files (``COPY``, ``EXPORT``) are refused before they run, so a query can neither change the
warehouse or the lake nor write or read files elsewhere (no ATTACH, no reading outside the snapshot).
"""

from __future__ import annotations

from typing import Any

import duckdb

from ops_warehouse.home import DataHome
from ops_warehouse.lake.publish import connect_snapshot, snapshots_dir

_WRITES = frozenset({duckdb.StatementType.COPY, duckdb.StatementType.EXPORT})


class QueryError(Exception):
    pass


def connect_readonly(home: DataHome) -> duckdb.DuckDBPyConnection:
    """The published snapshot (read-only, UTC) with file access limited to its own lake files and
    the configuration locked."""
    try:
        con = connect_snapshot(home)
    except FileNotFoundError as exc:
        raise QueryError(str(exc)) from None
    except duckdb.Error as exc:
        raise QueryError(f"cannot open {home.warehouse}: {exc}") from exc
    con.execute("SET allowed_directories = [?]", [str(snapshots_dir(home)) + "/"])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def run_query(home: DataHome, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    con = connect_readonly(home)
    try:
        try:
            if any(st.type in _WRITES for st in con.extract_statements(query)):
                raise QueryError("the warehouse is read-only: COPY and EXPORT cannot write files from here")
            cur = con.execute(query)
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            if "read-only" in message or "read only" in message:
                raise QueryError(f"the warehouse is read-only: {message}") from None
            raise QueryError(message) from None
        if cur.description is None:
            return [], []
        columns = [d[0] for d in cur.description]
        return columns, cur.fetchall()
    finally:
        con.close()
