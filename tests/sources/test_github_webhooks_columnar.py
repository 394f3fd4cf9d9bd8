"""The GitHub webhooks' columnar path against their record-by-record path: the same file gives the
same rows, the same quarantine and the same accounting, on the real samples and on deliveries with
every kind of unusual or bad value; a plain file is handled by the columnar path alone, and a file
with a delivery it cannot map exactly goes record by record."""

from __future__ import annotations

import copy
import gc
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.sources import github_webhooks
from ops_warehouse.sources.base import ReadContext
from ops_warehouse.tables import RAW_TABLES, REJECTED_ROWS
from tests.sources.lake_rows import accounting, ingest, scan
from tests.sources.test_github_common import sample

STRIP = ("source_file", "ingested_at")
_DROP = object()


def _status(samples: Path, *, dep: Any = None, st: Any = None, **top: Any) -> dict[str, Any]:
    """The real deployment_status delivery with fields of the deployment (``dep``), of the status
    (``st``) and of the delivery replaced (``_DROP`` removes one)."""
    delivery = sample(samples, "github_webhook_deployment_status.json")
    _replace(delivery["deployment"], dep or {})
    _replace(delivery["deployment_status"], st or {})
    _replace(delivery, top)
    return delivery


def _replace(obj: dict[str, Any], fields: dict[str, Any]) -> None:
    """``obj``'s fields replaced by ``fields`` (``_DROP`` removes one)."""
    for k, v in fields.items():
        if v is _DROP:
            obj.pop(k, None)
        else:
            obj[k] = v


def _later(samples: Path) -> dict[str, Any]:
    """A later status of the same deployment: the deployment's updated_at moves on."""
    return _status(
        samples,
        dep={"updated_at": "2019-05-15T15:30:00Z", "description": "rolled out"},
        st={"id": 209916299, "state": "inactive", "created_at": "2019-05-15T15:30:00Z"},
    )


def _deployment_event(samples: Path, **fields: Any) -> dict[str, Any]:
    delivery = _status(samples, dep={"id": 7, **fields}, deployment_status=_DROP)
    delivery["action"] = "created"
    return delivery


def _base(samples: Path) -> list[Any]:
    """The real sample, redelivered, a later status of its deployment, and a deployment event."""
    first = _status(samples)
    return [first, first, _later(samples), _deployment_event(samples)]


def _write(tmp_path: Path, lines: list[Any], name: str = "deliveries.ndjson") -> Path:
    path = tmp_path / name
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def _lake(home: DataHome) -> list[list[dict[str, Any]]]:
    def order(r: dict[str, Any]) -> str:
        return json.dumps(r, default=str, sort_keys=True)

    tables = (RAW_TABLES["deployments"], RAW_TABLES["deployment_statuses"], RAW_TABLES["changes"], REJECTED_ROWS)
    return [sorted(({k: v for k, v in r.items() if k not in STRIP} for r in scan(home, t)), key=order) for t in tables]


def _both(home: DataHome, tmp_path: Path, path: Path, monkeypatch: pytest.MonkeyPatch, *, columnar_alone: bool) -> Any:
    """Ingest the file by the columnar path into ``home`` and record by record into another home;
    assert the two agree and return the columnar ingest's report. ``columnar_alone``: the
    record-by-record reader must not be needed; else the columnar path must give way."""
    monkeypatch.setattr(github_webhooks, "BULK_MIN_BYTES", 0)
    with monkeypatch.context() as m:
        if columnar_alone:

            def refuse(self: Any, ctx: Any) -> Any:
                raise AssertionError("the columnar path gave way to the record-by-record reader")

            m.setattr(github_webhooks.GithubWebhooksAdapter, "read", refuse)
        else:
            assert github_webhooks.ADAPTER.bulk(ReadContext(path, scratch=tmp_path / "scratch")) is None
        columnar = ingest(home, path, kind="github-webhooks")
    assert columnar.ok, columnar.line()
    other = DataHome.resolve(tmp_path / f"by-record-{path.stem}").ensure()
    with monkeypatch.context() as m:
        m.setattr(github_webhooks.GithubWebhooksAdapter, "bulk", lambda self, ctx: None)
        by_record = ingest(other, path, kind="github-webhooks")
    assert accounting(columnar) == accounting(by_record)
    assert _lake(home) == _lake(other)
    return columnar


