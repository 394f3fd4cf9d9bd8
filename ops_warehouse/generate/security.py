"""Security findings and alerts of a synthetic organisation, written as the tools' own exports.

Consistent with the rest of the organisation (``ops_warehouse.generate.synthetic``): findings are
in its repositories and images, alerts fire around its incidents (a paging alert a few minutes
before each incident, resolved when the incident is), and a background of warnings, blips and
flapping alerts makes the noise the alert-quality figures measure.

- ``github/dependabot-alerts.json``: ``GET /orgs/{org}/dependabot/alerts`` (alerts carry ``repository``)
- ``github/code-scanning-alerts.json``: ``GET /orgs/{org}/code-scanning/alerts``
- ``trivy/<service>.ndjson``: the service image's ``trivy image --format json`` reports, one per
  line (a scan a day for the last two weeks, a scan a week before)
- ``grype/<service>.ndjson``: the same scans as ``grype -o json`` reports, for the services whose
  team scans with Grype (every third service, by name), with the scanning host's UTC offset
- ``alertmanager/notifications-<week>.ndjson``: webhook notifications as a receiver logs them,
  firing, re-sent while firing (``repeat_interval``) and resolved
- ``alertmanager/api-alerts.json``: a ``GET /api/v2/alerts`` snapshot of what still fires at the end
- ``pagerduty/alerts-<week>.json``: ``GET /alerts`` pages, the alerts behind PagerDuty incidents
- ``pagerduty/security-incidents.json``: ``GET /incidents`` of the security team's own service, whose
  time to acknowledge is held to the one-hour response target
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ops_warehouse.generate.synthetic import Incident, Organisation, Service
from ops_warehouse.generate.writers_canonical import write_rows

UTC = UTC
ZERO_TIME = "0001-01-01T00:00:00Z"
PACKAGES = {
    "npm": ["lodash", "axios", "express", "minimist", "jsonwebtoken", "ws"],
    "pip": ["requests", "urllib3", "jinja2", "cryptography", "pyyaml", "django"],
    "maven": ["log4j-core", "jackson-databind", "spring-web", "netty-codec-http"],
}
OS_PACKAGES = ["openssl", "zlib", "glibc", "curl", "libxml2", "expat", "ncurses", "libssh2"]
SEVERITIES = [("critical", 0.08), ("high", 0.27), ("medium", 0.45), ("low", 0.20)]
# how long a team takes to fix, per severity: (fraction fixed within the SLA, SLA hours)
FIX_HABITS = {"critical": (0.8, 24), "high": (0.85, 168), "medium": (0.9, 720), "low": (0.7, 2160)}
CODE_RULES = [
    ("js/sql-injection", "Database query built from user-controlled sources", "high"),
    ("js/reflected-xss", "Reflected cross-site scripting", "medium"),
    ("py/path-injection", "Uncontrolled data used in path expression", "high"),
    ("actions/missing-workflow-permissions", "Workflow does not contain permissions", "medium"),
    ("js/insecure-randomness", "Insecure randomness", None),
]
NOISY_ALERTS = ["DiskSpaceLow", "PodCrashLooping", "HighMemoryUsage", "CertificateExpiresSoon", "QueueBacklog"]


def _z(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ns(t: datetime, rng: random.Random) -> str:
    """Alertmanager writes startsAt with nanoseconds."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{rng.randrange(10**9):09d}Z"


def _severity(rng: random.Random) -> str:
    r, acc = rng.random(), 0.0
    for sev, p in SEVERITIES:
        acc += p
        if r < acc:
            return sev
    return "low"


def _fix_after(rng: random.Random, severity: str) -> timedelta:
    within, sla = FIX_HABITS[severity]
    hours = rng.uniform(0.1, 0.95) * sla if rng.random() < within else sla * rng.uniform(1.05, 3.0)
    return timedelta(hours=hours)


def _cve(rng: random.Random, year: int) -> str:
    return f"CVE-{year}-{rng.randrange(10000, 59999)}"


