"""A realistic, seeded synthetic organisation: services, deploys, commits, incidents, follow-ups
and per-minute request counters with bad spells.

The model here is format-free; ``writers_real`` writes it as the tools' own exports (GitHub
webhooks, PagerDuty, Jira, Prometheus, OpenSLO) and ``writers_canonical`` as canonical files.
The same seed always gives the same organisation.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ops_warehouse.generate import postmortems

UTC = UTC

SERVICE_NAMES = [
    "checkout",
    "payments",
    "search",
    "product-catalog",
    "cart",
    "identity",
    "notifications",
    "inventory",
    "shipping",
    "pricing",
    "recommendations",
    "reviews",
    "orders",
    "billing",
    "gateway",
    "media",
    "accounts",
    "loyalty",
    "fraud",
    "ledger",
]
TEAMS = ["storefront", "payments", "platform", "growth", "logistics", "identity"]
OWNERS = ["amara", "bo", "chen", "dana", "eitan", "fatima", "gus", "hana", "ivan", "june", "kofi", "lena"]
OFFSETS = [timedelta(hours=h) for h in (-8, -5, 0, 1, 2, 5.5, 9)]


@dataclass
class Service:
    name: str
    team: str
    repo: str
    pd_service_id: str
    deploys_per_day: float
    has_slo: bool


@dataclass
class Commit:
    sha: str
    authored_at: datetime
    author_offset: timedelta
    message: str


@dataclass
class Push:
    service: str
    pushed_at: datetime
    commits: list[Commit]


@dataclass
class Deployment:
    deploy_id: int
    service: str
    environment: str
    sha: str
    task: str
    created_at: datetime
    statuses: list[tuple[int, str, datetime]]  # (status id, state, at)


@dataclass
class Incident:
    incident_id: str
    number: int
    service: str
    title: str
    priority: str
    urgency: str
    created_at: datetime
    acks: list[datetime]
    resolved_at: datetime | None
    root_cause_sha: str | None = None
    as_github_issue: bool = False
    escalated: bool = False


@dataclass
class ActionItem:
    key: str
    incident_id: str
    incident_number: int
    title: str
    owner: str
    team: str
    category: str
    created_at: datetime
    due_date: date | None
    resolved_at: datetime | None
    status_category: str  # new | indeterminate | done
    resolution: str | None


@dataclass
class Series:
    service: str
    code: str
    points: list[tuple[datetime, float]]


@dataclass
class Organisation:
    start: datetime
    end: datetime
    services: list[Service]
    pushes: list[Push] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    action_items: list[ActionItem] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    slo_target: float = 0.999
    spells: list[tuple[str, datetime, datetime, float]] = field(default_factory=list)  # extra bad spells
    postmortems: list[Any] = field(default_factory=list)  # see ops_warehouse.generate.postmortems


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def generate(
    *,
    services: int = 12,
    weeks: int = 12,
    seed: int = 7,
    end: date | None = None,
    slo_services: int = 4,
    metric_days: int | None = None,
) -> Organisation:
    rng = random.Random(seed)
    end_day = end or datetime.now(UTC).date()
    end_dt = datetime(end_day.year, end_day.month, end_day.day, tzinfo=UTC)
    start_monday = end_day - timedelta(days=end_day.weekday()) - timedelta(weeks=weeks)
    start = datetime(start_monday.year, start_monday.month, start_monday.day, tzinfo=UTC)
    svcs = []
    for i in range(services):
        name = SERVICE_NAMES[i % len(SERVICE_NAMES)] + ("" if i < len(SERVICE_NAMES) else f"-{i // len(SERVICE_NAMES)}")
        svcs.append(
            Service(
                name=name,
                team=TEAMS[i % len(TEAMS)],
                repo=f"acme/{name}",
                pd_service_id="P" + hashlib.sha1(name.encode()).hexdigest()[:6].upper(),
                deploys_per_day=round(rng.choice([0.3, 0.8, 1.5, 3, 5, 8]) * rng.uniform(0.7, 1.3), 2),
                has_slo=i < slo_services,
            )
        )
    org = Organisation(start=start, end=end_dt, services=svcs)
    ids = {"deploy": 10_000_000, "status": 50_000_000, "incident": 0, "jira": 0}
    for svc in svcs:
        _deploys_for(org, svc, rng, ids)
    for svc in svcs:
        _random_incidents(org, svc, rng, ids)
    org.incidents.sort(key=lambda i: i.created_at)
    for inc in org.incidents:
        _action_items_for(org, inc, rng, ids)
    postmortems.add_postmortems(org, seed)
    postmortems.add_deploy_burns(org, seed)
    m_start = start if metric_days is None else max(start, end_dt - timedelta(days=metric_days))
    for svc in svcs:
        if svc.has_slo:
            _series_for(org, svc, rng, m_start)
    return org


def _next(ids: dict[str, int], key: str) -> int:
    ids[key] += 1
    return ids[key]


def _deploys_for(org: Organisation, svc: Service, rng: random.Random, ids: dict[str, int]) -> None:
    day = org.start
    while day < org.end:
        weekend = day.weekday() >= 5
        n = _poisson(rng, svc.deploys_per_day * (0.15 if weekend else 1.0))
        times = sorted(day + timedelta(hours=rng.uniform(7, 19)) for _ in range(n))
        for t in times:
            _one_release(org, svc, rng, ids, t)
        day += timedelta(days=1)


def _one_release(org: Organisation, svc: Service, rng: random.Random, ids: dict[str, int], t: datetime) -> None:
    if t >= org.end:
        return
    # the commits this release ships, pushed to the default branch before it
    commits = []
    pushed_at = t - timedelta(minutes=rng.uniform(10, 90))
    for _ in range(rng.randint(1, 5)):
        authored = pushed_at - timedelta(hours=rng.expovariate(1 / 20))
        commits.append(
            Commit(
                _sha(rng),
                authored,
                rng.choice(OFFSETS),
                rng.choice(
                    [
                        "fix retry budget",
                        "add metrics",
                        "bump deps",
                        "refactor handler",
                        "tune cache ttl",
                        "new endpoint",
                    ]
                ),
            )
        )
    if rng.random() < 0.01:  # a rebased commit whose author clock runs ahead: negative lead time
        commits[0].authored_at = t + timedelta(hours=2)
    commits.sort(key=lambda c: c.authored_at)
    org.pushes.append(Push(svc.name, pushed_at, commits))
    head = commits[-1].sha
    hotfix = rng.random() < 0.03
    task = "deploy:hotfix" if hotfix else "deploy"
    # staging first
    _deployment(org, svc, rng, ids, "staging", head, task, t - timedelta(minutes=25), "success")
    outcome = rng.choices(["success", "failure", "error"], [0.95, 0.04, 0.01])[0]
    dep = _deployment(org, svc, rng, ids, "production", head, task, t, outcome)
    if outcome != "success":
        t2 = t + timedelta(minutes=rng.uniform(15, 60))
        if t2 < org.end:
            dep = _deployment(org, svc, rng, ids, "production", head, task, t2, "success")
            t = t2
        else:
            return
    finished = dep.statuses[-1][2]
    roll = rng.random()
    if roll < 0.025:  # a bad change: incident, then rollback
        inc = _incident(org, svc, rng, ids, finished + timedelta(minutes=rng.uniform(5, 90)), caused_by=head)
        back = inc.created_at + timedelta(minutes=rng.uniform(10, 40))
        if back < org.end:
            previous = _previous_sha(org, svc, head)
            _deployment(org, svc, rng, ids, "production", previous or head, "deploy:rollback", back, "success")
    elif roll < 0.06:  # a bad change found by an incident, fixed forward
        _incident(org, svc, rng, ids, finished + timedelta(hours=rng.uniform(0.2, 20)), caused_by=head)


def _previous_sha(org: Organisation, svc: Service, head: str) -> str | None:
    for d in reversed(org.deployments):
        if d.service == svc.name and d.environment == "production" and d.sha != head:
            return d.sha
    return None


def _deployment(
    org: Organisation,
    svc: Service,
    rng: random.Random,
    ids: dict[str, int],
    env: str,
    sha: str,
    task: str,
    t: datetime,
    outcome: str,
) -> Deployment:
    started = t
    running = t + timedelta(seconds=rng.uniform(5, 30))
    done = t + timedelta(minutes=rng.lognormvariate(math.log(6), 0.5))
    statuses = [(_next(ids, "status"), "in_progress", running), (_next(ids, "status"), outcome, done)]
    d = Deployment(_next(ids, "deploy"), svc.name, env, sha, task, started, statuses)
    org.deployments.append(d)
    return d


PRIORITIES = ["P1", "P2", "P3", "P4"]


def _incident(
    org: Organisation, svc: Service, rng: random.Random, ids: dict[str, int], t: datetime, caused_by: str | None = None
) -> Incident:
    n = _next(ids, "incident")
    priority = rng.choices(PRIORITIES, [0.05, 0.25, 0.45, 0.25])[0]
    ack = t + timedelta(minutes=rng.lognormvariate(math.log(3), 0.8))
    acks = [ack]
    if rng.random() < 0.15:
        acks.append(ack + timedelta(minutes=rng.uniform(5, 30)))  # unacknowledged, then acknowledged again
    resolved_at = t + timedelta(minutes=rng.lognormvariate(math.log(35), 0.7))
    resolved: datetime | None = resolved_at
    if resolved_at > org.end and rng.random() < 0.8:
        resolved = None
    elif rng.random() < 0.02:
        resolved = None
    titles = [
        "Elevated 5xx on {s}",
        "{s} latency above SLO",
        "{s} queue backlog",
        "Errors after {s} deploy",
        "{s} pods crash-looping",
        "Partial outage of {s}",
    ]
    inc = Incident(
        incident_id="Q" + hashlib.sha1(f"{svc.name}{n}".encode()).hexdigest()[:12].upper(),
        number=n,
        service=svc.name,
        title=rng.choice(titles).format(s=svc.name),
        priority=priority,
        urgency="high" if priority in ("P1", "P2") else "low",
        created_at=t,
        acks=[a for a in acks if a < (resolved or org.end + timedelta(days=1))],
        resolved_at=resolved,
        root_cause_sha=caused_by if caused_by and rng.random() < 0.5 else None,
        escalated=rng.random() < 0.08,
    )
    inc.as_github_issue = inc.root_cause_sha is not None
    if t < org.end:
        org.incidents.append(inc)
    return inc


def _random_incidents(org: Organisation, svc: Service, rng: random.Random, ids: dict[str, int]) -> None:
    t = org.start
    while True:
        t += timedelta(hours=rng.expovariate(0.6 / (7 * 24)))
        if t >= org.end:
            return
        _incident(org, svc, rng, ids, t)


CATEGORY_DAYS = {"immediate": 7, "short_term": 30, "long_term": 90, "process": None}


def _action_items_for(org: Organisation, inc: Incident, rng: random.Random, ids: dict[str, int]) -> None:
    if inc.resolved_at is None:
        return
    team = next(s.team for s in org.services if s.name == inc.service)
    for _ in range(rng.randint(0, 3)):
        n = _next(ids, "jira")
        category = rng.choices(list(CATEGORY_DAYS), [0.35, 0.35, 0.15, 0.15])[0]
        created = inc.resolved_at + timedelta(hours=rng.uniform(2, 48))
        if created >= org.end:
            continue
        days = CATEGORY_DAYS[category]
        due = created.date() + timedelta(days=days) if days and rng.random() < 0.7 else None
        effective_due = due or (created.date() + timedelta(days=days) if days else None)
        fate = rng.choices(["on_time", "late", "open", "wont_do"], [0.7, 0.15, 0.1, 0.05])[0]
        resolved_at, cat, resolution = None, "new", None
        if fate == "on_time":
            limit = (
                (datetime.combine(effective_due, datetime.min.time(), UTC) - created)
                if effective_due
                else timedelta(days=20)
            )
            resolved_at = created + limit * rng.uniform(0.1, 0.95)
            cat, resolution = "done", "Done"
        elif fate == "late" and effective_due:
            resolved_at = datetime.combine(effective_due, datetime.min.time(), UTC) + timedelta(
                days=rng.uniform(1.5, 10)
            )
            cat, resolution = "done", "Done"
        elif fate == "wont_do":
            resolved_at = created + timedelta(days=rng.uniform(1, 5))
            cat, resolution = "done", "Won't Do"
        else:
            cat = rng.choice(["new", "indeterminate"])
        if resolved_at is not None and resolved_at >= org.end:
            resolved_at, cat, resolution = None, "indeterminate", None
        org.action_items.append(
            ActionItem(
                key=f"PM-{n}",
                incident_id=(
                    f"github-issue:acme/{inc.service}#{inc.number}"
                    if inc.as_github_issue
                    else f"pagerduty:{inc.incident_id}"
                ),
                incident_number=inc.number,
                title=rng.choice(
                    [
                        "Add alert on",
                        "Write runbook for",
                        "Load test",
                        "Add retry budget to",
                        "Remove single point of failure in",
                    ]
                )
                + f" {inc.service}",
                owner=rng.choice(OWNERS),
                team=team,
                category=category,
                created_at=created,
                due_date=due,
                resolved_at=resolved_at,
                status_category=cat,
                resolution=resolution,
            )
        )


def _series_for(org: Organisation, svc: Service, rng: random.Random, start: datetime) -> None:
    """Per-minute cumulative request counters (code 200 and 500) with bad spells at incidents."""
    spells = [
        (
            i.created_at - timedelta(minutes=5),
            (i.resolved_at or i.created_at + timedelta(hours=1)),
            rng.uniform(0.01, 0.15),
        )
        for i in org.incidents
        if i.service == svc.name and i.priority in ("P1", "P2")
    ] + [(s0, s1, bad) for name, s0, s1, bad in org.spells if name == svc.name]
    base_rate = rng.uniform(300, 1200)
    ok_total, err_total = 0.0, 0.0
    ok_points: list[tuple[datetime, float]] = []
    err_points: list[tuple[datetime, float]] = []
    t = start
    minutes = int((org.end - start).total_seconds() // 60)
    resets = {rng.randrange(minutes) for _ in range(max(1, minutes // 43_200))}
    for m in range(minutes):
        hour = t.hour + t.minute / 60
        rate = base_rate * (0.6 + 0.4 * math.sin((hour - 6) / 24 * 2 * math.pi) ** 2)
        err_ratio = 0.0003
        for s0, s1, bad in spells:
            if s0 <= t < s1:
                err_ratio = bad
                break
        reqs = max(0, round(rng.gauss(rate, math.sqrt(rate))))
        errs = min(reqs, _poisson(rng, reqs * err_ratio))
        if m in resets:  # a process restart resets the counters
            ok_total, err_total = 0.0, 0.0
        ok_total += reqs - errs
        err_total += errs
        ok_points.append((t, ok_total))
        err_points.append((t, err_total))
        t += timedelta(minutes=1)
    org.series.append(Series(svc.name, "200", ok_points))
    org.series.append(Series(svc.name, "500", err_points))
