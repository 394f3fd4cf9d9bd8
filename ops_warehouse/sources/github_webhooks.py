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

Large NDJSON files of bare ``deployment_status``, ``deployment`` and ``push`` payloads (what a
receiver appending each POST body writes) take a columnar path: DuckDB's JSON reader reads the
fields the mapping needs in one pass and keeps one version of each deployment, status and commit
(the merge's rule; the others count as duplicates), which goes straight into the day partitions. A delivery it cannot
map exactly as the record-by-record mapper does (a wrapper, another event, an id given as text, a
deployment payload given as JSON text or carrying ``rollback``/``hotfix`` flags, a value of an odd
type, a row the contract would refuse...) sends the whole file record by record, so the results
are the same either way (see "the columnar path" below).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from ops_warehouse.duck import connect, quote_ident, quote_literal
from ops_warehouse.sources import _columnar as col
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
from ops_warehouse.sources.base import (
    Adapter,
    BadRecord,
    BulkChunk,
    BulkInput,
    ReadContext,
    Record,
    Row,
    Sniff,
    child,
)
from ops_warehouse.tables import RAW_TABLES, RawTable

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


# ---------------------------------------------------------------- the columnar path
#
# One pass of DuckDB's JSON reader reads, for each delivery, the fields the mapping above reads,
# with the JSON type, so a string is told from a number as isinstance() tells them; the mapping is
# then written in SQL over the whole file. A delivery it cannot map exactly as the mapper does
# ("unclean": not a bare deployment_status, deployment or push payload, an id that is not a JSON
# integer, a push without commits or a commit without an id, a deployment payload given as text or
# naming rollback or hotfix, a timestamp given as a number (but a push's epoch seconds) or as
# unusual text, text beyond ASCII where the mapper lower-cases it, no repository full_name, a row
# the contract would refuse) sends the whole file record by record, and so does a file the reader
# refuses (a broken line, a value of a type the schema does not allow, a repeated key in an object)
# or might read more leniently than Python (a trailing comma, a NaN literal). A clean file keeps
# one version of each deployment, status and commit, chosen by the merge's rule (the greatest
# updated_at, then the later in the file); the others count as duplicates. A key whose versions
# fall on different days goes record by record too: the merge ranks versions day by day.

# NDJSON files at least this big take the columnar path
BULK_MIN_BYTES = 8 * 1024 * 1024
COLUMNAR_MEMORY = "2GB"
# the longest line the reader takes; a file with a longer one goes record by record
_MAX_LINE = 64 * 1024 * 1024

_READ_COLUMNS = {
    "deployment_status": "STRUCT(id JSON, state JSON, environment JSON, created_at JSON, updated_at JSON)",
    "deployment": (
        "STRUCT(id JSON, task JSON, payload JSON, environment JSON, original_environment JSON, sha JSON, ref JSON, "
        "created_at JSON, updated_at JSON)"
    ),
    "workflow_run": "STRUCT(id JSON)",
    "repository": "STRUCT(full_name JSON, default_branch JSON, master_branch JSON, pushed_at JSON)",
    # a push: only whether these are there and not null, the ref as written, and the commits
    "pull_request": "JSON",
    "issue": "JSON",
    "pusher": "JSON",
    "before": "JSON",
    "ref": "JSON",
    "commits": "STRUCT(id JSON, timestamp JSON)[]",
    "head_commit": "STRUCT(timestamp JSON)",
}
# (name, struct field): JSON values read as the mapper's text()
_TEXTS = (
    ("s_state", "deployment_status.state"),
    ("s_env", "deployment_status.environment"),
    ("d_task", "deployment.task"),
    ("d_env", "deployment.environment"),
    ("d_oenv", "deployment.original_environment"),
    ("d_sha", "deployment.sha"),
    ("d_ref", "deployment.ref"),
    ("repo", "repository.full_name"),
    ("default_branch", "repository.default_branch"),
    ("master_branch", "repository.master_branch"),
)
# JSON values read as the mapper's moment(): a number is an epoch time (not handled here: unclean)
_TIMES = (
    ("s_created", "deployment_status.created_at"),
    ("s_updated", "deployment_status.updated_at"),
    ("d_created", "deployment.created_at"),
    ("d_updated", "deployment.updated_at"),
)
# a push's time, read as moment() reads it: epoch seconds (a JSON integer here) or ISO text
_PUSH_TIMES = (
    ("pushed", "repository.pushed_at"),
    ("head_time", "head_commit.timestamp"),
)
_INTEGER = "'-?[0-9]+'"


def _contract_holds(table: RawTable, values: dict[str, str]) -> str:
    """SQL true when typed ``values`` (column -> expression) meet ``table``'s required and allowed
    rules, so that no version of a key the merge would fold is one the contract refuses."""
    rules = []
    for c in table.columns:
        value = values.get(c.name)
        if c.required:
            rules.append(f"{value} IS NOT NULL" if value is not None else "false")
        if c.allowed and value is not None:
            listing = ", ".join(quote_literal(a) for a in c.allowed)
            rules.append(f"coalesce({value} IN ({listing}), {'false' if c.required else 'true'})")
    return " AND ".join(rules) or "true"


_DEPLOYMENT_VALUES = {
    "deploy_id": "deploy_id",
    "source": "'github'",
    "repo": "repo",
    "environment": "environment",
    "sha": "d_sha",
    "ref": "d_ref",
    "task": "d_task",
    "is_rollback": "is_rollback",
    "is_hotfix": "is_hotfix",
    "started_at": "d_created",
    "updated_at": "d_updated",
}
_STATUS_VALUES = {
    "status_id": "status_id",
    "deploy_id": "deploy_id",
    "state": "s_state",
    "environment": "s_env",
    "created_at": "s_created",
    "source": "'github'",
    "updated_at": "s_updated",
}


_CHANGE_VALUES = {
    "change_id": "change_id",
    "source": "'github-push'",
    "repo": "repo",
    "authored_at": "authored_at",
    "merged_at": "merged_at",
}


def _flatten_sql(path: Path) -> str:
    """The table ``deliveries``: one row per delivery, in the file's order (``rowid``), with its
    ``event`` (status, deployment or push), the values of its rows as the mapper makes them (a
    push's commits as read) and ``clean`` false where it cannot be sure. Each step is a projection
    of its own, so no expression is computed twice."""
    columns = ", ".join(f"{quote_ident(k)}: {quote_literal(v)}" for k, v in _READ_COLUMNS.items())
    read = (
        f"read_json({quote_literal(str(path))}, format = 'newline_delimited', records = true, "
        f"maximum_object_size = {_MAX_LINE}, columns = {{{columns}}})"
    )
    raw = [f"CAST({field} AS VARCHAR) AS {name}" for name, field in (*_TEXTS, *_TIMES, *_PUSH_TIMES)]
    times = [name for name, _ in _TIMES]
    push_times = [name for name, _ in _PUSH_TIMES]
    texts = [name for name, _ in _TEXTS]
    return f"""
CREATE TEMP TABLE deliveries AS
    WITH r AS (
        SELECT CASE WHEN deployment_status IS NOT NULL THEN 'status' WHEN workflow_run IS NOT NULL THEN NULL
                    WHEN deployment IS NOT NULL THEN 'deployment'
                    WHEN pull_request IS NULL AND issue IS NULL AND commits IS NOT NULL AND ref IS NOT NULL
                         AND (pusher IS NOT NULL OR before IS NOT NULL) THEN 'push' END AS event,
               repository IS NOT NULL AS has_repository, CAST(ref AS VARCHAR) AS ref, commits,
               CAST(deployment_status.id AS VARCHAR) AS s_id, CAST(deployment.id AS VARCHAR) AS d_id,
               CAST(deployment.payload AS VARCHAR) AS payload, {", ".join(raw)}
        FROM {read}
    ),
    j AS (  -- JSON strings as text; a time given as a number is odd (but a push's epoch seconds)
        SELECT event, has_repository, commits, s_id, d_id, payload,
               {" OR ".join(col.is_number(t) for t in times)} AS odd_time,
               CASE WHEN regexp_full_match(pushed, '[0-9]{{1,11}}') THEN to_timestamp(CAST(pushed AS BIGINT)) END
                   AS pushed_epoch,
               {" OR ".join(col.is_number(t) for t in push_times)} AS push_number,
               {col.json_string("ref")} AS ref,
               {", ".join(f"{col.json_string(c)} AS {c}" for c in (*texts, *times, *push_times))}
        FROM r
    ),
    t AS (
        SELECT event, has_repository, commits, s_id, d_id, payload, odd_time, pushed_epoch, push_number, ref,
               {", ".join(f"{col.stripped(c)} AS {c}" for c in (*texts, *times, *push_times))}
        FROM j
    ),
    v AS (  -- lower case beyond ASCII might differ between Python and DuckDB: not clean
        SELECT event, has_repository, commits, repo,
               CASE WHEN regexp_full_match(d_id, {_INTEGER}) THEN 'github:' || d_id END AS deploy_id,
               CASE WHEN event = 'status' AND regexp_full_match(s_id, {_INTEGER}) THEN 'github:' || s_id END
                   AS status_id,
               lower(s_state) AS s_state, s_env, coalesce(d_env, d_oenv) AS environment, d_sha, d_ref, d_task,
               coalesce(lower(d_task) IN ('rollback', 'deploy:rollback'), false) AS is_rollback,
               coalesce(list_contains(string_split(lower(d_task), ':'), 'hotfix'), false) AS is_hotfix,
               odd_time OR strlen(coalesce(s_state, '')) <> length(coalesce(s_state, ''))
                   OR strlen(coalesce(d_task, '')) <> length(coalesce(d_task, ''))
                   OR coalesce(starts_with(payload, '"')
                               OR (starts_with(payload, '{{') AND regexp_matches(payload, 'rollback|hotfix')), false)
                   AS odd,
               coalesce(ref = 'refs/heads/' || coalesce(default_branch, master_branch), false) AS on_default,
               pushed_epoch, push_number AND pushed_epoch IS NULL AS odd_push_time,
               {", ".join(f"{col.iso_time(c)} AS {c}, {c} IS NOT NULL AS {c}_given" for c in (*times, *push_times))}
        FROM t
    )
    SELECT event, deploy_id, repo, environment, d_sha, d_ref, d_task, is_rollback, is_hotfix, d_created, d_updated,
           status_id, s_state, s_env, s_created, s_updated,
           CASE WHEN event = 'push' THEN commits END AS commits,
           CASE WHEN on_default THEN coalesce(pushed_epoch, pushed, head_time) END AS merged_at,
           CASE event
               WHEN 'push' THEN len(commits) > 0 AND (repo IS NOT NULL OR NOT has_repository)
                   AND NOT (on_default AND (odd_push_time OR (pushed_given AND pushed IS NULL)
                                            OR (head_time_given AND head_time IS NULL)))
               WHEN 'status' THEN NOT odd AND deploy_id IS NOT NULL AND repo IS NOT NULL
                   AND {" AND ".join(f"({c} IS NOT NULL OR NOT {c}_given)" for c in times)}
                   AND {_contract_holds(RAW_TABLES["deployments"], _DEPLOYMENT_VALUES)}
                   AND {_contract_holds(RAW_TABLES["deployment_statuses"], _STATUS_VALUES)}
               WHEN 'deployment' THEN NOT odd AND deploy_id IS NOT NULL AND repo IS NOT NULL
                   AND {" AND ".join(f"({c} IS NOT NULL OR NOT {c}_given)" for c in times)}
                   AND {_contract_holds(RAW_TABLES["deployments"], _DEPLOYMENT_VALUES)}
               ELSE false END AS clean
    FROM v
"""


# the table ``commit_rows``: each commit of a push as a ``changes`` row (its place in the file is
# its push's, then its own), ``clean`` false where the mapper would reject it or the contract
# refuse it
_COMMITS_SQL = f"""
CREATE TEMP TABLE commit_rows AS
    WITH c AS (
        SELECT rowid AS pos, repo, merged_at, unnest(commits) AS c, generate_subscripts(commits, 1) AS i
        FROM deliveries WHERE event = 'push'
    ),
    j AS (
        SELECT pos, i, repo, merged_at, {col.json_string("CAST(c.id AS VARCHAR)")} AS change_id,
               {col.json_string("CAST(c.timestamp AS VARCHAR)")} AS authored
        FROM c
    ),
    t AS (
        SELECT pos, i, repo, merged_at, {col.stripped("change_id")} AS change_id, {col.stripped("authored")} AS authored
        FROM j
    ),
    v AS (SELECT pos, i, repo, merged_at, change_id, {col.iso_time("authored")} AS authored_at FROM t)
    SELECT *, change_id IS NOT NULL AND {_contract_holds(RAW_TABLES["changes"], _CHANGE_VALUES)} AS clean
    FROM v
"""


def _day(ts: str) -> str:
    return f"CAST(timezone('UTC', {ts}) AS DATE)"


# one version per key, by the merge's rule: the greatest updated_at (a missing one is the least),
# then the later in the file; ``split`` when a key's versions fall on different days
_WINNERS_SQL = {
    "deployments": f"""
CREATE TEMP TABLE deployment_rows AS
    SELECT deploy_id, arg_max(v, o) AS v, count(*) AS n, min({_day("d_created")}) <> max({_day("d_created")}) AS split
    FROM (SELECT deploy_id,
                 struct_pack(repo, environment, sha := d_sha, ref := d_ref, task := d_task, is_rollback, is_hotfix,
                             started_at := d_created, updated_at := d_updated) AS v,
                 struct_pack(given := d_updated IS NOT NULL, at := coalesce(d_updated, TIMESTAMPTZ '1970-01-01'),
                             pos := rowid) AS o,
                 d_created
          FROM deliveries WHERE event IN ('status', 'deployment'))
    GROUP BY deploy_id
""",
    "deployment_statuses": f"""
CREATE TEMP TABLE status_rows AS
    SELECT status_id, arg_max(v, o) AS v, count(*) AS n, min({_day("s_created")}) <> max({_day("s_created")}) AS split
    FROM (SELECT status_id,
                 struct_pack(deploy_id, state := s_state, environment := s_env, created_at := s_created,
                             updated_at := s_updated) AS v,
                 struct_pack(given := s_updated IS NOT NULL, at := coalesce(s_updated, TIMESTAMPTZ '1970-01-01'),
                             pos := rowid) AS o,
                 s_created
          FROM deliveries WHERE event = 'status')
    GROUP BY status_id
""",
    "changes": f"""
CREATE TEMP TABLE change_rows AS
    SELECT change_id, arg_max(v, struct_pack(pos, i)) AS v, count(*) AS n,
           min({_day("authored_at")}) <> max({_day("authored_at")}) AS split
    FROM (SELECT change_id, struct_pack(repo, authored_at, merged_at) AS v, pos, i, authored_at FROM commit_rows)
    GROUP BY change_id
""",
}
_BATCH_SQL = {
    "deployments": (
        "SELECT deploy_id, 'github' AS source, v.repo, v.environment, v.sha, v.ref, v.task, v.is_rollback, "
        "v.is_hotfix, v.started_at, v.updated_at, false AS _unclean FROM deployment_rows"
    ),
    "deployment_statuses": (
        "SELECT status_id, v.deploy_id, v.state, v.environment, v.created_at, 'github' AS source, v.updated_at, "
        "false AS _unclean FROM status_rows"
    ),
    "changes": (
        "SELECT change_id, 'github-push' AS source, v.repo, v.authored_at, v.merged_at, false AS _unclean "
        "FROM change_rows"
    ),
}
_TABLES = {"deployments": "deployment_rows", "deployment_statuses": "status_rows", "changes": "change_rows"}


def _columnar(path: Path, con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, int]] | None:
    """Each table's exact batch (a SELECT over tables built in ``con``) and how many records it
    folded; None when the file must go record by record."""
    try:
        if col.lenient_lines(con, path, _MAX_LINE):
            return None
        con.execute("SET preserve_insertion_order = true")  # rowid is the file's order
        con.execute(_flatten_sql(path))
        if col.one(con, "SELECT bool_or(NOT clean) FROM deliveries")[0] is not False:  # unclean, or no delivery
            return None
        con.execute(_COMMITS_SQL)
        if col.one(con, "SELECT coalesce(bool_or(NOT clean), false) FROM commit_rows")[0]:
            return None
        batches = {}
        for table, sql in _WINNERS_SQL.items():
            con.execute(sql)
            rows, kept, split = col.one(
                con, f"SELECT coalesce(sum(n), 0), count(*), bool_or(split) FROM {_TABLES[table]}"
            )
            if split:
                return None
            if rows:  # a table the file has no rows for is left out
                batches[table] = (_BATCH_SQL[table], int(rows) - int(kept))
        con.execute("DROP TABLE deliveries")  # its memory goes before the engine writes the rows
        con.execute("DROP TABLE commit_rows")
    except duckdb.Error:  # JSON the columnar reader refuses: read record by record
        return None
    return batches


