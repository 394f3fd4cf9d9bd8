"""The generator's canonical CSV writer: the header is the canonical table's columns, in its order."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_warehouse.generate.writers_canonical import write_rows
from ops_warehouse.sources.canonical import table_for


def test_header_names_the_carried_columns_in_the_tables_order(tmp_path: Path) -> None:
    rows = [{"merged_at": "2026-11-02T10:00:00Z", "change_id": "c1"}, {"service": "api", "change_id": "c2"}]
    path = write_rows(tmp_path / "changes.csv", "changes", rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == ["change_id,service,merged_at", "c1,,2026-11-02T10:00:00Z", "c2,api,"]


def test_no_rows_still_names_a_header_that_identifies_the_table(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "slos.csv", "slo_definitions", [])
    header = path.read_text(encoding="utf-8").splitlines()
    assert len(header) == 1 and {"slo_name", "target", "good_query", "total_query"} <= set(header[0].split(","))
    assert table_for(set(header[0].split(","))) == "slo_definitions"


def test_a_column_the_table_does_not_have_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sha"):
        write_rows(tmp_path / "changes.csv", "changes", [{"change_id": "c1", "sha": "abc"}])