def _fingerprint(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _json(path: Path, doc: Any) -> Path:
    return _write(path, json.dumps(doc, indent=1, ensure_ascii=False))


def write_security(org: Organisation, out: Path, *, seed: int = 7) -> list[Path]:
    """Write the organisation's security findings and alerts under ``out``; returns the files."""
    rng = random.Random(seed * 7919 + 14)
    return [
        *_write_dependabot(org, out / "github" / "dependabot-alerts.json", rng),
        *_write_code_scanning(org, out / "github" / "code-scanning-alerts.json", rng),
        *_write_trivy(org, out / "trivy", rng),
        *_write_alertmanager(org, out / "alertmanager", rng),
        *_write_pagerduty_alerts(org, out / "pagerduty", rng),
        _write_security_incidents(org, out / "pagerduty" / "security-incidents.json", rng),
    ]


# ---------------------------------------------------------------- findings


def _repository(svc: Service) -> dict[str, Any]:
    owner, name = svc.repo.split("/", 1)
    return {
        "id": int(hashlib.sha1(svc.repo.encode()).hexdigest()[:8], 16),
        "name": name,
        "full_name": svc.repo,
        "owner": {"login": owner, "type": "Organization"},
        "private": True,
        "html_url": f"https://github.com/{svc.repo}",
    }


def _lifecycle(
    org: Organisation, rng: random.Random, severity: str
) -> tuple[datetime, datetime | None, datetime | None]:
    """Opened, fixed and dismissed times of a finding inside the organisation's period."""
    span = (org.end - org.start).total_seconds()
    opened = org.start + timedelta(seconds=rng.uniform(0, span))
    if rng.random() < 0.07:
        dismissed = opened + timedelta(hours=rng.uniform(1, 200))
        return opened, None, dismissed if dismissed < org.end else None
    fixed = opened + _fix_after(rng, severity)
    return opened, (fixed if fixed < org.end else None), None


def _write_dependabot(org: Organisation, path: Path, rng: random.Random) -> list[Path]:
    alerts: list[dict[str, Any]] = []
    numbers: dict[str, int] = defaultdict(int)
    for svc in org.services:
        eco = rng.choice(sorted(PACKAGES))
        for _ in range(rng.randint(4, 10)):
            sev = _severity(rng)
            opened, fixed, dismissed = _lifecycle(org, rng, sev)
            numbers[svc.repo] += 1
            n = numbers[svc.repo]
            pkg = rng.choice(PACKAGES[eco])
            ghsa = "GHSA-" + "-".join(hashlib.sha1(f"{svc.repo}{n}".encode()).hexdigest()[i : i + 4] for i in (0, 4, 8))
            flaw = rng.choice(["prototype pollution", "ReDoS", "request smuggling", "path traversal"])
            summary = f"{pkg} vulnerable to {flaw}"
            state = "fixed" if fixed else ("dismissed" if dismissed else "open")
            alerts.append(
                {
                    "number": n,
                    "state": state,
                    "dependency": {
                        "package": {"ecosystem": eco, "name": pkg},
                        "manifest_path": "lockfile",
                        "scope": "runtime",
                    },
                    "security_advisory": {
                        "ghsa_id": ghsa,
                        "cve_id": _cve(rng, opened.year),
                        "summary": summary,
                        "severity": sev,
                        "identifiers": [{"value": ghsa, "type": "GHSA"}],
                        "published_at": _z(opened - timedelta(hours=2)),
                    },
                    "security_vulnerability": {
                        "package": {"ecosystem": eco, "name": pkg},
                        "severity": sev,
                        "vulnerable_version_range": "< 9.9.9",
                        "first_patched_version": {"identifier": "9.9.9"},
                    },
                    "url": f"https://api.github.com/repos/{svc.repo}/dependabot/alerts/{n}",
                    "html_url": f"https://github.com/{svc.repo}/security/dependabot/{n}",
                    "created_at": _z(opened),
                    "updated_at": _z(fixed or dismissed or opened),
                    "dismissed_at": _z(dismissed) if dismissed else None,
                    "dismissed_by": None,
                    "dismissed_reason": "tolerable_risk" if dismissed else None,
                    "dismissed_comment": None,
                    "fixed_at": _z(fixed) if fixed else None,
                    "auto_dismissed_at": None,
                    "repository": _repository(svc),
                }
            )
    alerts.sort(key=lambda a: a["created_at"], reverse=True)  # GitHub lists newest first
    return [_json(path, alerts)]


def _write_code_scanning(org: Organisation, path: Path, rng: random.Random) -> list[Path]:
    alerts: list[dict[str, Any]] = []
    for svc in org.services:
        for n in range(1, rng.randint(1, 4) + 1):
            rule_id, description, level = rng.choice(CODE_RULES)
            opened, fixed, dismissed = _lifecycle(org, rng, level or "medium")
            state = "fixed" if fixed else ("dismissed" if dismissed else "open")
            rule: dict[str, Any] = {
                "id": rule_id,
                "severity": "error" if level == "high" else "warning",
                "description": description,
                "name": rule_id,
                "tags": ["security"],
            }
            if level:
                rule["security_severity_level"] = level
            alerts.append(
                {
                    "number": n,
                    "created_at": _z(opened),
                    "updated_at": _z(fixed or dismissed or opened),
                    "url": f"https://api.github.com/repos/{svc.repo}/code-scanning/alerts/{n}",
                    "html_url": f"https://github.com/{svc.repo}/security/code-scanning/{n}",
                    "state": state,
                    "fixed_at": _z(fixed) if fixed else None,
                    "dismissed_by": None,
                    "dismissed_at": _z(dismissed) if dismissed else None,
                    "dismissed_reason": "false positive" if dismissed else None,
                    "dismissed_comment": None,
                    "rule": rule,
                    "tool": {"name": "CodeQL", "guid": None, "version": "2.22.4"},
                    "most_recent_instance": {
                        "ref": "refs/heads/main",
                        "state": state,
                        "commit_sha": "0" * 40,
                        "location": {"path": f"src/{svc.name}/handler.js", "start_line": 10 * n},
                    },
                    "instances_url": f"https://api.github.com/repos/{svc.repo}/code-scanning/alerts/{n}/instances",
                    "repository": _repository(svc),
                }
            )
    alerts.sort(key=lambda a: a["created_at"], reverse=True)
    return [_json(path, alerts)]


@dataclass
class _Vuln:
    cve: str
    package: str
    severity: str
    opened: datetime
    fixed: datetime | None


def scan_times(start: datetime, end: datetime, *, daily_days: int = 14) -> list[datetime]:
    """A scan a week (Mondays 03:00) until the last ``daily_days`` days, then a scan a day."""
    daily_from = end - timedelta(days=daily_days)
    out, t = [], start + timedelta(hours=3)
    while t < end:
        if t >= daily_from or t.weekday() == 0:
            out.append(t)
        t += timedelta(days=1)
    return out


def trivy_report(image: str, at: datetime, vulns: list[_Vuln], rng: random.Random) -> dict[str, Any]:
    return {
        "SchemaVersion": 2,
        "Trivy": {"Version": "0.58.1"},
        "ReportID": hashlib.sha1(f"{image}{at}".encode()).hexdigest(),
        "CreatedAt": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randrange(10**9):09d}Z",
        "ArtifactName": image,
        "ArtifactType": "container_image",
        "Metadata": {"OS": {"Family": "debian", "Name": "12.8"}, "RepoTags": [image]},
        "Results": [
            {
                "Target": f"{image} (debian 12.8)",
                "Class": "os-pkgs",
                "Type": "debian",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": v.cve,
                        "PkgID": f"{v.package}@1.0",
                        "PkgName": v.package,
                        "InstalledVersion": "1.0-1",
                        **({"FixedVersion": "1.0-2"} if rng.random() < 0.8 else {}),
                        "Status": "fixed",
                        "SeveritySource": "nvd",
                        "PrimaryURL": f"https://avd.aquasec.com/nvd/{v.cve.lower()}",
                        "Title": f"{v.package}: memory corruption in parser",
                        "Severity": v.severity.upper(),
                    }
                    for v in vulns
                ],
            }
        ],
    }


