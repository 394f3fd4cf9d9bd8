"""``github-pull-commits``: the commits of one pull request, ``GET /repos/{o}/{r}/pulls/{n}/commits``.

The API answer does not say which pull request it lists, so an export carries it in one of two ways:

- a wrapper object ``{"repository": "owner/name", "pull_number": 12, "commits": [...]}``;
- the bare array (or NDJSON) in a file whose name holds ``pull-<n>``, ``pulls-<n>`` or ``pr-<n>``
  (``-`` or ``_``), e.g. ``acme-checkout-pull-12-commits.json``; the repository is then read from
  each commit's ``url`` (``.../repos/owner/name/commits/<sha>``).

Each commit becomes one ``raw.changes`` row: change_id = sha, source ``github-pull-commits``, repo,
authored_at = ``commit.author.date`` (written with the author's local offset, stored in UTC),
pr_number. A bare array without a pull number in its name still loads: its commits are changes
with an empty pr_number (core then relies on pushes and deployment shas for them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ops_warehouse.sources._github import Mapper, pull_commit_values, read_records, repo_name
from ops_warehouse.sources.base import Adapter, FileError, ReadContext, Record, Row, Sniff, load_json

_PULL_IN_NAME = re.compile(r"(?:^|[^a-z0-9])(?:pulls?|pr)[-_](\d+)(?!\d)", re.IGNORECASE)


def looks_like_commit(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and {"sha", "commit", "parents"} <= rec.keys()
        and isinstance(rec.get("commit"), dict)
        and "author" in rec["commit"]
    )


def is_wrapper(doc: Any) -> bool:
    return isinstance(doc, dict) and "pull_number" in doc and isinstance(doc.get("commits"), list)


def pull_number_from_name(path: Path) -> int | None:
    m = _PULL_IN_NAME.search(path.name)
    return int(m.group(1)) if m else None


def _wrapper_context(doc: dict[str, Any]) -> tuple[str | None, int]:
    number = doc.get("pull_number")
    if isinstance(number, str) and number.strip().isdigit():
        number = int(number)
    if not isinstance(number, int) or isinstance(number, bool):
        raise FileError(f"/pull_number: expected the pull request number, got {number!r}")
    return repo_name(doc.get("repository")), number


def _mapper(repo: str | None, pr_number: int | None) -> Mapper:
    def rows(rec: Any, locator: str) -> list[Record]:
        return [Row("changes", pull_commit_values(rec, repo, pr_number), locator)]

    return rows


class GithubPullCommitsAdapter(Adapter):
    kind = "github-pull-commits"
    description = "GitHub pull request commits (GET .../pulls/{n}/commits), wrapped or named pull-<n>"

    def detect(self, sniff: Sniff) -> bool:
        return is_wrapper(sniff.doc) or looks_like_commit(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        repo, number = None, pull_number_from_name(ctx.path)
        # the wrapper's context is read first; the records are then read by the shared reader
        doc = None if Sniff(ctx.path).is_ndjson else load_json(ctx.path)
        if is_wrapper(doc):
            repo, number = _wrapper_context(doc)
        yield from read_records(ctx.path, _mapper(repo, number), "commits")


ADAPTER = GithubPullCommitsAdapter()
