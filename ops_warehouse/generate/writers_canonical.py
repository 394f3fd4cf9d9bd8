"""Write a synthetic organisation as canonical files (the core tables' own columns)."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ops_warehouse.generate import postmortems
from ops_warehouse.generate.synthetic import Organisation


def _iso(t: datetime | None) -> str:
    return t.isoformat() if t else ""


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_canonical(org: Organisation, out: Path) -> list[Path]:
    services = {s.name: s for s in org.services}
    deployments = [
        [
            f"gh-{d.deploy_id}",
            d.service,
            services[d.service].team,
            d.environment,
            d.sha,
            _iso(d.created_at),
            _iso(d.statuses[-1][2]),
            d.statuses[-1][1],
            str(d.task == "deploy:rollback").lower(),
            str(d.task == "deploy:hotfix").lower(),
        ]
        for d in org.deployments
    ]
    changes = [
        [c.sha, p.service, _iso(c.authored_at.astimezone()), _iso(p.pushed_at)] for p in org.pushes for c in p.commits
    ]
    incidents = [
        {
            "incident_id": i.incident_id,
            "service": i.service,
            "team": services[i.service].team,
            "severity": {"P1": "sev1", "P2": "sev2", "P3": "sev3", "P4": "sev4"}[i.priority],
            "title": i.title,
            "created_at": _iso(i.created_at),
            "acknowledged_at": _iso(min(i.acks) if i.acks else None),
            "resolved_at": _iso(i.resolved_at),
            "caused_by_sha": i.root_cause_sha,
        }
        for i in org.incidents
    ]
    items = [
        [
            a.key,
            a.incident_id,
            a.title,
            a.owner,
            a.team,
            a.category,
            _iso(a.created_at),
            a.due_date.isoformat() if a.due_date else "",
            _iso(a.resolved_at) if a.status_category == "done" else "",
            "not_doing" if a.resolution == "Won't Do" else ("done" if a.status_category == "done" else "open"),
        ]
        for a in org.action_items
    ]
    paths = [
        _csv(
            out / "deployments.csv",
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
            deployments,
        ),
        _csv(out / "changes.csv", ["change_id", "service", "authored_at", "merged_at"], changes),
        _csv(
            out / "action_items.csv",
            [
                "item_id",
                "incident_id",
                "title",
                "owner",
                "team",
                "category",
                "created_at",
                "due_date",
                "completed_at",
                "status",
            ],
            items,
        ),
    ]
    inc_path = out / "incidents.ndjson"
    with open(inc_path, "w", encoding="utf-8") as fh:
        for rec in incidents:
            fh.write(json.dumps(rec) + "\n")
    paths.append(inc_path)
    paths += postmortems.write_canonical(org, out)
    if org.series:
        rows: dict[str, list[Any]] = {"metric": [], "labels": [], "ts": [], "value": [], "kind": []}
        for s in org.series:
            labels = json.dumps({"code": s.code, "job": "api", "service": s.service}, sort_keys=True)
            for t, v in s.points:
                rows["metric"].append("http_requests_total")
                rows["labels"].append(labels)
                rows["ts"].append(t)
                rows["value"].append(float(v))
                rows["kind"].append("counter")
        table = pa.table(
            rows,
            schema=pa.schema(
                [
                    ("metric", pa.string()),
                    ("labels", pa.string()),
                    ("ts", pa.timestamp("us", tz="UTC")),
                    ("value", pa.float64()),
                    ("kind", pa.string()),
                ]
            ),
        )
        path = out / "metric_samples.parquet"
        pq.write_table(table, path)
        paths.append(path)
        slos = [
            [
                f"{s.name}-availability",
                s.name,
                "Occurrences",
                org.slo_target,
                "28d",
                "true",
                f'http_requests_total{{service="{s.name}",code=~"5.."}}',
                f'http_requests_total{{service="{s.name}"}}',
            ]
            for s in org.services
            if s.has_slo
        ]
        paths.append(
            _csv(
                out / "slos.csv",
                [
                    "slo_name",
                    "service",
                    "budgeting_method",
                    "target",
                    "time_window",
                    "is_rolling",
                    "bad_query",
                    "total_query",
                ],
                slos,
            )
        )
    return paths
