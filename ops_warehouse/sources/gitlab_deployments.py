"""``gitlab-deployments``: ``GET /projects/:id/deployments`` (an array) or
``GET /projects/:id/deployments/:deployment_id`` (one object), saved as JSON or NDJSON.

Each deployment becomes one ``raw.deployments`` row: deploy_id ``gitlab:<id>``, source ``gitlab``,
environment = ``environment.name``, sha, ref, started_at = ``created_at``, updated_at.

repo: ``project.path_with_namespace`` when the export carries the project; otherwise it is read
from the pipeline's ``web_url`` (``<host>/<group>/<project>/-/pipelines/<id>``), and left empty
when neither is there (the service then comes from the catalog or the environment).

GitLab states the outcome directly: ``success`` -> success, ``failed`` -> failure, ``canceled``
-> cancelled, ``running`` -> in_progress, ``created`` -> pending, ``blocked`` (waiting for a
manual approval) -> pending, ``skipped`` (never ran) -> cancelled. Other values are rejected.
finished_at = ``deployable.finished_at`` (else ``updated_at``) for finished deployments (success,
failed, canceled, skipped). GitLab has no rollback or hotfix marker, so both are false.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources._github import as_object, moment, object_id, read_records
from ops_warehouse.sources.base import Adapter, BadRecord, ReadContext, Record, Row, Sniff, text

SOURCE = "gitlab"
STATUSES = {
    "success": "success",
    "failed": "failure",
    "canceled": "cancelled",
    "running": "in_progress",
    "created": "pending",
    "blocked": "pending",
    "skipped": "cancelled",
}
FINISHED = frozenset({"success", "failed", "canceled", "skipped"})
_PROJECT_IN_URL = re.compile(r"^https?://[^/]+/(.+?)(?:/-)?/pipelines/\d+")


def looks_like_gitlab_deployment(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and {"id", "iid", "sha", "status", "deployable"} <= rec.keys()
        and isinstance(rec.get("environment"), dict)
    )


def _part(rec: dict[str, Any], key: str) -> dict[str, Any]:
    value = rec.get(key)
    return value if isinstance(value, dict) else {}


def project_path(dep: dict[str, Any]) -> str | None:
    """``group/project`` from the deployment's project, else from its pipeline's web_url."""
    deployable = _part(dep, "deployable")
    for project in (_part(dep, "project"), _part(deployable, "project")):
        if text(project.get("path_with_namespace")):
            return text(project.get("path_with_namespace"))
    m = _PROJECT_IN_URL.match(str(_part(deployable, "pipeline").get("web_url") or ""))
    return m.group(1) if m else None


def deployment_values(rec: Any) -> dict[str, Any]:
    dep = as_object(rec, "GitLab deployment")
    dep_id = object_id(dep, "GitLab deployment")
    raw_status = dep.get("status")
    if raw_status not in STATUSES:
        raise BadRecord(f"GitLab deployment {dep_id}: unknown status {raw_status!r}")
    deployable = _part(dep, "deployable")
    finished = moment(deployable.get("finished_at")) or moment(dep.get("updated_at"))
    return {
        "deploy_id": f"gitlab:{dep_id}",
        "source": SOURCE,
        "repo": project_path(dep),
        "environment": text(_part(dep, "environment").get("name")),
        "sha": text(dep.get("sha")),
        "ref": text(dep.get("ref")),
        "is_rollback": False,
        "is_hotfix": False,
        "started_at": moment(dep.get("created_at")),
        "finished_at": finished if raw_status in FINISHED else None,
        "status": STATUSES[raw_status],
        "updated_at": moment(dep.get("updated_at")),
    }


def _rows(rec: Any, locator: str) -> list[Record]:
    return [Row("deployments", deployment_values(rec), locator)]


class GitlabDeploymentsAdapter(Adapter):
    kind = "gitlab-deployments"
    description = "GitLab deployments API (GET /projects/:id/deployments[/:id])"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_gitlab_deployment(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return read_records(ctx.path, _rows)


ADAPTER = GitlabDeploymentsAdapter()
