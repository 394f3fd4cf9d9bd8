"""``github-pulls``: ``GET /repos/{owner}/{repo}/pulls`` (an array), ``GET .../pulls/{n}`` (one
object), or NDJSON of pull request objects.

Each becomes one ``raw.pull_requests`` row: repo (``base.repo.full_name``, else from ``url``),
pr_number, title, state (GitHub's ``open``/``closed``; a merged one has ``merged_at``), base_ref,
head_sha, merge_commit_sha, created_at, merged_at, updated_at (the newest version of a pull
request wins on re-ingest).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources._github import pull_values, read_records
from ops_warehouse.sources.base import Adapter, ReadContext, Record, Row, Sniff


def looks_like_pull(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and {"number", "head", "base", "merge_commit_sha"} <= rec.keys()
        and "/pulls/" in str(rec.get("url", ""))
    )


def _rows(rec: Any, locator: str) -> list[Record]:
    return [Row("pull_requests", pull_values(rec), locator)]


class GithubPullsAdapter(Adapter):
    kind = "github-pulls"
    description = "GitHub REST pull requests (GET /repos/{owner}/{repo}/pulls[/{n}])"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_pull(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return read_records(ctx.path, _rows)


ADAPTER = GithubPullsAdapter()
