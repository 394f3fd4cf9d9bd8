-- marts.dora_tier: the DORA performance tier of each key metric over the trailing 12 weeks, for
-- every week of marts.dora_weekly and every scope (service / team / overall rows as there).
--
-- Rules (METRICS.md, "DORA"):
-- * "Tiers per metric over the trailing 12 weeks, from versioned benchmark data. The period starts
--   no earlier than the week of the service's first successful production deployment; inside it,
--   weeks without deployments count as empty weeks. `weeks_measured` says how many weeks were used;
--   with fewer than 4 the tier is NULL (not enough history), never a tier computed from one or two
--   weeks." The period of a row ends with the week that starts at period_end - 7 days (period_end
--   exclusive, a Monday) and starts at period_start = the later of 11 weeks before that week and the
--   first week with a successful production deployment of the row's scope (service, team or
--   everything): [period_start, period_end). weeks_measured (= weeks) = the ISO weeks in it; the
--   value is still published with fewer than 4 weeks, the tier is NULL.
-- * Benchmarks are data: assets/benchmarks/<name>.csv, one row per metric and tier with the
--   measure, operator and threshold; the setting dora_benchmark picks one (default dora-2023).
--   Tiers are tried in rank order (elite, high, medium, low); the first condition that holds
--   wins, 'else' always holds. A metric with no data (NULL value) has no tier (NULL).
-- * dora-2023, as DevLake ships it: "deployment frequency elite if the median deploy days per
--   week >= 5, high >= 1 per week, medium >= 1 per month, else low" (per month = the median of the
--   deploy days of the period's three 4-week blocks); "lead time p50 elite < 1 day, high < 1 week,
--   medium < 30 days, else low; change failure rate elite <= 5%, high <= 10%, medium <= 15%, else
--   low; recovery time p50 elite < 1 h, high < 1 day, medium < 1 week, else low".
-- * metric / value: deployment_frequency = median deploy days per week (quantile_cont over the
--   period's weeks, zeros included); lead_time = p50 lead time in hours over all commits deployed
--   in the period (pooled, not a median of medians); change_failure_rate = failed deployments /
--   deployments over the period; recovery_time = p50 recovery hours over the recoveries of the
--   period. `samples` is what the value was computed from (weeks, commits, deployments,
--   recoveries).
--
-- getvariable('dora_benchmarks_dir') is the assets/benchmarks folder, set by the model runner for every
-- model (ops_warehouse/lake/models.py, model_variables); an unknown dora_benchmark stops the run.
--
-- Incremental: periods whose last week is at or after `since` are recomputed (tier window lookback:
-- such a period reads 11 earlier weeks); since = the earliest week of a changed dora_weekly row or
-- lead-time/recovery event.
-- incremental: key=last_week_start grain=week
WITH all_weekly AS (
    SELECT scope, service, team, week_start, deployments, deploy_days, failed_deployments
    FROM marts.dora_weekly
),
first_deploy AS (
    -- the week of the scope's first successful production deployment: no period starts earlier
    SELECT scope, service, team, min(week_start) AS first_week
    FROM all_weekly
    WHERE deployments > 0
    GROUP BY ALL
),
weekly AS (
    -- the weeks a recomputed period can read: 11 weeks before since on, none before the first
    -- deployment's week
    SELECT w.*
    FROM all_weekly AS w
    JOIN first_deploy AS f USING (scope, service, team)
    WHERE w.week_start >= f.first_week
      AND (getvariable('since') IS NULL OR w.week_start >= CAST(getvariable('since') AS DATE) - 77)
),
periods_of AS (
    -- the periods (by last week) this build computes
    SELECT * FROM weekly
    WHERE getvariable('since') IS NULL OR week_start >= CAST(getvariable('since') AS DATE)
),
windowed AS (
    -- the period's weeks: [week_start - 11 weeks, week_start]
    SELECT
        p.scope, p.service, p.team, p.week_start,
        min(w.week_start) AS period_start,
        count(*) AS weeks,
        quantile_cont(w.deploy_days, 0.5) AS deploy_days_per_week_p50,
        CAST(sum(w.deploy_days) AS BIGINT) AS deploy_days_in_period,
        sum(w.deployments) AS deployments,
        sum(w.failed_deployments) AS failed_deployments
    FROM periods_of AS p
    JOIN weekly AS w
      ON w.scope = p.scope AND w.service = p.service AND w.team = p.team
     AND w.week_start BETWEEN p.week_start - 77 AND p.week_start
    GROUP BY ALL
),
blocks AS (
    -- deploy days per 4-week block of the period: block 0 = the latest four weeks
    SELECT p.scope, p.service, p.team, p.week_start,
           quantile_cont(b.block_days, 0.5) AS deploy_days_per_4_weeks_p50
    FROM periods_of AS p
    JOIN (
        SELECT p2.scope, p2.service, p2.team, p2.week_start AS period_week,
               date_diff('day', w.week_start, p2.week_start) // 28 AS block, sum(w.deploy_days) AS block_days
        FROM periods_of AS p2
        JOIN weekly AS w
          ON w.scope = p2.scope AND w.service = p2.service AND w.team = p2.team
         AND w.week_start BETWEEN p2.week_start - 77 AND p2.week_start
        GROUP BY ALL
    ) AS b
      ON b.scope = p.scope AND b.service = p.service AND b.team = p.team AND b.period_week = p.week_start
    GROUP BY ALL
),
events AS (
    SELECT kind, service, team, week_start, lead_time_hours, recovery_hours
    FROM marts.dora_events
    WHERE kind IN ('change', 'recovery')
      AND (getvariable('since') IS NULL OR week_start >= CAST(getvariable('since') AS DATE) - 77)
),
scoped AS (
    SELECT 'service' AS scope, service, team, week_start, kind, lead_time_hours, recovery_hours FROM events
    UNION ALL
    SELECT 'team', '(all)', team, week_start, kind, lead_time_hours, recovery_hours FROM events
    UNION ALL
    SELECT 'overall', '(all)', '(all)', week_start, kind, lead_time_hours, recovery_hours FROM events
),
pooled AS (
    -- each event belongs to the 12 periods whose last week is its week or one of the 11 after
    SELECT
        s.scope, s.service, s.team,
        s.week_start + CAST(7 * k.k AS INTEGER) AS week_start,
        quantile_cont(s.lead_time_hours, 0.5) FILTER (WHERE s.kind = 'change') AS lead_time_p50_hours,
        count(s.lead_time_hours) FILTER (WHERE s.kind = 'change') AS lead_time_samples,
        quantile_cont(s.recovery_hours, 0.5) FILTER (WHERE s.kind = 'recovery') AS recovery_time_p50_hours,
        count(*) FILTER (WHERE s.kind = 'recovery') AS recoveries
    FROM scoped AS s CROSS JOIN (SELECT unnest(generate_series(0, 11)) AS k) AS k
    GROUP BY ALL
),
periods AS (
    SELECT
        w.*,
        b.deploy_days_per_4_weeks_p50,
        p.lead_time_p50_hours,
        coalesce(p.lead_time_samples, 0) AS lead_time_samples,
        p.recovery_time_p50_hours,
        coalesce(p.recoveries, 0) AS recoveries,
        w.failed_deployments / nullif(w.deployments, 0) AS change_failure_rate
    FROM windowed AS w
    JOIN blocks AS b USING (scope, service, team, week_start)
    LEFT JOIN pooled AS p USING (scope, service, team, week_start)
),
metrics AS (
    -- one row per period and metric (four selects: a LATERAL VALUES list does not carry to Spark)
    SELECT scope, service, team, week_start, period_start, weeks,
           'deployment_frequency' AS metric, deploy_days_per_week_p50 AS value, CAST(weeks AS BIGINT) AS samples,
           deploy_days_per_week_p50, deploy_days_per_4_weeks_p50, deploy_days_in_period,
           lead_time_p50_hours, change_failure_rate, recovery_time_p50_hours
    FROM periods
    UNION ALL
    SELECT scope, service, team, week_start, period_start, weeks,
           'lead_time', lead_time_p50_hours, CAST(lead_time_samples AS BIGINT),
           deploy_days_per_week_p50, deploy_days_per_4_weeks_p50, deploy_days_in_period,
           lead_time_p50_hours, change_failure_rate, recovery_time_p50_hours
    FROM periods
    UNION ALL
    SELECT scope, service, team, week_start, period_start, weeks,
           'change_failure_rate', change_failure_rate, CAST(deployments AS BIGINT),
           deploy_days_per_week_p50, deploy_days_per_4_weeks_p50, deploy_days_in_period,
           lead_time_p50_hours, change_failure_rate, recovery_time_p50_hours
    FROM periods
    UNION ALL
    SELECT scope, service, team, week_start, period_start, weeks,
           'recovery_time', recovery_time_p50_hours, CAST(recoveries AS BIGINT),
           deploy_days_per_week_p50, deploy_days_per_4_weeks_p50, deploy_days_in_period,
           lead_time_p50_hours, change_failure_rate, recovery_time_p50_hours
    FROM periods
),
benchmark AS (
    SELECT benchmark, metric, tier, CAST(rank AS INTEGER) AS rank, measure, operator,
           CAST(nullif(threshold, '') AS DOUBLE) AS threshold
    FROM read_csv(getvariable('dora_benchmarks_dir') || '/*.csv', comment = '#', header = true, all_varchar = true)
    WHERE benchmark = getvariable('dora_benchmark')
),
candidates AS (
    SELECT
        m.scope, m.service, m.team, m.week_start, m.metric,
        b.benchmark, b.tier, b.rank, b.operator, b.threshold,
        -- the figure the tier's threshold applies to
        CASE b.measure
            WHEN 'deploy_days_per_week_p50' THEN m.deploy_days_per_week_p50
            WHEN 'deploy_days_per_4_weeks_p50' THEN m.deploy_days_per_4_weeks_p50
            WHEN 'deploy_days_in_period' THEN m.deploy_days_in_period
            WHEN 'lead_time_p50_hours' THEN m.lead_time_p50_hours
            WHEN 'change_failure_rate' THEN m.change_failure_rate
            WHEN 'recovery_time_p50_hours' THEN m.recovery_time_p50_hours
        END AS measured
    FROM metrics AS m
    JOIN benchmark AS b ON b.metric = m.metric
    WHERE m.value IS NOT NULL   -- no data, no tier
      AND m.weeks >= 4          -- fewer than 4 weeks measured: not enough history, no tier
),
chosen AS (
    SELECT *
    FROM candidates
    WHERE operator = 'else'
       OR CASE operator
              WHEN '>=' THEN measured >= threshold
              WHEN '>' THEN measured > threshold
              WHEN '<' THEN measured < threshold
              WHEN '<=' THEN measured <= threshold
          END
    -- the first tier in rank order whose condition holds
    QUALIFY row_number() OVER (PARTITION BY scope, service, team, week_start, metric ORDER BY rank) = 1
),
tiered AS (
    SELECT m.*, c.benchmark, c.tier, c.rank
    FROM metrics AS m
    LEFT JOIN chosen AS c USING (scope, service, team, week_start, metric)
)
SELECT
    service,
    week_start + 7 AS period_end,
    metric,
    value,
    tier,
    coalesce(benchmark, getvariable('dora_benchmark')) AS benchmark,
    team,
    scope,
    period_start,
    week_start AS last_week_start,
    weeks,
    weeks AS weeks_measured,
    samples,
    deploy_days_per_4_weeks_p50,
    deploy_days_in_period
FROM tiered
ORDER BY scope DESC, service, team, period_end, metric
