"""``github-issues``: ``GET /repos/{owner}/{repo}/issues`` (an array), ``GET .../issues/{n}`` (one
object), the search answer (``{"items": [...]}``), or NDJSON of issue objects.

An issue labelled ``incident`` (any case) becomes a ``raw.incidents`` row: incident_id
``github-issue:<owner/name>#<number>``, service_ref = ``owner/name``, service_name = the
repository's short name, severity from ``sev1``..``sev4`` labels, title, status (open/closed),
created_at, resolved_at = ``closed_at``, caused_by_sha from ``root cause: <sha>`` in the body.

An issue labelled ``postmortem``, ``action-item``, ``action item`` or ``follow-up`` becomes a
``raw.action_items`` row with the same id form: owner = first assignee (else the author), category
from an ``immediate``/``short-term``/``long-term``/``process`` label, due_date = the milestone's
``due_on`` date, status open, done, or not_doing (closed as ``not_planned``), completed_at =
``closed_at`` when done, incident_id from ``incident: #<n>`` in the body.

Pull requests (issue lists include them) and issues with neither label are rejected with the
reason, so they are counted in quarantine rather than dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources._github import issue_row, read_records
from ops_warehouse.sources.base import Adapter, ReadContext, Record, Sniff


def looks_like_issue(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and {"number", "title", "labels", "state", "repository_url"} <= rec.keys()
        and "/issues/" in str(rec.get("url", ""))
    )


def _rows(rec: Any, locator: str) -> list[Record]:
    return [issue_row(rec, locator)]


class GithubIssuesAdapter(Adapter):
    kind = "github-issues"
    description = "GitHub REST issues labelled incident or postmortem/action-item"

    def detect(self, sniff: Sniff) -> bool:
        doc = sniff.doc
        if isinstance(doc, dict) and isinstance(doc.get("items"), list):
            return looks_like_issue(doc["items"][0]) if doc["items"] else False
        return looks_like_issue(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return read_records(ctx.path, _rows, "items")


ADAPTER = GithubIssuesAdapter()
