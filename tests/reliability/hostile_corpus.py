"""A corpus of malformed exports for every source kind, generated from the real samples.

Each case is (name, bytes, suffix). Byte-level cases (empty, truncated, not UTF-8, binary, deep
nesting, ...) apply to every kind; content cases mutate the kind's real sample (wrong types, unknown
enum values, missing fields, huge numbers, NaN timestamps, SQL-looking strings) and keep its format
(JSON, NDJSON, YAML, Prometheus text or CSV).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"

# kind -> its real samples (the canonical kind has none in the folder: it is made here)
SAMPLES_BY_KIND: dict[str, list[str]] = {
    "canonical": [],
    "datadog-query": ["datadog_v1_query_timeseries_TRIMMED.json"],
    "github-deployment-statuses": ["github_rest_deployment_statuses_list.json"],
    "github-deployments": ["github_rest_deployments_list.json"],
    "github-issues": ["github_rest_issue.json"],
    "github-pull-commits": ["github_rest_pull_request_commits.json"],
    "github-pulls": ["github_rest_pull_request.json"],
    "github-webhooks": [
        "github_webhook_deployment_status.json",
        "github_webhook_push.json",
        "github_webhook_workflow_run_completed.json",
        "github_webhook_issues_labeled.json",
    ],
    "github-workflow-runs": ["github_rest_actions_runs.json"],
    "gitlab-deployments": ["gitlab_deployment_get_example.json"],
    "jira-issues": ["jira_issues_in_sprint_search_response.json"],
    "openslo": ["openslo_v1_slo_occurrences_threshold.yaml", "openslo_v1_slo_ratio_timeslices.yaml"],
    "opsgenie-incidents": ["opsgenie_incidents_list_EXCERPT.json"],
    "otlp-metrics": ["otlp_metrics_request_example.json", "otel_fileexporter_metrics_splunk_workshop.jsonl"],
    "pagerduty-analytics": ["pagerduty_analytics_raw_incidents.json"],
    "pagerduty-incidents": ["pagerduty_incidents_list.json"],
    "pagerduty-log-entries": ["pagerduty_incident_log_entries.json"],
    "prometheus-range": ["prometheus_query_range_matrix.json"],
    "prometheus-text": ["prometheus_text_exposition_0.0.4.prom", "openmetrics_alltypes_5mfs.om.txt"],
    "sloth": ["sloth_prometheus_v1_getting_started.yml"],
    "github-dependabot-alerts": ["github_rest_dependabot_alerts.json"],
    "github-code-scanning-alerts": ["github_rest_code_scanning_alerts_TRIMMED.json"],
    "trivy": ["trivy_image_report.json"],
    "grype": ["grype_report.json"],
    "alertmanager-webhook": ["alertmanager_webhook_payload.json"],
    "alertmanager-alerts": ["alertmanager_api_v2_alerts.json"],
    "pagerduty-alerts": ["pagerduty_incident_alerts.json"],
}

CANONICAL_CSV = (
    "deploy_id,service,environment,sha,started_at,finished_at,status,is_rollback\n"
    "d1,checkout,production,aaa,2026-11-23T10:00:00Z,2026-11-23T10:05:00Z,success,false\n"
    "d2,search,production,bbb,2026-11-24T10:00:00Z,2026-11-24T10:05:00Z,failure,false\n"
)
CANONICAL_NDJSON = (
    '{"incident_id": "i1", "service": "checkout", "severity": "sev2", "title": "down", '
    '"created_at": "2026-11-23T10:00:00Z", "resolved_at": "2026-11-23T11:00:00Z"}\n'
    '{"incident_id": "i2", "service": "search", "severity": "sev3", "title": "slow", '
    '"created_at": "2026-11-24T10:00:00Z"}\n'
)

INJECTION = "'); DROP TABLE core.deployments; --"
HOSTILE_STRINGS = [
    INJECTION,
    "quote \" and ' and `tick`",
    "semi;colon",
    "ünïcödé ☃ 🚀👩‍💻",
    "\x00nul",
    "\u202eright-to-left",
    "a" * 10_000,
    "",
    " ",
    "NaN",
    "Infinity",
    "-1e999",
    "9999-99-99T99:99:99Z",
    "0000-00-00",
    "2026-02-30T00:00:00Z",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "../../../../etc/passwd",
]

ENUM_KEYS = {
    "state",
    "status",
    "urgency",
    "severity",
    "priority",
    "action",
    "type",
    "conclusion",
    "event",
    "kind",
    "resultType",
    "aggregationTemporality",
    "budgetingMethod",
    "statusCategory",
}
ID_KEYS = {
    "id",
    "key",
    "number",
    "sha",
    "name",
    "created_at",
    "createdAt",
    "updated_at",
    "ts",
    "timestamp",
    "environment",
    "values",
    "pointlist",
    "metric",
    "deployment",
    "incident",
    "fields",
    "service",
}


def sample_text(kind: str, index: int = 0) -> tuple[str, str]:
    """(text, suffix) of a kind's real sample (or a made-up canonical file)."""
    if kind == "canonical":
        return (CANONICAL_CSV, ".csv") if index % 2 == 0 else (CANONICAL_NDJSON, ".ndjson")
    name = SAMPLES_BY_KIND[kind][index % len(SAMPLES_BY_KIND[kind])]
    path = SAMPLES / name
    suffix = ".jsonl" if name.endswith(".jsonl") else path.suffix
    return path.read_text(encoding="utf-8"), suffix


