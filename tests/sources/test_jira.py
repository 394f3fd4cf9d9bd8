"""Jira issues adapter (postmortem action items), from the real sample and edge cases."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind, ingest_file
from ops_warehouse.sources.base import Sniff
from ops_warehouse.sources.jira_issues import ADAPTER
from ops_warehouse.tables import RAW_TABLES
from tests.sources.lake_rows import ingest, rejected, scan, utc

SAMPLE = "jira_issues_in_sprint_search_response.json"


def write(tmp_path: Path, name: str, issues: list[Any]) -> Path:
    """A Jira search response holding ``issues``."""
    path = tmp_path / name
    path.write_text(json.dumps({"startAt": 0, "maxResults": 50, "total": len(issues), "issues": issues}))
    return path


def items(home: DataHome) -> dict[str, dict[str, Any]]:
    return {r["item_id"]: r for r in scan(home, RAW_TABLES["action_items"])}


def issue(key: str = "PM-1", category: str = "new", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "summary": "Add a canary stage",
        "created": "2026-11-20T09:00:00.000-0800",
        "updated": "2026-11-21T09:00:00.000-0800",
        "duedate": "2026-11-27",
        "project": {"key": "PM", "name": "Postmortems"},
        "assignee": {"name": "jdoe", "displayName": "Jane Doe"},
        "labels": [],
        "issuelinks": [],
        "resolution": None,
        "resolutiondate": None,
        "status": {"name": "To Do", "statusCategory": {"key": category, "name": "To Do"}},
    }
    base.update(fields)
    return {"id": "1", "key": key, "fields": base}


def test_detects_sample_and_nothing_else(samples: Path) -> None:
    assert detect_kind(samples / SAMPLE) == "jira-issues"
    claimed = [p.name for p in sorted(samples.iterdir()) if p.name != SAMPLE and ADAPTER.detect(Sniff(p))]
    assert claimed == []


def test_sample(home: DataHome, samples: Path) -> None:
    report = ingest(home, samples / SAMPLE)
    assert (report.kind, report.read, report.loaded, report.quarantined) == ("jira-issues", 1, 1, 0)
    row = items(home)["jira:AR-86"]
    assert (row["source"], row["owner"], row["team"]) == ("jira", "mister Morris", "AR")
    assert row["created_at"] == utc(2015, 12, 2, 15, 39, 15)
    assert row["updated_at"] == utc(2016, 2, 1, 16, 17, 4)
    # statusCategory "new" wins over the resolution "Done" and its resolutiondate
    assert (row["status"], row["completed_at"], row["resolution"]) == ("open", None, "Done")
    assert (row["due_date"], row["category"], row["incident_id"]) == (None, None, None)

    again = ingest(home, samples / SAMPLE)
    assert (again.loaded, again.duplicates) == (0, 1)


def test_mapping_dates_and_labels(home: DataHome, tmp_path: Path) -> None:
    labelled = issue("PM-2", labels=["action-item", "Short-Term", "incident:pagerduty:PT4KHLK", "team:payments"])
    ingest(home, write(tmp_path, "a.json", [issue(), labelled]))
    rows = items(home)
    plain = rows["jira:PM-1"]
    assert (plain["title"], plain["owner"], plain["team"], plain["status"]) == (
        "Add a canary stage",
        "Jane Doe",
        "PM",
        "open",
    )
    assert plain["created_at"] == utc(2026, 11, 20, 17)
    assert plain["due_date"] == date(2026, 11, 27)
    assert (plain["category"], plain["incident_id"]) == (None, None)
    tagged = rows["jira:PM-2"]
    assert (tagged["category"], tagged["incident_id"], tagged["team"]) == (
        "short_term",
        "pagerduty:PT4KHLK",
        "payments",
    )


def test_incident_from_issue_link(home: DataHome, tmp_path: Path) -> None:
    links = [
        {"type": {"name": "Relates"}, "outwardIssue": {"key": "PM-9", "fields": {"issuetype": {"name": "Task"}}}},
        {"type": {"name": "Blocks"}, "inwardIssue": {"key": "INC-42", "fields": {"issuetype": {"name": "Incident"}}}},
    ]
    ingest(home, write(tmp_path, "l.json", [issue(issuelinks=links, labels=["category:long-term"])]))
    row = items(home)["jira:PM-1"]
    assert (row["incident_id"], row["category"]) == ("jira:INC-42", "long_term")


def test_status_rules(home: DataHome, tmp_path: Path) -> None:
    issues = [
        issue("PM-10", "done", resolution={"name": "Done"}, resolutiondate="2026-11-25T10:00:00.000+0100"),
        issue("PM-11", "done", statuscategorychangedate="2026-11-26T08:00:00.000-0800"),
        issue("PM-12", "done"),
        issue("PM-13", "indeterminate", resolution={"name": "Fixed"}, resolutiondate="2026-11-25T10:00:00.000Z"),
        issue("PM-14", "done", resolution={"name": "Won\u2019t Do"}, resolutiondate="2026-11-25T10:00:00.000Z"),
        issue("PM-15", "done", resolution={"name": "Duplicate"}),
    ]
    ingest(home, write(tmp_path, "s.json", issues))
    got = {k: (v["status"], v["completed_at"]) for k, v in items(home).items()}
    assert got == {
        "jira:PM-10": ("done", utc(2026, 11, 25, 9)),
        "jira:PM-11": ("done", utc(2026, 11, 26, 16)),
        "jira:PM-12": ("done", None),
        "jira:PM-13": ("open", None),
        "jira:PM-14": ("not_doing", None),
        "jira:PM-15": ("not_doing", None),
    }
    assert items(home)["jira:PM-14"]["resolution"] == "Won\u2019t Do"


def test_later_export_completes_the_item(home: DataHome, tmp_path: Path) -> None:
    done = issue(
        "PM-1",
        "done",
        resolution={"name": "Done"},
        resolutiondate="2026-11-26T12:00:00.000Z",
        updated="2026-11-26T12:00:00.000Z",
    )
    ingest(home, write(tmp_path, "open.json", [issue()]))
    assert ingest(home, write(tmp_path, "done.json", [done])).loaded == 1
    assert ingest(home, tmp_path / "open.json").loaded == 0
    row = items(home)["jira:PM-1"]
    assert (row["status"], row["completed_at"]) == ("done", utc(2026, 11, 26, 12))


def test_bad_issues_are_quarantined(home: DataHome, tmp_path: Path) -> None:
    no_key = issue()
    del no_key["key"]
    no_status = issue("PM-3")
    del no_status["fields"]["status"]
    issues = [
        issue(),
        no_key,
        no_status,
        issue("PM-4", "exploded"),
        {"key": "PM-5"},
        issue("PM-6", created=None),
        issue("PM-7", duedate="next week"),
        "PM-8",
    ]
    report = ingest(home, write(tmp_path, "bad.json", issues))
    assert (report.read, report.loaded, report.quarantined) == (8, 1, 7)
    reasons = rejected(home)
    assert reasons["/issues/1"] == "key: required but missing"
    assert reasons["/issues/2"] == "fields.status.statusCategory.key: required but missing"
    assert "'exploded' is not one of" in reasons["/issues/3"]
    assert reasons["/issues/4"] == "fields: expected an object"
    assert reasons["/issues/5"] == "created_at: required but missing"
    assert reasons["/issues/6"].startswith("due_date: not a date")
    assert reasons["/issues/7"] == "expected a JSON object, got str"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"issues": [{"key": "PM-1", "fields": {', "invalid JSON at line 1"),
        (b'{"issues": [{"key": "PM-\xff"}]}', "not UTF-8"),
        (b"", "empty file"),
        (b"null", "expected a JSON array or object"),
    ],
)
def test_unreadable_files(home: DataHome, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    report = ingest_file(home, path, kind="jira-issues")
    assert report.error is not None and message in report.error
    assert items(home) == {}


def test_postmortems_are_not_action_items(home: DataHome, tmp_path: Path) -> None:
    """METRICS.md: a Jira issue of type Postmortem, or labelled postmortem, is a postmortem; its
    incident is the ``incident:<ref>`` label as written (resolved by core.postmortems)."""
    incident = {"key": "INC-7", "fields": {"issuetype": {"name": "Incident"}}}
    links = [{"type": {"name": "Relates"}, "inwardIssue": incident}]
    issues = [
        issue(
            "PM-20",
            "done",
            issuetype={"name": "Postmortem"},
            labels=["incident:PT4KHLK"],
            resolution={"name": "Done"},
            resolutiondate="2026-11-30T10:00:00.000+0100",
        ),
        issue("PM-21", "indeterminate", labels=["Postmortem", "incident:pagerduty:PT4KHLK"]),
        issue(
            "PM-22",
            "done",
            issuetype={"name": "Post-incident review"},
            issuelinks=links,
            resolution={"name": "Won't Do"},
            resolutiondate="2026-11-30T10:00:00.000Z",
        ),
        issue("PM-23", labels=["action-item", "incident:PT4KHLK"]),
    ]
    report = ingest(home, write(tmp_path, "pm.json", issues))
    assert (report.read, report.loaded, report.quarantined) == (4, 4, 0)
    assert set(items(home)) == {"jira:PM-23"}
    pms = {r["postmortem_id"]: r for r in scan(home, RAW_TABLES["postmortems"])}
    published = pms["jira:PM-20"]
    assert (published["incident_id"], published["status"], published["source"]) == ("PT4KHLK", "published", "jira")
    assert published["published_at"] == utc(2026, 11, 30, 9)
    assert published["created_at"] == utc(2026, 11, 20, 17)
    assert (published["title"], published["owner"]) == ("Add a canary stage", "Jane Doe")
    draft = pms["jira:PM-21"]
    assert (draft["incident_id"], draft["status"], draft["published_at"]) == ("pagerduty:PT4KHLK", "draft", None)
    cancelled = pms["jira:PM-22"]
    assert (cancelled["incident_id"], cancelled["status"]) == ("jira:INC-7", "cancelled")
    assert cancelled["published_at"] is None
