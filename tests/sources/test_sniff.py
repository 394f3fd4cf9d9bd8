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


def test_a_named_kind_loads_its_own_adapter_alone() -> None:
    """Every kind's adapter is found by its name, and an unknown or missing kind gets every adapter
    (detection, and the list an unknown kind is refused with)."""
    import subprocess
    import sys

    from ops_warehouse.sources.base import adapters_for, all_adapters

    every = all_adapters()
    for kind, adapter in every.items():
        assert adapters_for(kind) == {kind: adapter}
    assert adapters_for(None) == every
    assert adapters_for("no-such-kind") == every
    assert adapters_for("../base") == every
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from ops_warehouse.sources.base import adapters_for; adapters_for('jira-issues'); "
            "print(sorted(m for m in sys.modules if m.startswith('ops_warehouse.sources.')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "ops_warehouse.sources.jira_issues" in loaded and "ops_warehouse.sources.prometheus_text" not in loaded
