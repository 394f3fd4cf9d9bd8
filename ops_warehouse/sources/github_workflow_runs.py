"""``github-workflow-runs``: ``GET /repos/{owner}/{repo}/actions/runs`` saved as JSON (the
``{"total_count", "workflow_runs": [...]}`` answer, a bare array of runs, one run, or NDJSON).

Every run becomes one ``raw.deployments`` row (core keeps those whose workflow matches the
service's deploy pattern): deploy_id ``github-run:<run id>``, source ``github-actions``, repo from
``repository.full_name``, workflow = run name + " " + workflow path, sha = ``head_sha``, ref =
``head_branch``, started_at = ``run_started_at`` (else ``created_at``), finished_at =
``updated_at`` once completed.

Status: conclusion success/failure/cancelled as is, ``timed_out`` -> failure, ``startup_failure``
-> error, ``neutral`` -> success, ``skipped``/``stale`` -> cancelled, ``action_required`` ->
pending; runs not completed -> in_progress or queued. Unknown values are rejected.

Environment: ``production`` when the run's branch is the repository's default branch, and also
when the default branch is not known (REST run lists do not carry it); ``branch:<name>`` for runs
on another branch when it is known (webhooks).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources._github import read_records, run_values
from ops_warehouse.sources.base import Adapter, ReadContext, Record, Row, Sniff


def looks_like_run(rec: Any) -> bool:
    return isinstance(rec, dict) and {"id", "workflow_id", "run_number", "head_sha"} <= rec.keys()


def _rows(rec: Any, locator: str) -> list[Record]:
    return [Row("deployments", run_values(rec), locator)]


class GithubWorkflowRunsAdapter(Adapter):
    kind = "github-workflow-runs"
    description = "GitHub Actions workflow runs (GET /repos/{owner}/{repo}/actions/runs)"

    def detect(self, sniff: Sniff) -> bool:
        doc = sniff.doc
        if isinstance(doc, dict) and isinstance(doc.get("workflow_runs"), list):
            return True
        return looks_like_run(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return read_records(ctx.path, _rows, "workflow_runs")


ADAPTER = GithubWorkflowRunsAdapter()
