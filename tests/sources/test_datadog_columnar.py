"""datadog-query's columnar pass gives exactly the rows, rejects and accounting of the
point-by-point reader, falling back to it whenever an answer holds something it cannot classify
exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ops_warehouse.sources.datadog_query import ADAPTER
from tests.sources.lake_rows import bulk_and_read_agree

SERIES = {
    "metric": "trace.http.request.hits",
    "scope": "env:prod,service:web",
    "tag_set": ["env:prod", "service:web", "url:http://x/a", "canary"],
    "aggr": "sum",
}
CASES: dict[str, Any] = {
    "clean": [
        {**SERIES, "pointlist": [[1700000000000.0, 3.0], [1700000060000, 5], [1700000120000.5, -2.5e-3]]},
        {"metric": "latency", "scope": "*", "aggr": None, "pointlist": [[1700000000000, "NaN"], [1700000060000, "1"]]},
        {"metric": "b_bucket", "scope": "le:1", "tag_set": [1, True, "le:1"], "pointlist": [[1, 2]]},
        {"metric": "c", "tag_set": [], "pointlist": []},
    ],
    "null points": [{**SERIES, "pointlist": [[1700000000000.0, None], [1700000060000, 1], [1700000120000, None]]}],
    "bad points": [{**SERIES, "pointlist": [[1700000000000.0, True], [1700000060000, " 1"], ["x", 1], [1, 2, 3], 7]}],
    "no name": [{**SERIES, "metric": "", "pointlist": [[1700000000000.0, 1]]}],
    "no pointlist": [{**SERIES, "pointlist": None}, {**SERIES, "pointlist": [[1700000000000.0, 1]]}],
    "not an object": [7, {**SERIES, "pointlist": [[1700000000000.0, 1]]}],
    "bad bound": [{"metric": "x_bucket", "scope": "le:abc", "pointlist": [[1700000000000.0, 1]]}],
    "out of range": [{**SERIES, "pointlist": [[1e30, 1], [-1e30, 1]]}],
    "repeated point": [{**SERIES, "pointlist": [[1700000000000.0, 1], [1700000000000, 2]]}],
}
COLUMNAR = ("clean", "null points", "real sample")


@pytest.mark.parametrize("case", [*sorted(CASES), "real sample", "failed query", "two documents"])
def test_columnar_and_point_by_point_readers_agree(
    tmp_path: Path, case: str, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dd.json"
    if case == "real sample":
        shutil.copy(samples / "datadog_v1_query_timeseries_TRIMMED.json", path)
    elif case == "failed query":
        path.write_text(json.dumps({"status": "error", "series": [], "error": "bad query"}))
    elif case == "two documents":
        doc = json.dumps({"status": "ok", "series": CASES["clean"]})
        path.write_text(doc + "\n" + doc)
    else:
        path.write_text(json.dumps({"status": "ok", "res_type": "time_series", "series": CASES[case]}))
    outcome = bulk_and_read_agree(tmp_path, path, ADAPTER, monkeypatch, bulk_alone=case in COLUMNAR)
    if case == "null points":
        assert outcome[0][1:] == (3, 1, 0, 2)
        assert outcome[2][0] == ("/series/0/pointlist/0", "null point", "[1700000000000.0, null]")
