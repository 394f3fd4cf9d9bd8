"""Write a synthetic organisation as canonical files (the core tables' own columns)."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ops_warehouse.generate import postmortems
from ops_warehouse.generate.synthetic import Organisation
from ops_warehouse.sources.canonical import TABLES


def _iso(t: datetime | None) -> str:
    return t.isoformat() if t else ""


def write_rows(path: Path, table: str, rows: Sequence[Mapping[str, Any]]) -> Path:
    """``rows`` as a canonical CSV file of ``table``: the header names the table's canonical columns
    (:data:`ops_warehouse.sources.canonical.TABLES`) that the rows carry, in the table's order (all
    of them when there are no rows); a value for any other column is an error."""
    carried = {name for row in rows for name in row}
    columns = [c for c in TABLES[table][1] if c in carried or not rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_canonical(org: Organisation, out: Path) -> list[Path]:
    services = {s.name: s for s in org.services}
    deployments = [
        {
            "deploy_id": f"gh-{d.deploy_id}",
            "service": d.service,
            "team": services[d.service].team,
            "environment": d.environment,
            "sha": d.sha,
            "started_at": _iso(d.created_at),
            "finished_at": _iso(d.statuses[-1][2]),
            "status": d.statuses[-1][1],
            "is_rollback": str(d.task == "deploy:rollback").lower(),
            "is_hotfix": str(d.task == "deploy:hotfix").lower(),
        }
        for d in org.deployments
    ]
    changes = [
        {
            "change_id": c.sha,
            "service": p.service,
            "authored_at": _iso(c.authored_at.astimezone()),
            "merged_at": _iso(p.pushed_at),
        }
        for p in org.pushes
        for c in p.commits
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
        {
            "item_id": a.key,
            "incident_id": a.incident_id,
            "title": a.title,
            "owner": a.owner,
            "team": a.team,
            "category": a.category,
            "created_at": _iso(a.created_at),
            "due_date": a.due_date.isoformat() if a.due_date else "",
            "completed_at": _iso(a.resolved_at) if a.status_category == "done" else "",
            "status": "not_doing"
            if a.resolution == "Won't Do"
            else ("done" if a.status_category == "done" else "open"),
        }
        for a in org.action_items
    ]
    paths = [
        write_rows(out / "deployments.csv", "deployments", deployments),
        write_rows(out / "changes.csv", "changes", changes),
        write_rows(out / "action_items.csv", "action_items", items),
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
            {
                "slo_name": f"{s.name}-availability",
                "service": s.name,
                "budgeting_method": "Occurrences",
                "target": org.slo_target,
                "time_window": "28d",
                "is_rolling": "true",
                "bad_query": f'http_requests_total{{service="{s.name}",code=~"5.."}}',
                "total_query": f'http_requests_total{{service="{s.name}"}}',
            }
            for s in org.services
            if s.has_slo
        ]
        paths.append(write_rows(out / "slos.csv", "slo_definitions", slos))
    return paths
