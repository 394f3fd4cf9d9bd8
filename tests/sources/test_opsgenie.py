"""Opsgenie incidents adapter, from the real sample and edge cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind, ingest_file
from ops_warehouse.sources.base import Sniff
from ops_warehouse.sources.opsgenie_incidents import ADAPTER
from ops_warehouse.tables import RAW_TABLES
from tests.sources.lake_rows import ingest, rejected, scan, utc, write

SAMPLE = "opsgenie_incidents_list_EXCERPT.json"


def incidents(home: DataHome) -> dict[str, dict[str, Any]]:
    return {r["incident_id"]: r for r in scan(home, RAW_TABLES["incidents"])}


def incident(iid: str = "aaaa-1", **over: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": iid,
        "tinyId": "7",
        "message": "Checkout errors",
        "status": "open",
        "priority": "P2",
        "createdAt": "2026-11-23T10:00:05Z",
        "impactStartDate": "2026-11-23T10:00:00Z",
        "updatedAt": "2026-11-23T10:01:00Z",
        "impactedServices": ["svc-checkout", "svc-payments"],
        "ownerTeam": "team-payments",
        "tags": [],
    }
    rec.update(over)
    return rec


def test_detects_sample_and_nothing_else(samples: Path) -> None:
    assert detect_kind(samples / SAMPLE) == "opsgenie-incidents"
    claimed = [p.name for p in sorted(samples.iterdir()) if p.name != SAMPLE and ADAPTER.detect(Sniff(p))]
    assert claimed == []


def test_sample(home: DataHome, samples: Path) -> None:
    report = ingest(home, samples / SAMPLE)
    assert (report.kind, report.read, report.loaded, report.quarantined) == ("opsgenie-incidents", 3, 3, 0)
    rows = incidents(home)
    resolved = rows["opsgenie:b15c7555-d685-4a96-8798-46320618004e"]
    assert (resolved["source"], resolved["status"], resolved["priority"], resolved["severity"]) == (
        "opsgenie",
        "resolved",
        "P3",
        "sev3",
    )
    assert resolved["title"] == "test"
    assert resolved["created_at"] == utc(2021, 11, 15, 10, 2, 46, 289000)
    assert resolved["resolved_at"] == utc(2021, 11, 15, 10, 8, 58, 793000)
    assert resolved["updated_at"] == utc(2021, 11, 15, 14, 14, 26, 813000)
    assert (resolved["service_ref"], resolved["team"], resolved["acknowledged_at"]) == (None, None, None)
    assert rows["opsgenie:641950ef-b108-40cb-b415-10714e077327"]["resolved_at"] is None

    again = ingest(home, samples / SAMPLE)
    assert (again.loaded, again.duplicates) == (0, 3)


def test_mapping_of_services_team_and_start(home: DataHome, tmp_path: Path) -> None:
    # created_at is createdAt (when the incident was opened), not impactStartDate; impactStartDate
    # stands in only when createdAt is missing
    no_start = incident("bbbb-2", createdAt=None, priority="p5", impactedServices=[{"id": "svc-x"}])
    ingest(home, write(tmp_path, "a.json", {"data": [incident(), no_start], "paging": {}}))
    rows = incidents(home)
    first = rows["opsgenie:aaaa-1"]
    assert (first["service_ref"], first["service_name"], first["team"]) == ("svc-checkout", None, "team-payments")
    assert (first["severity"], first["created_at"]) == ("sev2", utc(2026, 11, 23, 10, 0, 5))
    second = rows["opsgenie:bbbb-2"]
    assert (second["created_at"], second["priority"], second["severity"]) == (utc(2026, 11, 23, 10), "P5", "sev4")
    assert second["service_ref"] == "svc-x"


def test_unknown_values_and_missing_id_are_quarantined(home: DataHome, tmp_path: Path) -> None:
    recs = [
        incident("ok"),
        incident("p9", priority="P9"),
        incident("boom", status="exploded"),
        {k: v for k, v in incident().items() if k != "id"},
        incident("back", impactEndDate="2026-11-23T09:00:00Z"),
        [1, 2],
    ]
    report = ingest(home, write(tmp_path, "bad.json", {"data": recs}))
    assert (report.read, report.loaded, report.quarantined) == (6, 1, 5)
    reasons = rejected(home)
    assert reasons["/data/1"] == "priority: 'P9' is not one of P1, P2, P3, P4, P5"
    assert reasons["/data/2"] == "status: 'exploded' is not one of open, resolved, closed"
    assert reasons["/data/3"] == "id: required but missing"
    assert reasons["/data/4"].startswith("impactEndDate 2026-11-23T09:00:00+00:00 is before created_at")
    assert reasons["/data/5"] == "expected a JSON object, got list"


def test_later_export_resolves_the_incident(home: DataHome, tmp_path: Path) -> None:
    closed = incident(status="closed", impactEndDate="2026-11-23T10:25:00Z", updatedAt="2026-11-23T11:00:00Z")
    ingest(home, write(tmp_path, "open.json", {"data": [incident()]}))
    ingest(home, write(tmp_path, "closed.json", {"data": [closed]}))
    assert ingest(home, tmp_path / "open.json").loaded == 0
    row = incidents(home)["opsgenie:aaaa-1"]
    assert (row["status"], row["resolved_at"]) == ("closed", utc(2026, 11, 23, 10, 25))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"data": [{"id": "x", "message": "m", "impactStartDate": "2026', "invalid JSON at line 1"),
        (b'{"data": [{"id": "\xe9"}]}', "not UTF-8"),
        (b"   \n", "empty file"),
        (b"42", "expected a JSON array or object"),
    ],
)
def test_unreadable_files(home: DataHome, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    report = ingest_file(home, path, kind="opsgenie-incidents")
    assert report.error is not None and message in report.error
    assert incidents(home) == {}
