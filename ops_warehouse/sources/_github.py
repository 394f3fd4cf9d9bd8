"""GitHub objects mapped to raw rows, shared by the REST-export adapters and the webhook adapter.

The same object (a deployment, a workflow run, a pull request, an issue) looks the same in a REST
export and inside a webhook delivery, so each has one mapping here:

=====================  ======================  ==========================================================
GitHub object          raw table               id
=====================  ======================  ==========================================================
deployment             deployments             ``github:<deployment id>`` (status/finish come from statuses)
deployment status      deployment_statuses     ``github:<status id>``, deploy_id ``github:<deployment id>``
workflow run           deployments             ``github-run:<run id>``, source ``github-actions``
pull request           pull_requests           (repo, pr_number)
push commit            changes                 commit sha, source ``github-push``
pull request commit    changes                 commit sha, source ``github-pull-commits``
issue ``incident``     incidents               ``github-issue:<owner/name>#<number>``
issue ``postmortem``   postmortems             ``github-issue:<owner/name>#<number>``
issue ``action-item``, action_items            ``github-issue:<owner/name>#<number>``
``follow-up``
=====================  ======================  ==========================================================

Changes keep their origin in ``source`` (``github-push`` / ``github-pull-commits``) so that the
push (which knows when the commit reached the default branch) and the pull request commit list
(which knows its pull request) are both kept for the same commit; core combines them.

A record that cannot be mapped raises :class:`BadRecord`; the adapters turn it into a Reject
with its message as the reason. Timestamps are passed on as the ISO 8601 text GitHub writes (the
ingestion contract parses them to UTC, offsets included); epoch seconds become aware datetimes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ops_warehouse.sources.base import (
    BadRecord,
    FileError,
    Record,
    Reject,
    Row,
    Sniff,
    child,
    iter_ndjson,
    load_json,
    normalize_severity,
    pointed_records,
    raw_json,
    text,
)
from ops_warehouse.timeutil import TimestampError, from_epoch

SOURCE = "github"
ACTIONS_SOURCE = "github-actions"
PUSH_SOURCE = "github-push"
PULL_COMMITS_SOURCE = "github-pull-commits"

Values = dict[str, Any]
Mapper = Callable[[Any, str], list[Record]]

_REPO_IN_URL = re.compile(r"/repos/([^/\s]+)/([^/\s?#]+)")
_DEPLOYMENT_IN_URL = re.compile(r"/deployments/(\d+)(?:[/?#]|$)")
_ROOT_CAUSE = re.compile(r"root[ _-]?cause\s*:\s*`?([0-9a-f]{7,40})(?![0-9a-z])", re.IGNORECASE)
_INCIDENT_REF = re.compile(r"\bincident\s*:\s*(?:([\w.-]+/[\w.-]+))?#(\d+)", re.IGNORECASE)
# `incident: <ref>` in a postmortem's body: #12, owner/repo#12, PXXXXXX, an Opsgenie id, a warehouse
# incident id (pagerduty:PT4KHLK), or an incident tool's URL ending in the id
_ANY_INCIDENT_REF = re.compile(r"(?im)^[\W_]*incident(?:\s*(?:id|ref))?[\s*_]*:[\s*_]*`?([^\s`*]+)")
_ISSUE_REF = re.compile(r"^(?:([\w.-]+/[\w.-]+))?#(\d+)$")

INCIDENT_LABELS = frozenset({"incident"})
POSTMORTEM_LABELS = frozenset({"postmortem", "post-mortem"})
ACTION_ITEM_LABELS = frozenset({"action-item", "follow-up", "followup"})
CATEGORY_LABELS = {
    "immediate": "immediate",
    "short-term": "short_term",
    "long-term": "long_term",
    "process": "process",
}

RUN_CONCLUSIONS = {
    "success": "success",
    "failure": "failure",
    "cancelled": "cancelled",
    "timed_out": "failure",
    "startup_failure": "error",
    "neutral": "success",
    "skipped": "cancelled",
    "stale": "cancelled",
    "action_required": "pending",
}
RUN_PROGRESS = {
    "in_progress": "in_progress",
    "queued": "queued",
    "requested": "queued",
    "waiting": "queued",
    "pending": "queued",
}


# ---------------------------------------------------------------- reading files


def json_records(path: Path, *wrappers: str) -> Iterator[tuple[str, Any]]:
    """(locator, record) for each record of a JSON array, a JSON object (alone or wrapping a list
    under one of ``wrappers``) or NDJSON. A line of NDJSON that is not JSON comes as a ValueError."""
    if Sniff(path).is_ndjson:
        for lineno, value, _raw in iter_ndjson(path):
            yield f"line {lineno}", value
        return
    doc = load_json(path)
    _refuse_api_error(doc)
    yield from pointed_records(doc, *wrappers)


def _refuse_api_error(doc: Any) -> None:
    """A saved GitHub error answer (``{"message": "Not Found", "documentation_url": ...}``)."""
    if isinstance(doc, dict) and set(doc) <= {"message", "documentation_url", "status", "errors"} and "message" in doc:
        raise FileError(f"a GitHub API error response, not an export: {doc.get('message')!r}")


def read_records(path: Path, mapper: Mapper, *wrappers: str) -> Iterator[Record]:
    """Every record of the file through ``mapper``; what cannot be mapped becomes a Reject."""
    for locator, rec in json_records(path, *wrappers):
        if isinstance(rec, ValueError):
            yield Reject(locator, str(rec))
            continue
        yield from guarded(mapper, rec, locator)


def guarded(mapper: Mapper, rec: Any, locator: str) -> list[Record]:
    """``mapper(rec, locator)``, or one Reject when it raises BadRecord or maps to nothing."""
    try:
        out = mapper(rec, locator)
    except BadRecord as exc:
        return [Reject(locator, str(exc), raw_json(rec))]
    return out or [Reject(locator, "nothing to load from this record", raw_json(rec))]


# ---------------------------------------------------------------- small accessors


def as_object(rec: Any, what: str) -> dict[str, Any]:
    if not isinstance(rec, dict):
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise BadRecord(f"expected {article} {what} object, got {type(rec).__name__}")
    return rec


def object_id(rec: dict[str, Any], what: str, key: str = "id") -> int:
    value = rec.get(key)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise BadRecord(f"{what}: missing or invalid {key} ({value!r})")


def login(user: Any) -> str | None:
    return text(user.get("login")) if isinstance(user, dict) else None


def moment(value: Any) -> datetime | str | None:
    """A timestamp as GitHub writes it: ISO text is kept (parsed by the contract), epoch seconds
    (``repository.pushed_at`` in push deliveries) become an aware datetime."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return from_epoch(value)
        except TimestampError as exc:
            raise BadRecord(str(exc)) from None
    return text(value)


