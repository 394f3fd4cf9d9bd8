"""GitHub REST deployments, deployment statuses and workflow runs: real samples and edge cases."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind, ingest_file
from ops_warehouse.sources.base import Sniff, all_adapters
from tests.sources.lake_rows import rejects
from tests.sources.test_github_common import UTC, ingest, sample, table, write

# ---------------------------------------------------------------- deployments


def test_deployments_sample(home: DataHome, samples: Path) -> None:
    path = samples / "github_rest_deployments_list.json"
    assert detect_kind(path) == "github-deployments"
    report = ingest(home, path)
    assert (report.read, report.loaded, report.quarantined) == (2, 2, 0)
    rows = table(home, "deployments")
    dep = rows["github:263877258"]
    assert dep["source"] == "github"
    assert dep["repo"] == "PyGithub/PyGithub"
    assert dep["environment"] == "test"
    assert dep["sha"] == "743f5a58b0bce91c4eab744ff7e39dfca9e6e8a5"
    assert dep["task"] == "deploy"
    assert dep["started_at"] == datetime(2020, 8, 26, 11, 44, 53, tzinfo=UTC)
    assert dep["status"] is None and dep["finished_at"] is None
    assert dep["is_rollback"] is False and dep["is_hotfix"] is False
    assert rows["github:262350588"]["environment"] == "production"
    again = ingest(home, path)
    assert (again.loaded, again.duplicates) == (0, 2)


def test_rollback_and_hotfix_markers(home: DataHome, samples: Path, tmp_path: Path) -> None:
    base = sample(samples, "github_rest_deployments_list.json")[0]
    variants = [
        ("deploy:rollback", {}),
        ("deploy", {"rollback": True}),
        ("deploy:hotfix", {}),
        ("deploy", '{"hotfix": true}'),  # payload as JSON text
        ("deploy", {"rollback": False}),
    ]
    deps = []
    for i, (task, payload) in enumerate(variants):
        dep = copy.deepcopy(base)
        dep.update(id=1000 + i, task=task, payload=payload)
        deps.append(dep)
    ingest(home, write(tmp_path, "deployments.json", deps))
    rows = table(home, "deployments")
    flags = [(rows[f"github:{1000 + i}"]["is_rollback"], rows[f"github:{1000 + i}"]["is_hotfix"]) for i in range(5)]
    assert flags == [(True, False), (True, False), (False, True), (False, True), (False, False)]


def test_overlapping_deployment_exports(home: DataHome, samples: Path, tmp_path: Path) -> None:
    first, second = sample(samples, "github_rest_deployments_list.json")
    third = copy.deepcopy(first)
    third.update(id=1, created_at="2020-08-27T09:00:00Z", updated_at="2020-08-27T09:00:00Z")
    ingest(home, write(tmp_path, "page1.json", [first, second]))
    report = ingest(home, write(tmp_path, "page2.json", [third, first]))
    assert (report.loaded, report.duplicates) == (1, 1)
    assert sorted(table(home, "deployments")) == ["github:1", "github:262350588", "github:263877258"]


def test_bad_deployment_records_are_quarantined(home: DataHome, samples: Path, tmp_path: Path) -> None:
    good = sample(samples, "github_rest_deployments_list.json")[0]
    no_id = {k: v for k, v in good.items() if k != "id"}
    no_created = dict(good, id=7)
    del no_created["created_at"]
    report = ingest(home, write(tmp_path, "deps.json", [good, no_id, no_created, 42]))
    assert (report.read, report.loaded, report.quarantined) == (4, 1, 3)
    reasons = dict(rejects(home))
    assert "missing or invalid id" in reasons["/1"]
    assert reasons["/2"] == "started_at: required but missing"
    assert reasons["/3"] == "expected a deployment object, got int"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"id": 1, "sha": "abc"', "invalid JSON at line 1"),
        (b'[{"id": 1, "task": "d\xe9ploy"}]', "not UTF-8"),
        ("", "empty file"),
        ("  \n", "empty file"),
        ("42", "expected a JSON array or object"),
        ('{"message": "Not Found", "documentation_url": "https://docs.github.com"}', "GitHub API error response"),
    ],
)
def test_unreadable_files_are_file_errors(home: DataHome, tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "deployments.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    report = ingest_file(home, path, kind="github-deployments")
    assert report.error is not None and message in report.error
    assert (report.loaded, report.quarantined) == (0, 0)
    assert table(home, "deployments") == {}


# ---------------------------------------------------------------- deployment statuses


def test_deployment_statuses_sample(home: DataHome, samples: Path) -> None:
    path = samples / "github_rest_deployment_statuses_list.json"
    assert detect_kind(path) == "github-deployment-statuses"
    report = ingest(home, path)
    assert (report.read, report.loaded) == (3, 3)
    rows = table(home, "deployment_statuses")
    st = rows["github:388454671"]
    assert st["deploy_id"] == "github:263877258"
    assert st["state"] == "queued"
    assert st["environment"] == "test"
    assert st["created_at"] == datetime(2020, 8, 26, 14, 32, 51, tzinfo=UTC)
    assert ingest(home, path).loaded == 0


def test_statuses_newest_first_inactive_and_unknown_state(home: DataHome, samples: Path, tmp_path: Path) -> None:
    base = sample(samples, "github_rest_deployment_statuses_list.json")[0]
    states = [
        ("exploded", "2020-08-26T16:00:00Z"),
        ("inactive", "2020-08-26T15:00:00Z"),
        ("success", "2020-08-26T14:40:00Z"),
    ]
    statuses = [dict(base, id=500 + i, state=s, created_at=t, updated_at=t) for i, (s, t) in enumerate(states)]
    no_deployment = dict(base, id=600)
    del no_deployment["deployment_url"]
    report = ingest(home, write(tmp_path, "statuses.json", [*statuses, no_deployment]))
    assert (report.read, report.loaded, report.quarantined) == (4, 2, 2)
    rows = table(home, "deployment_statuses")
    assert rows["github:501"]["state"] == "inactive"
    assert rows["github:502"]["state"] == "success"
    reasons = dict(rejects(home))
    assert reasons["/0"].startswith("state: 'exploded' is not one of")
    assert "deployment_url" in reasons["/3"]


# ---------------------------------------------------------------- workflow runs


def test_workflow_runs_sample(home: DataHome, samples: Path) -> None:
    path = samples / "github_rest_actions_runs.json"
    assert detect_kind(path) == "github-workflow-runs"
    report = ingest(home, path)
    assert (report.read, report.loaded) == (1, 1)
    run = table(home, "deployments")["github-run:3770390952"]
    assert run["source"] == "github-actions"
    assert run["repo"] == "PyGithub/PyGithub"
    assert run["workflow"] == "CI .github/workflows/ci.yml"
    assert run["environment"] == "production"  # REST lists do not say the default branch
    assert run["status"] == "success"
    assert run["sha"] == "84e26cfaa0eede8179f34272f03afa28d76a07a7"
    assert run["ref"] == "patch-1"
    assert run["started_at"] == datetime(2022, 12, 24, 7, 29, 12, tzinfo=UTC)
    assert run["finished_at"] == datetime(2024, 1, 29, 23, 29, 45, tzinfo=UTC)
    assert ingest(home, path).loaded == 0


def test_workflow_run_states(home: DataHome, samples: Path, tmp_path: Path) -> None:
    base = sample(samples, "github_rest_actions_runs.json")["workflow_runs"][0]
    cases = [
        ("completed", "timed_out"),
        ("completed", "startup_failure"),
        ("completed", "cancelled"),
        ("in_progress", None),
        ("queued", None),
        ("completed", "exploded"),
    ]
    runs = [dict(base, id=10 + i, status=s, conclusion=c) for i, (s, c) in enumerate(cases)]
    runs[0]["repository"] = dict(base["repository"], default_branch="main")
    runs[0]["head_branch"] = "feature"
    runs[1]["repository"] = dict(base["repository"], default_branch="patch-1")
    del runs[2]["run_started_at"]
    report = ingest(home, write(tmp_path, "runs.json", runs))  # a bare array of runs
    assert (report.read, report.loaded, report.quarantined) == (6, 5, 1)
    rows = table(home, "deployments")
    assert [rows[f"github-run:{10 + i}"]["status"] for i in range(5)] == [
        "failure",
        "error",
        "cancelled",
        "in_progress",
        "queued",
    ]
    assert rows["github-run:10"]["environment"] == "branch:feature"
    assert rows["github-run:11"]["environment"] == "production"
    assert rows["github-run:12"]["started_at"] == datetime(2022, 12, 24, 7, 29, 12, tzinfo=UTC)  # created_at
    assert rows["github-run:13"]["finished_at"] is None
    assert "unknown conclusion 'exploded'" in dict(rejects(home))["/5"]


# ---------------------------------------------------------------- detection


MINE = {
    "github-deployments",
    "github-deployment-statuses",
    "github-webhooks",
    "github-workflow-runs",
    "github-pulls",
    "github-pull-commits",
    "github-issues",
    "gitlab-deployments",
}


def test_every_kind_is_registered() -> None:
    assert MINE <= set(all_adapters())


def test_detectors_do_not_claim_other_samples(samples: Path) -> None:
    adapters = all_adapters()
    for path in sorted(samples.iterdir()):
        if path.name.startswith(("github_", "gitlab_")) or path.suffix == ".md":
            continue
        sniff = Sniff(path)
        claimed = [k for k in MINE if adapters[k].detect(sniff)]
        assert claimed == [], f"{path.name} claimed by {claimed}"
