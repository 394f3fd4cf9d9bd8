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
--   alert_noise_target, carried as noise_target so the report reads it from here; noise_target_met
--   says whether the week met it).
-- * Weeks without episodes between a service's first week with an episode and the last week of
--   alert data appear with zero counts and NULL rates, so week-over-week changes line up.
-- * The five noisiest alert names of a week are in marts.alert_names_weekly.
--
-- Incremental: weeks from `since` (a Monday) on are recomputed: the earliest week of a changed
-- episode or of a changed incident, or the week after the earlier last week when the data's last
-- week moves.
-- incremental: key=week_start grain=week
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
    SELECT 'spine', service, week_start, NULL, NULL, NULL, NULL, NULL FROM spine
),
incident_weeks AS (
    SELECT i.service, CAST(date_trunc('week', i.created_at) AS DATE) AS week_start, count(*) AS incidents
    FROM core.incidents AS i
    GROUP BY 1, 2
),
per_service AS (
    SELECT
        f.service,
        'service' AS scope,
        f.week_start,
        count(*) FILTER (WHERE f.kind = 'episode') AS episodes,
        count(*) FILTER (WHERE f.kind = 'episode' AND f.is_paging) AS paging_episodes,
        count(*) FILTER (WHERE f.kind = 'episode' AND f.is_actionable) AS actionable,
        count(*) FILTER (WHERE f.kind = 'episode' AND f.is_noisy) AS noisy,
        count(*) FILTER (WHERE f.kind = 'episode' AND f.is_flapping) AS flapping,
        count(*) FILTER (WHERE f.kind = 'episode' AND f.is_after_hours_page) AS after_hours_pages
    FROM facts AS f
    WHERE f.service IS NOT NULL
    GROUP BY f.service, f.week_start
),
overall AS (
    SELECT
        '(all)' AS service,
        'overall' AS scope,
        week_start,
        sum(episodes) AS episodes,
        sum(paging_episodes) AS paging_episodes,
        sum(actionable) AS actionable,
        sum(noisy) AS noisy,
        sum(flapping) AS flapping,
        sum(after_hours_pages) AS after_hours_pages
    FROM (
        SELECT week_start, episodes, paging_episodes, actionable, noisy, flapping, after_hours_pages FROM per_service
        UNION ALL
        -- episodes without a service count overall only
        SELECT week_start, count(*), count(*) FILTER (WHERE is_paging), count(*) FILTER (WHERE is_actionable),
               count(*) FILTER (WHERE is_noisy), count(*) FILTER (WHERE is_flapping),
               count(*) FILTER (WHERE is_after_hours_page)
        FROM e WHERE service IS NULL GROUP BY week_start
    ) AS x
    GROUP BY week_start
),
agg AS (
    -- incidents are counted for the weeks a row has: a service's weeks (its spine), and overall
    -- every incident of the weeks with an overall row
    SELECT p.*, coalesce(i.incidents, 0) AS incidents
    FROM per_service AS p
    LEFT JOIN incident_weeks AS i ON i.service = p.service AND i.week_start = p.week_start
    UNION ALL
    SELECT o.*, coalesce((SELECT sum(i.incidents) FROM incident_weeks AS i WHERE i.week_start = o.week_start), 0)
    FROM overall AS o
)
SELECT
    week_start,
    service,
    CAST(episodes AS BIGINT) AS episodes,
    CAST(paging_episodes AS BIGINT) AS paging_episodes,
    CAST(actionable AS BIGINT) AS actionable,
    CAST(noisy AS BIGINT) AS noisy,
    noisy / nullif(episodes, 0) AS noise_rate,
    CAST(flapping AS BIGINT) AS flapping,
    CAST(after_hours_pages AS BIGINT) AS after_hours_pages,
    episodes / nullif(incidents, 0) AS episodes_per_incident,
    CAST(incidents AS BIGINT) AS incidents,
    scope,
    CAST(getvariable('alert_noise_target') AS DOUBLE) AS noise_target,
    -- "< 5%": strictly under the target, compared with a tolerance (floating point); NULL without episodes
    noisy / nullif(episodes, 0) < CAST(getvariable('alert_noise_target') AS DOUBLE) - 1e-9 AS noise_target_met
FROM agg
ORDER BY scope DESC, service, week_start
