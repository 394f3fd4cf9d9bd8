-- marts.alert_weekly: alert quality per ISO week, per service and overall.
--
-- Representation of rollups (as in marts.dora_weekly): `scope` = 'service' for one service,
-- 'overall' for everything (service = '(all)'). Filter on scope before summing counts; the
-- overall rate is computed over the pooled episodes, never averaged.
--
-- Rules (METRICS.md, "Alert quality"; the per-episode flags are in core.alert_episodes):
-- * "An episode belongs to the week it started."
-- * "Weekly, per service: episodes, paging episodes, actionable, noisy, noise_rate, flapping
--   episodes, after-hours pages (starting outside 09:00-18:00 Monday to Friday in the team's time
--   zone from the catalog, default UTC), episodes per incident (all episodes / incidents of the
--   service created that week; NULL when none)".
-- * "noise_rate = noisy episodes / episodes (NULL when none). Seed target: < 5%" (the setting
--   alert_noise_target, carried as noise_target so the report reads it from here).
-- * Weeks without episodes between a service's first week with an episode and the last week of
--   alert data appear with zero counts and NULL rates, so week-over-week changes line up.
-- * The five noisiest alert names of a week are in marts.alert_names_weekly.
--
-- Incremental: weeks from `since` (a Monday) on are recomputed: the earliest week of a changed
-- episode or of a changed incident, or the week after the earlier last week when the data's last
-- week moves.
-- incremental: key=week_start grain=week rule=alert_weekly
WITH e AS (
    SELECT
        service,
        CAST(date_trunc('week', started_at) AS DATE) AS week_start,
        is_paging,
        is_actionable,
        is_noisy,
        is_flapping,
        is_after_hours_page
    FROM core.alert_episodes
),
bounds AS (
    SELECT max(week_start) AS last_week FROM e
),
spine AS (
    SELECT s.service, CAST(w.week AS DATE) AS week_start
    FROM (SELECT service, min(week_start) AS first_week FROM e GROUP BY service) AS s, bounds AS b,
         LATERAL unnest(generate_series(CAST(s.first_week AS TIMESTAMP), CAST(b.last_week AS TIMESTAMP),
                                        INTERVAL 7 DAY)) AS w(week)
),
facts AS (
    SELECT 'episode' AS kind, service, week_start, is_paging, is_actionable, is_noisy, is_flapping,
           is_after_hours_page
    FROM e
    UNION ALL
    SELECT 'incident', i.service, CAST(date_trunc('week', i.created_at) AS DATE), NULL, NULL, NULL, NULL, NULL
    FROM core.incidents AS i
    WHERE i.service IN (SELECT service FROM spine)
      AND CAST(date_trunc('week', i.created_at) AS DATE) <= (SELECT last_week FROM bounds)
    UNION ALL
    SELECT 'spine', service, week_start, NULL, NULL, NULL, NULL, NULL FROM spine
),
agg AS (
    SELECT
        CASE WHEN grouping(service) = 1 THEN '(all)' ELSE service END AS service,
        CASE WHEN grouping(service) = 1 THEN 'overall' ELSE 'service' END AS scope,
        week_start,
        count(*) FILTER (WHERE kind = 'episode') AS episodes,
        count(*) FILTER (WHERE kind = 'episode' AND is_paging) AS paging_episodes,
        count(*) FILTER (WHERE kind = 'episode' AND is_actionable) AS actionable,
        count(*) FILTER (WHERE kind = 'episode' AND is_noisy) AS noisy,
        count(*) FILTER (WHERE kind = 'episode' AND is_flapping) AS flapping,
        count(*) FILTER (WHERE kind = 'episode' AND is_after_hours_page) AS after_hours_pages,
        count(*) FILTER (WHERE kind = 'incident') AS incidents
    FROM facts
    WHERE service IS NOT NULL OR kind = 'episode'
    GROUP BY GROUPING SETS ((service, week_start), (week_start))
)
SELECT
    week_start,
    service,
    episodes,
    paging_episodes,
    actionable,
    noisy,
    noisy / nullif(episodes, 0) AS noise_rate,
    flapping,
    after_hours_pages,
    episodes / nullif(incidents, 0) AS episodes_per_incident,
    incidents,
    scope,
    CAST(getvariable('alert_noise_target') AS DOUBLE) AS noise_target
FROM agg
ORDER BY scope DESC, service, week_start
