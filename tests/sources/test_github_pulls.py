"""GitHub pull requests and pull request commit lists: real samples and edge cases."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind, ingest_file
from tests.sources.lake_rows import rejects
from tests.sources.test_github_common import UTC, ingest, sample, table, write  # noqa: F811

SHAS = [
    "4aadfff21cdd2d2566b0e4bd7309c233b5f4ae23",
    "93dcae5cf207de376c91d0599226e7c7563e1d16",
    "8a4f306d4b223682dd19410d4a9150636ebe4206",
]


# ---------------------------------------------------------------- pull requests


def test_pull_request_sample(home: DataHome, samples: Path) -> None:
    path = samples / "github_rest_pull_request.json"
    assert detect_kind(path) == "github-pulls"
    report = ingest(home, path)
    assert (report.read, report.loaded) == (1, 1)
    pr = table(home, "pull_requests")[("PyGithub/PyGithub", 31)]
    assert pr["title"] == "Title edited by PyGithub"
    assert pr["state"] == "closed"
    assert pr["base_ref"] == "topic/RewriteWithGeneratedCode"
    assert pr["head_sha"] == "8a4f306d4b223682dd19410d4a9150636ebe4206"
    assert pr["merge_commit_sha"] == "28ae6dd10ebccd5eaf8db8dacb5b699ee7f4a663"
    assert pr["created_at"] == datetime(2012, 5, 27, 9, 25, 36, tzinfo=UTC)
    assert pr["merged_at"] == datetime(2012, 5, 27, 10, 29, 7, tzinfo=UTC)
    assert ingest(home, path).loaded == 0


def test_newer_pull_request_version_wins(home: DataHome, samples: Path, tmp_path: Path) -> None:
    pr = sample(samples, "github_rest_pull_request.json")
    other = dict(copy.deepcopy(pr), number=32, merged_at=None, merge_commit_sha=None, state="open")
    ingest(home, write(tmp_path, "pulls-old.json", [pr, other]))
    newer = dict(pr, title="Renamed later", updated_at="2019-01-01T00:00:00Z")
    report = ingest(home, write(tmp_path, "pulls-new.json", [newer, other]))
    assert (report.loaded, report.duplicates) == (1, 1)
    rows = table(home, "pull_requests")
    assert rows[("PyGithub/PyGithub", 31)]["title"] == "Renamed later"
    assert rows[("PyGithub/PyGithub", 32)]["merged_at"] is None


def test_pull_request_without_repository_is_rejected(home: DataHome, samples: Path, tmp_path: Path) -> None:
    pr = sample(samples, "github_rest_pull_request.json")
    orphan = dict(pr, url="https://example.com/x/pulls/9", base={"ref": "main", "repo": None})
    report = ingest(home, write(tmp_path, "pulls.json", [pr, orphan]), kind="github-pulls")
    assert (report.loaded, report.quarantined) == (1, 1)
    assert "cannot tell its repository" in dict(rejects(home))["/1"]


# ---------------------------------------------------------------- pull request commits


def test_pull_commits_sample(home: DataHome, samples: Path) -> None:
    path = samples / "github_rest_pull_request_commits.json"
    assert detect_kind(path) == "github-pull-commits"
    report = ingest(home, path)
    assert (report.read, report.loaded) == (3, 3)
    rows = table(home, "changes")
    first = rows[(SHAS[0], "github-pull-commits")]
    assert first["repo"] == "PyGithub/PyGithub"  # from the commit url
    # written as 2012-05-27T00:33:23-07:00, the author's local time
    assert first["authored_at"] == datetime(2012, 5, 27, 7, 33, 23, tzinfo=UTC)
    assert first["pr_number"] is None  # the file name names no pull request
    assert first["merged_at"] is None
    assert ingest(home, path).loaded == 0


def test_pull_number_from_file_name(home: DataHome, samples: Path, tmp_path: Path) -> None:
    commits = sample(samples, "github_rest_pull_request_commits.json")
    report = ingest(home, write(tmp_path, "pygithub-pull-31-commits.json", commits))
    assert report.loaded == 3
    assert {r["pr_number"] for r in table(home, "changes").values()} == {31}


def test_wrapped_pull_commits_and_local_offsets(home: DataHome, samples: Path, tmp_path: Path) -> None:
    commits = sample(samples, "github_rest_pull_request_commits.json")
    commits[1]["commit"]["author"]["date"] = "2026-11-23T23:30:00+05:30"
    commits[2]["commit"]["author"]["date"] = "2026-11-23T10:00:00-0800"
    del commits[0]["sha"]
    wrapper = {"repository": "acme/checkout", "pull_number": 12, "commits": commits}
    report = ingest(home, write(tmp_path, "commits.json", wrapper))
    assert (report.read, report.loaded, report.quarantined) == (3, 2, 1)
    rows = table(home, "changes")
    assert rows[(SHAS[1], "github-pull-commits")]["authored_at"] == datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert rows[(SHAS[2], "github-pull-commits")]["authored_at"] == datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert {(r["repo"], r["pr_number"]) for r in rows.values()} == {("acme/checkout", 12)}
    assert rejects(home) == [("/commits/0", "commit: missing sha")]
    stored = rows[(SHAS[1], "github-pull-commits")]["authored_at"]
    assert stored.utcoffset() is not None and stored.astimezone(UTC).utcoffset() == timedelta(0)


def test_wrapper_with_a_bad_pull_number_is_a_file_error(home: DataHome, tmp_path: Path) -> None:
    path = write(tmp_path, "commits.json", {"repository": "acme/checkout", "pull_number": "twelve", "commits": []})
    report = ingest_file(home, path)
    assert report.error is not None and "pull_number" in report.error
