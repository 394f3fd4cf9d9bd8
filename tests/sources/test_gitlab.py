"""GitLab deployments: real sample, status mapping and bad records."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind
from tests.sources.lake_rows import rejects
from tests.sources.test_github_common import UTC, ingest, sample, table, write


def test_gitlab_sample(home: DataHome, samples: Path) -> None:
    path = samples / "gitlab_deployment_get_example.json"
    assert detect_kind(path) == "gitlab-deployments"
    report = ingest(home, path)
    assert (report.read, report.loaded) == (1, 1)
    dep = table(home, "deployments")["gitlab:42"]
    assert dep["source"] == "gitlab"
    assert dep["repo"] == "root/project"  # from the pipeline's web_url
    assert (dep["environment"], dep["ref"]) == ("production", "main")
    assert dep["sha"] == "a91957a858320c0e17f3a0eca7cfacbff50ea29a"
    assert dep["status"] == "success"
    assert dep["started_at"] == datetime(2016, 8, 11, 11, 32, 35, 444000, tzinfo=UTC)
    assert dep["finished_at"] == datetime(2016, 8, 11, 11, 32, 35, 145000, tzinfo=UTC)
    assert ingest(home, path).loaded == 0


def test_gitlab_statuses(home: DataHome, samples: Path, tmp_path: Path) -> None:
    base = sample(samples, "gitlab_deployment_get_example.json")
    statuses = ["failed", "canceled", "running", "created", "blocked", "skipped", "exploded"]
    deps = []
    for i, status in enumerate(statuses):
        dep = copy.deepcopy(base)
        dep.update(id=100 + i, status=status)
        deps.append(dep)
    deps[0]["deployable"]["finished_at"] = None  # falls back to updated_at
    deps[1]["project"] = {"path_with_namespace": "acme/checkout"}
    deps[2]["deployable"]["pipeline"]["web_url"] = "https://gitlab.example.com/acme/web/shop/-/pipelines/7"
    deps.append({"iid": 3, "status": "success"})
    path = write(tmp_path, "gitlab.json", deps)
    assert detect_kind(path) == "gitlab-deployments"
    report = ingest(home, path)
    assert (report.read, report.loaded, report.quarantined) == (8, 6, 2)
    rows = table(home, "deployments")
    got = [
        (rows[f"gitlab:{100 + i}"]["status"], rows[f"gitlab:{100 + i}"]["finished_at"] is not None) for i in range(6)
    ]
    assert got == [
        ("failure", True),
        ("cancelled", True),
        ("in_progress", False),
        ("pending", False),
        ("pending", False),
        ("cancelled", True),
    ]
    assert rows["gitlab:100"]["finished_at"] == datetime(2016, 8, 11, 11, 34, 1, 123000, tzinfo=UTC)
    assert rows["gitlab:101"]["repo"] == "acme/checkout"
    assert rows["gitlab:102"]["repo"] == "acme/web/shop"
    reasons = dict(rejects(home))
    assert reasons["/6"] == "GitLab deployment 106: unknown status 'exploded'"
    assert "missing or invalid id" in reasons["/7"]
