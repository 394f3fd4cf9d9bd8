"""``github-deployment-statuses``: ``GET /repos/{owner}/{repo}/deployments/{id}/statuses`` saved
as JSON (an array, one status object, or NDJSON). Lists may hold statuses of several deployments.

Each status becomes one ``raw.deployment_statuses`` row: status_id ``github:<status id>``,
deploy_id ``github:<deployment id>`` (read from the status's ``deployment_url``), state (error,
failure, inactive, in_progress, queued, pending, success; anything else is quarantined by the
table contract), environment, created_at. Lists come newest first; order does not matter because
core picks the last terminal status by time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources._github import read_records, status_values
from ops_warehouse.sources.base import Adapter, ReadContext, Record, Row, Sniff


def looks_like_status(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and {"id", "state", "deployment_url"} <= rec.keys()
        and "/statuses/" in str(rec.get("url", ""))
    )


def _rows(rec: Any, locator: str) -> list[Record]:
    return [Row("deployment_statuses", status_values(rec), locator)]


class GithubDeploymentStatusesAdapter(Adapter):
    kind = "github-deployment-statuses"
    description = "GitHub REST deployment statuses (GET .../deployments/{id}/statuses)"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_status(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return read_records(ctx.path, _rows)


ADAPTER = GithubDeploymentStatusesAdapter()
