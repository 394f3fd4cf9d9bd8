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

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources import _security as sec
from ops_warehouse.sources.base import Adapter, BadRecord, ReadContext, Record, Row, Sniff, text

SOURCE = "github-code-scanning"


def looks_like_alert(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and "number" in rec
        and isinstance(rec.get("rule"), dict)
        and ("most_recent_instance" in rec or "tool" in rec)
    )


def alert_values(rec: dict[str, Any], tz: str | None) -> dict[str, Any]:
    number = sec.required_text(rec.get("number"), "number")
    repo = sec.repo_of(rec)
    if repo is None:
        raise BadRecord("repository: required but missing (no repository, url or html_url)")
    state = (text(rec.get("state")) or "").lower() or None
    opened = sec.when(rec.get("created_at"), "created_at", tz)
    if opened is None:
        raise BadRecord("created_at: required but missing")
    fixed = sec.when(rec.get("fixed_at"), "fixed_at", tz) if state == "fixed" else None
    dismissed = sec.when(rec.get("dismissed_at"), "dismissed_at", tz) if state == "dismissed" else None
    sec.check_order(opened, ("fixed_at", fixed), ("dismissed_at", dismissed))
    rule = rec.get("rule") or {}
    return {
        "finding_id": f"{SOURCE}:{repo}#{number}",
        "source": SOURCE,
        "repo": repo,
        "severity": sec.finding_severity(rule.get("security_severity_level")),
        "package": text(sec.nested(rec, "most_recent_instance", "location", "path")),
        "advisory_id": text(rule.get("id")) or text(rule.get("name")),
        "title": text(rule.get("description")),
        "state": state,
        "opened_at": opened,
        "fixed_at": fixed,
        "dismissed_at": dismissed,
        "updated_at": sec.when(rec.get("updated_at"), "updated_at", tz),
    }


class GithubCodeScanningAlertsAdapter(Adapter):
    kind = "github-code-scanning-alerts"
    description = "GitHub code-scanning alerts (GET /repos/{owner}/{repo}/code-scanning/alerts)"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_alert(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        def rows(rec: dict[str, Any], locator: str) -> list[Row]:
            return [Row("vulnerabilities", alert_values(rec, ctx.default_tz), locator)]

        return sec.read_mapped(ctx.path, rows)


ADAPTER = GithubCodeScanningAlertsAdapter()
