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

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources import _security as sec
from ops_warehouse.sources.base import Adapter, BadRecord, ReadContext, Record, Row, Sniff, text

SOURCE = "github-dependabot"


def looks_like_alert(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and "number" in rec
        and isinstance(rec.get("security_advisory"), dict)
        and "dependency" in rec
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
    dismissed = None
    if state in ("dismissed", "auto_dismissed"):
        dismissed = sec.when(rec.get("dismissed_at"), "dismissed_at", tz) or sec.when(
            rec.get("auto_dismissed_at"), "auto_dismissed_at", tz
        )
    sec.check_order(opened, ("fixed_at", fixed), ("dismissed_at", dismissed))
    advisory = rec.get("security_advisory") or {}
    return {
        "finding_id": f"{SOURCE}:{repo}#{number}",
        "source": SOURCE,
        "repo": repo,
        "severity": sec.finding_severity(
            advisory.get("severity") or sec.nested(rec, "security_vulnerability", "severity")
        ),
        "package": text(sec.nested(rec, "dependency", "package", "name"))
        or text(sec.nested(rec, "security_vulnerability", "package", "name")),
        "advisory_id": text(advisory.get("ghsa_id")) or text(advisory.get("cve_id")),
        "title": text(advisory.get("summary")),
        "state": state,
        "opened_at": opened,
        "fixed_at": fixed,
        "dismissed_at": dismissed,
        "updated_at": sec.when(rec.get("updated_at"), "updated_at", tz),
    }


class GithubDependabotAlertsAdapter(Adapter):
    kind = "github-dependabot-alerts"
    description = "GitHub Dependabot alerts (GET /repos/{owner}/{repo}/dependabot/alerts)"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_alert(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        def rows(rec: dict[str, Any], locator: str) -> list[Row]:
            return [Row("vulnerabilities", alert_values(rec, ctx.default_tz), locator)]

        return sec.read_mapped(ctx.path, rows)


ADAPTER = GithubDependabotAlertsAdapter()