def grype_report(image: str, at: datetime, vulns: list[_Vuln], rng: random.Random) -> dict[str, Any]:
    """A ``grype -o json`` report of an image (drawing as many random numbers as ``trivy_report``)."""
    host = at.astimezone(timezone(timedelta(hours=-5)))  # the scanning host's local time
    digest = hashlib.sha256(image.encode()).hexdigest()
    stamp = host.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randrange(10**9) // 1000:06d}" + host.strftime("%z")
    matches = []
    for v in vulns:
        fixed = rng.random() < 0.8
        matches.append(
            {
                "vulnerability": {
                    "id": v.cve,
                    "dataSource": f"https://security-tracker.debian.org/tracker/{v.cve}",
                    "namespace": "debian:distro:debian:12",
                    "severity": v.severity.title(),
                    "urls": [f"https://security-tracker.debian.org/tracker/{v.cve}"],
                    "description": f"{v.package}: memory corruption in parser",
                    "cvss": [],
                    "fix": {"versions": ["1.0-2"], "state": "fixed"}
                    if fixed
                    else {"versions": [], "state": "not-fixed"},
                    "advisories": [],
                },
                "relatedVulnerabilities": [],
                "matchDetails": [
                    {
                        "type": "exact-direct-match",
                        "matcher": "dpkg-matcher",
                        "searchedBy": {"distro": {"type": "debian", "version": "12"}, "package": {"name": v.package}},
                        "found": {"vulnerabilityID": v.cve, "versionConstraint": "< 1.0-2 (deb)"},
                    }
                ],
                "artifact": {
                    "id": hashlib.sha1(f"{image}{v.package}".encode()).hexdigest()[:16],
                    "name": v.package,
                    "version": "1.0-1",
                    "type": "deb",
                    "locations": [{"path": "/var/lib/dpkg/status", "layerID": f"sha256:{digest}"}],
                    "language": "",
                    "licenses": [],
                    "cpes": [f"cpe:2.3:a:{v.package}:{v.package}:1.0-1:*:*:*:*:*:*:*"],
                    "purl": f"pkg:deb/debian/{v.package}@1.0-1?distro=debian-12",
                    "upstreams": [],
                },
            }
        )
    return {
        "matches": matches,
        "source": {
            "type": "image",
            "target": {
                "userInput": image,
                "imageID": f"sha256:{digest}",
                "manifestDigest": f"sha256:{digest[::-1]}",
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "tags": [image],
                "imageSize": 48_000_000 + len(vulns),
                "layers": [],
                "repoDigests": [],
                "architecture": "amd64",
                "os": "linux",
            },
        },
        "distro": {"name": "debian", "version": "12", "idLike": []},
        "descriptor": {
            "name": "grype",
            "version": "0.86.1",
            "configuration": {"output": ["json"], "only-fixed": False},
            "db": {"built": host.strftime("%Y-%m-%dT00:00:00Z"), "schemaVersion": 5},
            "timestamp": stamp[:-2] + ":" + stamp[-2:],
        },
    }


