"""``github-code-scanning-alerts``: ``GET /repos/{owner}/{repo}/code-scanning/alerts`` (or the
organisation's list) into ``raw.vulnerabilities``.

Accepts the API's array, one alert object, or NDJSON of alerts. Mapping (METRICS.md,
"Vulnerability management"):

- finding_id: ``github-code-scanning:<owner/name>#<number>``; repo from ``repository.full_name``,
  else from ``url``/``html_url``
- severity: ``rule.security_severity_level`` (critical, high, medium, low). ``rule.severity``
  (error, warning, note) is a code-quality scale, not a security one: an alert without a security
  severity is ``unknown`` and has no SLA.
- package: the file of ``most_recent_instance.location.path``; advisory_id: ``rule.id``; title:
  ``rule.description``
- opened_at: ``created_at``; fixed_at: ``fixed_at`` when the state is ``fixed``; dismissed_at:
  ``dismissed_at`` when the state is ``dismissed``; a reopened alert (``open``) has neither.
- updated_at: ``updated_at``.

Rejected: an alert without number, repository or ``created_at``, a bad timestamp, a fix or
dismissal before the alert was created.
"""

from __future__ import annotations

from typing import Any

from ops_warehouse.sources import _security as sec
from ops_warehouse.sources.base import text

SOURCE = "github-code-scanning"


class GithubCodeScanningAlertsAdapter(sec.GithubAlertsAdapter):
    kind = "github-code-scanning-alerts"
    description = "GitHub code-scanning alerts (GET /repos/{owner}/{repo}/code-scanning/alerts)"
    source = SOURCE

    def looks_like(self, rec: dict[str, Any]) -> bool:
        return isinstance(rec.get("rule"), dict) and ("most_recent_instance" in rec or "tool" in rec)

    def finding(self, rec: dict[str, Any]) -> dict[str, Any]:
        rule = rec.get("rule") or {}
        return {
            "severity": sec.finding_severity(rule.get("security_severity_level")),
            "package": text(sec.nested(rec, "most_recent_instance", "location", "path")),
            "advisory_id": text(rule.get("id")) or text(rule.get("name")),
            "title": text(rule.get("description")),
        }


ADAPTER = GithubCodeScanningAlertsAdapter()
