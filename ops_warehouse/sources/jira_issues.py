"""``jira-issues``: postmortems and their action items from a Jira search response into
``raw.postmortems`` and ``raw.action_items``.

Accepts a search response (``GET /rest/api/2/search``, ``/rest/agile/1.0/sprint/{id}/issue``:
``{"issues": [...], "startAt", "maxResults", "total"}``) or a bare array of issues; records are
located by JSON pointer (``/issues/3``). Jira writes offsets without a colon
(``2015-12-02T07:39:15.000-0800``) and ``duedate`` as a plain date (``2015-12-31``).

Mapping (METRICS.md, Postmortem action items), all from ``fields``:

- item_id: ``jira:`` + the issue ``key`` (e.g. ``jira:AR-86``)
- title: ``summary``; owner: ``assignee.displayName``, else ``assignee.name``
- created_at: ``created``; due_date: ``duedate``; updated_at: ``updated`` (the newest export wins)
- status: from ``status.statusCategory.key``, trusted over ``resolutiondate``:

  - ``done``: ``not_doing`` when the resolution (or the status) is one of Won't Do, Won't Fix,
    Duplicate, Cannot Reproduce, Declined, Rejected, Obsolete; otherwise ``done``
  - ``new``, ``indeterminate``, ``undefined``: ``open``, even when a stale ``resolutiondate`` is set
    (a reopened issue)
  - anything else, or no status at all: quarantined, since the item's state cannot be told

- completed_at: for ``done`` items ``resolutiondate``, else ``statuscategorychangedate`` (Jira
  Cloud), else NULL; NULL for open and not_doing items
- resolution: ``resolution.name``
- category: the first label that names one: ``immediate``, ``short_term``, ``long_term``,
  ``process``, case-insensitive, with ``-`` or a space for ``_`` and an optional ``category:``
  prefix (``short-term``, ``category:Long-Term``); otherwise NULL
- incident_id: a label ``incident:<incident id>`` naming the warehouse's incident id as written
  (``incident:pagerduty:PT4KHLK`` -> ``pagerduty:PT4KHLK``); else an issue link to an issue of type
  Incident, Postmortem or Post-incident review -> ``jira:<its key>``; else NULL
- team: a label ``team:<name>``, else the project key (``AR``); the service catalog may map it

An issue of type Postmortem (or Post-mortem, Post-incident review) or labelled ``postmortem`` is a
postmortem, not an action item (METRICS.md, Postmortems), into ``raw.postmortems``:

- postmortem_id: ``jira:`` + the key; title, owner, created_at, updated_at as above
- incident_id: the ``incident:<ref>`` label as written (``incident:PT4KHLK``,
  ``incident:pagerduty:PT4KHLK``, ``incident:acme/web#12``), resolved by ``core.postmortems``; else
  an issue link to an issue of type Incident (``jira:<its key>``); else NULL
- status: ``published`` when ``statusCategory.key`` is ``done`` (``cancelled`` for the not-doing
  resolutions above), else ``draft``; published_at: ``resolutiondate`` (else
  ``statuscategorychangedate``) when published
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources.base import (
    Adapter,
    BadRecord,
    ReadContext,
    Record,
    Reject,
    Row,
    Sniff,
    load_json,
    pointed_records,
    raw_json,
    text,
)

SOURCE = "jira"
WRAPPER = "issues"
OPEN_CATEGORIES = ("new", "indeterminate", "undefined")
NOT_DOING = frozenset({"won't do", "won't fix", "duplicate", "cannot reproduce", "declined", "rejected", "obsolete"})
CATEGORIES = ("immediate", "short_term", "long_term", "process")
INCIDENT_ISSUE_TYPES = frozenset({"incident", "postmortem", "post-incident review"})
POSTMORTEM_ISSUE_TYPES = frozenset({"postmortem", "post-mortem", "post-incident review"})
POSTMORTEM_LABELS = frozenset({"postmortem", "post-mortem"})


def obj(parent: Any, key: str) -> dict[str, Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def labels_of(fields: dict[str, Any]) -> list[str]:
    labels = fields.get("labels")
    return [lab.strip() for lab in labels if isinstance(lab, str)] if isinstance(labels, list) else []


def label_value(labels: list[str], prefix: str) -> str | None:
    """The rest of the first label starting with ``prefix:`` (case-insensitive)."""
    for label in labels:
        head, sep, rest = label.partition(":")
        if sep and head.lower() == prefix and rest.strip():
            return rest.strip()
    return None


def category_of(labels: list[str]) -> str | None:
    for label in labels:
        norm = label.lower().removeprefix("category:").replace("-", "_").replace(" ", "_")
        if norm in CATEGORIES:
            return norm
    return None


def linked_incident(links: Any, types: frozenset[str] = INCIDENT_ISSUE_TYPES) -> str | None:
    """``jira:<key>`` of the first linked issue whose type is one of ``types`` (by default an
    incident or postmortem)."""
    for link in links if isinstance(links, list) else []:
        for side in ("inwardIssue", "outwardIssue"):
            issue = obj(link, side)
            kind = (text(obj(obj(issue, "fields"), "issuetype").get("name")) or "").lower()
            key = text(issue.get("key"))
            if key and kind in types:
                return f"{SOURCE}:{key}"
    return None


def is_postmortem(fields: dict[str, Any]) -> bool:
    """Of type Postmortem (or Post-mortem, Post-incident review), or labelled ``postmortem``."""
    kind = (text(obj(fields, "issuetype").get("name")) or "").lower()
    return kind in POSTMORTEM_ISSUE_TYPES or any(lab.lower() in POSTMORTEM_LABELS for lab in labels_of(fields))


def is_not_doing(*names: str | None) -> bool:
    return any(n is not None and n.lower().replace("\u2019", "'") in NOT_DOING for n in names)


def status_of(fields: dict[str, Any], resolution: str | None) -> str:
    status = obj(fields, "status")
    category = text(obj(status, "statusCategory").get("key"))
    if category is None:
        raise BadRecord("fields.status.statusCategory.key: required but missing")
    category = category.lower()
    if category in OPEN_CATEGORIES:
        return "open"
    if category != "done":
        raise BadRecord(f"fields.status.statusCategory.key: {category!r} is not one of new, indeterminate, done")
    return "not_doing" if is_not_doing(resolution, text(status.get("name"))) else "done"


def owner_of(fields: dict[str, Any]) -> str | None:
    assignee = obj(fields, "assignee")
    return text(assignee.get("displayName")) or text(assignee.get("name"))


def item_values(issue: dict[str, Any]) -> dict[str, Any]:
    key = text(issue.get("key"))
    if key is None:
        raise BadRecord("key: required but missing")
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        raise BadRecord("fields: expected an object")
    resolution = text(obj(fields, "resolution").get("name"))
    status = status_of(fields, resolution)
    labels = labels_of(fields)
    completed = fields.get("resolutiondate") or fields.get("statuscategorychangedate")
    return {
        "item_id": f"{SOURCE}:{key}",
        "source": SOURCE,
        "incident_id": label_value(labels, "incident") or linked_incident(fields.get("issuelinks")),
        "title": text(fields.get("summary")),
        "owner": owner_of(fields),
        "team": label_value(labels, "team") or text(obj(fields, "project").get("key")),
        "category": category_of(labels),
        "created_at": fields.get("created"),
        "due_date": fields.get("duedate"),
        "completed_at": completed if status == "done" else None,
        "status": status,
        "resolution": resolution,
        "updated_at": fields.get("updated"),
    }


def postmortem_values(key: str, fields: dict[str, Any]) -> dict[str, Any]:
    resolution = text(obj(fields, "resolution").get("name"))
    state = status_of(fields, resolution)
    status = {"open": "draft", "done": "published", "not_doing": "cancelled"}[state]
    published = fields.get("resolutiondate") or fields.get("statuscategorychangedate")
    labels = labels_of(fields)
    return {
        "postmortem_id": f"{SOURCE}:{key}",
        "source": SOURCE,
        "incident_id": label_value(labels, "incident")
        or linked_incident(fields.get("issuelinks"), frozenset({"incident"})),
        "title": text(fields.get("summary")),
        "owner": owner_of(fields),
        "created_at": fields.get("created"),
        "published_at": published if status == "published" else None,
        "status": status,
        "updated_at": fields.get("updated"),
    }


def to_record(issue: Any, locator: str) -> Record:
    raw = raw_json(issue)
    if not isinstance(issue, dict):
        return Reject(locator, f"expected a JSON object, got {type(issue).__name__}", raw)
    try:
        fields = issue.get("fields")
        key = text(issue.get("key"))
        if key is not None and isinstance(fields, dict) and is_postmortem(fields):
            return Row("postmortems", postmortem_values(key, fields), locator, raw)
        return Row("action_items", item_values(issue), locator, raw)
    except BadRecord as exc:
        return Reject(locator, str(exc), raw)


def looks_like_issue(rec: Any) -> bool:
    return isinstance(rec, dict) and isinstance(rec.get("key"), str) and isinstance(rec.get("fields"), dict)


class JiraIssuesAdapter(Adapter):
    kind = "jira-issues"
    description = "Jira search responses (postmortems and their action items)"

    def detect(self, sniff: Sniff) -> bool:
        rec = sniff.first_record
        if isinstance(rec, dict) and isinstance(rec.get(WRAPPER), list):
            issues = rec[WRAPPER]
            return looks_like_issue(issues[0]) if issues else "startAt" in rec
        return looks_like_issue(rec)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        for locator, rec in pointed_records(load_json(ctx.path), WRAPPER):
            yield to_record(rec, locator)


ADAPTER = JiraIssuesAdapter()
