"""GitHub webhook deliveries: real samples, wrappers, NDJSON, redeliveries and bad deliveries."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind, ingest_file
from tests.sources.lake_rows import rejects
from tests.sources.test_github_common import UTC, ingest, sample, table, write


def ndjson(folder: Path, name: str, deliveries: list[Any]) -> Path:
    return write(folder, name, "\n".join(d if isinstance(d, str) else json.dumps(d) for d in deliveries) + "\n")


def test_deployment_status_delivery(home: DataHome, samples: Path) -> None:
    path = samples / "github_webhook_deployment_status.json"
    assert detect_kind(path) == "github-webhooks"
    report = ingest(home, path)
    assert (report.read, report.loaded, report.quarantined) == (2, 2, 0)
    dep = table(home, "deployments")["github:145988746"]
    assert (dep["repo"], dep["environment"], dep["ref"], dep["task"]) == (
        "Codertocat/Hello-World",
        "production",
        "master",
        "deploy",
    )
    assert dep["sha"] == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    assert dep["started_at"] == datetime(2019, 5, 15, 15, 20, 53, tzinfo=UTC)
    assert dep["status"] is None
    status = table(home, "deployment_statuses")["github:209916254"]
    assert (status["deploy_id"], status["state"]) == ("github:145988746", "success")
    assert status["created_at"] == datetime(2019, 5, 15, 15, 20, 55, tzinfo=UTC)
    again = ingest(home, path)
    assert (again.loaded, again.duplicates) == (0, 2)


def test_push_delivery(home: DataHome, samples: Path) -> None:
    path = samples / "github_webhook_push.json"
    assert detect_kind(path) == "github-webhooks"
    report = ingest(home, path)
    assert (report.read, report.loaded) == (1, 1)
    change = table(home, "changes")[("6113728f27ae82c7b1a177c8d03f9e96e0adf246", "github-push")]
    assert change["repo"] == "Codertocat/Hello-World"
    assert change["authored_at"] == datetime(2019, 5, 15, 15, 19, 25, tzinfo=UTC)
    # refs/heads/master is the default branch: merged at the push (repository.pushed_at 1557933657)
    assert change["merged_at"] == datetime(2019, 5, 15, 15, 20, 57, tzinfo=UTC)
    assert change["pr_number"] is None


def test_workflow_run_delivery(home: DataHome, samples: Path) -> None:
    path = samples / "github_webhook_workflow_run_completed.json"
    assert detect_kind(path) == "github-webhooks"
    ingest(home, path)
    run = table(home, "deployments")["github-run:289782451"]
    assert run["source"] == "github-actions"
    assert run["repo"] == "octo-org/octo-repo"
    assert run["workflow"] == "test .github/workflows/test.yml"  # the run's name is empty: the workflow's
    assert run["environment"] == "production"  # head_branch master is the default branch
    assert (run["status"], run["finished_at"]) == ("success", datetime(2020, 10, 5, 16, 33, 49, tzinfo=UTC))


def test_issues_delivery(home: DataHome, samples: Path, tmp_path: Path) -> None:
    path = samples / "github_webhook_issues_labeled.json"
    assert detect_kind(path) == "github-webhooks"
    report = ingest(home, path)
    assert (report.read, report.quarantined) == (1, 1)
    assert "Codertocat/Hello-World#1 is neither an incident, a postmortem nor an action item" in rejects(home)[0][1]

    delivery = sample(samples, "github_webhook_issues_labeled.json")
    delivery["issue"]["labels"].append({"name": "INCIDENT"})
    delivery["issue"]["body"] = "root cause: f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    ingest(home, write(tmp_path, "incident.json", delivery))
    inc = table(home, "incidents")["github-issue:Codertocat/Hello-World#1"]
    assert (inc["service_name"], inc["status"]) == ("Hello-World", "open")
    assert inc["caused_by_sha"] == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"


def test_ndjson_wrappers_redelivery_and_bad_lines(home: DataHome, samples: Path, tmp_path: Path) -> None:
    status = sample(samples, "github_webhook_deployment_status.json")
    push = sample(samples, "github_webhook_push.json")
    pull = {
        "action": "closed",
        "number": 31,
        "pull_request": sample(samples, "github_rest_pull_request.json"),
        "repository": push["repository"],
    }
    path = ndjson(
        tmp_path,
        "deliveries.ndjson",
        [
            status,
            status,  # redelivered
            {"event": "push", "payload": push},
            {"headers": {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "1"}, "payload": {"zen": "Keep it simple."}},
            '{"action": "created", "deployment_status": {',
            {"headers": {"x-github-event": "pull_request"}, "body": json.dumps(pull)},
            {"zen": "no event here"},
        ],
    )
    assert detect_kind(path) == "github-webhooks"
    report = ingest(home, path)
    assert (report.read, report.loaded, report.duplicates, report.quarantined) == (9, 4, 2, 3)
    pr = table(home, "pull_requests")[("Codertocat/Hello-World", 31)]  # the delivery's repository
    assert pr["merge_commit_sha"] == "28ae6dd10ebccd5eaf8db8dacb5b699ee7f4a663"
    reasons = dict(rejects(home))
    assert reasons["line 4"].startswith("unsupported webhook event 'ping'")
    assert reasons["line 5"].startswith("invalid JSON")
    assert reasons["line 7"].startswith("unsupported webhook event")


def test_push_variants(home: DataHome, samples: Path, tmp_path: Path) -> None:
    push = sample(samples, "github_webhook_push.json")
    feature = copy.deepcopy(push)
    feature.update(ref="refs/heads/feature", after="1" * 40)
    feature["commits"][0].update(id="a" * 40, timestamp="2026-11-23T10:00:00-08:00")
    feature["commits"].append({"message": "no id"})
    deleted = dict(copy.deepcopy(push), deleted=True, commits=[], head_commit=None)
    iso_push = copy.deepcopy(push)
    iso_push["repository"]["pushed_at"] = "2026-11-24T09:00:00+01:00"
    iso_push["commits"][0]["id"] = "b" * 40
    report = ingest(home, write(tmp_path, "pushes.json", [feature, deleted, iso_push]))
    assert (report.read, report.loaded, report.quarantined) == (4, 2, 2)
    rows = table(home, "changes")
    on_feature = rows[("a" * 40, "github-push")]
    assert on_feature["authored_at"] == datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert on_feature["merged_at"] is None  # not the default branch
    assert rows[("b" * 40, "github-push")]["merged_at"] == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    reasons = dict(rejects(home))
    assert reasons["/0/commits/1"] == "push commit: not an object with an id"
    assert reasons["/1"].startswith("push without commits")


def test_single_wrapped_delivery_and_unknown_state(home: DataHome, samples: Path, tmp_path: Path) -> None:
    status = sample(samples, "github_webhook_deployment_status.json")
    status["deployment_status"]["state"] = "exploded"
    path = write(tmp_path, "one.json", {"event": "deployment_status", "payload": status})
    assert detect_kind(path) == "github-webhooks"
    report = ingest(home, path)
    assert (report.read, report.loaded, report.quarantined) == (2, 1, 1)
    [(locator, reason)] = rejects(home)
    assert locator == "/payload/deployment_status"
    assert reason.startswith("state: 'exploded' is not one of")


def test_truncated_webhook_file(home: DataHome, samples: Path, tmp_path: Path) -> None:
    text = (samples / "github_webhook_push.json").read_text()
    path = write(tmp_path, "cut.json", text[: len(text) // 2])
    report = ingest_file(home, path, kind="github-webhooks")
    assert report.error is not None and report.error.startswith("invalid JSON at line")
    assert table(home, "changes") == {}