# ---------------------------------------------------------------- structured documents


def parse(text: str, suffix: str) -> tuple[str, Any] | None:
    """The sample as ('json'|'lines'|'yaml', document), or None for line-oriented text formats."""
    if suffix == ".json":
        return "json", json.loads(text)
    if suffix in (".jsonl", ".ndjson"):
        return "lines", [json.loads(line) for line in text.splitlines() if line.strip()]
    if suffix in (".yaml", ".yml"):
        return "yaml", list(yaml.safe_load_all(text))
    return None


def dump(fmt: str, doc: Any) -> bytes:
    if fmt == "json":
        return json.dumps(doc, allow_nan=True).encode("utf-8")
    if fmt == "lines":
        return "".join(json.dumps(d, allow_nan=True) + "\n" for d in doc).encode("utf-8")
    return yaml.safe_dump_all(doc, allow_unicode=True, sort_keys=False).encode("utf-8")


def transform(doc: Any, fn: Callable[[str | None, Any], Any], key: str | None = None) -> Any:
    """Apply ``fn(key, value)`` bottom-up to every value; a function result of ``DROP`` removes
    the entry from its object."""
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            nv = fn(k, transform(v, fn, k))
            if nv is not DROP:
                out[k] = nv
        return out
    if isinstance(doc, list):
        return [transform(v, fn, key) for v in doc]
    return doc


DROP = object()


def _is_time_key(k: str | None) -> bool:
    k = (k or "").lower()
    return (
        k.endswith("_at")
        or k.endswith("at")
        and k[:-2].endswith(("created", "updated", "resolved"))
        or any(t in k for t in ("time", "date", "timestamp"))
        or k in ("ts", "at")
    )


def _scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