def _chunks(select: str, duplicates: int, done: col.Done) -> Iterator[BulkChunk]:
    try:
        yield BulkChunk(select, exact=True, duplicates=duplicates, con=done.con)
    finally:
        done.one()


def _starts_with_bom(path: Path) -> bool:
    """A byte order mark, which the record-by-record reader refuses on the first line."""
    with open(path, "rb") as fh:
        return fh.read(3) == b"\xef\xbb\xbf"


# ---------------------------------------------------------------- the adapter


class GithubWebhooksAdapter(Adapter):
    kind = "github-webhooks"
    description = "GitHub webhook deliveries (deployment_status, push, pull_request, issues, workflow_run)"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_delivery(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return read_records(ctx.path, delivery_rows)

    def bulk(self, ctx: ReadContext) -> list[BulkInput] | None:
        """The columnar path for a large NDJSON file (see the notes above); None (record by
        record) for anything else or a file it cannot map exactly."""
        path = ctx.path
        if path.stat().st_size < BULK_MIN_BYTES or not Sniff(path).is_ndjson or _starts_with_bom(path):
            return None
        own = ctx.scratch is None  # a scratch folder of the adapter's own goes with the connection
        folder = Path(tempfile.mkdtemp(prefix="ow-github-webhooks-")) if own else ctx.scratch
        assert folder is not None
        con = connect(memory_limit=COLUMNAR_MEMORY, temp_dir=folder / "duckdb")
        batches = _columnar(path, con)
        if batches is None:
            col.release(con, folder if own else None)
            return None
        done = col.Done(con, folder if own else None, len(batches))
        return [BulkInput(table, _chunks(select, dups, done)) for table, (select, dups) in batches.items()]


ADAPTER = GithubWebhooksAdapter()
