-- core.incidents: one row per incident, with its first acknowledgement and its resolution.
--
-- Rules (METRICS.md, "Incidents"):
-- * created_at: when the incident was opened.
-- * acknowledged_at: the FIRST acknowledgement: the source's own (PagerDuty acknowledgements[].at,
--   already the earliest) or the first `acknowledge` log entry, whichever is earlier; later
--   unacknowledge and re-acknowledge do not move it.
-- * resolved_at: the source's resolved time (PagerDuty resolved_at, Opsgenie impactEndDate,
--   GitHub closed_at), else the last `resolve` log entry.
-- * severity: sev1..sev4 as normalized by the adapter; the catalog's severity map for the service
--   wins when it maps the incident's raw priority.
-- * service: the source's own service name, else the catalog entry naming the incident tool's
--   service id or name, else the incident tool's service name.
-- * caused_by_deploy_id: the explicit cause, or the production deployment of the service whose
--   sha the incident names (`root cause: <sha>`), the latest such if several.
-- * escalated: escalations > 0, or an `escalate` log entry.
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
            (SELECT min(c.service) FROM catalog.incident_services AS c WHERE c.ref = i.service_name),
            i.service_name
        ) AS service_resolved
    FROM raw.incidents AS i
),
by_sha AS (
    SELECT n.incident_id, d.deploy_id
    FROM named AS n
    JOIN core.deployments AS d
      ON n.caused_by_sha IS NOT NULL
     AND d.service = n.service_resolved
     AND d.is_production
     AND (d.sha = n.caused_by_sha OR starts_with(d.sha, n.caused_by_sha))
    QUALIFY row_number() OVER (PARTITION BY n.incident_id ORDER BY d.finished_at DESC, d.deploy_id DESC) = 1
)
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
ORDER BY n.created_at, n.incident_id
