-- marts.deployment_health_weekly: how the deploy pipeline itself behaves, per ISO week (by
-- finished_at), per service, per team and overall (scope column, service/team = '(all)' on
-- rollups, as in marts.dora_weekly).
--
-- Rules (METRICS.md, "Deployments"):
-- * Production deployments only; every finished attempt counts here: "Failed attempts count in
--   deployment health".
-- * "success rate = successful / (successful + failure + error)"; cancelled attempts are shown
--   but counted neither way. NULL when there is no attempt to divide by.
-- * "duration = finished_at - started_at" in minutes, p50 and p90 (quantile_cont) over the
--   successful, failed and errored attempts (choice: a slow failing pipeline is still slow).
-- * "rollback rate = rollbacks / deployments": successful production rollbacks over successful
--   production deployments (the DORA deployments), NULL when there is none.
-- * "Default targets (configurable): success rate 99.9%, rollback rate < 0.1%, duration < 20 min"
--   from the settings deploy_success_target, rollback_rate_target, deploy_duration_target_minutes;
--   the *_met columns are NULL when the figure is NULL.
WITH attempts AS (
    SELECT
        d.service,
        coalesce(st.team, '(none)') AS team,
        CAST(date_trunc('week', timezone('UTC', d.finished_at)) AS DATE) AS week_start,
        d.status,
        d.is_rollback,
        d.duration_minutes
    FROM core.deployments AS d
    LEFT JOIN (
        -- one team per service: the team of its latest deployment naming one (as in dora_events)
        SELECT service, arg_max(team, finished_at) FILTER (WHERE team IS NOT NULL) AS team
        FROM core.deployments GROUP BY service
    ) AS st USING (service)
    WHERE d.is_production
),
agg AS (
    SELECT
        CASE WHEN grouping(service) = 1 THEN '(all)' ELSE service END AS service,
        CASE WHEN grouping(team) = 1 THEN '(all)' ELSE team END AS team,
        CASE WHEN grouping(team) = 1 THEN 'overall' WHEN grouping(service) = 1 THEN 'team' ELSE 'service' END AS scope,
        week_start,
        count(*) AS attempts,
        count(*) FILTER (WHERE status = 'success') AS successful,
        count(*) FILTER (WHERE status = 'failure') AS failed,
        count(*) FILTER (WHERE status = 'error') AS errored,
        count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
        count(*) FILTER (WHERE status = 'success' AND is_rollback) AS rollbacks,
        quantile_cont(duration_minutes, 0.5) FILTER (WHERE status IN ('success', 'failure', 'error')) AS duration_p50_minutes,
        quantile_cont(duration_minutes, 0.9) FILTER (WHERE status IN ('success', 'failure', 'error')) AS duration_p90_minutes
    FROM attempts
    GROUP BY GROUPING SETS ((service, team, week_start), (team, week_start), (week_start))
),
rates AS (
    SELECT
        *,
        successful / nullif(successful + failed + errored, 0) AS success_rate,
        rollbacks / nullif(successful, 0) AS rollback_rate,
        CAST(getvariable('deploy_success_target') AS DOUBLE) AS success_target,
        CAST(getvariable('rollback_rate_target') AS DOUBLE) AS rollback_rate_target,
        CAST(getvariable('deploy_duration_target_minutes') AS DOUBLE) AS duration_target_minutes
    FROM agg
)
SELECT
    service,
    team,
    week_start,
    scope,
    attempts,
    successful,
    failed,
    errored,
    cancelled,
    successful AS deployments,
    rollbacks,
    success_rate,
    rollback_rate,
    duration_p50_minutes,
    duration_p90_minutes,
    success_target,
    rollback_rate_target,
    duration_target_minutes,
    -- targets: success rate at least the target, rollback rate and p50 duration below theirs
    success_rate >= success_target AS success_target_met,
    rollback_rate < rollback_rate_target AS rollback_target_met,
    duration_p50_minutes < duration_target_minutes AS duration_target_met
FROM rates
ORDER BY scope DESC, service, team, week_start
