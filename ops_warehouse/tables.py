"""The raw tables of the lake: their columns, natural keys and partitioning.

Every source adapter emits rows for one of these tables. The ingestion engine checks each row
against its table's contract (required columns, types, allowed values) before anything is written,
so a row that breaks the contract goes to quarantine with the column and the reason.

A table is stored as Hive-partitioned Parquet under ``lake/raw/<table>/day=YYYY-MM-DD/part-0.parquet``,
partitioned by the UTC day of its event column. Tables without a natural event time (SLO
definitions) are stored as one file.

Rows are deduplicated on the natural key. When two rows share a key, the one with the greater
``updated_at`` wins; on a tie the one ingested last wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    required: bool = False
    allowed: tuple[str, ...] | None = None
    doc: str = ""


@dataclass(frozen=True)
class RawTable:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partition_by: str | None
    doc: str = ""
    # columns the engine fills in; adapters never set them
    system_columns: tuple[str, ...] = field(default=("source_file", "ingested_at"))

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _system() -> tuple[Column, ...]:
    return (
        Column("updated_at", TS, doc="the source's own modification time; breaks ties between versions"),
        Column("source_file", pa.string(), doc="the file the row came from (filled by ingestion)"),
        Column("ingested_at", TS, doc="when the row was ingested (filled by ingestion)"),
    )


DEPLOYMENT_STATUSES = ("success", "failure", "error", "cancelled", "pending", "in_progress", "queued", "inactive")

RAW_TABLES: dict[str, RawTable] = {}


def _register(t: RawTable) -> RawTable:
    RAW_TABLES[t.name] = t
    return t


DEPLOYMENTS = _register(
    RawTable(
        "deployments",
        (
            Column("deploy_id", pa.string(), True, doc="source-qualified id, e.g. github:123; canonical ids as given"),
            Column("source", pa.string(), True, doc="github, github-actions, gitlab, canonical"),
            Column("repo", pa.string(), doc="owner/name of the repository"),
            Column("service", pa.string(), doc="service name when the source names it"),
            Column("team", pa.string()),
            Column("environment", pa.string(), True),
            Column("sha", pa.string()),
            Column("ref", pa.string()),
            Column("task", pa.string(), doc="GitHub deployment task (deploy, deploy:rollback, ...)"),
            Column(
                "workflow",
                pa.string(),
                doc="workflow name and path (workflow runs only; core keeps those matching the deploy pattern)",
            ),
            Column("is_rollback", pa.bool_()),
            Column("is_hotfix", pa.bool_()),
            Column("started_at", TS, True),
            Column("finished_at", TS, doc="set when the source states the finish directly"),
            Column("status", pa.string(), allowed=DEPLOYMENT_STATUSES, doc="set when the source states it directly"),
        )
        + _system(),
        key=("deploy_id",),
        partition_by="started_at",
        doc="One row per deployment (or deploy workflow run).",
    )
)

DEPLOYMENT_STATUSES_T = _register(
    RawTable(
        "deployment_statuses",
        (
            Column("status_id", pa.string(), True),
            Column("deploy_id", pa.string(), True),
            Column("state", pa.string(), True, allowed=DEPLOYMENT_STATUSES),
            Column("environment", pa.string()),
            Column("created_at", TS, True),
            Column("source", pa.string(), True),
        )
        + _system(),
        key=("status_id",),
        partition_by="created_at",
        doc="Status events of deployments (GitHub deployment statuses).",
    )
)

CHANGES = _register(
    RawTable(
        "changes",
        (
            Column("change_id", pa.string(), True, doc="commit sha"),
            Column("source", pa.string(), True),
            Column("repo", pa.string()),
            Column("service", pa.string()),
            Column("authored_at", TS, True),
            Column("merged_at", TS, doc="pull request merge, or push to the default branch"),
            Column("pr_number", pa.int64()),
            Column("deploy_id", pa.string(), doc="explicit link to the deployment that shipped it (canonical)"),
        )
        + _system(),
        key=("change_id", "source"),
        partition_by="authored_at",
        doc="Commits, from push webhooks, pull request commit lists or canonical files.",
    )
)

PULL_REQUESTS = _register(
    RawTable(
        "pull_requests",
        (
            Column("repo", pa.string(), True),
            Column("pr_number", pa.int64(), True),
            Column("title", pa.string()),
            Column("state", pa.string()),
            Column("base_ref", pa.string()),
            Column("head_sha", pa.string()),
            Column("merge_commit_sha", pa.string()),
            Column("created_at", TS, True),
            Column("merged_at", TS),
            Column("source", pa.string(), True),
        )
        + _system(),
        key=("repo", "pr_number"),
        partition_by="created_at",
        doc="Pull requests with their merge commit.",
    )
)

INCIDENTS = _register(
    RawTable(
        "incidents",
        (
            Column("incident_id", pa.string(), True, doc="source-qualified id, e.g. pagerduty:PT4KHLK"),
            Column("source", pa.string(), True),
            Column("service", pa.string(), doc="service name when the source names it (canonical)"),
            Column("service_ref", pa.string(), doc="the incident tool's service id"),
            Column("service_name", pa.string(), doc="the incident tool's service name"),
            Column("team", pa.string()),
            Column("severity", pa.string(), allowed=("sev1", "sev2", "sev3", "sev4")),
            Column("priority", pa.string()),
            Column("urgency", pa.string()),
            Column("title", pa.string()),
            Column("status", pa.string()),
            Column("dedup_key", pa.string()),
            Column("created_at", TS, True),
            Column("acknowledged_at", TS),
            Column("resolved_at", TS),
            Column("escalations", pa.int64()),
            Column("caused_by_deploy_id", pa.string()),
            Column("caused_by_sha", pa.string(), doc="from 'root cause: <sha>' in an incident issue"),
        )
        + _system(),
        key=("incident_id",),
        partition_by="created_at",
        doc="Incidents from PagerDuty, Opsgenie, GitHub issues or canonical files.",
    )
)

INCIDENT_EVENTS = _register(
    RawTable(
        "incident_events",
        (
            Column("event_id", pa.string(), True),
            Column("incident_id", pa.string(), True),
            Column("event_type", pa.string(), True, doc="trigger, acknowledge, unacknowledge, escalate, resolve, ..."),
            Column("created_at", TS, True),
            Column("source", pa.string(), True),
        )
        + _system(),
        key=("event_id",),
        partition_by="created_at",
        doc="Incident timeline entries (PagerDuty log entries).",
    )
)

ACTION_ITEMS = _register(
    RawTable(
        "action_items",
        (
            Column("item_id", pa.string(), True),
            Column("source", pa.string(), True),
            Column("incident_id", pa.string()),
            Column("title", pa.string()),
            Column("owner", pa.string()),
            Column("team", pa.string()),
            Column("category", pa.string(), allowed=("immediate", "short_term", "long_term", "process")),
            Column("created_at", TS, True),
            Column("due_date", pa.date32()),
            Column("completed_at", TS),
            Column("status", pa.string(), True, allowed=("open", "done", "not_doing")),
            Column("resolution", pa.string()),
        )
        + _system(),
        key=("item_id",),
        partition_by="created_at",
        doc="Postmortem action items from Jira, GitHub issues or canonical files.",
    )
)

METRIC_SAMPLES = _register(
    RawTable(
        "metric_samples",
        (
            Column("metric", pa.string(), True, doc="metric name; histogram buckets as <name>_bucket"),
            Column("labels", pa.string(), True, doc="labels as a JSON object with sorted keys"),
            Column("ts", TS, True),
            Column("value", pa.float64(), doc="NaN allowed; +Inf and -Inf allowed"),
            Column("kind", pa.string(), allowed=("counter", "gauge", "histogram", "summary", "unknown")),
            Column("source", pa.string(), True),
        )
        + _system(),
        key=("metric", "labels", "ts"),
        partition_by="ts",
        doc="Metric samples from every metric format, one row per series and timestamp.",
    )
)

SLO_DEFINITIONS = _register(
    RawTable(
        "slo_definitions",
        (
            Column("slo_name", pa.string(), True),
            Column("service", pa.string()),
            Column("source", pa.string(), True, doc="openslo, sloth or canonical"),
            Column("spec", pa.string(), True, doc="the normalized definition as JSON"),
        )
        + _system(),
        key=("slo_name",),
        partition_by=None,
        doc="SLO definitions, normalized from OpenSLO, Sloth or canonical files.",
    )
)

POSTMORTEMS = _register(
    RawTable(
        "postmortems",
        (
            Column("postmortem_id", pa.string(), True, doc="github-issue:<owner/name>#<n>, jira:<key>, canonical"),
            Column("source", pa.string(), True, doc="github, jira or canonical"),
            Column(
                "incident_id",
                pa.string(),
                doc="the incident as the postmortem names it: a warehouse incident_id or the tool's own id "
                "(PagerDuty PXXXXXX, an Opsgenie id, owner/repo#12); core.postmortems resolves it",
            ),
            Column("title", pa.string()),
            Column("owner", pa.string()),
            Column("created_at", TS, True, doc="when the draft was started"),
            Column("published_at", TS, doc="when it was published (GitHub closed_at, Jira resolutiondate)"),
            Column("status", pa.string(), allowed=("draft", "published", "cancelled")),
        )
        + _system(),
        key=("postmortem_id",),
        partition_by="created_at",
        doc="Postmortems (incident reviews) from GitHub issues, Jira or canonical files.",
    )
)

REJECTED_ROWS = RawTable(
    "rejected_rows",
    (
        Column("source_file", pa.string(), True),
        Column("source_kind", pa.string()),
        Column("locator", pa.string(), True),
        Column("reason", pa.string(), True),
        Column("raw", pa.string()),
        Column("ingested_at", TS),
    ),
    key=("source_file", "locator", "reason"),
    partition_by=None,
    doc="Rows that broke a contract, with the file, place and reason.",
    system_columns=(),
)

INGEST_LOG = RawTable(
    "ingest_log",
    (
        Column("source_file", pa.string(), True),
        Column("source_kind", pa.string()),
        Column("sha256", pa.string()),
        Column("rows_read", pa.int64()),
        Column("rows_loaded", pa.int64()),
        Column("rows_duplicate", pa.int64()),
        Column("rows_quarantined", pa.int64()),
        Column("error", pa.string()),
        Column("ingested_at", TS, True),
    ),
    key=("source_file", "ingested_at"),
    partition_by=None,
    doc="One row per ingested file with its accounting.",
    system_columns=(),
)

# ---------------------------------------------------------------- security and alerting

VULNERABILITY_SEVERITIES = ("critical", "high", "medium", "low", "unknown")

VULNERABILITIES = _register(
    RawTable(
        "vulnerabilities",
        (
            Column("finding_id", pa.string(), True, doc="source-qualified id, e.g. github-dependabot:acme/api#12"),
            Column("source", pa.string(), True, doc="github-dependabot, github-code-scanning, canonical"),
            Column("repo", pa.string(), doc="owner/name of the repository"),
            Column("service", pa.string(), doc="service name when the source names it (canonical)"),
            Column("severity", pa.string(), allowed=VULNERABILITY_SEVERITIES),
            Column("package", pa.string(), doc="affected package, or the code-scanning rule"),
            Column("advisory_id", pa.string(), doc="GHSA, CVE or rule id"),
            Column("title", pa.string()),
            Column("state", pa.string(), doc="the source's own state (open, fixed, dismissed, auto_dismissed)"),
            Column("opened_at", TS, True),
            Column("fixed_at", TS),
            Column("dismissed_at", TS, doc="dismissed or auto-dismissed: closed, not fixed"),
        )
        + _system(),
        key=("finding_id",),
        partition_by="opened_at",
        doc="Vulnerability findings with their own lifecycle (GitHub Dependabot and code-scanning alerts).",
    )
)

VULNERABILITY_SCANS = _register(
    RawTable(
        "vulnerability_scans",
        (
            Column("source", pa.string(), True, doc="trivy or grype"),
            Column("target", pa.string(), True, doc="what was scanned: Trivy ArtifactName, Grype source userInput"),
            Column("scanned_at", TS, True, doc="the report's CreatedAt (Trivy) or descriptor.timestamp (Grype)"),
            Column("artifact_type", pa.string()),
            Column("findings", pa.int64(), doc="vulnerabilities the report lists"),
        )
        + _system(),
        key=("source", "target", "scanned_at"),
        partition_by="scanned_at",
        doc="One row per scanner report: a scan that no longer lists a finding is what fixes it.",
    )
)

VULNERABILITY_OBSERVATIONS = _register(
    RawTable(
        "vulnerability_observations",
        (
            Column("source", pa.string(), True),
            Column("target", pa.string(), True),
            Column("package", pa.string(), True),
            Column("advisory_id", pa.string(), True, doc="CVE, GHSA or other vulnerability id"),
            Column("scanned_at", TS, True),
            Column("severity", pa.string(), allowed=VULNERABILITY_SEVERITIES),
            Column("installed_version", pa.string()),
            Column("fixed_version", pa.string(), doc="NULL when no fix is known"),
            Column("title", pa.string()),
        )
        + _system(),
        key=("source", "target", "package", "advisory_id", "scanned_at"),
        partition_by="scanned_at",
        doc="One row per vulnerability a scanner report lists (Trivy, Grype).",
    )
)

ALERTS = _register(
    RawTable(
        "alerts",
        (
            Column("source", pa.string(), True, doc="alertmanager, pagerduty or canonical"),
            Column(
                "fingerprint",
                pa.string(),
                True,
                doc="Alertmanager fingerprint (else a hash of the labels); PagerDuty alert_key",
            ),
            Column("started_at", TS, True, doc="startsAt (to the millisecond) or PagerDuty created_at"),
            Column("alert_id", pa.string(), doc="the tool's own id of this firing when it has one (PagerDuty)"),
            Column("alertname", pa.string()),
            Column("service", pa.string(), doc="label service, else job; PagerDuty service summary"),
            Column("service_ref", pa.string(), doc="the incident tool's service id"),
            Column("severity", pa.string(), doc="the severity label as written (lower case)"),
            Column("urgency", pa.string()),
            Column("status", pa.string(), doc="firing, resolved, suppressed"),
            Column("ended_at", TS, doc="endsAt of a resolved notification; never a firing one's placeholder"),
            Column("incident_ref", pa.string(), doc="incident the tool grouped the alert into"),
            Column("summary", pa.string()),
            Column("labels", pa.string(), doc="labels as a JSON object with sorted keys"),
        )
        + _system(),
        key=("source", "fingerprint", "started_at"),
        partition_by="started_at",
        doc="One row per alert firing (episode): re-sent notifications of one firing share the key.",
    )
)
