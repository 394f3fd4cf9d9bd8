-- marts.dora_weekly: the four DORA keys plus rework, per ISO week, per service, per team, overall.
--
-- Representation of rollups (choice): a `scope` column says what a row aggregates:
--   scope = 'service': one service (service = its name, team = its team);
--   scope = 'team':    every service of a team (service = '(all)');
--   scope = 'overall': everything (service = '(all)', team = '(all)').
-- Rollup percentiles are computed over the pooled events of the rollup, never averaged.
-- Filter on scope (or service <> '(all)') before summing counts.
--
-- Rules (METRICS.md):
-- * "Only successful production deployments count as deployments in DORA metrics."
--   deployments = count of them, in the week of finished_at.
-- * "Deployment frequency: deployments per week; deploy_days = distinct UTC days with a deployment."
-- * "Change failure rate = failed deployments / deployments" (failure rules in
--   marts.deployment_failures); a failed deployment is counted in the week it was deployed.
-- * "Lead time for changes (per commit): deployed_at - authored_at, in hours", p50 and p90 over the
--   commits deployed that week; negative spans are excluded and counted (negative_lead_times).
-- * "Failed deployment recovery time", p50 over the recoveries that happened that week;
--   "unrecovered ones are excluded and counted" (unrecovered_failures, in the deployment's week).
-- * "Deployment rework rate (DORA 2024): rework deployments / deployments".
-- * "A rate or percentile with nothing to measure is NULL (no data), never 0." Percentiles are
--   interpolated (quantile_cont).
-- * Empty weeks appear with zero counts and NULL rates: each service has a row for every week from
--   its first week with a DORA event to the last week with any DORA event in the warehouse (the
--   same end for all services, so trailing windows line up). Team and overall rows cover the union.
--
-- Incremental: weeks from `since` (a Monday) on are recomputed: the earliest week of a changed
-- event, or the week after the earlier last week when the data's last week moves.
-- incremental: key=week_start grain=week
WITH all_events AS (
    SELECT * FROM marts.dora_events
),
events AS (
    SELECT * FROM all_events WHERE getvariable('since') IS NULL OR week_start >= getvariable('since')
),
bounds AS (
    SELECT max(week_start) AS last_week FROM all_events
),
service_first AS (
    SELECT service, any_value(team) AS team,
           greatest(min(week_start), coalesce(getvariable('since'), min(week_start))) AS first_week
    FROM all_events
    GROUP BY service
),
spine AS (
    -- one row per service and week, from its first week to the last week of the data
    SELECT
        'spine' AS kind,
        s.service,
        s.team,
        CAST(w.week AS DATE) AS week_start
    FROM service_first AS s, bounds AS b,
         LATERAL unnest(generate_series(CAST(s.first_week AS TIMESTAMP), CAST(b.last_week AS TIMESTAMP), INTERVAL 7 DAY)) AS w(week)
),
facts AS (
    SELECT kind, service, team, week_start, event_day, failed, unrecovered, is_rework, is_rollback,
           is_hotfix, lead_time_hours, lead_time_negative, recovery_hours
    FROM events
    UNION ALL
    SELECT kind, service, team, week_start, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM spine
),
agg AS (
    SELECT
        CASE WHEN grouping(service) = 1 THEN '(all)' ELSE service END AS service,
        CASE WHEN grouping(team) = 1 THEN '(all)' ELSE team END AS team,
        CASE WHEN grouping(team) = 1 THEN 'overall' WHEN grouping(service) = 1 THEN 'team' ELSE 'service' END AS scope,
        week_start,
        count(*) FILTER (WHERE kind = 'deploy') AS deployments,
        count(DISTINCT event_day) FILTER (WHERE kind = 'deploy') AS deploy_days,
        count(*) FILTER (WHERE kind = 'deploy' AND failed) AS failed_deployments,
        count(*) FILTER (WHERE kind = 'deploy' AND unrecovered) AS unrecovered_failures,
        count(*) FILTER (WHERE kind = 'deploy' AND is_rework) AS rework_deployments,
        count(*) FILTER (WHERE kind = 'deploy' AND is_rollback) AS rollbacks,
        count(*) FILTER (WHERE kind = 'deploy' AND is_hotfix) AS hotfixes,
        count(*) FILTER (WHERE kind = 'change') AS changes_deployed,
        count(lead_time_hours) FILTER (WHERE kind = 'change') AS lead_time_samples,
        count(*) FILTER (WHERE kind = 'change' AND lead_time_negative) AS negative_lead_times,
        quantile_cont(lead_time_hours, 0.5) FILTER (WHERE kind = 'change') AS lead_time_p50_hours,
        quantile_cont(lead_time_hours, 0.9) FILTER (WHERE kind = 'change') AS lead_time_p90_hours,
        count(*) FILTER (WHERE kind = 'recovery') AS recoveries,
        quantile_cont(recovery_hours, 0.5) FILTER (WHERE kind = 'recovery') AS recovery_time_p50_hours
    FROM facts
    GROUP BY GROUPING SETS ((service, team, week_start), (team, week_start), (week_start))
)
SELECT
    service,
    team,
    week_start,
    deployments,
    deploy_days,
    failed_deployments,
    -- rates are NULL when there is no deployment to divide by
    failed_deployments / nullif(deployments, 0) AS change_failure_rate,
    lead_time_p50_hours,
    lead_time_p90_hours,
    recovery_time_p50_hours,
    rework_deployments,
    rework_deployments / nullif(deployments, 0) AS rework_rate,
    scope,
    unrecovered_failures,
    recoveries,
    rollbacks,
    hotfixes,
    changes_deployed,
    lead_time_samples,
    negative_lead_times
FROM agg
ORDER BY scope DESC, service, team, week_start
