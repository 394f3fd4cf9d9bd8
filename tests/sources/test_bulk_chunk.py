"""A batch of rejects alone (``BulkChunk.rejects_only``): no rows, the bookkeeping columns the
engine reads from every batch, and the rejects as given."""

from __future__ import annotations

import duckdb

from ops_warehouse.sources.base import BulkChunk, Reject


def test_rejects_only_is_a_batch_of_no_rows_with_the_bookkeeping_columns() -> None:
    rejects = [Reject("line 2", "null point", "[1, null]"), Reject("line 5", "bad")]
    chunk = BulkChunk.rejects_only(rejects)
    assert isinstance(chunk.rows, str)
    relation = duckdb.connect().sql(chunk.rows)
    assert relation.fetchall() == []
    assert list(zip(relation.columns, map(str, relation.types), strict=True)) == [
        ("_locator", "VARCHAR"),
        ("_raw", "VARCHAR"),
        ("_ord", "BIGINT"),
    ]
    assert chunk.rejects == rejects and not chunk.exact and chunk.duplicates == 0
