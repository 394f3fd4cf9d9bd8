-- marts.dora_benchmark: the DORA benchmark in force (setting dora_benchmark), one row per metric
-- and tier, with the band each tier covers on the weekly DORA charts. The weekly report draws its
-- tier bands from this table, so the bands always follow the configured benchmark and agree with
-- marts.dora_tier, which reads the same rows.
--
-- Rules (METRICS.md, "DORA": "Tiers per metric ... from versioned benchmark data"):
-- * Rows: assets/benchmarks/<name>.csv where benchmark = getvariable('dora_benchmark'): metric,
--   tier, rank, measure, operator (>=, >, <, <=, else), threshold, published (the report's words).
-- * chart_column: the marts.dora_weekly column the metric's weekly chart plots
--   (deployment_frequency -> deploy_days, lead_time -> lead_time_p50_hours, change_failure_rate ->
--   change_failure_rate, recovery_time -> recovery_time_p50_hours).
-- * chart_threshold: the threshold in that column's unit, per week: deploy days per week as they
--   are, deploy days per 4 weeks / 4, deploy days in the 12-week period / 12; other measures as
--   they are.
-- * band_low, band_high: the chart values for which this tier is the first, in rank order, whose
--   condition holds. A lower bound (>=, >) covers [threshold, the lowest lower bound of the tiers
--   tried before); an upper bound (<, <=) covers [the highest upper bound tried before (0 when
--   none), threshold); 'else' covers what no bound reached: [0, the lowest lower bound) for a
--   metric with lower bounds, else [the highest upper bound, unbounded). band_high NULL means
--   unbounded; band_high <= band_low means no value reaches the tier (dora-2024 lists medium
--   change failure rate, 10%, inside high's 20%).
--
-- getvariable('dora_benchmarks_dir') is the assets/benchmarks folder, set by the model runner for every
-- model (ops_warehouse/lake/models.py, model_variables); an unknown dora_benchmark stops the run.
WITH rows_ AS (
    SELECT benchmark, metric, tier, CAST(rank AS INTEGER) AS rank, measure, operator,
           CAST(nullif(threshold, '') AS DOUBLE) AS threshold, published
    FROM read_csv(getvariable('dora_benchmarks_dir') || '/*.csv', comment = '#', header = true, all_varchar = true)
    WHERE benchmark = getvariable('dora_benchmark')
),
charted AS (
    SELECT
        *,
        CASE metric
            WHEN 'deployment_frequency' THEN 'deploy_days'
            WHEN 'lead_time' THEN 'lead_time_p50_hours'
            WHEN 'change_failure_rate' THEN 'change_failure_rate'
            WHEN 'recovery_time' THEN 'recovery_time_p50_hours'
        END AS chart_column,
        threshold / CASE measure
            WHEN 'deploy_days_per_4_weeks_p50' THEN 4.0
            WHEN 'deploy_days_in_period' THEN 12.0
            ELSE 1.0
        END AS chart_threshold
    FROM rows_
),
bounded AS (
    SELECT
        *,
        max(CASE WHEN operator IN ('<', '<=') THEN chart_threshold END) OVER (
            PARTITION BY metric ORDER BY rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS upper_before,
        min(CASE WHEN operator IN ('>=', '>') THEN chart_threshold END) OVER (
            PARTITION BY metric ORDER BY rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS lower_before,
        max(CASE WHEN operator IN ('<', '<=') THEN chart_threshold END) OVER (PARTITION BY metric) AS upper_max,
        min(CASE WHEN operator IN ('>=', '>') THEN chart_threshold END) OVER (PARTITION BY metric) AS lower_min
    FROM charted
)
SELECT
    benchmark,
    metric,
    tier,
    rank,
    measure,
    operator,
    threshold,
    published,
    chart_column,
    chart_threshold,
    CASE
        WHEN operator IN ('>=', '>') THEN chart_threshold
        WHEN operator IN ('<', '<=') THEN coalesce(upper_before, 0.0)
        WHEN lower_min IS NOT NULL THEN 0.0
        ELSE coalesce(upper_max, 0.0)
    END AS band_low,
    CASE
        WHEN operator IN ('>=', '>') THEN lower_before
        WHEN operator IN ('<', '<=') THEN chart_threshold
        WHEN lower_min IS NOT NULL THEN lower_min
    END AS band_high
FROM bounded
ORDER BY metric, rank
