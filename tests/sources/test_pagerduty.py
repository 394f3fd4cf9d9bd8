"""PagerDuty adapters: incidents, log entries and analytics, from the real samples and edge cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind, ingest_file
from ops_warehouse.sources import pagerduty_analytics, pagerduty_incidents, pagerduty_log_entries
from ops_warehouse.sources.base import Sniff
from ops_warehouse.tables import RAW_TABLES
from tests.sources.lake_rows import ingest, rejected, scan, utc, write

KINDS = {
    "pagerduty-incidents": ("pagerduty_incidents_list.json", pagerduty_incidents.ADAPTER),
    "pagerduty-log-entries": ("pagerduty_incident_log_entries.json", pagerduty_log_entries.ADAPTER),
    "pagerduty-analytics": ("pagerduty_analytics_raw_incidents.json", pagerduty_analytics.ADAPTER),
}


def incidents(home: DataHome) -> dict[str, dict[str, Any]]:
    return {r["incident_id"]: r for r in scan(home, RAW_TABLES["incidents"])}


def ndjson(tmp_path: Path, name: str, lines: list[Any]) -> Path:
    return write(tmp_path, name, "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")


def incident(pid: str = "PABC123", **over: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": pid,
        "type": "incident",
        "title": "Checkout is down",
        "status": "triggered",
        "created_at": "2026-11-23T10:00:00Z",
        "updated_at": "2026-11-23T10:00:00Z",
        "incident_key": "checkout-5xx",
        "urgency": "high",
        "service": {"id": "PSVC1", "summary": "checkout"},
        "teams": [{"id": "PT1", "summary": "Payments"}],
        "acknowledgements": [],
    }
    rec.update(over)
    return rec


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_detects_own_sample(samples: Path, kind: str) -> None:
    assert detect_kind(samples / KINDS[kind][0]) == kind


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_claims_no_other_sample(samples: Path, kind: str) -> None:
    own, adapter = KINDS[kind]
    claimed = [p.name for p in sorted(samples.iterdir()) if p.name != own and adapter.detect(Sniff(p))]
    assert claimed == []


def test_detects_ndjson_and_bare_arrays(tmp_path: Path) -> None:
    assert detect_kind(ndjson(tmp_path, "a.ndjson", [incident("P1"), incident("P2")])) == "pagerduty-incidents"
    assert detect_kind(write(tmp_path, "b.json", [incident("P1")])) == "pagerduty-incidents"
    page = {"incidents": [], "limit": 25, "offset": 0, "more": False}
    assert detect_kind(write(tmp_path, "c.json", page)) == "pagerduty-incidents"


# ---------------------------------------------------------------- incidents


def test_incidents_sample(home: DataHome, samples: Path) -> None:
    report = ingest(home, samples / "pagerduty_incidents_list.json")
    assert (report.kind, report.read, report.loaded, report.quarantined) == ("pagerduty-incidents", 1, 1, 0)
    row = incidents(home)["pagerduty:PT4KHLK"]
    assert row["source"] == "pagerduty"
    assert (row["service_ref"], row["service_name"], row["team"]) == ("PIJ90N7", "My Mail Service", "Engineering")
    assert (row["priority"], row["urgency"], row["severity"]) == ("P2", "high", "sev2")
    assert (row["title"], row["status"]) == ("The server is on fire.", "resolved")
    assert row["dedup_key"] == "baf7cf21b1da41b4b0221008339ff357"
    assert row["created_at"] == utc(2015, 10, 6, 21, 30, 42)
    assert row["resolved_at"] == utc(2015, 10, 6, 21, 38, 23)
    assert row["updated_at"] == utc(2015, 10, 6, 21, 40, 23)
    assert row["acknowledged_at"] is None and row["escalations"] is None

    again = ingest(home, samples / "pagerduty_incidents_list.json")
    assert (again.loaded, again.duplicates) == (0, 1)


def test_first_acknowledgement_wins_over_re_ack(home: DataHome, tmp_path: Path) -> None:
    acks = [{"at": "2026-11-23T10:07:00Z"}, {"at": "2026-11-23T11:03:00+01:00"}, {"at": "2026-11-23T10:12:00Z"}]
    path = write(tmp_path, "acks.json", {"incidents": [incident(status="acknowledged", acknowledgements=acks)]})
    ingest(home, path)
    assert incidents(home)["pagerduty:PABC123"]["acknowledged_at"] == utc(2026, 11, 23, 10, 3)


def test_later_export_overrides_earlier(home: DataHome, tmp_path: Path) -> None:
    early = incident(
        status="acknowledged", updated_at="2026-11-23T10:05:00Z", acknowledgements=[{"at": "2026-11-23T10:05:00Z"}]
    )
    late = incident(status="resolved", updated_at="2026-11-23T10:40:00Z", resolved_at="2026-11-23T10:40:00Z")
    early_path = write(tmp_path, "early.json", {"incidents": [early]})
    late_path = write(tmp_path, "late.json", {"incidents": [late]})
    ingest(home, early_path)
    assert incidents(home)["pagerduty:PABC123"]["resolved_at"] is None
    assert ingest(home, late_path).loaded == 1
    stale = ingest(home, early_path)
    assert (stale.loaded, stale.duplicates) == (0, 2)  # the incident and its acknowledgement event
    row = incidents(home)["pagerduty:PABC123"]
    assert (row["status"], row["resolved_at"]) == ("resolved", utc(2026, 11, 23, 10, 40))
    assert len(incidents(home)) == 1


def test_resolved_at_rules(home: DataHome, tmp_path: Path) -> None:
    fallback = incident("PFALL", status="resolved", last_status_change_at="2026-11-23T10:30:00Z")
    stale = incident("PSTALE", status="triggered", resolved_at="2026-11-23T10:30:00Z")
    ingest(home, write(tmp_path, "r.json", [fallback, stale]))
    rows = incidents(home)
    assert rows["pagerduty:PFALL"]["resolved_at"] == utc(2026, 11, 23, 10, 30)
    assert rows["pagerduty:PSTALE"]["resolved_at"] is None


def test_severity_from_priority_then_urgency(home: DataHome, tmp_path: Path) -> None:
    recs = [
        incident("PP1", priority={"summary": "P1"}, urgency="low"),
        incident("PCUSTOM", priority={"summary": "Sky is falling"}, urgency="low"),
        incident("PNONE", urgency="whenever"),
    ]
    ingest(home, write(tmp_path, "sev.json", {"incidents": recs}))
    rows = incidents(home)
    assert rows["pagerduty:PP1"]["severity"] == "sev1"
    assert (rows["pagerduty:PCUSTOM"]["severity"], rows["pagerduty:PCUSTOM"]["priority"]) == ("sev3", "Sky is falling")
    assert (rows["pagerduty:PNONE"]["severity"], rows["pagerduty:PNONE"]["urgency"]) == (None, None)


def test_bad_records_are_quarantined_with_reasons(home: DataHome, tmp_path: Path) -> None:
    recs = [
        incident("PGOOD"),
        incident("PBOOM", status="exploded"),
        {k: v for k, v in incident().items() if k != "id"},
        "not an incident",
        incident("PBACK", status="resolved", resolved_at="2026-11-23T09:00:00Z"),
        incident("PNAIVE", created_at="2026-11-23 10:00:00"),
    ]
    report = ingest(home, write(tmp_path, "bad.json", {"incidents": recs}))
    assert (report.read, report.loaded, report.quarantined) == (6, 1, 5)
    reasons = rejected(home)
    assert "'exploded' is not one of" in reasons["/incidents/1"]
    assert reasons["/incidents/2"] == "id: required but missing"
    assert reasons["/incidents/3"] == "expected a JSON object, got str"
    assert "resolved_at 2026-11-23T09:00:00+00:00 is before created_at" in reasons["/incidents/4"]
    assert "no UTC offset" in reasons["/incidents/5"]


def test_naive_timestamps_use_the_given_zone(home: DataHome, tmp_path: Path) -> None:
    path = write(tmp_path, "naive.json", [incident(created_at="2026-11-23 10:00:00", updated_at=None)])
    ingest(home, path, default_tz="Europe/Berlin")
    assert incidents(home)["pagerduty:PABC123"]["created_at"] == utc(2026, 11, 23, 9)


def test_ndjson_of_pages_and_incidents(home: DataHome, tmp_path: Path) -> None:
    lines = [
        {"incidents": [incident("PA"), incident("PB")], "more": True},
        incident("PC"),
        '{"id": "PD", "status": ',
        {"type": "incident", "status": "triggered"},
        {"incidents": [incident("PA")], "more": False},
    ]
    report = ingest(home, ndjson(tmp_path, "pages.ndjson", lines))
    assert (report.read, report.loaded, report.duplicates, report.quarantined) == (6, 3, 1, 2)
    assert sorted(incidents(home)) == ["pagerduty:PA", "pagerduty:PB", "pagerduty:PC"]
    reasons = rejected(home)
    assert reasons["line 3"].startswith("invalid JSON")
    assert reasons["line 4"] == "id: required but missing"


# ---------------------------------------------------------------- file errors (every PagerDuty kind)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"incidents": [{"id": "P1", "status": "trig', "invalid JSON at line 1"),
        (b'{"data": [{"id": "P\xff"}]}', "not UTF-8"),
        (b"", "empty file"),
        (b'"just a string"', "expected a JSON array or object"),
    ],
)
def test_unreadable_files(home: DataHome, tmp_path: Path, kind: str, content: bytes, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    report = ingest_file(home, path, kind=kind)
    assert report.error is not None and message in report.error
    assert (report.loaded, report.quarantined) == (0, 0)
    assert incidents(home) == {}


def test_wrapper_of_wrong_type_is_a_file_error(home: DataHome, tmp_path: Path) -> None:
    report = ingest_file(home, write(tmp_path, "w.json", {"incidents": {"id": "P1"}}), kind="pagerduty-incidents")
    assert report.error == "/incidents: expected an array, got dict"


# ---------------------------------------------------------------- log entries


def entry(eid: str, kind: str, at: str, incident_id: str | None = "PABC123") -> dict[str, Any]:
    rec: dict[str, Any] = {"id": eid, "type": kind, "created_at": at}
    if incident_id is not None:
        rec["incident"] = {"id": incident_id, "type": "incident_reference"}
    return rec


def events(home: DataHome) -> dict[str, dict[str, Any]]:
    return {r["event_id"]: r for r in scan(home, RAW_TABLES["incident_events"])}


def test_log_entries_sample(home: DataHome, samples: Path) -> None:
    report = ingest(home, samples / "pagerduty_incident_log_entries.json")
    assert (report.kind, report.read, report.loaded) == ("pagerduty-log-entries", 1, 1)
    row = events(home)["pagerduty:Q02JTSNZWHSEKV"]
    assert (row["incident_id"], row["event_type"], row["source"]) == ("pagerduty:PT4KHLK", "trigger", "pagerduty")
    assert row["created_at"] == utc(2015, 11, 7, 0, 14, 20)
    assert ingest(home, samples / "pagerduty_incident_log_entries.json").loaded == 0


def test_log_entries_in_account_time_zone(home: DataHome, tmp_path: Path) -> None:
    doc = {
        "log_entries": [
            entry("L1", "trigger_log_entry", "2026-11-23T05:00:00-05:00"),
            entry("L2", "acknowledge_log_entry", "2026-11-23T11:04:00+01:00"),
            entry("L3", "unacknowledge_log_entry", "2026-11-23T10:10:00Z"),
            entry("L4", "resolve_log_entry", "2026-11-23T05:30:00-0500"),
            entry("L5", "exploded", "2026-11-23T10:00:00Z"),
            entry("L6", "annotate_log_entry", "2026-11-23T10:00:00Z", incident_id=None),
        ],
        "more": False,
    }
    report = ingest(home, write(tmp_path, "log.json", doc))
    assert (report.read, report.loaded, report.quarantined) == (6, 4, 2)
    rows = events(home)
    assert {k: (v["event_type"], v["created_at"]) for k, v in rows.items()} == {
        "pagerduty:L1": ("trigger", utc(2026, 11, 23, 10, 0)),
        "pagerduty:L2": ("acknowledge", utc(2026, 11, 23, 10, 4)),
        "pagerduty:L3": ("unacknowledge", utc(2026, 11, 23, 10, 10)),
        "pagerduty:L4": ("resolve", utc(2026, 11, 23, 10, 30)),
    }
    reasons = rejected(home)
    assert "not a log entry type" in reasons["/log_entries/4"]
    assert reasons["/log_entries/5"] == "incident.id: required but missing"


# ---------------------------------------------------------------- analytics


def analytics(aid: str = "PAN1", **over: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": aid,
        "created_at": "2023-05-31T10:05:00",
        "updated_at": "2023-06-04T00:00:00",
        "resolved_at": "2023-05-31T10:15:00",
        "status": "resolved",
        "seconds_to_first_ack": 120,
        "seconds_to_resolve": 600,
        "escalation_count": 2,
        "service_id": "PSVC9",
        "service_name": "search",
        "team_name": "Discovery",
        "priority_name": None,
        "urgency": "high",
        "description": "Search latency",
    }
    rec.update(over)
    return rec


def test_analytics_sample(home: DataHome, samples: Path) -> None:
    report = ingest(home, samples / "pagerduty_analytics_raw_incidents.json")
    # read 3: the incident, its first acknowledgement kept as an event, and a rejected record
    assert (report.kind, report.read, report.loaded, report.quarantined) == ("pagerduty-analytics", 3, 2, 1)
    row = incidents(home)["pagerduty:PYC0H08"]
    assert (row["service_ref"], row["service_name"], row["team"]) == ("PPSCXAN", "Engineering", None)
    assert (row["severity"], row["urgency"], row["title"]) == ("sev3", "low", "The server is on fire!")
    assert row["created_at"] == utc(2023, 5, 31, 10, 5)
    assert row["acknowledged_at"] == utc(2023, 5, 31, 10, 5, 5)
    assert row["resolved_at"] == utc(2023, 5, 31, 10, 15)
    assert row["escalations"] == 1
    # the second sample record resolves a day before it was created
    assert "resolved_at 2023-05-30T10:00:05+00:00 is before created_at" in rejected(home)["/data/1"]
    assert ingest(home, samples / "pagerduty_analytics_raw_incidents.json").loaded == 0


def test_analytics_naive_timestamps_in_time_zone(home: DataHome, tmp_path: Path) -> None:
    doc = {
        "data": [
            analytics("PSUMMER", priority_name="SEV-2"),
            analytics(
                "PWINTER",
                created_at="2023-01-10T10:00:00",
                resolved_at=None,
                updated_at=None,
                priority_name="P1",
                seconds_to_first_ack=None,
            ),
            analytics("PTOKYO", time_zone="Asia/Tokyo"),
        ],
        "time_zone": "America/New_York",
    }
    ingest(home, write(tmp_path, "an.json", doc))
    rows = incidents(home)
    summer, winter, tokyo = rows["pagerduty:PSUMMER"], rows["pagerduty:PWINTER"], rows["pagerduty:PTOKYO"]
    assert (summer["created_at"], summer["acknowledged_at"]) == (utc(2023, 5, 31, 14, 5), utc(2023, 5, 31, 14, 7))
    assert (summer["resolved_at"], summer["updated_at"]) == (utc(2023, 5, 31, 14, 15), utc(2023, 6, 4, 4))
    assert summer["severity"] == "sev2"
    assert (winter["created_at"], winter["acknowledged_at"]) == (utc(2023, 1, 10, 15), None)
    assert winter["resolved_at"] == utc(2023, 1, 10, 15, 10)  # from seconds_to_resolve
    assert winter["severity"] == "sev1"
    assert tokyo["created_at"] == utc(2023, 5, 31, 1, 5)


def test_analytics_without_or_with_unknown_time_zone(home: DataHome, tmp_path: Path) -> None:
    doc = {"data": [analytics("PNOZONE"), analytics("PMARS", time_zone="Mars/Olympus_Mons")]}
    report = ingest(home, write(tmp_path, "nozone.json", doc))
    assert (report.loaded, report.quarantined) == (0, 2)
    reasons = rejected(home)
    assert "no UTC offset" in reasons["/data/0"]
    assert "unknown time zone 'Mars/Olympus_Mons'" in reasons["/data/1"]


def test_analytics_and_incident_list_describe_one_incident(home: DataHome, tmp_path: Path) -> None:
    listed = incident("PSAME", status="triggered", created_at="2023-05-31T10:05:00Z", updated_at="2023-05-31T10:05:00Z")
    ingest(home, write(tmp_path, "list.json", {"incidents": [listed]}))
    ingest(home, write(tmp_path, "an.json", {"data": [analytics("PSAME")], "time_zone": "Etc/UTC"}))
    rows = incidents(home)
    assert list(rows) == ["pagerduty:PSAME"]
    assert (rows["pagerduty:PSAME"]["status"], rows["pagerduty:PSAME"]["escalations"]) == ("resolved", 2)
