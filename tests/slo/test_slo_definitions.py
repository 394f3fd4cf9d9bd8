"""SLO definitions: OpenSLO and Sloth files into normalized specs; detection; rejections."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ops_warehouse.ingest import detect_kind, ingest_file
from ops_warehouse.sources.base import FileError, ReadContext, Reject, Row, all_adapters
from ops_warehouse.sources.slo_spec import normalize_canonical

SAMPLE_KINDS = {
    "openslo_v1_slo_occurrences_threshold.yaml": "openslo",
    "openslo_v1_slo_ratio_timeslices.yaml": "openslo",
    "sloth_prometheus_v1_getting_started.yml": "sloth",
    "sloth_accepted_openslo_v1alpha.yml": "openslo",
}


def read(kind: str, path: Path) -> list:
    return list(all_adapters()[kind].read(ReadContext(path)))


@pytest.mark.parametrize("name,kind", sorted(SAMPLE_KINDS.items()))
def test_detect_kind_of_samples(samples: Path, name: str, kind: str) -> None:
    assert detect_kind(samples / name) == kind


def test_openslo_threshold_sample(samples: Path) -> None:
    [row] = read("openslo", samples / "openslo_v1_slo_occurrences_threshold.yaml")
    assert isinstance(row, Row)
    assert json.loads(row.values["spec"]) == {
        "name": "search-slo",
        "service": "web-shop",
        "description": "Regardless of the number of paraller searches it never should be more than 500ms.",
        "budgeting_method": "Occurrences",
        "target": 0.99,
        "time_window": {"duration": "2w", "is_rolling": True, "time_zone": "UTC", "start_time": None},
        "indicator": {
            "kind": "threshold",
            "good": None,
            "bad": None,
            "total": None,
            "threshold": {"query": "Any", "op": "lt", "value": 500.0},
        },
        "time_slice_target": None,
        "time_slice_window": None,
        "source_spec": "openslo",
        "objective": "Good experience",
        "selectors": [{"role": "threshold", "metric": "Any", "wrapped": False, "matchers": []}],
    }


def test_openslo_ratio_timeslices_sample(samples: Path) -> None:
    [row] = read("openslo", samples / "openslo_v1_slo_ratio_timeslices.yaml")
    spec = json.loads(row.values["spec"])
    assert spec["name"] == "main-page" and spec["service"] == "web-shop"
    assert spec["budgeting_method"] == "RatioTimeslices"
    assert spec["time_slice_window"] == "1m" and spec["time_slice_target"] is None
    assert spec["indicator"] == {"kind": "ratio", "good": "Any", "bad": None, "total": "Any", "threshold": None}
    assert spec["target"] == 0.99


def test_sloth_sample(samples: Path) -> None:
    [row] = read("sloth", samples / "sloth_prometheus_v1_getting_started.yml")
    spec = json.loads(row.values["spec"])
    assert row.values["slo_name"] == "myservice-requests-availability"
    assert spec["target"] == 0.999  # 99.9 percent, exactly
    assert spec["time_window"] == {"duration": "30d", "is_rolling": True, "time_zone": "UTC", "start_time": None}
    assert spec["indicator"]["good"] is None
    assert spec["indicator"]["bad"] == (
        'sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))'
    )
    assert spec["indicator"]["total"] == 'sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))'
    assert spec["source_spec"] == "sloth"


def test_sloth_accepted_v1alpha_is_openslo(samples: Path) -> None:
    [row] = read("openslo", samples / "sloth_accepted_openslo_v1alpha.yml")
    spec = json.loads(row.values["spec"])
    assert spec["name"] == "sloth-slo-my-service" and spec["service"] == "my-service"
    assert spec["target"] == 0.999 and spec["time_window"]["duration"] == "30d"
    assert spec["indicator"]["good"].startswith('sum(rate(http_request_duration_seconds_count{job="myservice",code!~')


MULTI = """apiVersion: openslo/v1
kind: SLI
metadata:
  name: shared-sli
spec:
  ratioMetric:
    bad:
      metricSource:
        type: Prometheus
        spec:
          query: sum(increase(http_requests_total{code=~"5.."}[{{.window}}]))
    total:
      metricSource:
        type: Prometheus
        spec:
          query: sum(increase(http_requests_total[{{.window}}]))
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: by-ref
spec:
  service: api
  indicatorRef: shared-sli
  timeWindow:
    - duration: 1M
      isRolling: false
      calendar:
        startTime: 2022-01-01 00:00:00
        timeZone: Europe/Berlin
  budgetingMethod: Timeslices
  objectives:
    - displayName: avail
      targetPercent: 99.5
      timeSliceTarget: 0.9
      timeSliceWindow: 5m
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: missing-ref
spec:
  indicatorRef: nope
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: bad-query
spec:
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {spec: {query: "sum(rate(a[5m])) / sum(rate(b[5m]))"}}}
        total: {metricSource: {spec: {query: "b"}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: bad-target
spec:
  indicatorRef: shared-sli
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 99.9}]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: bad-method
spec:
  indicatorRef: shared-sli
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Sometimes
  objectives: [{target: 0.99}]
