"""``github-deployments``: ``GET /repos/{owner}/{repo}/deployments`` saved as JSON (an array, one
deployment object, or NDJSON).

Each deployment becomes one ``raw.deployments`` row: deploy_id ``github:<id>``, source ``github``,
repo ``owner/name`` from ``repository_url``, environment, sha, ref, task, started_at =
``created_at``, updated_at. ``is_rollback`` when the task is ``rollback``/``deploy:rollback`` or
the payload says ``rollback: true``; ``is_hotfix`` when the task or payload says ``hotfix``.
Status and finish are left empty: they come from the deployment statuses
(``github-deployment-statuses`` or ``deployment_status`` webhooks).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources._github import deployment_values, read_records
from ops_warehouse.sources.base import Adapter, ReadContext, Record, Row, Sniff


def looks_like_deployment(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and {"id", "sha", "task", "environment", "statuses_url"} <= rec.keys()
        and "/deployments/" in str(rec.get("url", ""))
    )


def _rows(rec: Any, locator: str) -> list[Record]:
    return [Row("deployments", deployment_values(rec), locator)]


class GithubDeploymentsAdapter(Adapter):
    kind = "github-deployments"
    description = "GitHub REST deployments list (GET /repos/{owner}/{repo}/deployments)"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_deployment(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return read_records(ctx.path, _rows)


ADAPTER = GithubDeploymentsAdapter()