def scans_with_grype(svc: Service) -> bool:
    """Teams choose their scanner: about one service in three (by a hash of its name) uses Grype."""
    return int(hashlib.sha1(svc.name.encode()).hexdigest(), 16) % 3 == 0


def _write_trivy(org: Organisation, folder: Path, rng: random.Random) -> list[Path]:
    paths = []
    times = scan_times(org.start, org.end)
    for svc in org.services:
        image = f"registry.acme.example/{svc.repo}:{rng.randint(1, 9)}.{rng.randint(0, 30)}"
        vulns: list[_Vuln] = []
        for _ in range(rng.randint(3, 9)):
            sev = _severity(rng)
            opened = org.start + timedelta(seconds=rng.uniform(0, (org.end - org.start).total_seconds()))
            fixed = opened + _fix_after(rng, sev)
            vulns.append(_Vuln(_cve(rng, opened.year), rng.choice(OS_PACKAGES), sev, opened, fixed))
        grype = scans_with_grype(svc)
        report = grype_report if grype else trivy_report
        lines = []
        for at in times:
            listed = [v for v in vulns if v.opened <= at and (v.fixed is None or v.fixed > at)]
            lines.append(json.dumps(report(image, at, listed, rng)))
        where = folder.parent / "grype" if grype else folder
        paths.append(_write(where / f"{svc.name}.ndjson", "\n".join(lines) + "\n"))
    return paths


# ---------------------------------------------------------------- alerts


def _am_alert(
    name: str, svc: Service, severity: str, starts: str, ends: str, fp: str, summary: str, status: str
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {
            "alertname": name,
            "service": svc.name,
            "severity": severity,
            "team": svc.team,
            "namespace": "production",
        },
        "annotations": {"summary": summary, "runbook_url": f"https://runbooks.acme.example/{name}"},
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": f"https://prometheus.acme.example/graph?g0.expr={name}",
        "fingerprint": fp,
    }