CONTENT_MUTATIONS: dict[str, Callable[[str | None, Any], Any]] = {
    "strings_to_ints": lambda k, v: 12345 if isinstance(v, str) else v,
    "numbers_to_words": lambda k, v: "not a number" if isinstance(v, (int, float)) and not isinstance(v, bool) else v,
    "scalars_to_lists": lambda k, v: [v, "x"] if _scalar(v) and v is not None else v,
    "everything_null": lambda k, v: None if _scalar(v) else v,
    "unknown_enum_values": lambda k, v: "exploded" if k in ENUM_KEYS and _scalar(v) else v,
    "missing_required": lambda k, v: DROP if k in ID_KEYS else v,
    "huge_ints": lambda k, v: 10**30 if isinstance(v, int) and not isinstance(v, bool) else v,
    "bigger_than_any_float": lambda k, v: 10**400 if isinstance(v, (int, float)) and not isinstance(v, bool) else v,
    "huge_floats": lambda k, v: 1.7e308 if isinstance(v, (int, float)) and not isinstance(v, bool) else v,
    "nan_timestamps": lambda k, v: math.nan if _is_time_key(k) else v,
    "impossible_timestamps": lambda k, v: "9999-99-99T99:99:99Z" if _is_time_key(k) else v,
    "epoch_overflow_timestamps": lambda k, v: 1e20 if _is_time_key(k) else v,
    "sql_in_every_string": lambda k, v: INJECTION if isinstance(v, str) else v,
    "control_chars_in_strings": lambda k, v: v + "\x00\x1b[2J\u2028" if isinstance(v, str) else v,
}

TEXT_MUTATIONS: dict[str, Callable[[str], str]] = {
    "values_nan": lambda t: "\n".join(_last_token(line, "NaN") for line in t.splitlines()),
    "values_huge": lambda t: "\n".join(_last_token(line, "1" + "0" * 400) for line in t.splitlines()),
    "timestamps_garbage": lambda t: "\n".join(
        line + " NaN" if line and not line.startswith("#") else line for line in t.splitlines()
    ),
    "labels_with_quotes": lambda t: t.replace('="', '="\\"\'); DROP TABLE core.deployments; --'),
    "broken_braces": lambda t: t.replace("}", ""),
    "unknown_type": lambda t: t.replace("# TYPE", "# TYPE exploded exploded"),
    "sql_values": lambda t: t.replace(",", "," + INJECTION.replace(",", "") + ","),
    "duplicate_header": lambda t: t.splitlines()[0] + "\n" + t,
}


def _last_token(line: str, token: str) -> str:
    if not line or line.startswith("#"):
        return line
    parts = line.rsplit(" ", 1)
    return f"{parts[0]} {token}" if len(parts) == 2 else line


def byte_cases(base: bytes, suffix: str) -> list[tuple[str, bytes, str]]:
    rng = random.Random(len(base))
    mid = len(base) // 2
    return [
        ("empty", b"", suffix),
        ("whitespace", b"  \n\n\t \r\n", suffix),
        ("truncated_half", base[:mid], suffix),
        ("truncated_last_byte", base[:-2], suffix),
        ("not_utf8", base[:mid] + b"\xff\xfe\xc3\x28" + base[mid:], suffix),
        ("latin1", base.decode("utf-8").replace("e", "\u00e9").encode("latin-1", errors="replace"), suffix),
        ("nul_bytes", base[:mid] + b"\x00" * 32 + base[mid:], suffix),
        ("utf16", base.decode("utf-8").encode("utf-16"), suffix),
        ("binary", bytes(rng.randrange(256) for _ in range(4096)), suffix),
        ("bom_then_garbage", b"\xef\xbb\xbf" + bytes(rng.randrange(256) for _ in range(512)), suffix),
        ("json_number", b"42", suffix),
        ("json_null", b"null", suffix),
        ("json_string", b'"just a string"', suffix),
        ("json_empty_array", b"[]", suffix),
        ("json_empty_object", b"{}", suffix),
        ("json_mixed_array", b'[null, 1, "a", [], {}, true]', suffix),
        ("huge_string", b'{"x": "' + b"A" * 1_000_000 + b'"}', suffix),
        ("ndjson_garbage_lines", b'{"a": 1}\n{"b": \nnot json at all\n\xff\xfe\n[1,2]\n', suffix),
        ("yaml_python_tag", b"!!python/object/apply:os.system ['echo owned']\n", suffix),
        ("yaml_anchors", b"a: &a [1, 2, 3]\nb: [*a, *a, *a]\nc: [*b, *b, *b]\n", suffix),
        ("yaml_tabs_and_junk", b"apiVersion: openslo/v1\nkind: SLO\n\tspec: [\n", suffix),
        ("csv_header_only", b"deploy_id,environment,started_at\n", suffix),
        ("csv_ragged", b"deploy_id,environment,started_at\nd1\nd2,prod,2026-11-23T10:00:00Z,extra,fields\n", suffix),
        (
            "csv_duplicate_columns",
            b"deploy_id,deploy_id,environment,started_at\nd1,d2,prod,2026-11-23T10:00:00Z\n",
            suffix,
        ),
    ]


