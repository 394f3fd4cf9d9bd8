-- marts.dora_events: the facts behind the DORA marts, one row per event, each already placed in
-- its ISO week. marts.dora_weekly and marts.dora_tier aggregate it (percentiles are computed over
-- these pooled values, never averaged from weekly medians).
--
-- Rules (METRICS.md, "General rules" and "DORA"):
-- * "Week assignment: a deployment by finished_at; a change by deployed_at; ... a recovery by the
--   recovery time." Weeks are ISO weeks [Monday 00:00 UTC, next Monday).
-- * kind = 'deploy': one row per successful production deployment (marts.deployment_failures),
--   in the week of finished_at, with failed / recovered / rework flags. A failed deployment that
--   has not recovered is counted (unrecovered) in the week it was deployed.
-- * kind = 'change': "Lead time for changes (per commit): deployed_at - authored_at, in hours."
--   One row per commit (core.changes already counts a commit once and links it to the first
--   successful production deployment containing it), in the week of deployed_at. "A negative span
--   ... is excluded and counted as a data-quality finding": lead_time_hours NULL,
--   lead_time_negative true. Only commits shipped by a DORA deployment are kept.
-- * kind = 'recovery': one row per recovered failed deployment, in the week of recovered_at, with
--   recovery_hours = recovered_at - finished_at.
-- * service and team: the deployment's service; one team per service (the team of its latest
--   deployment that names one, else '(none)'), so a service never splits across two team rows.
--
-- Incremental: events at or after `since` (event_at) are recomputed; since = the earliest finish,
-- recovery or deployed_at among the rows of deployment_failures and core.changes that changed. A
-- changed service team means a full rebuild.
-- incremental: key=event_at
WITH service_team AS (
    SELECT service, coalesce(arg_max(team, finished_at) FILTER (WHERE team IS NOT NULL), '(none)') AS team
    FROM core.deployments
    GROUP BY service
),
deploys AS (
    SELECT * FROM marts.deployment_failures
)
SELECT
    'deploy' AS kind,
    d.service,
    st.team,
    d.week_start,
    d.finished_at AS event_at,
    CAST(timezone('UTC', d.finished_at) AS DATE) AS event_day,
    d.deploy_id,
    NULL::VARCHAR AS change_id,
    d.failed,
    d.failed AND NOT d.recovered AS unrecovered,
    d.is_rework,
    d.is_rollback,
    d.is_hotfix,
    NULL::DOUBLE AS lead_time_hours,
    NULL::BOOLEAN AS lead_time_negative,
    NULL::DOUBLE AS recovery_hours
FROM deploys AS d
JOIN service_team AS st USING (service)
WHERE (getvariable('since') IS NULL OR d.finished_at >= getvariable('since'))
UNION ALL
SELECT
    'change' AS kind,
    d.service,
    st.team,
    CAST(date_trunc('week', timezone('UTC', c.deployed_at)) AS DATE) AS week_start,
    c.deployed_at AS event_at,
    CAST(timezone('UTC', c.deployed_at) AS DATE) AS event_day,
    c.deploy_id,
    c.change_id,
    NULL, NULL, NULL, NULL, NULL,
    c.lead_time_hours,
    c.lead_time_negative,
    NULL
FROM core.changes AS c
JOIN deploys AS d ON d.deploy_id = c.deploy_id
JOIN service_team AS st ON st.service = d.service
WHERE c.deployed_at IS NOT NULL
  AND (getvariable('since') IS NULL OR c.deployed_at >= getvariable('since'))
UNION ALL
SELECT
    'recovery' AS kind,
    d.service,
    st.team,
    d.recovery_week_start AS week_start,
    d.recovered_at AS event_at,
    CAST(timezone('UTC', d.recovered_at) AS DATE) AS event_day,
    d.deploy_id,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    d.recovery_hours
FROM deploys AS d
JOIN service_team AS st USING (service)
WHERE d.recovered
  AND (getvariable('since') IS NULL OR d.recovered_at >= getvariable('since'))
