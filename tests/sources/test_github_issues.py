"""GitHub issues as incidents and postmortem action items: real sample and edge cases."""

from __future__ import annotations

import copy
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind
from tests.sources.lake_rows import rejects
from tests.sources.test_github_common import UTC, ingest, sample, table, write

REPO = "PyGithub/PyGithub"


def issue(base: dict[str, Any], number: int, labels: list[str], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out.update(number=number, labels=[{"name": name} for name in labels], **changes)
    out["url"] = f"https://api.github.com/repos/{REPO}/issues/{number}"
    return out


def test_issue_sample_without_incident_label_is_quarantined(home: DataHome, samples: Path) -> None:
    path = samples / "github_rest_issue.json"
    assert detect_kind(path) == "github-issues"
    report = ingest(home, path)
    assert (report.read, report.loaded, report.quarantined) == (1, 0, 1)
    [(locator, reason)] = rejects(home)
    assert locator == "/"
    assert "PyGithub/PyGithub#28 is neither an incident, a postmortem nor an action item" in reason
    assert "bug, question" in reason


def test_incidents_action_items_and_pull_requests(home: DataHome, samples: Path, tmp_path: Path) -> None:
    base = sample(samples, "github_rest_issue.json")
    issues = [
        issue(
            base,
            40,
            ["Incident", "sev2"],
            state="open",
            closed_at=None,
            body="Checkout down.\n\nRoot cause: ABCDEF1234567 (bad config)",
            updated_at="2026-11-24T10:00:00Z",
        ),
        issue(
            base, 41, ["action-item", "short-term"], state="closed", state_reason="not_planned", body="incident: #40"
        ),
        issue(base, 42, ["action item", "Long_Term"], state="closed", state_reason="completed"),
        issue(base, 43, ["follow-up"], state="open", closed_at=None, milestone=None, assignees=[], assignee=None),
        dict(issue(base, 44, ["incident"]), pull_request={"url": f"https://api.github.com/repos/{REPO}/pulls/44"}),
        issue(base, 45, ["bug"]),
        "not an issue",
    ]
    path = write(tmp_path, "issues.json", issues)  # newest first or not, order does not matter
    assert detect_kind(path) == "github-issues"
    report = ingest(home, path)
    assert (report.read, report.loaded, report.quarantined) == (7, 4, 3)

    inc = table(home, "incidents")[f"github-issue:{REPO}#40"]
    assert inc["source"] == "github"
    assert (inc["service_ref"], inc["service_name"]) == (REPO, "PyGithub")
    assert inc["severity"] == "sev2"
    assert inc["status"] == "open"
    assert inc["resolved_at"] is None
    assert inc["caused_by_sha"] == "abcdef1234567"
    assert inc["created_at"] == datetime(2012, 5, 19, 10, 38, 23, tzinfo=UTC)

    items = table(home, "action_items")
    not_doing = items[f"github-issue:{REPO}#41"]
    assert (not_doing["status"], not_doing["completed_at"], not_doing["category"]) == ("not_doing", None, "short_term")
    assert not_doing["incident_id"] == f"github-issue:{REPO}#40"
    assert not_doing["due_date"] == date(2012, 8, 5)  # milestone due_on 2012-08-05T07:00:00Z
    done = items[f"github-issue:{REPO}#42"]
    assert (done["status"], done["category"], done["owner"]) == ("done", "long_term", "jacquev6")
    assert done["completed_at"] == datetime(2012, 5, 26, 14, 59, 33, tzinfo=UTC)
    open_item = items[f"github-issue:{REPO}#43"]
    assert (open_item["status"], open_item["due_date"], open_item["owner"]) == ("open", None, "jacquev6")

    reasons = dict(rejects(home))
    assert "#44 is a pull request" in reasons["/4"]
    assert "neither an incident, a postmortem nor an action item" in reasons["/5"]
    assert reasons["/6"] == "expected an issue object, got str"
    assert ingest(home, path).loaded == 0


def test_search_answer_wrapper(home: DataHome, samples: Path, tmp_path: Path) -> None:
    base = sample(samples, "github_rest_issue.json")
    doc = {"total_count": 1, "incomplete_results": False, "items": [issue(base, 50, ["incident", "SEV1"])]}
    path = write(tmp_path, "search.json", doc)
    assert detect_kind(path) == "github-issues"
    ingest(home, path)
    inc = table(home, "incidents")[f"github-issue:{REPO}#50"]
    assert inc["severity"] == "sev1"
    assert inc["resolved_at"] == datetime(2012, 5, 26, 14, 59, 33, tzinfo=UTC)
    assert inc["caused_by_sha"] is None  # "Body edited by PyGithub" names no root cause
    assert rejects(home) == []


def test_postmortem_issues_are_postmortems_not_action_items(home: DataHome, samples: Path, tmp_path: Path) -> None:
    """METRICS.md: an issue labelled postmortem is a postmortem (``incident: <ref>`` in its body),
    even when it also carries an action-item label."""
    base = sample(samples, "github_rest_issue.json")
    issues = [
        issue(base, 50, ["postmortem"], state="open", closed_at=None, body="Draft.\n\nincident: #40\n"),
        issue(
            base,
            51,
            ["Post-Mortem", "action-item"],
            state="closed",
            state_reason="completed",
            body="**Incident:** acme/ops#12",
        ),
        issue(
            base,
            52,
            ["postmortem"],
            state="closed",
            state_reason="completed",
            body="incident: https://acme.pagerduty.com/incidents/PT4KHLK",
        ),
        issue(base, 53, ["postmortem"], state="closed", state_reason="not_planned", body="Incident ID: `PXYZ123`"),
        issue(base, 54, ["postmortem"], state="open", closed_at=None, body="no reference to anything"),
    ]
    report = ingest(home, write(tmp_path, "pm.json", issues))
    assert (report.read, report.loaded, report.quarantined) == (5, 5, 0)
    assert table(home, "action_items") == {}
    pms = table(home, "postmortems")
    draft = pms[f"github-issue:{REPO}#50"]
    assert (draft["incident_id"], draft["status"], draft["published_at"], draft["source"]) == (
        f"github-issue:{REPO}#40",
        "draft",
        None,
        "github",
    )
    assert draft["created_at"] == datetime(2012, 5, 19, 10, 38, 23, tzinfo=UTC)
    published = pms[f"github-issue:{REPO}#51"]
    assert (published["incident_id"], published["status"]) == ("github-issue:acme/ops#12", "published")
    assert published["published_at"] == datetime(2012, 5, 26, 14, 59, 33, tzinfo=UTC)  # closed_at
    assert pms[f"github-issue:{REPO}#52"]["incident_id"] == "PT4KHLK"
    cancelled = pms[f"github-issue:{REPO}#53"]
    assert (cancelled["incident_id"], cancelled["status"], cancelled["published_at"]) == ("PXYZ123", "cancelled", None)
    assert pms[f"github-issue:{REPO}#54"]["incident_id"] is None
