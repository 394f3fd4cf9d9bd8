"""``github-dependabot-alerts``: ``GET /repos/{owner}/{repo}/dependabot/alerts`` (or the
organisation's list, whose alerts carry ``repository``) into ``raw.vulnerabilities``.

Accepts the API's array, one alert object, or NDJSON of alerts. Mapping (METRICS.md,
"Vulnerability management"):

- finding_id: ``github-dependabot:<owner/name>#<number>``; repo from ``repository.full_name``, else
  from ``url``/``html_url`` (a repository's list does not repeat it)
- severity: ``security_advisory.severity``, else ``security_vulnerability.severity`` (``moderate``
  is medium; missing is unknown, which has no SLA)
- package: ``dependency.package.name``; advisory_id: ``security_advisory.ghsa_id`` (else
  ``cve_id``); title: ``security_advisory.summary``
- opened_at: ``created_at``; fixed_at: ``fixed_at`` when the state is ``fixed``; dismissed_at:
  ``dismissed_at`` or ``auto_dismissed_at`` when the state is ``dismissed`` or ``auto_dismissed``.
  A reopened alert (state ``open``) has neither, whatever stale field it still carries.
- updated_at: ``updated_at``, so the newest export of an alert wins.

Rejected: an alert without number, repository or ``created_at``, a bad timestamp, a fix or
dismissal before the alert was created.
"""

from __future__ import annotations

from typing import Any

from ops_warehouse.sources import _security as sec
from ops_warehouse.sources.base import text

SOURCE = "github-dependabot"


class GithubDependabotAlertsAdapter(sec.GithubAlertsAdapter):
    kind = "github-dependabot-alerts"
    description = "GitHub Dependabot alerts (GET /repos/{owner}/{repo}/dependabot/alerts)"
    source = SOURCE
    dismissed_states = ("dismissed", "auto_dismissed")
    dismissed_fields = ("dismissed_at", "auto_dismissed_at")

    def looks_like(self, rec: dict[str, Any]) -> bool:
        return isinstance(rec.get("security_advisory"), dict) and "dependency" in rec

    def finding(self, rec: dict[str, Any]) -> dict[str, Any]:
        advisory = rec.get("security_advisory") or {}
        return {
            "severity": sec.finding_severity(
                advisory.get("severity") or sec.nested(rec, "security_vulnerability", "severity")
            ),
            "package": text(sec.nested(rec, "dependency", "package", "name"))
            or text(sec.nested(rec, "security_vulnerability", "package", "name")),
            "advisory_id": text(advisory.get("ghsa_id")) or text(advisory.get("cve_id")),
            "title": text(advisory.get("summary")),
        }


ADAPTER = GithubDependabotAlertsAdapter()