def repo_from_url(url: Any) -> str | None:
    """``owner/name`` from an API url (``.../repos/owner/name/...``)."""
    if not isinstance(url, str):
        return None
    m = _REPO_IN_URL.search(url)
    return f"{m.group(1)}/{m.group(2)}" if m else None


def repo_name(repository: Any) -> str | None:
    """``full_name`` of a repository object (webhooks, REST lists with a repository)."""
    if isinstance(repository, dict):
        return text(repository.get("full_name")) or repo_from_url(repository.get("url"))
    return text(repository)


def default_branch(repository: Any) -> str | None:
    if not isinstance(repository, dict):
        return None
    return text(repository.get("default_branch")) or text(repository.get("master_branch"))


def repo_of(rec: dict[str, Any], *hints: str | None) -> str | None:
    """The repository of an object: an explicit hint, its ``repository``, or its API urls."""
    for hint in hints:
        if hint:
            return hint
    return repo_name(rec.get("repository")) or repo_from_url(rec.get("repository_url")) or repo_from_url(rec.get("url"))


# ---------------------------------------------------------------- deployments


def _payload(value: Any) -> dict[str, Any]:
    """A deployment payload: an object, or (as older API clients send it) JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes", "1"))


def is_rollback(task: str | None, payload: dict[str, Any]) -> bool:
    return (task or "").strip().lower() in ("rollback", "deploy:rollback") or _flag(payload.get("rollback"))


def is_hotfix(task: str | None, payload: dict[str, Any]) -> bool:
    parts = (task or "").strip().lower().split(":")
    return "hotfix" in parts or _flag(payload.get("hotfix"))


def deployment_values(rec: Any, repo: str | None = None) -> Values:
    dep = as_object(rec, "deployment")
    dep_id = object_id(dep, "deployment")
    task = text(dep.get("task"))
    payload = _payload(dep.get("payload"))
    return {
        "deploy_id": f"github:{dep_id}",
        "source": SOURCE,
        "repo": repo_of(dep, repo),
        "environment": text(dep.get("environment")) or text(dep.get("original_environment")),
        "sha": text(dep.get("sha")),
        "ref": text(dep.get("ref")),
        "task": task,
        "is_rollback": is_rollback(task, payload),
        "is_hotfix": is_hotfix(task, payload),
        "started_at": moment(dep.get("created_at")),
        "updated_at": moment(dep.get("updated_at")),
    }


def status_values(rec: Any, deploy_id: str | None = None) -> Values:
    """A deployment status. Its deployment is given (webhooks) or read from ``deployment_url``."""
    st = as_object(rec, "deployment status")
    status_id = object_id(st, "deployment status")
    if deploy_id is None:
        m = _DEPLOYMENT_IN_URL.search(str(st.get("deployment_url") or ""))
        if not m:
            raise BadRecord("deployment status: no deployment_url naming its deployment")
        deploy_id = f"github:{m.group(1)}"
    state = text(st.get("state"))
    return {
        "status_id": f"github:{status_id}",
        "deploy_id": deploy_id,
        "state": state.strip().lower() if state else None,
        "environment": text(st.get("environment")),
        "created_at": moment(st.get("created_at")),
        "source": SOURCE,
        "updated_at": moment(st.get("updated_at")),
    }


# ---------------------------------------------------------------- workflow runs


def run_status(status: Any, conclusion: Any) -> str:
    """Deployment status of a run: its conclusion once completed, else its progress."""
    if status == "completed":
        if conclusion in RUN_CONCLUSIONS:
            return RUN_CONCLUSIONS[conclusion]
        raise BadRecord(f"workflow run: unknown conclusion {conclusion!r}")
    if status in RUN_PROGRESS:
        return RUN_PROGRESS[status]
    raise BadRecord(f"workflow run: unknown status {status!r}")


def run_environment(head_branch: str | None, default: str | None) -> str:
    """``production`` for runs on the default branch, or when the default branch is not known
    (REST run lists do not carry it); ``branch:<name>`` for runs on other branches."""
    if default is None or head_branch is None or head_branch == default:
        return "production"
    return f"branch:{head_branch}"


def run_values(rec: Any, repository: Any = None, workflow: Any = None) -> Values:
    run = as_object(rec, "workflow run")
    run_id = object_id(run, "workflow run")
    repository = repository if isinstance(repository, dict) else run.get("repository")
    status = run_status(run.get("status"), run.get("conclusion"))
    name = text(run.get("name")) or (text(workflow.get("name")) if isinstance(workflow, dict) else None)
    head_branch = text(run.get("head_branch"))
    return {
        "deploy_id": f"github-run:{run_id}",
        "source": ACTIONS_SOURCE,
        "repo": repo_of(run, repo_name(repository)),
        "environment": run_environment(head_branch, default_branch(repository)),
        "sha": text(run.get("head_sha")),
        "ref": head_branch,
        "workflow": " ".join(p for p in (name, text(run.get("path"))) if p) or None,
        "is_rollback": False,
        "is_hotfix": False,
        "started_at": moment(run.get("run_started_at")) or moment(run.get("created_at")),
        "finished_at": moment(run.get("updated_at")) if run.get("status") == "completed" else None,
        "status": status,
        "updated_at": moment(run.get("updated_at")),
    }


# ---------------------------------------------------------------- pull requests and commits


def pull_values(rec: Any, repo: str | None = None) -> Values:
    pr = as_object(rec, "pull request")
    number = object_id(pr, "pull request", "number")
    base = pr.get("base") if isinstance(pr.get("base"), dict) else {}
    head = pr.get("head") if isinstance(pr.get("head"), dict) else {}
    repo = repo_of(pr, repo, repo_name(base.get("repo")))
    if not repo:
        raise BadRecord(f"pull request #{number}: cannot tell its repository (no base.repo or url)")
    return {
        "repo": repo,
        "pr_number": number,
        "title": text(pr.get("title")),
        "state": text(pr.get("state")),
        "base_ref": text(base.get("ref")),
        "head_sha": text(head.get("sha")),
        "merge_commit_sha": text(pr.get("merge_commit_sha")),
        "created_at": moment(pr.get("created_at")),
        "merged_at": moment(pr.get("merged_at")),
        "source": SOURCE,
        "updated_at": moment(pr.get("updated_at")),
    }


def pull_commit_values(rec: Any, repo: str | None, pr_number: int | None) -> Values:
    """One commit of ``GET /pulls/{n}/commits``: authored at ``commit.author.date`` (local offset)."""
    c = as_object(rec, "commit")
    sha = text(c.get("sha"))
    if not sha:
        raise BadRecord("commit: missing sha")
    commit = c.get("commit") if isinstance(c.get("commit"), dict) else {}
    author = commit.get("author") if isinstance(commit.get("author"), dict) else {}
    return {
        "change_id": sha,
        "source": PULL_COMMITS_SOURCE,
        "repo": repo or repo_from_url(c.get("url")),
        "authored_at": moment(author.get("date")),
        "pr_number": pr_number,
    }


def push_rows(payload: dict[str, Any], locator: str) -> list[Record]:
    """One change per commit of a push. ``merged_at`` is the push time (``repository.pushed_at``,
    else the head commit's timestamp) when the push is to ``refs/heads/<default branch>``."""
    repository = payload.get("repository")
    commits = payload.get("commits")
    if not isinstance(commits, list):
        raise BadRecord("push: commits is not a list")
    if not commits:
        raise BadRecord("push without commits (a deleted branch or a tag): nothing to load")
    default = default_branch(repository)
    on_default = default is not None and payload.get("ref") == f"refs/heads/{default}"
    merged_at = _push_time(payload) if on_default else None
    repo = repo_name(repository)
    return [_push_commit(c, repo, merged_at, child(locator, "commits", i)) for i, c in enumerate(commits)]


def _push_time(payload: dict[str, Any]) -> datetime | str | None:
    repository = payload.get("repository")
    pushed = repository.get("pushed_at") if isinstance(repository, dict) else None
    head = payload.get("head_commit")
    return moment(pushed) or (moment(head.get("timestamp")) if isinstance(head, dict) else None)


def _push_commit(rec: Any, repo: str | None, merged_at: datetime | str | None, locator: str) -> Record:
    if not isinstance(rec, dict) or not text(rec.get("id")):
        return Reject(locator, "push commit: not an object with an id", raw_json(rec))
    values = {
        "change_id": text(rec.get("id")),
        "source": PUSH_SOURCE,
        "repo": repo,
        "authored_at": text(rec.get("timestamp")),
        "merged_at": merged_at,
    }
    return Row("changes", values, locator)


# ---------------------------------------------------------------- issues


def label_names(issue: dict[str, Any]) -> list[str]:
    labels = issue.get("labels")
    if not isinstance(labels, list):
        return []
    names = (lab.get("name") if isinstance(lab, dict) else lab for lab in labels)
    return [n.strip() for n in names if isinstance(n, str) and n.strip()]


def _norm(label: str) -> str:
    return re.sub(r"[\s_]+", "-", label.strip().lower())


def issue_row(rec: Any, locator: str, repo: str | None = None) -> Row:
    """An issue labelled ``incident`` as an incident, one labelled ``postmortem`` as a postmortem,
    one labelled ``action-item``, ``action item`` or ``follow-up`` as an action item (in that order
    when several apply). Pull requests and issues with none of these labels are rejected, with the
    reason."""
    issue = as_object(rec, "issue")
    number = object_id(issue, "issue", "number")
    if "pull_request" in issue:
        raise BadRecord(f"#{number} is a pull request, not an issue (load pull requests with github-pulls)")
    repo = repo_of(issue, repo)
    if not repo:
        raise BadRecord(f"issue #{number}: cannot tell its repository (no repository_url or url)")
    labels = label_names(issue)
    normalized = {_norm(lab) for lab in labels}
    key = f"github-issue:{repo}#{number}"
    if normalized & INCIDENT_LABELS:
        return Row("incidents", incident_values(issue, key, repo, labels), locator)
    if normalized & POSTMORTEM_LABELS:
        return Row("postmortems", postmortem_values(issue, key, repo), locator)
    if normalized & ACTION_ITEM_LABELS:
        return Row("action_items", action_item_values(issue, key, repo, normalized), locator)
    raise BadRecord(
        f"issue {repo}#{number} is neither an incident, a postmortem nor an action item "
        f"(labels: {', '.join(labels) or 'none'}; expected incident, postmortem, action-item or follow-up)"
    )


def root_cause_sha(body: Any) -> str | None:
    """The sha named by ``root cause: <sha>`` (7 to 40 hex digits) in an issue body."""
    m = _ROOT_CAUSE.search(body) if isinstance(body, str) else None
    return m.group(1).lower() if m else None


def incident_values(issue: dict[str, Any], key: str, repo: str, labels: list[str]) -> Values:
    return {
        "incident_id": key,
        "source": SOURCE,
        "service_ref": repo,
        "service_name": repo.rsplit("/", 1)[-1],
        "severity": normalize_severity(labels=labels),
        "title": text(issue.get("title")),
        "status": text(issue.get("state")),
        "created_at": moment(issue.get("created_at")),
        "resolved_at": moment(issue.get("closed_at")),
        "caused_by_sha": root_cause_sha(issue.get("body")),
        "updated_at": moment(issue.get("updated_at")),
    }


def _item_status(issue: dict[str, Any]) -> str:
    state = text(issue.get("state"))
    if state == "open":
        return "open"
    if state == "closed":
        return "not_doing" if issue.get("state_reason") == "not_planned" else "done"
    raise BadRecord(f"issue: unknown state {state!r}")


def _incident_ref(body: Any, repo: str) -> str | None:
    """``incident: #12`` or ``incident: owner/name#12`` in an action item's body."""
    m = _INCIDENT_REF.search(body) if isinstance(body, str) else None
    return f"github-issue:{m.group(1) or repo}#{m.group(2)}" if m else None


def _owner(issue: dict[str, Any]) -> str | None:
    assignees = issue.get("assignees")
    if isinstance(assignees, list) and assignees:
        return login(assignees[0])
    return login(issue.get("assignee")) or login(issue.get("user"))


def _due_date(issue: dict[str, Any]) -> str | None:
    milestone = issue.get("milestone")
    due = text(milestone.get("due_on")) if isinstance(milestone, dict) else None
    return due[:10] if due else None


def action_item_values(issue: dict[str, Any], key: str, repo: str, labels: Iterable[str]) -> Values:
    status = _item_status(issue)
    category = next((CATEGORY_LABELS[lab] for lab in labels if lab in CATEGORY_LABELS), None)
    return {
        "item_id": key,
        "source": SOURCE,
        "incident_id": _incident_ref(issue.get("body"), repo),
        "title": text(issue.get("title")),
        "owner": _owner(issue),
        "category": category,
        "created_at": moment(issue.get("created_at")),
        "due_date": _due_date(issue),
        "completed_at": moment(issue.get("closed_at")) if status == "done" else None,
        "status": status,
        "resolution": text(issue.get("state_reason")),
        "updated_at": moment(issue.get("updated_at")),
    }


def postmortem_incident_ref(body: Any, repo: str) -> str | None:
    """The incident a postmortem names with ``incident: <ref>`` on a line of its body. GitHub
    references (``#12``, ``owner/repo#12``) become the warehouse's id for that issue; an incident
    tool's URL gives its last path segment (the tool's id); anything else is kept as written and
    resolved by ``core.postmortems`` (PagerDuty ``PXXXXXX``, an Opsgenie id, a warehouse id)."""
    m = _ANY_INCIDENT_REF.search(body) if isinstance(body, str) else None
    if not m:
        return None
    ref = m.group(1).strip().rstrip(".,;)")
    issue = _ISSUE_REF.match(ref)
    if issue:
        return f"github-issue:{issue.group(1) or repo}#{issue.group(2)}"
    if ref.lower().startswith(("http://", "https://")):
        last = ref.rstrip("/").rsplit("/", 1)[-1]
        return last or None
    return ref or None


def postmortem_values(issue: dict[str, Any], key: str, repo: str) -> Values:
    """A postmortem issue: drafted when opened, published when closed as completed; closed as
    ``not_planned`` means cancelled (never published)."""
    state = _item_status(issue)
    status = {"open": "draft", "done": "published", "not_doing": "cancelled"}[state]
    return {
        "postmortem_id": key,
        "source": SOURCE,
        "incident_id": postmortem_incident_ref(issue.get("body"), repo),
        "title": text(issue.get("title")),
        "owner": _owner(issue),
        "created_at": moment(issue.get("created_at")),
        "published_at": moment(issue.get("closed_at")) if status == "published" else None,
        "status": status,
        "updated_at": moment(issue.get("updated_at")),
    }
