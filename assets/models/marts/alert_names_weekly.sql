-- marts.alert_names_weekly: the five noisiest alert names of each ISO week, per service and overall.
--
-- Rules (METRICS.md, "Alert quality"): "... and the five noisiest alert names of the week."
-- * Noisy episodes are those of core.alert_episodes (not actionable, and short or flapping); an
--   episode belongs to the week it started.
-- * Rank (choice): most noisy episodes first, then most episodes, then the name; only names with at
--   least one noisy episode are ranked; rank 1..5. An episode without an alert name counts under
--   '(unnamed)'.
-- * scope = 'service' ranks within a service; scope = 'overall' (service = '(all)') across all.
--
-- Incremental: weeks from the earliest week of a changed episode on are recomputed.
-- incremental: key=week_start grain=week
WITH e AS (
    SELECT
        service,
        coalesce(alertname, '(unnamed)') AS alertname,
        CAST(date_trunc('week', started_at) AS DATE) AS week_start,
        is_noisy
    FROM core.alert_episodes
),
counted AS (
    SELECT
        CASE WHEN grouping(service) = 1 THEN '(all)' ELSE service END AS service,
        CASE WHEN grouping(service) = 1 THEN 'overall' ELSE 'service' END AS scope,
        week_start,
        alertname,
        count(*) AS episodes,
        count(*) FILTER (WHERE is_noisy) AS noisy
    FROM e
    GROUP BY GROUPING SETS ((service, week_start, alertname), (week_start, alertname))
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY scope, service, week_start ORDER BY noisy DESC, episodes DESC, alertname)
            AS noise_rank
    FROM counted
    WHERE noisy > 0
)
SELECT
    week_start,
    service,
    alertname,
    episodes,
    noisy,
    noisy / episodes AS noise_rate,
    noise_rank,
    scope
FROM ranked
WHERE noise_rank <= 5
ORDER BY scope DESC, service, week_start, noise_rank
