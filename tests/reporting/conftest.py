"""A small warehouse built from canonical inputs, with figures that can be computed by hand.

Week under review: 2026-W10 (Mon 2 Mar 2026); previous week 2026-W09 (Mon 23 Feb).

- api (team core): W09 two successful production deploys of 10 min; W10 three successful (10, 20,
  30 min) and one failed attempt. The hostile service: one successful W10 deploy of 5 min.
- Incidents: W09 INC-0 sev2 api, ack after 2 min, resolved after 20. W10 INC-1 sev1 api, ack 4 min,
  resolved 40, caused by D3; INC-2 sev3 on the hostile service with a hostile title, ack 10 min,
  resolved 60. MTTA mean W10 = 7 min (W09 2), MTTR mean W10 = 50 min (W09 20).
- Action items: W09 A0 due 25 Feb done on time. W10 A1 due 4 Mar done on 3 Mar (on time), A2 due
  5 Mar done 7 Mar (late), A3 due 6 Mar still open (3 days overdue at the end of the week, owner is
  a hostile string). On-time rate W10 = 1/3, W09 = 1/1.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.models import build_models
from ops_warehouse.lake.publish import publish

HOSTILE_SERVICE = "<script>window.__pwned=1</script>"
HOSTILE_TEAM = "t\"'<b>&amp;"
HOSTILE_TITLE = "</script><script>document.title='pwned';window.__pwned=2</script> <!-- ünïcødé \"q\" 'q' \u2028"
HOSTILE_OWNER = '<img src=x onerror="window.__pwned=3">Zoë'
WEEK = "2026-W10"
PREV_WEEK = "2026-W09"

DEPLOYS = [
    # deploy_id, service, team, environment, sha, started_at, finished_at, status, is_rollback, is_hotfix
    ("D0", "api", "core", "production", "a" * 40, "2026-02-24T09:00:00Z", "2026-02-24T09:10:00Z", "success"),
    ("D0b", "api", "core", "production", "b" * 40, "2026-02-25T09:00:00Z", "2026-02-25T09:10:00Z", "success"),
    ("D1", "api", "core", "production", "c" * 40, "2026-03-02T09:00:00Z", "2026-03-02T09:10:00Z", "success"),
    ("D2", "api", "core", "production", "d" * 40, "2026-03-02T11:00:00Z", "2026-03-02T11:20:00Z", "success"),
    ("D3", "api", "core", "production", "e" * 40, "2026-03-03T09:00:00Z", "2026-03-03T09:30:00Z", "success"),
    ("D4", "api", "core", "production", "f" * 40, "2026-03-04T09:00:00Z", "2026-03-04T09:05:00Z", "failure"),
    (
        "H1",
        HOSTILE_SERVICE,
        HOSTILE_TEAM,
        "production",
        "9" * 40,
        "2026-03-05T08:00:00Z",
        "2026-03-05T08:05:00Z",
        "success",
    ),
]
INCIDENTS = [
    # incident_id, service, team, severity, title, created_at, acknowledged_at, resolved_at, caused_by_deploy_id
    (
        "INC-0",
        "api",
        "core",
        "sev2",
        "Slow api",
        "2026-02-24T12:00:00Z",
        "2026-02-24T12:02:00Z",
        "2026-02-24T12:20:00Z",
        "",
    ),
    (
        "INC-1",
        "api",
        "core",
        "sev1",
        "api down",
        "2026-03-03T10:00:00Z",
        "2026-03-03T10:04:00Z",
        "2026-03-03T10:40:00Z",
        "D3",
    ),
    (
        "INC-2",
        HOSTILE_SERVICE,
        HOSTILE_TEAM,
        "sev3",
        HOSTILE_TITLE,
        "2026-03-04T12:00:00Z",
        "2026-03-04T12:10:00Z",
        "2026-03-04T13:00:00Z",
        "",
    ),
]
ACTIONS = [
    # item_id, incident_id, title, owner, team, category, created_at, due_date, completed_at, status
    (
        "A0",
        "INC-0",
        "Add index",
        "Ana",
        "core",
        "immediate",
        "2026-02-24T13:00:00Z",
        "2026-02-25",
        "2026-02-25T10:00:00Z",
        "done",
    ),
    (
        "A1",
        "INC-1",
        "Add alert",
        "Ana",
        "core",
        "immediate",
        "2026-03-03T11:00:00Z",
        "2026-03-04",
        "2026-03-03T15:00:00Z",
        "done",
    ),
    (
        "A2",
        "INC-1",
        "Fix rollout",
        "Ben",
        "core",
        "immediate",
        "2026-03-03T11:00:00Z",
        "2026-03-05",
        "2026-03-07T15:00:00Z",
        "done",
    ),
    (
        "A3",
        "INC-2",
        HOSTILE_TITLE,
        HOSTILE_OWNER,
        "core",
        "immediate",
        "2026-03-04T14:00:00Z",
        "2026-03-06",
        "",
        "open",
    ),
]


def _write(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def build_small_warehouse(root: Path) -> DataHome:
    home = DataHome.resolve(root / "home").ensure()
    src = root / "exports"
    src.mkdir(parents=True, exist_ok=True)
    files = [
        _write(
            src / "deployments.csv",
            [
                "deploy_id",
                "service",
                "team",
                "environment",
                "sha",
                "started_at",
                "finished_at",
                "status",
                "is_rollback",
                "is_hotfix",
            ],
            [(*d, "false", "false") for d in DEPLOYS],
        ),
        _write(
            src / "incidents.csv",
            [
                "incident_id",
                "service",
                "team",
                "severity",
                "title",
                "created_at",
                "acknowledged_at",
                "resolved_at",
                "caused_by_deploy_id",
                "status",
            ],
            [(*i, "resolved") for i in INCIDENTS],
        ),
        # Without incident_id: the canonical adapter reads a header holding both incident_id and
        # created_at as ambiguous between incidents and action items.
        _write(
            src / "action_items.csv",
            ["item_id", "title", "owner", "team", "category", "created_at", "due_date", "completed_at", "status"],
            [(a[0], *a[2:]) for a in ACTIONS],
        ),
    ]
    for f in files:
        report = ingest_file(home, f)
        assert not report.error and report.quarantined == 0, report.line()
    build_models(home)
    publish(home)
    return home


@pytest.fixture(scope="session")
def small_home(tmp_path_factory: pytest.TempPathFactory) -> DataHome:
    """The published small warehouse (shared: tests only read it or write reports to copies)."""
    return build_small_warehouse(tmp_path_factory.mktemp("small"))


@pytest.fixture
def report_home(small_home: DataHome, tmp_path: Path) -> DataHome:
    """A data home of its own with the small warehouse's snapshot, for tests that publish reports."""
    import shutil

    home = DataHome.resolve(tmp_path / "home").ensure()
    shutil.copyfile(small_home.warehouse, home.warehouse)
    return home


DEMO_END = "2026-03-08"  # a Sunday: the review week 2026-W10 is complete
DEMO_WEEK = "2026-W10"


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> DataHome:
    """A published warehouse of generated exports in the real formats (the demo's generator, small:
    4 services x 8 weeks, 2 of them with two weeks of per-minute SLIs)."""
    import shutil
    from datetime import date

    from ops_warehouse.generate import generate_exports
    from ops_warehouse.ingest import ingest_paths

    root = tmp_path_factory.mktemp("demo")
    generate_exports(
        root / "gen", services=4, weeks=8, seed=11, end=date.fromisoformat(DEMO_END), slo_services=2, metric_days=14
    )
    home = DataHome.resolve(root / "home").ensure()
    shutil.copyfile(root / "gen" / "catalog.yaml", home.catalog)
    reports = ingest_paths(home, [root / "gen" / "exports"])
    assert not [r.line() for r in reports if r.error]
    build_models(home)
    publish(home)
    return home
