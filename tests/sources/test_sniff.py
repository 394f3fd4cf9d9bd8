"""Content detection's look at a file (``Sniff``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_warehouse.sources.base import Sniff


def test_ndjson_is_told_from_the_head_not_parsed_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An NDJSON file is not one JSON document: detection reads its head only (a month of scan
    reports is tens of MB). A document over several lines is still parsed whole."""
    ndjson = tmp_path / "reports.ndjson"
    ndjson.write_text('{"a": 1}\n{"a": 2}\n')
    pretty = tmp_path / "report.json"
    pretty.write_text('{\n  "a": 1\n}\n')
    assert Sniff(pretty).doc == {"a": 1}

    def whole_file(self: Path) -> bytes:
        raise AssertionError(f"{self.name} read whole")

    monkeypatch.setattr(Path, "read_bytes", whole_file)
    sniff = Sniff(ndjson)
    assert sniff.doc is None
    assert sniff.first_record == {"a": 1}