def content_cases(kind: str) -> list[tuple[str, bytes, str]]:
    cases: list[tuple[str, bytes, str]] = []
    n = max(1, len(SAMPLES_BY_KIND[kind]))
    for i in range(min(n, 2) if kind != "canonical" else 2):
        text, suffix = sample_text(kind, i)
        parsed = parse(text, suffix) if kind != "canonical" or suffix == ".ndjson" else None
        if parsed is not None:
            fmt, doc = parsed
            for name, fn in CONTENT_MUTATIONS.items():
                cases.append((f"{name}.{i}", dump(fmt, transform(doc, fn)), suffix))
        else:
            for name, fn in TEXT_MUTATIONS.items():
                cases.append((f"{name}.{i}", fn(text).encode("utf-8"), suffix))
    if kind == "canonical":
        cases += canonical_cases()
    return cases


def canonical_cases() -> list[tuple[str, bytes, str]]:
    head = "deploy_id,service,environment,sha,started_at,finished_at,status,is_rollback\n"
    good = "2026-11-23T10:00:00Z"
    rows = {
        "unknown_state": f"d1,checkout,production,a,{good},{good},exploded,false\n",
        "bad_bool": f"d1,checkout,production,a,{good},{good},success,maybe\n",
        "nan_timestamp": "d1,checkout,production,a,NaN,NaN,success,false\n",
        "missing_required": f",checkout,,a,{good},{good},success,false\n",
        "epoch_overflow": "d1,checkout,production,a,99999999999999999999,1e300,success,false\n",
        "injection": f'd1,"{INJECTION}",production,a,{good},{good},success,false\n',
        "quoted_newlines": f'd1,"multi\nline",production,a,{good},{good},success,false\n',
        "unterminated_quote": f'd1,"checkout,production,a,{good},{good},success,false\n',
    }
    cases = [(f"csv_{name}", (head + row).encode("utf-8"), ".csv") for name, row in rows.items()]
    incidents = "incident_id,service,created_at,escalations\n"
    cases.append(("csv_int_overflow", (incidents + f"i1,checkout,{good},{10**30}\n").encode(), ".csv"))
    cases.append(("csv_negative_int_overflow", (incidents + f"i1,checkout,{good},-{10**30}\n").encode(), ".csv"))
    metrics = "metric,labels,ts,value\n"
    cases.append(("csv_labels_not_json", (metrics + f"up,{{not json,{good},1\n").encode(), ".csv"))
    cases.append(("csv_value_words", (metrics + f"up,{{}},{good},lots\n").encode(), ".csv"))
    cases.append(
        (
            "ndjson_int_overflow",
            json.dumps({"incident_id": "i1", "service": "s", "created_at": good, "escalations": 10**30}).encode()
            + b"\n",
            ".ndjson",
        )
    )
    cases.append(
        (
            "ndjson_nan_ts",
            b'{"incident_id": "i1", "service": "s", "created_at": NaN}\n'
            b'{"incident_id": "i2", "service": "s", "created_at": Infinity}\n',
            ".ndjson",
        )
    )
    return cases


def corpus(kind: str) -> list[tuple[str, bytes, str]]:
    base, suffix = sample_text(kind, 0)
    return byte_cases(base.encode("utf-8"), suffix) + content_cases(kind)
