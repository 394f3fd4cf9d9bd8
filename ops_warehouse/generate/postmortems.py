"""Postmortems and deploys that burn error budget, for the synthetic organisation.

- :func:`add_deploy_burns`: in every week with metrics, two or three successful production
  deployments of services with SLOs are followed, a minute or two after they finish, by 25 to 45
  minutes of 2-6% errors (a 99.9% SLO burning at 8x or more in the hour after the deploy), so the
  weekly review has deploys that visibly burned budget. The spells go to ``org.spells``, which the
  request counters read.
- :func:`add_postmortems`: most resolved P1/P2 incidents get a postmortem: on time (a draft within
  5 days, published within 14), drafted late, published late, a draft never published, or none at
  all; those due in the last complete week take these fates in turn, so its review shows late
  ones. Incidents kept as GitHub issues get a postmortem issue in the same repository naming
  ``incident: #<n>``; PagerDuty incidents get either a GitHub issue in ``acme/postmortems`` naming
  the PagerDuty id or a Jira issue of type Postmortem with an ``incident:<id>`` label. One names an
  incident nobody exported (a typo), as happens.
- :func:`write_real` / :func:`write_canonical`: ``github/postmortem-issues.json`` (GET /issues) and
  ``jira/postmortems.json`` (a search response), or a canonical ``postmortems.csv``.

Each uses its own random stream (from the organisation's seed), so the rest of the organisation is
the same with or without them.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # synthetic calls this module while it builds the organisation
    from ops_warehouse.generate.synthetic import Incident, Organisation

CENTRAL_REPO = "acme/postmortems"
AUTHORS = ["amara", "bo", "chen", "dana", "eitan", "fatima", "gus", "hana"]
FATES = {"on_time": 0.55, "late_draft": 0.12, "late_publish": 0.15, "draft_only": 0.08, "missing": 0.10}


@dataclass
class Postmortem:
    number: int
    incident: Incident | None
    tool: str  # github | jira
    repo: str
    ref: str  # the incident as its author wrote it
    title: str
    owner: str
    created_at: datetime
    published_at: datetime | None


def add_deploy_burns(org: Organisation, seed: int) -> None:
    """Bad spells right after a few production deployments of services with SLOs, each week."""
    rng = random.Random(f"deploy-burns-{seed}")
    slo_services = {s.name for s in org.services if s.has_slo}
    done = [
        d
        for d in org.deployments
        if d.service in slo_services
        and d.environment == "production"
        and d.statuses[-1][1] == "success"
        and d.task != "deploy:rollback"
    ]
    by_week: dict[tuple[int, int], list] = {}
    for d in done:
        by_week.setdefault(d.statuses[-1][2].isocalendar()[:2], []).append(d)
    for _week, deploys in sorted(by_week.items()):
        for d in rng.sample(deploys, min(len(deploys), rng.choice([2, 3]))):
            start = d.statuses[-1][2] + timedelta(minutes=rng.uniform(0.5, 3))
            end = start + timedelta(minutes=rng.uniform(25, 45))
            org.spells.append((d.service, start, end, rng.uniform(0.02, 0.06)))


def _fate_times(rng: random.Random, resolved: datetime, fate: str) -> tuple[datetime, datetime | None]:
    day = timedelta(days=1)
    if fate == "late_draft":
        return resolved + rng.uniform(5.5, 9) * day, resolved + rng.uniform(10, 13.5) * day
    if fate == "late_publish":
        return resolved + rng.uniform(1, 4) * day, resolved + rng.uniform(15.5, 25) * day
    if fate == "draft_only":
        return resolved + rng.uniform(1, 4) * day, None
    return resolved + rng.uniform(0.3, 4.5) * day, resolved + rng.uniform(6, 13.5) * day


def add_postmortems(org: Organisation, seed: int) -> None:
    """A postmortem (or none) for each resolved P1/P2 incident, in GitHub or Jira."""
    rng = random.Random(f"postmortems-{seed}")
    services = {s.name: s for s in org.services}
    # the last complete week (the one the weekly review shows): its due postmortems take turns at
    # being late, on time and missing, so the review always has some of each
    this_monday = (org.end - timedelta(days=org.end.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    review = (this_monday - timedelta(days=7), this_monday)
    turns = ["late_publish", "on_time", "late_draft", "missing", "late_publish", "on_time"]
    number = 0
    for inc in org.incidents:
        if inc.priority not in ("P1", "P2") or inc.resolved_at is None:
            continue
        fate = rng.choices(list(FATES), list(FATES.values()))[0]
        if review[0] <= inc.resolved_at + timedelta(days=14) < review[1]:
            fate = turns[0]
            turns.append(turns.pop(0))
        if fate == "missing":
            continue
        created, published = _fate_times(rng, inc.resolved_at, fate)
        if created >= org.end:
            continue
        if published is not None and published >= org.end:
            published = None
        number += 1
        if inc.as_github_issue:
            tool, repo, ref = "github", services[inc.service].repo, f"#{inc.number}"
        elif rng.random() < 0.5:
            tool, repo, ref = "github", CENTRAL_REPO, inc.incident_id
        else:
            tool, repo, ref = "jira", "", inc.incident_id
        org.postmortems.append(
            Postmortem(
                number, inc, tool, repo, ref, f"Postmortem: {inc.title}", rng.choice(AUTHORS), created, published
            )
        )
    # one postmortem names an incident id with a typo: a data-quality finding, not a lost row
    recent = [p for p in org.postmortems if p.tool == "github" and p.repo == CENTRAL_REPO]
    if recent:
        p = recent[-1]
        number += 1
        org.postmortems.append(
            Postmortem(
                number,
                None,
                "github",
                CENTRAL_REPO,
                p.ref[:-1] + "X",
                p.title + " (copy)",
                p.owner,
                p.created_at + timedelta(hours=2),
                None,
            )
        )


def _z(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def _jira_time(t: datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(timezone(timedelta(hours=1))).strftime("%Y-%m-%dT%H:%M:%S.000%z")


def _issue(p: Postmortem) -> dict[str, Any]:
    number = 70_000 + p.number
    labels = [{"name": "postmortem"}]
    if p.incident is not None:
        labels.append({"name": {"P1": "sev1", "P2": "sev2"}.get(p.incident.priority, "sev3")})
    return {
        "url": f"https://api.github.com/repos/{p.repo}/issues/{number}",
        "repository_url": f"https://api.github.com/repos/{p.repo}",
        "html_url": f"https://github.com/{p.repo}/issues/{number}",
        "id": 7_000_000 + p.number,
        "number": number,
        "title": p.title,
        "user": {"login": p.owner, "type": "User"},
        "labels": labels,
        "state": "closed" if p.published_at else "open",
        "state_reason": "completed" if p.published_at else None,
        "assignee": {"login": p.owner, "type": "User"},
        "assignees": [{"login": p.owner, "type": "User"}],
        "milestone": None,
        "comments": 4,
        "created_at": _z(p.created_at),
        "updated_at": _z(p.published_at or p.created_at),
        "closed_at": _z(p.published_at),
        "body": f"## Summary\n\nWhat happened, impact, timeline, contributing factors.\n\nincident: {p.ref}\n",
    }


def _jira(p: Postmortem) -> dict[str, Any]:
    status = ("Published", "done") if p.published_at else ("In Review", "indeterminate")
    return {
        "expand": "operations,editmeta,changelog,renderedFields",
        "id": str(40_000 + p.number),
        "self": f"https://acme.atlassian.net/rest/api/2/issue/{40_000 + p.number}",
        "key": f"PIR-{p.number}",
        "fields": {
            "summary": p.title,
            "issuetype": {"name": "Postmortem"},
            "project": {"key": "PIR", "name": "Post-incident reviews"},
            "assignee": {"name": p.owner, "displayName": p.owner.title()},
            "created": _jira_time(p.created_at),
            "updated": _jira_time(p.published_at or p.created_at),
            "duedate": None,
            "resolutiondate": _jira_time(p.published_at),
            "resolution": {"name": "Done"} if p.published_at else None,
            "status": {"name": status[0], "statusCategory": {"key": status[1], "name": status[0]}},
            "labels": [f"incident:{p.ref}"],
        },
    }


def _write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def write_real(org: Organisation, out: Path) -> list[Path]:
    """GitHub postmortem issues (newest first, as the API lists them) and a Jira search response."""
    paths = []
    newest_first = sorted(org.postmortems, key=lambda p: p.created_at, reverse=True)
    issues = [_issue(p) for p in newest_first if p.tool == "github"]
    if issues:
        paths.append(_write_json(out / "github" / "postmortem-issues.json", issues))
    jira = [_jira(p) for p in org.postmortems if p.tool == "jira"]
    if jira:
        paths.append(
            _write_json(
                out / "jira" / "postmortems.json",
                {"expand": "schema,names", "startAt": 0, "maxResults": len(jira), "total": len(jira), "issues": jira},
            )
        )
    return paths


def write_canonical(org: Organisation, out: Path) -> list[Path]:
    """``postmortems.csv`` with the canonical columns; the incident named by its warehouse id."""
    if not org.postmortems:
        return []
    path = out / "postmortems.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["postmortem_id", "incident_id", "title", "owner", "created_at", "published_at", "status"])
        for p in org.postmortems:
            w.writerow(
                [
                    f"PIR-{p.number}",
                    p.incident.incident_id if p.incident else p.ref,
                    p.title,
                    p.owner,
                    p.created_at.isoformat(),
                    p.published_at.isoformat() if p.published_at else "",
                    "published" if p.published_at else "draft",
                ]
            )
    return [path]
