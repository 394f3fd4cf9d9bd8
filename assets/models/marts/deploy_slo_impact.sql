-- marts.deploy_slo_impact: one row per successful production deployment and SLO of its service,
-- with the burn rate in the hour before and the hour after it.
--
-- Rules (METRICS.md, "Deploy impact on SLOs"):
-- * "For every successful production deployment and every SLO of the same service" (core.slos'
--   service = core.deployments' service).
-- * "burn_before = burn rate (Occurrences, as above) over the 60 minutes ending at the deployment's
--   started_at (minutes in (started_at - 60 min, started_at])": minute rows of core.sli_minutes with
--   started_at - 60 min < minute <= started_at.
-- * "burn_after = over the 60 minutes starting at its finished_at (minutes in (finished_at,
--   finished_at + 60 min])".
-- * Burn rate (METRICS.md, SLOs) = (1 - sum(good) / sum(total)) / (1 - target); "NULL when those
--   minutes hold no events" (sum(total) = 0 or no minute rows).
-- * "bad_after = bad events in the hour after": sum(total - good) over the after minutes; NULL
--   without events, like the burn.
-- * "A deployment is suspect when burn_after >= 6 (the 6h page factor: a pace that spends a 30-day
--   budget in 5 days) and burn_after >= 2 x coalesce(burn_before, 0)": thresholds from the settings
--   deploy_suspect_burn_rate (6) and deploy_suspect_ratio (2), compared with a 1e-9 tolerance;
--   false when burn_after is NULL (nothing measured).
--
-- How: a 60-minute window touches at most two clock hours (its start's hour and the next), so each
-- window is joined to the SLI minutes of those two hours by equality (SLO, hour) and then filtered
-- to its exact minutes: no range join, and a window reads about 120 minute rows.
--
-- Incremental: a row depends on its deployment and the SLI minutes of its two windows, which lie
-- in [started_at - 60 min, finished_at + 60 min]; a changed minute m can only change deployments
-- finishing at or after m - 60 min. Rows from `since` (on finished_at) are recomputed. The table
-- is kept one file per UTC day of finished_at, so a new day rewrites its own day (and the one
-- before, from `since`) instead of every deployment since the first.
-- incremental: key=finished_at partition=day
WITH deploys AS (
    SELECT deploy_id, service, started_at, finished_at
    FROM core.deployments
    WHERE is_production AND status = 'success' AND finished_at IS NOT NULL
      AND (getvariable('since') IS NULL OR finished_at >= getvariable('since'))
),
pairs AS (
    SELECT d.deploy_id, d.service, d.started_at, d.finished_at, s.slo_name, s.target
    FROM deploys AS d
    JOIN core.slos AS s ON s.service = d.service
),
windows AS (
    SELECT deploy_id, slo_name, 'before' AS side, started_at - INTERVAL 60 MINUTE AS lo, started_at AS hi
    FROM pairs
    UNION ALL
    SELECT deploy_id, slo_name, 'after' AS side, finished_at AS lo, finished_at + INTERVAL 60 MINUTE AS hi
    FROM pairs
),
window_hours AS (
    SELECT deploy_id, slo_name, side, lo, hi, date_trunc('hour', lo) AS hour FROM windows
    UNION ALL
    SELECT deploy_id, slo_name, side, lo, hi, date_trunc('hour', lo) + INTERVAL 1 HOUR AS hour FROM windows
),
minutes AS (
    SELECT slo_name, minute, make_timestamptz(epoch_us(minute) // 3600000000 * 3600000000) AS hour, good, total
    FROM core.sli_minutes
    WHERE minute > (SELECT min(lo) FROM windows) AND minute <= (SELECT max(hi) FROM windows)
),
sums AS (
    SELECT w.deploy_id, w.slo_name, w.side, sum(m.good) AS good, sum(m.total) AS total
    FROM window_hours AS w
    JOIN minutes AS m ON m.slo_name = w.slo_name AND m.hour = w.hour AND m.minute > w.lo AND m.minute <= w.hi
    GROUP BY w.deploy_id, w.slo_name, w.side
),
burns AS (
    SELECT
        p.deploy_id, p.service, p.slo_name, p.started_at, p.finished_at, p.target,
        CASE WHEN b.total > 0 THEN (1.0 - b.good / b.total) / (1.0 - p.target) END AS burn_before,
        CASE WHEN a.total > 0 THEN (1.0 - a.good / a.total) / (1.0 - p.target) END AS burn_after,
        CASE WHEN a.total > 0 THEN a.total - a.good END AS bad_after,
        b.total AS events_before,
        a.total AS events_after
    FROM pairs AS p
    LEFT JOIN sums AS b ON b.deploy_id = p.deploy_id AND b.slo_name = p.slo_name AND b.side = 'before'
    LEFT JOIN sums AS a ON a.deploy_id = p.deploy_id AND a.slo_name = p.slo_name AND a.side = 'after'
)
SELECT
    deploy_id,
    service,
    slo_name,
    finished_at,
    burn_before,
    burn_after,
    bad_after,
    coalesce(
        burn_after >= CAST(getvariable('deploy_suspect_burn_rate') AS DOUBLE) - 1e-9
        AND burn_after >= CAST(getvariable('deploy_suspect_ratio') AS DOUBLE) * coalesce(burn_before, 0.0) - 1e-9,
        false
    ) AS suspect,
    started_at,
    target,
    events_before,
    events_after
FROM burns
ORDER BY finished_at, deploy_id, slo_name
