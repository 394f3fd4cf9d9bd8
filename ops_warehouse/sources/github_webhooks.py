"""``github-webhooks``: GitHub webhook deliveries saved as a JSON array, NDJSON (one delivery per
line) or a single delivery object.

A delivery is either the bare payload, whose event is inferred from its shape, or a wrapper naming
the event: ``{"event": "push", "payload": {...}}``, or ``{"headers": {"X-GitHub-Event": "push"},
"payload": {...}}`` (the header may also sit at the top level; the payload may be under ``body``,
as an object or as the JSON text of the request body).

=====================  ==================================================================
event                  rows
=====================  ==================================================================
deployment_status      one ``deployments`` row and one ``deployment_statuses`` row
deployment             one ``deployments`` row
workflow_run           one ``deployments`` row (``github-run:<id>``; see github-workflow-runs)
push                   one ``changes`` row per commit (source ``github-push``); merged_at is the
                       push time (``repository.pushed_at``, else the head commit's timestamp)
                       for pushes to ``refs/heads/<default branch>``, else empty
pull_request           one ``pull_requests`` row
issues                 one ``incidents`` or ``action_items`` row (see github-issues)
=====================  ==================================================================

The mapping is the REST adapters' own (``_github``), so a deployment seen in a webhook and in a
REST export is one row. Other events, pushes without commits and issues without an incident or
action-item label are rejected with the reason. A redelivered webhook maps to the same ids and is
counted as a duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from ops_warehouse.sources._github import (
    as_object,
    deployment_values,
    issue_row,
    object_id,
    pull_values,
    push_rows,
    read_records,
    repo_name,
    run_values,
    status_values,
)
from ops_warehouse.sources.base import Adapter, BadRecord, ReadContext, Record, Row, Sniff, child

Handler = Callable[[dict[str, Any], str], list[Record]]
_EVENT_HEADER = "x-github-event"
_SENDER_KEYS = frozenset({"repository", "sender", "installation", "hook_id"})  # every GitHub delivery has one


# ---------------------------------------------------------------- recognising deliveries


def _header_event(obj: dict[str, Any]) -> str | None:
    for holder in (obj, obj.get("headers")):
        if isinstance(holder, dict):
            for key, value in holder.items():
                if isinstance(key, str) and key.lower() == _EVENT_HEADER and isinstance(value, str):
                    return value
    return None


def _payload_of(obj: dict[str, Any]) -> tuple[Any, str] | None:
    for key in ("payload", "body"):
        if key in obj:
            value = obj[key]
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    raise BadRecord(f"{key}: not JSON text") from None
            return value, key
    return None


def unwrap(delivery: Any) -> tuple[str | None, Any, tuple[str, ...]]:
    """(event named by a wrapper or None, the payload, pointer parts from delivery to payload).

    A wrapper is an object with ``payload`` or ``body`` and the event under ``event`` or an
    ``X-GitHub-Event`` header; anything else is a bare payload (whose own ``event`` field, as in
    workflow runs, is not a wrapper's)."""
    obj = as_object(delivery, "webhook delivery")
    if infer_event(obj) is not None:
        return None, obj, ()
    found = _payload_of(obj)
    if found is None:
        return None, obj, ()
    named = obj.get("event") if isinstance(obj.get("event"), str) else _header_event(obj)
    payload, key = found
    return (named.strip().lower() if named else None), payload, (key,)


def infer_event(payload: Any) -> str | None:
    """The event of a bare payload, from the objects it carries."""
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("deployment_status"), dict):
        return "deployment_status"
    if isinstance(payload.get("workflow_run"), dict):
        return "workflow_run"
    if isinstance(payload.get("deployment"), dict):
        return "deployment"
    if isinstance(payload.get("pull_request"), dict) and "head" in payload["pull_request"] and "review" not in payload:
        return "pull_request"
    if isinstance(payload.get("issue"), dict) and "comment" not in payload:
        return "issues"
    if isinstance(payload.get("commits"), list) and "ref" in payload and ("pusher" in payload or "before" in payload):
        return "push"
    return None


# ---------------------------------------------------------------- events


def _repo(payload: dict[str, Any]) -> str | None:
    return repo_name(payload.get("repository"))


def _deployment_status(payload: dict[str, Any], locator: str) -> list[Record]:
    dep = as_object(payload.get("deployment"), "deployment")
    deploy = deployment_values(dep, _repo(payload))
    status = status_values(payload.get("deployment_status"), f"github:{object_id(dep, 'deployment')}")
    return [
        Row("deployments", deploy, child(locator, "deployment")),
        Row("deployment_statuses", status, child(locator, "deployment_status")),
    ]


def _deployment(payload: dict[str, Any], locator: str) -> list[Record]:
    return [
        Row("deployments", deployment_values(payload.get("deployment"), _repo(payload)), child(locator, "deployment"))
    ]


def _workflow_run(payload: dict[str, Any], locator: str) -> list[Record]:
    values = run_values(payload.get("workflow_run"), payload.get("repository"), payload.get("workflow"))
    return [Row("deployments", values, child(locator, "workflow_run"))]


def _pull_request(payload: dict[str, Any], locator: str) -> list[Record]:
    return [
        Row("pull_requests", pull_values(payload.get("pull_request"), _repo(payload)), child(locator, "pull_request"))
    ]


def _issues(payload: dict[str, Any], locator: str) -> list[Record]:
    return [issue_row(payload.get("issue"), child(locator, "issue"), _repo(payload))]


HANDLERS: dict[str, Handler] = {
    "deployment_status": _deployment_status,
    "deployment": _deployment,
    "workflow_run": _workflow_run,
    "push": push_rows,
    "pull_request": _pull_request,
    "issues": _issues,
}


def delivery_rows(delivery: Any, locator: str) -> list[Record]:
    named, payload, parts = unwrap(delivery)
    payload_locator = child(locator, *parts) if parts else locator
    event = named or infer_event(payload)
    if event is None:
        raise BadRecord("unsupported webhook event: cannot tell the event from the payload")
    handler = HANDLERS.get(event)
    if handler is None:
        raise BadRecord(f"unsupported webhook event {event!r} (supported: {', '.join(HANDLERS)})")
    return handler(as_object(payload, f"{event} payload"), payload_locator)


def looks_like_delivery(rec: Any) -> bool:
    try:
        named, payload, _ = unwrap(rec)
    except BadRecord:
        return False
    if not isinstance(payload, dict) or not _SENDER_KEYS & payload.keys():
        return False
    return named is not None or infer_event(payload) is not None


# ---------------------------------------------------------------- the adapter


class GithubWebhooksAdapter(Adapter):
    kind = "github-webhooks"
    description = "GitHub webhook deliveries (deployment_status, push, pull_request, issues, workflow_run)"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_delivery(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return read_records(ctx.path, delivery_rows)


ADAPTER = GithubWebhooksAdapter()