def test_a_plain_file_takes_the_columnar_path(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    report = _both(home, tmp_path, _write(tmp_path, _base(samples)), monkeypatch, columnar_alone=True)
    # 3 status deliveries (one redelivered) of one deployment, and a deployment event of another
    assert (report.read, report.loaded, report.duplicates, report.quarantined) == (7, 4, 3, 0)
    deployments, statuses, _, _ = _lake(home)
    first = next(d for d in deployments if d["deploy_id"] == "github:145988746")
    assert first["updated_at"].minute == 30  # the later version
    assert {s["state"] for s in statuses} == {"success", "inactive"}
    assert {d["deploy_id"] for d in deployments} == {"github:145988746", "github:7"}


def _own(samples: Path, n: int, *, dep: Any = None, st: Any = None, **top: Any) -> dict[str, Any]:
    """A status delivery of deployment ``n`` (status ``n``), not the sample's."""
    return _status(samples, dep={"id": n, **(dep or {})}, st={"id": n, **(st or {})}, **top)


def _push(samples: Path, *, commits: Any = None, repository: Any = None, **top: Any) -> dict[str, Any]:
    """The real push delivery (to the default branch, its time in epoch seconds) with its commits'
    fields (``commits``: one dict per commit), its repository's and its own replaced (``_DROP``
    removes one)."""
    push = sample(samples, "github_webhook_push.json")
    if commits is not None:
        push["commits"] = [{**push["commits"][0], **c} for c in commits]
        push["commits"] = [{k: v for k, v in c.items() if v is not _DROP} for c in push["commits"]]
    _replace(push["repository"], repository or {})
    _replace(push, top)
    return push


def _clean_cases(samples: Path) -> dict[str, list[Any]]:
    """Deliveries the columnar path maps itself, exactly as the mapper does."""
    s = samples
    return {
        "hotfix task": [_own(s, 1, dep={"task": " Deploy:HOTFIX\u3000"})],
        "rollback task": [_own(s, 2, dep={"task": "ROLLBACK"})],
        "state to lower case": [_own(s, 3, st={"state": " SUCCESS\t"})],
        "original environment": [_own(s, 4, dep={"environment": _DROP, "original_environment": " qa "})],
        "environment not text": [_own(s, 5, dep={"environment": 7, "original_environment": "qa"})],
        "escapes and white space": [
            _own(
                s,
                6,
                dep={"ref": 'feat/"x"\u00e9', "sha": "\u2003abc\n", "task": ""},
                st={"environment": "  "},
                repository={"full_name": " o/r\u00e9 "},
            )
        ],
        "offsets and fractions": [
            _own(
                s,
                7,
                dep={"created_at": "2019-05-15T20:50:53.5+05:30", "updated_at": "2019-05-15T15:20:55.123456Z"},
                st={"created_at": "2019-05-15T10:20:55-05:00", "updated_at": None},
            )
        ],
        "versions without updated_at": [
            _own(s, 8, dep={"updated_at": None, "sha": "a"}),
            _own(s, 8, dep={"sha": "b"}),
            _own(s, 8, dep={"updated_at": _DROP, "sha": "c"}),
        ],
        "the later of equal versions": [
            _own(s, 9, dep={"sha": "a"}, st={"environment": "x"}),
            _own(s, 9, dep={"sha": "b"}, st={"environment": "y"}),
            _own(s, 9, dep={"sha": "c", "updated_at": "2019-05-15T15:20:55+00:00"}, st={"environment": "z"}),
        ],
        "large and negative ids": [_own(s, 123456789012345678901234, st={"id": -3})],
        "payloads": [
            _own(s, 10, dep={"payload": {"region": "eu", "notes": {"x": 1}}}),
            _own(s, 11, dep={"payload": None}),
            _own(s, 12, dep={"payload": [1]}),
            _own(s, 13, dep={"payload": _DROP}),
        ],
        "other objects beside": [_own(s, 14, workflow_run=None, payload={"x": 1}, event="push", headers={})],
        "blank lines": ["", _own(s, 15), "   ", "", _own(s, 16), "\t"],
        "deployment events": [_deployment_event(s), _deployment_event(s, updated_at="2020-01-01T00:00:00Z")],
        "CRLF line ends": [json.dumps(_own(s, 17)) + "\r", json.dumps(_own(s, 18)) + "\r"],
        "a line separator in text": [_own(s, 19, dep={"ref": "a\u2028b"})],
        "push": [_push(s), _push(s)],
        "push to another branch": [_push(s, ref="refs/heads/feature", commits=[{"id": "f1"}, {"id": " f2 "}])],
        "push time as text": [_push(s, repository={"pushed_at": " 2019-05-15T17:20:57+02:00"})],
        "push time of the head commit": [
            _push(s, repository={"pushed_at": _DROP}),
            _push(s, repository={"pushed_at": None}, commits=[{"id": "c2"}]),
            _push(s, repository={"pushed_at": ""}, commits=[{"id": "c3"}], head_commit=None),
        ],
        "push time of a float on another branch": [_push(s, ref="refs/heads/x", repository={"pushed_at": 1.5})],
        "master branch": [_push(s, repository={"default_branch": _DROP, "master_branch": "master"})],
        "push ref not text": [_push(s, ref=7)],
        "push without repository": [_push(s, repository=None) | {"repository": None}],
        "push without pusher": [_push(s, pusher=_DROP)],
        "a commit pushed again": [
            _push(s, ref="refs/heads/feature", commits=[{"id": "c1"}, {"id": "c2"}]),
            _push(s, commits=[{"id": "c2", "timestamp": "2019-05-15T08:19:25-07:00"}, {"id": "c1"}]),
        ],
        "pushes and deployments": [_push(s), _own(s, 25), _push(s, commits=[{"id": "c9"}])],
    }


def _unclean_cases(samples: Path) -> dict[str, list[Any]]:
    """Deliveries the columnar path cannot map exactly: the whole file goes record by record."""
    s = samples
    run = sample(samples, "github_webhook_workflow_run_completed.json")
    return {
        "wrapper": [{"event": "deployment_status", "payload": _status(s, deployment_status=_DROP)}],
        "wrapper with a header and body text": [
            {"headers": {"X-GitHub-Event": "deployment"}, "body": json.dumps(_deployment_event(s))}
        ],
        "push without commits": [_push(s, commits=[]) | {"commits": []}],
        "push commit without id": [_push(s, commits=[{"id": " "}])],
        "push commit id a number": [_push(s, commits=[{"id": 5}])],
        "push commit time a number": [_push(s, commits=[{"timestamp": 1557933565}])],
        "push commit time without offset": [_push(s, commits=[{"timestamp": "2019-05-15T15:19:25"}])],
        "push commit not an object": [_push(s) | {"commits": ["abc"]}],
        "push time as a float": [_push(s, repository={"pushed_at": 1557933657.5})],
        "push time not a time": [_push(s, repository={"pushed_at": "soon"})],
        "push with a pull request": [_push(s, pull_request={})],
        "push ref null": [_push(s, ref=None)],
        "push without full_name": [_push(s, repository={"full_name": _DROP})],
        "push commit on two days": [
            _push(s, commits=[{"id": "d1"}, {"id": "d1", "timestamp": "2019-05-17T10:00:00Z"}])
        ],
        "workflow run": [run],
        "workflow run with a deployment": [_status(s, workflow_run=run["workflow_run"], deployment_status=_DROP)],
        "issue": [sample(samples, "github_webhook_issues_labeled.json")],
        "id as text": [_status(s, dep={"id": "145988746"})],
        "status id as a float": [_status(s, st={"id": 1.5})],
        "no status id": [_status(s, st={"id": _DROP})],
        "payload as text": [_status(s, dep={"payload": '{"rollback": true}'})],
        "rollback flag": [_status(s, dep={"payload": {"rollback": True}})],
        "hotfix flag": [_status(s, dep={"payload": {"hotfix": "yes"}})],
        "epoch time": [_status(s, dep={"created_at": 1557933653})],
        "epoch update time": [_own(s, 24, dep={"updated_at": 1557933655})],
        "time with a space": [_status(s, dep={"created_at": "2019-05-15 15:20:53Z"})],
        "time without offset": [_status(s, st={"created_at": "2019-05-15T15:20:53"})],
        "no such day": [_status(s, dep={"created_at": "2019-02-30T15:20:53Z"})],
        "bad state": [_status(s, st={"state": "bogus"})],
        "state beyond ASCII": [_status(s, st={"state": "\u212aueued"})],
        "no environment": [_status(s, dep={"environment": None, "original_environment": _DROP})],
        "no started_at": [_status(s, dep={"created_at": ""})],
        "repository without full_name": [_status(s, repository={"url": "https://api.github.com/repos/o/r"})],
        "no repository": [_status(s, repository=_DROP)],
        "no deployment": [_status(s, deployment=_DROP)],
        "status not an object": [_status(s, deployment_status="created")],
        "empty status": [_status(s, deployment_status={})],
        "a number line": [5],
        "a null line": [None],
        "an array line": [[_status(s)]],
        "a broken line": ['{"deployment_status": {'],
        "a repeated key": ['{"deployment_status": {"id": 1}, "deployment_status": {"id": 2}}'],
        "versions on two days": [_status(s), _status(s, st={"created_at": "2019-05-16T15:20:55Z"})],
        "ping": [{"zen": "Keep it simple.", "hook_id": 1}],
        # JSON that DuckDB's reader takes and Python's refuses or reads otherwise
        "a trailing comma": [json.dumps(_own(s, 20))[:-1] + ", }"],
        "a nan literal": [json.dumps(_own(s, 21)).replace('"payload": {}', '"payload": nan')],
        "an infinite time": [json.dumps(_own(s, 22)).replace('"2019-05-15T15:20:53Z"', "-Infinity")],
        "an overflowing time": [json.dumps(_own(s, 23)).replace('"2019-05-15T15:20:53Z"', "1e999")],
    }


@pytest.mark.parametrize("case", sorted(_clean_cases(Path(__file__).parents[1] / "fixtures" / "samples")))
def test_columnar_path_matches_the_record_path_alone(
    case: str, home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    lines = [*_base(samples), *_clean_cases(samples)[case]]
    report = _both(home, tmp_path, _write(tmp_path, lines), monkeypatch, columnar_alone=True)
    assert report.quarantined == 0 and report.loaded > 0


@pytest.mark.parametrize("case", sorted(_unclean_cases(Path(__file__).parents[1] / "fixtures" / "samples")))
def test_columnar_path_gives_way_to_the_record_path(
    case: str, home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    lines = [*_base(samples), *_unclean_cases(samples)[case]]
    _both(home, tmp_path, _write(tmp_path, lines), monkeypatch, columnar_alone=False)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"", b"\xef\xbb\xbf"),  # a byte order mark
        (b'"deploy"', b'"dep\xff"'),  # not UTF-8
        (b"}\n", b"}\r"),  # two deliveries on a line, apart by a carriage return
    ],
)
def test_bytes_python_reads_otherwise_go_record_by_record(
    before: bytes, after: bytes, home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    data = _write(tmp_path, _base(samples)).read_bytes()
    path = tmp_path / "odd.ndjson"
    path.write_bytes(after + data if not before else data.replace(before, after, 1))
    _both(home, tmp_path, path, monkeypatch, columnar_alone=False)


def test_the_clean_cases_together(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    lines = [line for case in _clean_cases(samples).values() for line in case]
    report = _both(home, tmp_path, _write(tmp_path, [*_base(samples), *lines]), monkeypatch, columnar_alone=True)
    deployments, statuses, changes, _ = _lake(home)
    by_id = {d["deploy_id"]: d for d in deployments}
    assert report.quarantined == 0 and by_id["github:145988746"]["updated_at"].minute == 30
    assert by_id["github:123456789012345678901234"]["repo"] == "Codertocat/Hello-World"
    assert (by_id["github:1"]["task"], by_id["github:1"]["is_hotfix"], by_id["github:1"]["is_rollback"]) == (
        "Deploy:HOTFIX",
        True,
        False,
    )
    assert (by_id["github:2"]["is_hotfix"], by_id["github:2"]["is_rollback"]) == (False, True)
    assert [by_id[f"github:{n}"]["environment"] for n in (4, 5)] == ["qa", "qa"]
    assert (by_id["github:6"]["ref"], by_id["github:6"]["sha"], by_id["github:6"]["repo"]) == (
        'feat/"x"\u00e9',
        "abc",
        "o/r\u00e9",
    )
    assert by_id["github:8"]["sha"] == "b" and by_id["github:9"]["sha"] == "c"
    assert {s["status_id"]: s["environment"] for s in statuses}["github:9"] == "z"
    assert {s["status_id"]: s["state"] for s in statuses}["github:3"] == "success"
    by_sha = {c["change_id"]: c for c in changes}
    assert by_sha["f1"]["merged_at"] is None and by_sha["f2"]["repo"] == "Codertocat/Hello-World"
    # pushed to a branch, then to the default branch (the later version wins)
    assert (by_sha["c2"]["authored_at"], by_sha["c2"]["merged_at"]) == (
        datetime(2019, 5, 15, 15, 19, 25, tzinfo=UTC),
        datetime(2019, 5, 15, 15, 20, 57, tzinfo=UTC),
    )


def test_columnar_path_keeps_the_merge_rule_across_ingests(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    """A second file re-sending an older version of a deployment changes nothing."""
    monkeypatch.setattr(github_webhooks, "BULK_MIN_BYTES", 0)
    first = ingest(home, _write(tmp_path, _base(samples)), kind="github-webhooks")
    assert (first.loaded, first.duplicates) == (4, 3)
    older = copy.deepcopy(_status(samples))
    again = ingest(home, _write(tmp_path, [older, older], "again.ndjson"), kind="github-webhooks")
    assert (again.read, again.loaded, again.duplicates) == (4, 0, 4)
    deployments, _, _, _ = _lake(home)
    assert {d["updated_at"].minute for d in deployments if d["deploy_id"] == "github:145988746"} == {30}


def test_columnar_path_releases_its_own_scratch_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    """Without the engine's scratch folder the adapter makes its own: it goes once both tables are
    read, or with the last reference to batches that were never read."""
    path = _write(tmp_path, _base(samples))
    monkeypatch.setattr(github_webhooks, "BULK_MIN_BYTES", 0)
    own = tmp_path / "tmp"
    own.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(own))
    bulks = github_webhooks.ADAPTER.bulk(ReadContext(path))
    assert bulks is not None and [b.table for b in bulks] == ["deployments", "deployment_statuses"]
    (first,) = list(bulks[0].chunks)
    assert first.con is not None and list(own.iterdir()) != []
    (second,) = list(bulks[1].chunks)
    assert list(own.iterdir()) == []
    with pytest.raises(duckdb.ConnectionException):
        first.con.execute("SELECT 1")
    bulks = github_webhooks.ADAPTER.bulk(ReadContext(path))
    assert bulks is not None and list(own.iterdir()) != []
    del bulks
    gc.collect()
    assert list(own.iterdir()) == []
