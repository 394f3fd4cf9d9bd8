-- marts.deploy_impact_weekly: per ISO week and service with SLOs, how many deployments were
-- measured against the SLOs, how many were suspect, and how much of the week's burn followed a
-- deploy. A rollup row per week has service = '(all)' (`scope` column: service, overall).
--
-- Rules (METRICS.md, "Deploy impact on SLOs"):
-- * "Weekly, per service: deployments measured, suspect deployments": a deployment belongs to the
--   week it finished (METRICS.md, week assignment). Measured = at least one SLO of its service held
--   events in the hour after it (burn_after not NULL in marts.deploy_slo_impact); suspect = suspect
--   for at least one SLO. A deployment counts once however many SLOs its service has.
-- * "deploy_budget_share = bad events inside post-deployment hours / bad events in the week
--   (overlapping hours counted once; NULL when the week has no bad events)": bad = total - good of
--   each SLI minute of the service's SLOs; a minute is inside a post-deployment hour when it lies in
--   (finished_at, finished_at + 60 min] of any successful production deployment of the service
--   (the after windows of marts.deploy_slo_impact); each (SLO, minute) counts once however many such
--   hours hold it. An SLI minute belongs to its own week.
-- * The week's bad events are read from core.sli_hours (the hourly sums of the same SLI minutes).
-- * Every week with SLI minutes or deployments of the service has a row; counts are 0 and the share
--   NULL when there is nothing to measure.
--
-- Incremental: weeks from `since` (a Monday) on are recomputed: the earliest week of a changed
-- deployment impact row (by finished_at) or changed SLI minute. Deployments finishing in the hour
-- before `since` are read too, since their post-deployment hour reaches into it.
-- incremental: key=week_start grain=week
WITH bounds AS (
    SELECT CASE WHEN getvariable('since') IS NULL THEN NULL
                ELSE CAST(getvariable('since') AS TIMESTAMP) AT TIME ZONE 'UTC' END AS since_ts
),
impact AS (
    SELECT i.*
    FROM marts.deploy_slo_impact AS i, bounds AS b
    WHERE b.since_ts IS NULL OR i.finished_at >= b.since_ts - INTERVAL 60 MINUTE
),
per_deploy AS (
    SELECT
        deploy_id,
        service,
        CAST(date_trunc('week', timezone('UTC', finished_at)) AS DATE) AS week_start,
        bool_or(burn_after IS NOT NULL) AS measured,
        bool_or(suspect) AS suspect
    FROM impact
    GROUP BY deploy_id, service, CAST(date_trunc('week', timezone('UTC', finished_at)) AS DATE)
),
deploy_counts AS (
    SELECT
        service,
        week_start,
        count(*) FILTER (WHERE measured) AS deployments_measured,
        count(*) FILTER (WHERE suspect) AS suspect_deployments
    FROM per_deploy
    GROUP BY service, week_start
),
after_windows AS (
    SELECT slo_name, finished_at AS lo, finished_at + INTERVAL 60 MINUTE AS hi, date_trunc('hour', finished_at) AS hour
    FROM impact
    UNION ALL
    SELECT slo_name, finished_at, finished_at + INTERVAL 60 MINUTE, date_trunc('hour', finished_at) + INTERVAL 1 HOUR
    FROM impact
),
minutes AS (
    -- the SLI minutes of the hours post-deployment windows touch
    SELECT
        s.service,
        m.slo_name,
        m.minute,
        make_timestamptz(epoch_us(m.minute) // 3600000000 * 3600000000) AS hour,
        m.total - m.good AS bad
    FROM core.sli_minutes AS m
    JOIN core.slos AS s ON s.slo_name = m.slo_name
    CROSS JOIN bounds AS b
    WHERE s.service IS NOT NULL AND (b.since_ts IS NULL OR m.minute >= b.since_ts)
      AND m.minute > (SELECT min(lo) FROM after_windows)
),
post_minutes AS (
    -- each (SLO, minute) inside any post-deployment hour, once
    SELECT DISTINCT m.service, m.slo_name, m.minute, m.bad
    FROM after_windows AS w
    JOIN minutes AS m ON m.slo_name = w.slo_name AND m.hour = w.hour AND m.minute > w.lo AND m.minute <= w.hi
),
post AS (
    SELECT service, CAST(date_trunc('week', timezone('UTC', minute)) AS DATE) AS week_start,
           sum(bad) AS bad_events_after_deploys
    FROM post_minutes
    GROUP BY service, CAST(date_trunc('week', timezone('UTC', minute)) AS DATE)
),
week_bad AS (
    -- the week's bad events from the hourly sums of the same minutes (an ISO week is whole hours)
    SELECT s.service, CAST(date_trunc('week', timezone('UTC', h.hour)) AS DATE) AS week_start,
           sum(h.total - h.good) AS bad_events
    FROM core.sli_hours AS h
    JOIN core.slos AS s ON s.slo_name = h.slo_name
    CROSS JOIN bounds AS b
    WHERE s.service IS NOT NULL AND (b.since_ts IS NULL OR h.hour >= b.since_ts)
    GROUP BY s.service, CAST(date_trunc('week', timezone('UTC', h.hour)) AS DATE)
),
spine AS (
    SELECT service, week_start FROM week_bad
    UNION
    SELECT service, week_start FROM deploy_counts
),
per_service AS (
    SELECT
        sp.week_start,
        sp.service,
        coalesce(d.deployments_measured, 0) AS deployments_measured,
        coalesce(d.suspect_deployments, 0) AS suspect_deployments,
        coalesce(w.bad_events, 0) AS bad_events,
        coalesce(p.bad_events_after_deploys, 0) AS bad_events_after_deploys
    FROM spine AS sp
    LEFT JOIN deploy_counts AS d ON d.service = sp.service AND d.week_start = sp.week_start
    LEFT JOIN week_bad AS w ON w.service = sp.service AND w.week_start = sp.week_start
    LEFT JOIN post AS p ON p.service = sp.service AND p.week_start = sp.week_start
),
with_overall AS (
    SELECT week_start, service, 'service' AS scope, deployments_measured, suspect_deployments, bad_events,
           bad_events_after_deploys
    FROM per_service
    UNION ALL
    SELECT week_start, '(all)' AS service, 'overall' AS scope, CAST(sum(deployments_measured) AS BIGINT),
           CAST(sum(suspect_deployments) AS BIGINT),
           sum(bad_events), sum(bad_events_after_deploys)
    FROM per_service
    GROUP BY week_start
)
SELECT
    week_start,
    service,
    deployments_measured,
    suspect_deployments,
    bad_events_after_deploys / nullif(bad_events, 0) AS deploy_budget_share,
    scope,
    bad_events,
    bad_events_after_deploys
FROM with_overall
ORDER BY week_start, scope, service
