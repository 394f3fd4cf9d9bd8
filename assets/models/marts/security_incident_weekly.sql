-- marts.security_incident_weekly: security incidents' time to acknowledge against the 1-hour
-- response target, per ISO week (by created_at), separately from other incidents.
--
-- Rules (METRICS.md, "Vulnerability management"):
-- * "Security incidents (label, type or service security) also report time to acknowledge
--   against the seed's < 1 h response target, separately from other incidents."
--   core.incidents carries service and team but neither labels nor types, so (choice) an incident
--   is a security incident when its service or its team is named `security` (any case).
-- * Time to acknowledge = acknowledged_at - created_at in minutes, over acknowledged incidents
--   (the first acknowledgement, as core.incidents defines it); p50 interpolated and mean; NULL
--   when none was acknowledged.
-- * acknowledged_within_target: acknowledged in less than the target (the setting
--   security_ack_target_minutes, 60), strictly, as "< 1 h" says. ack_target_attainment =
--   acknowledged_within_target / incidents; an incident never acknowledged misses the target.
--   NULL when the week had no security incident.
-- * Weeks between the first security incident and the last week of incident data appear with zero
--   counts and NULL rates.
--
-- Incremental: weeks from the earliest week of a changed incident on are recomputed.
-- incremental: key=week_start grain=week
WITH inc AS (
    SELECT
        incident_id,
        created_at,
        acknowledged_at,
        CAST(date_trunc('week', created_at) AS DATE) AS week_start,
        lower(coalesce(service, '')) = 'security' OR lower(coalesce(team, '')) = 'security' AS is_security
    FROM core.incidents
),
sec AS (
    SELECT *, epoch(acknowledged_at - created_at) / 60.0 AS ack_minutes FROM inc WHERE is_security
),
bounds AS (
    SELECT (SELECT min(week_start) FROM sec) AS first_week, (SELECT max(week_start) FROM inc) AS last_week
),
spine AS (
    SELECT CAST(w.week AS DATE) AS week_start
    FROM bounds AS b,
         LATERAL unnest(generate_series(CAST(b.first_week AS TIMESTAMP), CAST(b.last_week AS TIMESTAMP),
                                        INTERVAL 7 DAY)) AS w(week)
    WHERE b.first_week IS NOT NULL
),
agg AS (
    SELECT
        s.week_start,
        count(x.incident_id) AS incidents,
        count(x.acknowledged_at) AS acknowledged,
        count(*) FILTER (WHERE x.ack_minutes < CAST(getvariable('security_ack_target_minutes') AS DOUBLE))
            AS acknowledged_within_target,
        quantile_cont(x.ack_minutes, 0.5) AS ack_minutes_p50,
        avg(x.ack_minutes) AS ack_minutes_mean
    FROM spine AS s
    LEFT JOIN sec AS x ON x.week_start = s.week_start
    GROUP BY s.week_start
)
SELECT
    week_start,
    incidents,
    acknowledged,
    incidents - acknowledged AS unacknowledged,
    acknowledged_within_target,
    acknowledged_within_target / nullif(incidents, 0) AS ack_target_attainment,
    ack_minutes_p50,
    ack_minutes_mean,
    CAST(getvariable('security_ack_target_minutes') AS DOUBLE) AS ack_target_minutes
FROM agg
ORDER BY week_start