"""


def test_openslo_multi_document_ref_and_rejections(tmp_path: Path) -> None:
    path = tmp_path / "slos.yaml"
    path.write_text(MULTI)
    assert detect_kind(path) == "openslo"
    recs = read("openslo", path)
    rows = [r for r in recs if isinstance(r, Row)]
    rejects = {r.locator: r.reason for r in recs if isinstance(r, Reject)}
    [row] = rows
    spec = json.loads(row.values["spec"])
    assert spec["name"] == "by-ref" and spec["target"] == 0.995
    assert spec["indicator"]["bad"].startswith("sum(increase(http_requests_total")
    assert spec["time_window"] == {
        "duration": "1M",
        "is_rolling": False,
        "time_zone": "Europe/Berlin",
        "start_time": "2022-01-01 00:00:00",
    }
    assert spec["time_slice_target"] == 0.9 and spec["time_slice_window"] == "5m"
    assert rejects == {
        "document 3 (line 38)": "spec.indicatorRef: no kind: SLI document named 'nope' in this file",
        "document 4 (line 48)": "spec.indicator.spec.ratioMetric.good.metricSource.spec.query: binary operator '/' "
        "is not supported: sum(rate(a[5m])) / sum(rate(b[5m]))",
        "document 5 (line 62)": "spec.objectives[0].target: 99.9 is not a target between 0 and 1 (exclusive)",
        "document 6 (line 72)": "spec.budgetingMethod: 'Sometimes' is not one of Occurrences, Timeslices, "
        "RatioTimeslices",
    }


def test_rejections_are_quarantined_with_locator(home, tmp_path: Path) -> None:
    path = tmp_path / "slos.yaml"
    path.write_text(MULTI)
    report = ingest_file(home, path)
    assert report.ok and report.kind == "openslo"
    assert (report.read, report.loaded, report.quarantined) == (5, 1, 4)
    con = duckdb.connect()
    q = con.execute(
        f"SELECT locator, reason FROM read_parquet('{home.lake}/quarantine/rejected_rows/*.parquet') ORDER BY locator"
    ).fetchall()
    assert [loc for loc, _ in q] == [
        "document 3 (line 38)",
        "document 4 (line 48)",
        "document 5 (line 62)",
        "document 6 (line 72)",
    ]


def test_invalid_yaml_is_a_file_error_with_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: [unclosed\n")
    with pytest.raises(FileError, match=r"invalid YAML at line \d+"):
        read("openslo", path)


SLOTH_BAD = """version: "prometheus/v1"
service: "svc"
slos:
  - name: ok
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
  - name: raw-ratio
    objective: 99
    sli:
      raw:
        error_ratio_query: sum(rate(errors[{{.window}}])) / sum(rate(total[{{.window}}]))
  - name: too-high
    objective: 100
    sli:
      events:
        error_query: errors
        total_query: total
  - name: histogram-quantile
    objective: 99
    sli:
      events:
        error_query: histogram_quantile(0.99, sum(rate(lat_bucket[5m])) by (le))
        total_query: total
"""


def test_sloth_rejections(tmp_path: Path) -> None:
    path = tmp_path / "sloth.yml"
    path.write_text(SLOTH_BAD)
    assert detect_kind(path) == "sloth"
    recs = read("sloth", path)
    assert [type(r).__name__ for r in recs] == ["Row", "Reject", "Reject", "Reject"]
    assert json.loads(recs[0].values["spec"])["name"] == "svc-ok"
    assert recs[1].locator == "document 1 (line 1) slos[1]"
    assert recs[1].reason == "slos[1].sli.raw: not supported; only sli.events (error_query/total_query)"
    assert recs[2].reason == "slos[2].objective: 100% is not a target between 0 and 1 (exclusive)"
    assert recs[3].reason == (
        "slos[3].sli.events.error_query: function 'histogram_quantile' is not supported: only rate() and increase()"
    )


def test_canonical_still_normalizes() -> None:
    spec = normalize_canonical(
        {
            "slo_name": "x",
            "target": "0.99",
            "good_query": "g",
            "total_query": "t",
            "budgeting_method": "RatioTimeslices",
        }
    )
    assert spec["time_slice_window"] == "1m" and spec["source_spec"] == "canonical"
