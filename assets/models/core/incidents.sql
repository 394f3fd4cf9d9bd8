-- core.incidents: one row per incident, with its first acknowledgement and its resolution.
--
-- Rules (METRICS.md, "Incidents"):
-- * created_at: when the incident was opened ("Opsgenie createdAt, not impactStartDate": the
--   adapters decide it).
-- * acknowledged_at: "the first acknowledgement ... It is the earliest acknowledgement ever seen for
--   the incident across every export and log entry ingested: a newer export that lists only a later
--   re-ack, or none, never moves it later or erases it." raw.incidents keeps only the newest export
--   of an incident, so every acknowledgement an export states is also kept as an `acknowledge` row
--   of raw.incident_events (with the log entries' own `acknowledge` rows), which no later export
--   replaces: acknowledged_at = the earliest of those events and the newest export's own value.
--   Later unacknowledge and re-acknowledge do not move it.
-- * resolved_at: the source's resolved time (PagerDuty resolved_at, Opsgenie impactEndDate,
--   GitHub closed_at), else the last `resolve` log entry.
-- * severity: sev1..sev4 as normalized by the adapter; the catalog's severity map for the service
--   wins when it maps the incident's raw priority.
-- * service: the source's own service name, else the catalog entry naming the incident tool's
--   service id, else (GitHub issues, "like every other GitHub record") the catalog entry listing the
--   issue's repository under `repositories`, else the catalog entry naming the incident tool's
--   service name, else that name (a GitHub repository's short name: acme/web -> web).
-- * caused_by_deploy_id: the explicit cause, else for `root cause: <sha>` (7+ hex digits, a prefix)
--   "the latest successful production deployment of that sha, of whatever service, that finished
--   before the incident was created, else the first one after it; the issue's own repository does
--   not have to be the deployment's". A failed attempt at the same sha is never it; "before" is
--   strict (a deployment finishing at the very instant the incident opens is "after"); ties are
--   broken by deploy_id.
-- * escalated: escalations > 0, or an `escalate` log entry.
-- * time_to_ack_minutes = acknowledged_at - created_at, time_to_resolve_minutes = resolved_at -
--   created_at, in minutes ("MTTA = acknowledged_at - created_at over acknowledged incidents; MTTR =
--   resolved_at - created_at over resolved incidents; minutes"): NULL while not acknowledged /
--   resolved. marts.incident_weekly aggregates these; the report lists them.
WITH events AS (
    SELECT
        incident_id,
        min(created_at) FILTER (WHERE event_type = 'acknowledge') AS first_ack,
        max(created_at) FILTER (WHERE event_type = 'resolve') AS last_resolve,
        count(*) FILTER (WHERE event_type = 'escalate') AS escalate_events
    FROM raw.incident_events
    GROUP BY incident_id
),
named AS (
    SELECT
        i.*,
        coalesce(
            i.service,
            (SELECT min(c.service) FROM catalog.incident_services AS c WHERE c.ref = i.service_ref),
            (SELECT min(c.service) FROM catalog.repos AS c WHERE lower(c.repo) = lower(i.service_ref)),
            (SELECT min(c.service) FROM catalog.incident_services AS c WHERE c.ref = i.service_name),
            i.service_name
        ) AS service_resolved
    FROM raw.incidents AS i
),
by_sha AS (
    -- the latest successful production deployment of the sha (any service) finished before the
    -- incident was created, else the first one finished at or after it
    SELECT n.incident_id, d.deploy_id
    FROM named AS n
    JOIN core.deployments AS d
      ON n.caused_by_sha IS NOT NULL
     AND d.is_production
     AND d.status = 'success'
     AND starts_with(lower(d.sha), lower(n.caused_by_sha))
    QUALIFY row_number() OVER (
        PARTITION BY n.incident_id
        ORDER BY CASE WHEN d.finished_at < n.created_at THEN 0 ELSE 1 END,
                 CASE WHEN d.finished_at < n.created_at THEN d.finished_at END DESC,
                 CASE WHEN d.finished_at >= n.created_at THEN d.finished_at END,
                 d.deploy_id
    ) = 1
),
incidents AS (
SELECT
    n.incident_id,
    n.service_resolved AS service,
    coalesce(n.team, cs.team) AS team,
    coalesce(sm.severity, n.severity) AS severity,
    n.title,
    n.created_at,
    CASE
        WHEN n.acknowledged_at IS NULL THEN e.first_ack
        WHEN e.first_ack IS NULL THEN n.acknowledged_at
        ELSE least(n.acknowledged_at, e.first_ack)
    END AS acknowledged_at,
    coalesce(n.resolved_at, e.last_resolve) AS resolved_at,
    coalesce(n.caused_by_deploy_id, b.deploy_id) AS caused_by_deploy_id,
    n.source,
    n.status,
    n.priority,
    n.urgency,
    n.dedup_key,
    n.caused_by_sha,
    coalesce(n.escalations, 0) + coalesce(e.escalate_events, 0) > 0 AS escalated,
    n.service_ref
FROM named AS n
LEFT JOIN events AS e ON e.incident_id = n.incident_id
LEFT JOIN by_sha AS b ON b.incident_id = n.incident_id
LEFT JOIN catalog.services AS cs ON cs.service = n.service_resolved
LEFT JOIN catalog.severity_map AS sm ON sm.service = n.service_resolved AND sm.raw = lower(n.priority)
)
SELECT
    *,
    epoch(acknowledged_at - created_at) / 60.0 AS time_to_ack_minutes,
    epoch(resolved_at - created_at) / 60.0 AS time_to_resolve_minutes
FROM incidents
ORDER BY created_at, incident_id