def _notification(alert: dict[str, Any], svc: Service) -> dict[str, Any]:
    return {
        "receiver": f"{svc.team}-pager" if alert["labels"]["severity"] == "critical" else f"{svc.team}-slack",
        "status": alert["status"],
        "alerts": [alert],
        "groupLabels": {"alertname": alert["labels"]["alertname"]},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "https://alertmanager.acme.example",
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alert["labels"]["alertname"]}"}}',
        "truncatedAlerts": 0,
    }


@dataclass
class _Firing:
    name: str
    svc: Service
    severity: str
    start: datetime
    end: datetime | None
    summary: str


def firings(org: Organisation, rng: random.Random) -> list[_Firing]:
    """Alert firings: a page around each incident, plus warnings, blips and flapping alerts."""
    services = {s.name: s for s in org.services}
    out: list[_Firing] = []
    for inc in org.incidents:
        svc = services.get(inc.service)
        if svc is None:
            continue
        start = inc.created_at - timedelta(minutes=rng.uniform(1, 4))
        end = inc.resolved_at or None
        out.append(_Firing("HighErrorRate", svc, "critical", start, end, f"5xx above 2% on {svc.name}"))
        if rng.random() < 0.4:
            out.append(
                _Firing("HighLatency", svc, "warning", start + timedelta(minutes=1), end, f"p99 over 1s on {svc.name}")
            )
    days = max(1, (org.end - org.start).days)
    for svc in org.services:
        for _ in range(days // 2):
            name = rng.choice(NOISY_ALERTS)
            start = org.start + timedelta(seconds=rng.uniform(0, (org.end - org.start).total_seconds()))
            kind = rng.random()
            if kind < 0.25:  # a blip: resolved within minutes
                out.append(
                    _Firing(
                        name,
                        svc,
                        "warning",
                        start,
                        start + timedelta(minutes=rng.uniform(1, 4)),
                        f"{name} on {svc.name}",
                    )
                )
            elif kind < 0.35:  # flapping: fires again shortly after it resolved
                end = start + timedelta(minutes=rng.uniform(8, 20))
                again = end + timedelta(minutes=rng.uniform(5, 40))
                out.append(_Firing(name, svc, "warning", start, end, f"{name} on {svc.name}"))
                out.append(
                    _Firing(
                        name,
                        svc,
                        "warning",
                        again,
                        again + timedelta(minutes=rng.uniform(10, 30)),
                        f"{name} on {svc.name}",
                    )
                )
            else:  # a lasting warning, resolved after a while
                out.append(
                    _Firing(
                        name,
                        svc,
                        rng.choice(["warning", "info"]),
                        start,
                        start + timedelta(minutes=rng.uniform(15, 240)),
                        f"{name} on {svc.name}",
                    )
                )
        if rng.random() < 0.5:  # an off-hours page without an incident
            night = org.start + timedelta(days=rng.randrange(days), hours=2)
            out.append(
                _Firing(
                    "NodeNotReady",
                    svc,
                    "critical",
                    night,
                    night + timedelta(minutes=rng.uniform(6, 30)),
                    f"a node of {svc.name} is not ready",
                )
            )
    return [f for f in out if f.start < org.end]


def _write_alertmanager(org: Organisation, folder: Path, rng: random.Random) -> list[Path]:
    by_week: dict[str, list[tuple[datetime, dict[str, Any]]]] = defaultdict(list)
    still_firing = []
    for f in firings(org, rng):
        fp = _fingerprint(f.name, f.svc.name, f.severity)
        starts = _ns(f.start, rng)
        firing = _notification(_am_alert(f.name, f.svc, f.severity, starts, ZERO_TIME, fp, f.summary, "firing"), f.svc)
        sent = [(f.start + timedelta(seconds=30), firing)]
        end = f.end if f.end is not None and f.end < org.end else None
        # re-sent every 4 hours while it fires (repeat_interval)
        t = f.start + timedelta(hours=4)
        while t < (end or org.end):
            sent.append((t, firing))
            t += timedelta(hours=4)
        if end is not None:
            resolved = _am_alert(f.name, f.svc, f.severity, starts, _z(end), fp, f.summary, "resolved")
            sent.append((end + timedelta(seconds=30), _notification(resolved, f.svc)))
        else:
            still_firing.append((f, fp))
        for at, note in sent:
            y, w, _ = at.isocalendar()
            by_week[f"{y}-W{w:02d}"].append((at, note))
    paths = []
    for week, notes in sorted(by_week.items()):
        notes.sort(key=lambda x: x[0])
        paths.append(_write(folder / f"notifications-{week}.ndjson", "\n".join(json.dumps(n) for _, n in notes) + "\n"))
    snapshot = [
        {
            "annotations": {"summary": f.summary},
            "endsAt": _z(org.end + timedelta(minutes=4)),
            "fingerprint": fp,
            "receivers": [{"name": f"{f.svc.team}-pager"}],
            "startsAt": f.start.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
            "updatedAt": _z(org.end),
            "generatorURL": f"https://prometheus.acme.example/graph?g0.expr={f.name}",
            "labels": {
                "alertname": f.name,
                "service": f.svc.name,
                "severity": f.severity,
                "team": f.svc.team,
                "namespace": "production",
            },
        }
        for f, fp in still_firing
    ]
    if snapshot:  # an empty list tells no tool apart: an empty snapshot is not written
        paths.append(_json(folder / "api-alerts.json", snapshot))
    return paths


def _pd_alert(inc: Incident, svc: Service, n: int, rng: random.Random) -> dict[str, Any]:
    created = inc.created_at - timedelta(seconds=rng.randint(5, 50))
    return {
        "id": f"{inc.incident_id}A{n}",
        "type": "alert",
        "summary": inc.title,
        "self": f"https://api.pagerduty.com/alerts/{inc.incident_id}A{n}",
        "html_url": f"https://acme.pagerduty.com/alerts/{inc.incident_id}A{n}",
        "created_at": _z(created),
        "status": "resolved" if inc.resolved_at else "triggered",
        "alert_key": f"{inc.service}-{inc.title}".lower().replace(" ", "-"),
        "service": {"id": svc.pd_service_id, "type": "service_reference", "summary": f"{svc.name.title()} API"},
        "body": {"type": "alert_body", "details": {"source": "prometheus"}},
        "incident": {"id": inc.incident_id, "type": "incident_reference"},
        "suppressed": False,
        "severity": "critical" if inc.urgency == "high" else "warning",
    }


def _write_pagerduty_alerts(org: Organisation, folder: Path, rng: random.Random) -> list[Path]:
    services = {s.name: s for s in org.services}
    by_week: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for inc in org.incidents:
        if inc.as_github_issue or inc.service not in services:
            continue
        y, w, _ = inc.created_at.isocalendar()
        for n in range(1, 1 + (2 if rng.random() < 0.2 else 1)):
            by_week[f"{y}-W{w:02d}"].append(_pd_alert(inc, services[inc.service], n, rng))
    return [
        _json(
            folder / f"alerts-{week}.json", {"alerts": alerts, "limit": 100, "offset": 0, "more": False, "total": None}
        )
        for week, alerts in sorted(by_week.items())
    ]


TEAM_TIME_ZONES = {"storefront": "America/New_York", "payments": "Europe/Berlin", "logistics": "Asia/Kolkata"}


def with_time_zones(catalog: dict[str, Any]) -> dict[str, Any]:
    """The catalog with the teams' time zones (after-hours pages are counted in them)."""
    for entry in catalog.get("services", {}).values():
        zone = TEAM_TIME_ZONES.get(str(entry.get("team")))
        if zone:
            entry["time_zone"] = zone
    return catalog


def _security_incidents(org: Organisation, rng: random.Random) -> list[dict[str, Any]]:
    incidents = []
    t = org.start + timedelta(hours=rng.uniform(10, 60))
    n = 0
    while t < org.end - timedelta(hours=2):
        n += 1
        ack = t + timedelta(minutes=rng.choice([4, 12, 25, 38, 52, 75, 140]))
        resolved = ack + timedelta(hours=rng.uniform(1, 20))
        done = resolved < org.end
        incidents.append(
            {
                "id": f"QSEC{n:04d}",
                "type": "incident",
                "incident_number": 9000 + n,
                "title": rng.choice(
                    [
                        "Leaked credential reported",
                        "Suspicious login burst",
                        "Phishing campaign",
                        "Exposed storage bucket",
                        "Malware signature on build host",
                    ]
                ),
                "created_at": _z(t),
                "updated_at": _z(resolved if done else ack),
                "status": "resolved" if done else "acknowledged",
                "incident_key": f"security-{n}",
                "urgency": "high",
                "service": {"id": "PSECOPS", "type": "service_reference", "summary": "security"},
                "priority": {"id": "PRIP2", "type": "priority", "summary": "P2"},
                "acknowledgements": [{"at": _z(ack), "acknowledger": {"id": "PSEC1", "type": "user_reference"}}],
                "last_status_change_at": _z(resolved if done else ack),
                "resolved_at": _z(resolved) if done else None,
                "teams": [{"id": "PTSEC", "type": "team_reference", "summary": "security"}],
            }
        )
        t += timedelta(hours=rng.uniform(40, 120))
    return incidents


def _write_security_incidents(org: Organisation, path: Path, rng: random.Random) -> Path:
    incidents = _security_incidents(org, rng)
    return _json(path, {"incidents": incidents, "limit": 100, "offset": 0, "more": False, "total": None})


# ---------------------------------------------------------------- canonical


def write_security_canonical(org: Organisation, out: Path, *, seed: int = 7) -> list[Path]:
    """The same organisation's findings, alert firings and security incidents as canonical files
    (``vulnerabilities.csv``, ``alerts.ndjson``, ``security-incidents.ndjson``): the core tables'
    own columns, for a warehouse fed by another pipeline."""
    rng = random.Random(seed * 7919 + 14)
    findings: list[dict[str, str]] = []
    for svc in org.services:
        eco = rng.choice(sorted(PACKAGES))
        for n in range(1, rng.randint(4, 10) + 1):
            sev = _severity(rng)
            opened, fixed, dismissed = _lifecycle(org, rng, sev)
            pkg = rng.choice(PACKAGES[eco])
            state = "fixed" if fixed else ("dismissed" if dismissed else "open")
            findings.append(
                {
                    "finding_id": f"dependabot:{svc.repo}#{n}",
                    "service": svc.name,
                    "repo": svc.repo,
                    "severity": sev,
                    "package": pkg,
                    "advisory_id": _cve(rng, opened.year),
                    "title": f"{pkg} vulnerable to {rng.choice(['prototype pollution', 'ReDoS', 'path traversal'])}",
                    "state": state,
                    "opened_at": _z(opened),
                    "fixed_at": _z(fixed) if fixed else "",
                    "dismissed_at": _z(dismissed) if dismissed else "",
                    "updated_at": _z(fixed or dismissed or opened),
                }
            )
    paths = [write_rows(out / "vulnerabilities.csv", "vulnerabilities", findings)]
    alerts = []
    for f in firings(org, rng):
        end = f.end if f.end is not None and f.end < org.end else None
        labels = {"alertname": f.name, "service": f.svc.name, "severity": f.severity, "team": f.svc.team}
        alerts.append(
            {
                "fingerprint": _fingerprint(f.name, f.svc.name, f.severity),
                "alertname": f.name,
                "service": f.svc.name,
                "severity": f.severity,
                "status": "resolved" if end else "firing",
                "started_at": f.start.astimezone(UTC).isoformat(timespec="milliseconds"),
                "ended_at": _z(end) if end else None,
                "summary": f.summary,
                "labels": json.dumps(labels, sort_keys=True),
                "updated_at": _z(end or f.start),
            }
        )
    alerts.sort(key=lambda a: str(a["started_at"]))
    paths.append(_write(out / "alerts.ndjson", "".join(json.dumps(a) + "\n" for a in alerts)))
    incidents = [
        {
            "incident_id": i["id"],
            "service": "security",
            "team": "security",
            "severity": "sev2",
            "title": i["title"],
            "created_at": i["created_at"],
            "acknowledged_at": i["acknowledgements"][0]["at"],
            "resolved_at": i["resolved_at"] or "",
        }
        for i in _security_incidents(org, rng)
    ]
    paths.append(_write(out / "security-incidents.ndjson", "".join(json.dumps(i) + "\n" for i in incidents)))
    return paths
