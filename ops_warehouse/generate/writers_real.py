"""Write a synthetic organisation as the tools' own exports.

- ``github/deployment-events.ndjson``: deployment_status webhook deliveries (some redelivered)
- ``github/push-events.ndjson``: push webhook deliveries (commit times in the author's offset)
- ``github/incident-issues.json``: GET /issues, incidents labelled ``incident`` naming their root cause
- ``pagerduty/incidents-<week>.json``: GET /incidents pages
- ``pagerduty/log-entries.json``: GET /log_entries (acknowledge, unacknowledge, resolve)
- ``jira/postmortem-actions.json``: a Jira search response of postmortem action items
- ``github/postmortem-issues.json``, ``jira/postmortems.json``: the postmortems themselves
- ``prometheus/http-requests-<week>.json``: query_range exports, one per week, overlapping by an hour
- ``slos/<service>.yaml``: OpenSLO v1 SLOs over those counters
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from ops_warehouse.generate import postmortems
from ops_warehouse.generate.synthetic import ActionItem, Deployment, Incident, Organisation, Service

UTC = UTC


def _z(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(t: datetime, offset: timedelta) -> str:
    return t.astimezone(timezone(offset)).isoformat(timespec="seconds")


def _jira_time(t: datetime) -> str:
    local = t.astimezone(timezone(timedelta(hours=-8)))
    return local.strftime("%Y-%m-%dT%H:%M:%S.000%z")


def _repository(svc: Service, pushed_at: datetime | None = None) -> dict[str, Any]:
    owner, name = svc.repo.split("/")
    repo: dict[str, Any] = {
        "id": abs(hash(svc.repo)) % 10**9,
        "name": name,
        "full_name": svc.repo,
        "private": True,
        "owner": {"login": owner, "type": "Organization"},
        "html_url": f"https://github.com/{svc.repo}",
        "url": f"https://api.github.com/repos/{svc.repo}",
        "default_branch": "main",
    }
    if pushed_at is not None:
        repo["pushed_at"] = int(pushed_at.timestamp())
    return repo


def write_real(org: Organisation, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    services = {s.name: s for s in org.services}
    written = [
        _write_deployment_events(org, services, out / "github" / "deployment-events.ndjson"),
        _write_pushes(org, services, out / "github" / "push-events.ndjson"),
        _write_incident_issues(org, services, out / "github" / "incident-issues.json"),
        *_write_pagerduty(org, services, out / "pagerduty"),
        _write_jira(org, out / "jira" / "postmortem-actions.json"),
        *_write_prometheus(org, out / "prometheus"),
        *_write_slos(org, out / "slos"),
        *postmortems.write_real(org, out),
    ]
    return written


def _ndjson(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")
    return path


def _json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def _deployment_obj(d: Deployment, svc: Service) -> dict[str, Any]:
    return {
        "url": f"https://api.github.com/repos/{svc.repo}/deployments/{d.deploy_id}",
        "id": d.deploy_id,
        "sha": d.sha,
        "ref": "main",
        "task": d.task,
        "payload": {},
        "original_environment": d.environment,
        "environment": d.environment,
        "description": None,
        "creator": {"login": "deploy-bot", "type": "Bot"},
        "created_at": _z(d.created_at),
        "updated_at": _z(d.statuses[-1][2]),
        "statuses_url": f"https://api.github.com/repos/{svc.repo}/deployments/{d.deploy_id}/statuses",
        "repository_url": f"https://api.github.com/repos/{svc.repo}",
        "transient_environment": False,
        "production_environment": d.environment == "production",
    }


def _write_deployment_events(org: Organisation, services: dict[str, Service], path: Path) -> Path:
    events = []
    for i, d in enumerate(org.deployments):
        svc = services[d.service]
        for status_id, state, at in d.statuses:
            event = {
                "action": "created",
                "deployment_status": {
                    "url": f"https://api.github.com/repos/{svc.repo}/deployments/{d.deploy_id}/statuses/{status_id}",
                    "id": status_id,
                    "state": state,
                    "creator": {"login": "deploy-bot", "type": "Bot"},
                    "description": "",
                    "environment": d.environment,
                    "target_url": "",
                    "created_at": _z(at),
                    "updated_at": _z(at),
                    "deployment_url": f"https://api.github.com/repos/{svc.repo}/deployments/{d.deploy_id}",
                    "repository_url": f"https://api.github.com/repos/{svc.repo}",
                },
                "deployment": _deployment_obj(d, svc),
                "repository": _repository(svc),
                "sender": {"login": "deploy-bot", "type": "Bot"},
            }
            events.append((at, event))
            if i % 97 == 0:  # webhook redelivery: the same delivery again
                events.append((at, event))
    events.sort(key=lambda e: e[0])
    return _ndjson(path, [e for _, e in events])


def _write_pushes(org: Organisation, services: dict[str, Service], path: Path) -> Path:
    records = []
    for p in sorted(org.pushes, key=lambda p: p.pushed_at):
        svc = services[p.service]
        commits = [
            {
                "id": c.sha,
                "tree_id": c.sha[::-1],
                "distinct": True,
                "message": c.message,
                "timestamp": _local(c.authored_at, c.author_offset),
                "url": f"https://github.com/{svc.repo}/commit/{c.sha}",
                "author": {"name": "dev", "email": "dev@example.com", "username": "dev"},
                "committer": {"name": "dev", "email": "dev@example.com", "username": "dev"},
                "added": [],
                "removed": [],
                "modified": ["src/app.py"],
            }
            for c in p.commits
        ]
        records.append(
            {
                "ref": "refs/heads/main",
                "before": "0" * 40,
                "after": p.commits[-1].sha,
                "repository": _repository(svc, p.pushed_at),
                "pusher": {"name": "dev", "email": "dev@example.com"},
                "sender": {"login": "dev", "type": "User"},
                "created": False,
                "deleted": False,
                "forced": False,
                "base_ref": None,
                "compare": f"https://github.com/{svc.repo}/compare/{p.commits[-1].sha[:12]}",
                "commits": commits,
                "head_commit": commits[-1],
            }
        )
    return _ndjson(path, records)


def _write_incident_issues(org: Organisation, services: dict[str, Service], path: Path) -> Path:
    issues = []
    for inc in org.incidents:
        if not inc.as_github_issue:
            continue
        svc = services[inc.service]
        sev = {"P1": "sev1", "P2": "sev2", "P3": "sev3", "P4": "sev4"}[inc.priority]
        issues.append(
            {
                "url": f"https://api.github.com/repos/{svc.repo}/issues/{inc.number}",
                "repository_url": f"https://api.github.com/repos/{svc.repo}",
                "html_url": f"https://github.com/{svc.repo}/issues/{inc.number}",
                "id": 900_000 + inc.number,
                "number": inc.number,
                "title": inc.title,
                "user": {"login": "oncall", "type": "User"},
                "labels": [{"name": "incident"}, {"name": sev}],
                "state": "closed" if inc.resolved_at else "open",
                "state_reason": "completed" if inc.resolved_at else None,
                "assignee": None,
                "assignees": [],
                "milestone": None,
                "comments": 2,
                "created_at": _z(inc.created_at),
                "updated_at": _z(inc.resolved_at or inc.created_at),
                "closed_at": _z(inc.resolved_at) if inc.resolved_at else None,
                "body": f"Customer-facing errors on {inc.service}.\n\nroot cause: {inc.root_cause_sha}\n",
            }
        )
    issues.sort(key=lambda i: str(i["created_at"]), reverse=True)  # GitHub lists newest first
    return _json(path, issues)


def _pd_incident(inc: Incident, svc: Service) -> dict[str, Any]:
    return {
        "id": inc.incident_id,
        "type": "incident",
        "summary": f"[#{inc.number}] {inc.title}",
        "self": f"https://api.pagerduty.com/incidents/{inc.incident_id}",
        "html_url": f"https://acme.pagerduty.com/incidents/{inc.incident_id}",
        "incident_number": inc.number,
        "title": inc.title,
        "created_at": _z(inc.created_at),
        "updated_at": _z(inc.resolved_at or (inc.acks[-1] if inc.acks else inc.created_at)),
        "status": "resolved" if inc.resolved_at else ("acknowledged" if inc.acks else "triggered"),
        "incident_key": f"{inc.service}-{inc.title}".lower().replace(" ", "-"),
        "service": {
            "id": svc.pd_service_id,
            "type": "service_reference",
            "summary": f"{svc.name.title()} API",
            "self": f"https://api.pagerduty.com/services/{svc.pd_service_id}",
        },
        "priority": {"id": "PRI" + inc.priority, "type": "priority", "summary": inc.priority},
        "urgency": inc.urgency,
        "assignments": [],
        "acknowledgements": [
            {"at": _z(a), "acknowledger": {"id": "PUSER1", "type": "user_reference", "summary": "On Call"}}
            for a in inc.acks
        ],
        "last_status_change_at": _z(inc.resolved_at or (inc.acks[-1] if inc.acks else inc.created_at)),
        "resolved_at": _z(inc.resolved_at) if inc.resolved_at else None,
        "teams": [{"id": "PT" + svc.team.upper()[:5], "type": "team_reference", "summary": svc.team}],
        "escalation_policy": {"id": "PEP1", "type": "escalation_policy_reference", "summary": "Default"},
    }


def _write_pagerduty(org: Organisation, services: dict[str, Service], folder: Path) -> list[Path]:
    by_week: dict[str, list[Incident]] = defaultdict(list)
    entries = []
    for inc in org.incidents:
        if inc.as_github_issue:
            continue
        y, w, _ = inc.created_at.isocalendar()
        by_week[f"{y}-W{w:02d}"].append(inc)
        ref = {"id": inc.incident_id, "type": "incident_reference"}
        entries.append(
            {
                "id": f"L{inc.incident_id}T",
                "type": "trigger_log_entry",
                "created_at": _z(inc.created_at),
                "incident": ref,
            }
        )
        if len(inc.acks) > 1:  # acknowledged, unacknowledged on timeout, acknowledged again
            entries.append(
                {
                    "id": f"L{inc.incident_id}U",
                    "type": "unacknowledge_log_entry",
                    "created_at": _z(inc.acks[0] + (inc.acks[1] - inc.acks[0]) / 2),
                    "incident": ref,
                }
            )
        for k, a in enumerate(inc.acks):
            entries.append(
                {"id": f"L{inc.incident_id}A{k}", "type": "acknowledge_log_entry", "created_at": _z(a), "incident": ref}
            )
        if inc.escalated:
            entries.append(
                {
                    "id": f"L{inc.incident_id}E",
                    "type": "escalate_log_entry",
                    "created_at": _z(inc.created_at + timedelta(minutes=5)),
                    "incident": ref,
                }
            )
        if inc.resolved_at:
            entries.append(
                {
                    "id": f"L{inc.incident_id}R",
                    "type": "resolve_log_entry",
                    "created_at": _z(inc.resolved_at),
                    "incident": ref,
                }
            )
    paths = []
    for week, incs in sorted(by_week.items()):
        doc = {
            "incidents": [_pd_incident(i, services[i.service]) for i in incs],
            "limit": max(100, len(incs)),
            "offset": 0,
            "more": False,
            "total": None,
        }
        paths.append(_json(folder / f"incidents-{week}.json", doc))
    entries.sort(key=lambda e: str(e["created_at"]), reverse=True)  # the API lists newest first
    paths.append(
        _json(folder / "log-entries.json", {"log_entries": entries, "limit": len(entries), "offset": 0, "more": False})
    )
    return paths


def _jira_issue(item: ActionItem, n: int) -> dict[str, Any]:
    status = {"new": ("To Do", "new"), "indeterminate": ("In Progress", "indeterminate"), "done": ("Done", "done")}
    name, key = status[item.status_category]
    labels = ["action-item", item.category, f"incident:{item.incident_id}", f"team:{item.team}"]
    return {
        "expand": "operations,editmeta,changelog,renderedFields",
        "id": str(20_000 + n),
        "self": f"https://acme.atlassian.net/rest/api/2/issue/{20_000 + n}",
        "key": item.key,
        "fields": {
            "summary": item.title,
            "issuetype": {"name": "Task"},
            "project": {"key": "PM", "name": "Postmortems"},
            "assignee": {"name": item.owner, "displayName": item.owner.title()},
            "created": _jira_time(item.created_at),
            "updated": _jira_time(item.resolved_at or item.created_at),
            "duedate": item.due_date.isoformat() if item.due_date else None,
            "resolutiondate": _jira_time(item.resolved_at) if item.resolved_at else None,
            "resolution": {"name": item.resolution} if item.resolution else None,
            "status": {"name": name, "statusCategory": {"key": key, "name": name}},
            "labels": labels,
        },
    }


def _write_jira(org: Organisation, path: Path) -> Path:
    issues = [_jira_issue(item, n) for n, item in enumerate(org.action_items)]
    return _json(
        path,
        {"expand": "schema,names", "startAt": 0, "maxResults": len(issues), "total": len(issues), "issues": issues},
    )


def _write_prometheus(org: Organisation, folder: Path) -> list[Path]:
    if not org.series:
        return []
    first = min(s.points[0][0] for s in org.series)
    last = max(s.points[-1][0] for s in org.series)
    paths = []
    start = first
    while start <= last:
        stop = start + timedelta(days=7)
        lo, hi = start - timedelta(hours=1), stop  # overlapping exports: the hour before repeats
        result = []
        for s in org.series:
            values = [[round(t.timestamp(), 3), _prom_value(v)] for t, v in s.points if lo <= t < hi]
            if values:
                result.append(
                    {
                        "metric": {
                            "__name__": "http_requests_total",
                            "job": "api",
                            "service": s.service,
                            "code": s.code,
                        },
                        "values": values,
                    }
                )
        y, w, _ = start.isocalendar()
        paths.append(
            _json(
                folder / f"http-requests-{y}-W{w:02d}.json",
                {"status": "success", "data": {"resultType": "matrix", "result": result}},
            )
        )
        start = stop
    return paths


def _prom_value(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


def _write_slos(org: Organisation, folder: Path) -> list[Path]:
    paths = []
    for svc in org.services:
        if not svc.has_slo:
            continue
        docs = [
            {
                "apiVersion": "openslo/v1",
                "kind": "SLO",
                "metadata": {"name": f"{svc.name}-availability", "displayName": f"{svc.name} availability"},
                "spec": {
                    "description": f"Share of {svc.name} requests served without a 5xx error",
                    "service": svc.name,
                    "indicator": {
                        "metadata": {"name": f"{svc.name}-errors"},
                        "spec": {
                            "ratioMetric": {
                                "counter": True,
                                "bad": {
                                    "metricSource": {
                                        "type": "Prometheus",
                                        "spec": {
                                            "query": f'sum(rate(http_requests_total{{service="{svc.name}",code=~"5.."}}[5m]))'  # noqa: E501
                                        },
                                    }
                                },
                                "total": {
                                    "metricSource": {
                                        "type": "Prometheus",
                                        "spec": {
                                            "query": f'sum(rate(http_requests_total{{service="{svc.name}"}}[5m]))'
                                        },
                                    }
                                },
                            }
                        },
                    },
                    "timeWindow": [{"duration": "28d", "isRolling": True}],
                    "budgetingMethod": "Occurrences",
                    "objectives": [{"displayName": "available", "target": org.slo_target}],
                },
            }
        ]
        path = folder / f"{svc.name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def catalog_for(org: Organisation) -> dict[str, Any]:
    """A catalog.yaml naming each service's team, repository and PagerDuty service."""
    return {
        "services": {
            s.name: {
                "team": s.team,
                "repositories": [s.repo],
                "incident_services": [s.pd_service_id],
                "production_environments": ["production"],
            }
            for s in org.services
        },
        "settings": {"attribution_window_hours": 24, "dora_benchmark": "dora-2023"},
    }
