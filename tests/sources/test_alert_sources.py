"""Alert adapters: Alertmanager webhook notifications and API v2 alerts, PagerDuty alerts, on their
real samples and the edge cases METRICS.md names (re-sent notifications, placeholder endsAt,
resolution winning over a late firing), and the columnar path giving the same rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind
from ops_warehouse.sources import alertmanager_alerts, alertmanager_webhook, pagerduty_alerts
from ops_warehouse.sources.base import Sniff
from ops_warehouse.tables import RAW_TABLES
from tests.sources.lake_rows import ingest, rejected, scan, utc, write

KINDS = {
    "alertmanager-webhook": ("alertmanager_webhook_payload.json", alertmanager_webhook.ADAPTER),
    "alertmanager-alerts": ("alertmanager_api_v2_alerts.json", alertmanager_alerts.ADAPTER),
    "pagerduty-alerts": ("pagerduty_incident_alerts.json", pagerduty_alerts.ADAPTER),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_detects_own_sample(samples: Path, kind: str) -> None:
    assert detect_kind(samples / KINDS[kind][0]) == kind


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_claims_no_other_sample(samples: Path, kind: str) -> None:
    own, adapter = KINDS[kind]
    claimed = [p.name for p in sorted(samples.iterdir()) if p.name != own and adapter.detect(Sniff(p))]
    assert claimed == []


def alerts(home: DataHome) -> list[dict[str, Any]]:
    return sorted(scan(home, RAW_TABLES["alerts"]), key=lambda r: (r["fingerprint"], r["started_at"]))


def test_webhook_sample(home: DataHome, samples: Path) -> None:
    report = ingest(home, samples / "alertmanager_webhook_payload.json")
    assert (report.read, report.loaded, report.quarantined) == (3, 3, 0)
    rows = {r["fingerprint"]: r for r in alerts(home)}
    row = rows["ff6a7a0f5f1c1309"]
    assert row["started_at"] == utc(2020, 10, 11, 14, 34, 11, 279000)  # nanoseconds cut to milliseconds
    assert row["ended_at"] is None  # the firing notification's 0001-01-01 endsAt is ignored
    assert row["alertname"] == "JustATestAlert_1"
    assert row["severity"] == "info"
    assert row["status"] == "firing"
    assert row["summary"] == "Ratio(Max(Working Set, RSS) / Reservation) [5m Avg] < 40 %"  # \u003c decoded
    assert json.loads(row["labels"])["name"] == "grafana"


def test_api_sample(home: DataHome, samples: Path) -> None:
    report = ingest(home, samples / "alertmanager_api_v2_alerts.json")
    assert (report.read, report.loaded) == (2, 2)
    rows = {r["fingerprint"]: r for r in alerts(home)}
    burn = rows["4b3356c241bc9026"]
    assert burn["ended_at"] is None  # the API's projected endsAt is not an end
    assert burn["status"] == "suppressed"
    assert burn["severity"] == "critical"
    assert burn["started_at"] == utc(2021, 11, 26, 13, 8, 23, 886000)


def test_pagerduty_sample(home: DataHome, samples: Path) -> None:
    report = ingest(home, samples / "pagerduty_incident_alerts.json")
    assert (report.read, report.loaded) == (1, 1)
    (row,) = alerts(home)
    assert row["source"] == "pagerduty"
    assert row["fingerprint"] == "baf7cf21b1da41b4b0221008339ff357"
    assert row["alert_id"] == "pagerduty:PT4KHLK"
    assert row["incident_ref"] == "pagerduty:PT4KHLK"
    assert row["status"] == "resolved"
    assert row["ended_at"] is None  # no resolved time in PagerDuty's alert list
    assert row["service"] == "My Mail Service" and row["service_ref"] == "PIJ90N7"


def _alert(fp: str, status: str, starts: str, ends: str = "0001-01-01T00:00:00Z", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "HighLatency", "severity": "critical", "job": "checkout", **labels},
        "annotations": {"summary": "p99 <high> & rising"},
        "startsAt": starts,
        "endsAt": ends,
        "fingerprint": fp,
    }


def _notification(status: str, *alerts_: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "receiver": "pager",
        "status": status,
        "groupKey": "{}:{}",
        "alerts": list(alerts_),
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am",
    }


def _notifications() -> list[Any]:
    firing = _notification("firing", _alert("aaaa", "firing", "2026-11-23T10:00:00.123456789Z"))
    resolved = _notification(
        "resolved", _alert("aaaa", "resolved", "2026-11-23T10:00:00.123456789Z", "2026-11-23T10:20:00Z")
    )
    return [
        firing,
        firing,  # re-sent: the same firing
        resolved,
        firing,  # a firing re-sent after the resolution never undoes it
        _notification("firing", _alert("", "firing", "2026-11-23T11:00:00Z", service="search")),  # no fingerprint
        _notification("firing", {"status": "firing", "startsAt": "2026-11-23T11:00:00Z"}),  # no labels
        _notification("resolved", _alert("bbbb", "resolved", "2026-11-23T12:00:00Z", "2026-11-23T11:00:00Z")),
        _notification("firing", _alert("cccc", "firing", "yesterday")),
    ]


def _check_notifications(home: DataHome, report: Any) -> None:
    assert report.read == 8
    assert (report.loaded, report.duplicates, report.quarantined) == (2, 3, 3)
    rows = alerts(home)
    episode = next(r for r in rows if r["fingerprint"] == "aaaa")
    assert episode["started_at"] == utc(2026, 11, 23, 10, 0, 0, 123000)
    assert episode["ended_at"] == utc(2026, 11, 23, 10, 20)
    assert episode["status"] == "resolved"
    assert episode["service"] == "checkout"  # label job, no service label
    hashed = next(r for r in rows if r["fingerprint"] != "aaaa")
    assert len(hashed["fingerprint"]) == 16 and hashed["service"] == "search"


def test_webhook_resent_and_resolved(home: DataHome, tmp_path: Path) -> None:
    path = write(tmp_path, "notifications.ndjson", "\n".join(json.dumps(n) for n in _notifications()) + "\n")
    assert detect_kind(path) == "alertmanager-webhook"
    report = ingest(home, path)
    _check_notifications(home, report)
    reasons = rejected(home)
    assert reasons["line 6 /alerts/0"] == "labels: required but missing"
    assert "before" in reasons["line 7 /alerts/0"]
    assert "startsAt" in reasons["line 8 /alerts/0"]


def test_columnar_path_gives_the_same_rows(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    monkeypatch.setattr(alertmanager_webhook, "BULK_MIN_BYTES", 0)
    path = write(tmp_path, "notifications.ndjson", "\n".join(json.dumps(n) for n in _notifications()) + "\n")
    from ops_warehouse.sources.base import ReadContext

    assert alertmanager_webhook.ADAPTER.bulk(ReadContext(path)) is not None
    report = ingest(home, path)
    _check_notifications(home, report)
    # the same file record by record, in another home: identical rows
    other = DataHome.resolve(tmp_path / "other").ensure()
    monkeypatch.setattr(alertmanager_webhook, "BULK_MIN_BYTES", 1 << 40)
    ingest(other, path)
    strip = ("source_file", "ingested_at")
    assert [{k: v for k, v in r.items() if k not in strip} for r in alerts(home)] == [
        {k: v for k, v in r.items() if k not in strip} for r in alerts(other)
    ]
    assert set(rejected(home)) == set(rejected(other))


def test_columnar_path_falls_back_on_a_broken_line(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alertmanager_webhook, "BULK_MIN_BYTES", 0)
    lines = [json.dumps(n) for n in _notifications()[:3]] + ['{"alerts": [ broken']
    report = ingest(home, write(tmp_path, "n.ndjson", "\n".join(lines) + "\n"))
    assert (report.loaded, report.duplicates, report.quarantined) == (1, 2, 1)
    assert "invalid JSON" in rejected(home)["line 4"]


def test_api_snapshot_and_webhook_are_one_episode(home: DataHome, tmp_path: Path) -> None:
    api = [
        {
            "labels": {"alertname": "HighLatency", "severity": "critical", "job": "checkout"},
            "annotations": {},
            "fingerprint": "aaaa",
            "receivers": [{"name": "pager"}],
            "startsAt": "2026-11-23T10:00:00.123Z",
            "endsAt": "2026-11-23T10:09:00.123Z",
            "updatedAt": "2026-11-23T10:05:00.000Z",
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
        }
    ]
    ingest(home, write(tmp_path, "api.json", api))
    ingest(home, write(tmp_path, "hook.ndjson", "\n".join(json.dumps(n) for n in _notifications()[:3]) + "\n"))
    (episode,) = [r for r in alerts(home) if r["fingerprint"] == "aaaa"]
    assert episode["ended_at"] == utc(2026, 11, 23, 10, 20)


def test_pagerduty_alert_edge_cases(home: DataHome, tmp_path: Path) -> None:
    page = {
        "alerts": [
            {
                "id": "A1",
                "type": "alert",
                "created_at": "2026-11-23T10:00:00Z",
                "status": "triggered",
                "alert_key": "disk-full",
                "severity": "warning",
                "service": {"id": "PSVC", "summary": "checkout"},
                "incident": {"id": "PINC"},
                "summary": "Disk <full>",
            },
            {
                "id": "A2",
                "type": "alert",
                "created_at": "2026-11-23T11:00:00Z",
                "status": "resolved",
                "resolved_at": "2026-11-23T11:30:00Z",
                "severity": "critical",
            },
            {"id": "A3", "type": "alert", "status": "triggered"},
            {"type": "alert", "created_at": "2026-11-23T11:00:00Z"},
        ],
        "limit": 25,
        "offset": 0,
        "more": False,
    }
    report = ingest(home, write(tmp_path, "pd.json", page))
    assert (report.read, report.loaded, report.quarantined) == (4, 2, 2)
    rows = {r["alert_id"]: r for r in alerts(home)}
    assert rows["pagerduty:A1"]["fingerprint"] == "disk-full" and rows["pagerduty:A1"]["status"] == "firing"
    assert rows["pagerduty:A2"]["fingerprint"] == "pagerduty:A2"
    assert rows["pagerduty:A2"]["ended_at"] == utc(2026, 11, 23, 11, 30)
    assert set(rejected(home)) == {"/alerts/2", "/alerts/3"}
