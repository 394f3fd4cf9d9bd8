-- marts.slo_weekly: per SLO and ISO week, attainment, the window's attainment, the error budget,
-- burn rates, the policy stage and the forecast of budget exhaustion.
--
-- Every figure is core.slo_windows at the week's end (grain 'week'), where each rule of METRICS.md
-- ("SLOs and error budgets") is written once for this mart and marts.slo_budget_daily:
-- * attainment over the ISO week [Monday, next Monday) UTC by the SLO's budgeting method, NULL in a
--   week without events ("weekly figures NULL where the week has no events");
-- * window_attainment over [window_start, window_end), window_end = the week's end ("window figures
--   from whatever the window holds");
-- * "budget_consumed = (1 - window_attainment) / (1 - target) x elapsed" (elapsed: 1 for rolling
--   windows, the share of the calendar period elapsed for calendar windows); budget_remaining;
-- * burn_rate_1h .. burn_rate_3d over the lookbacks ending at the week's end; policy_stage;
--   exhausted_at (the forecast).
-- * met: the week's attainment >= target (with a 1e-9 tolerance); NULL without events.
-- * finding: the data-quality finding the report shows: "An SLO whose queries match no series at all
--   still has rows (all NULL) and a data-quality finding naming it" -> 'no data: its queries match
--   no series'; a week without events of an SLO that has data -> 'no events this week'.
--
-- Incremental: weeks ending after `since` (the earliest changed instant of core.slo_windows) are
-- recomputed.
-- incremental: key=week_start grain=week
WITH has_data AS (
    SELECT DISTINCT slo_name FROM core.sli_hours
)
SELECT w.slo_name, w.service, w.day AS week_start, w.good, w.total, w.attainment, w.target,
       w.window_start, w.window_end, w.window_attainment, w.budget_consumed, w.budget_remaining,
       w.burn_rate_1h, w.burn_rate_6h, w.burn_rate_1d, w.burn_rate_3d, w.policy_stage, w.exhausted_at,
       w.attainment >= w.target - 1e-9 AS met,
       w.budgeting_method, w.time_window, w.is_rolling, w.period_days, w.window_good, w.window_total,
       w.elapsed_fraction,
       CASE WHEN d.slo_name IS NULL THEN 'no data: its queries match no series'
            WHEN NOT w.total > 0 THEN 'no events this week' END AS finding
FROM core.slo_windows AS w
LEFT JOIN has_data AS d ON d.slo_name = w.slo_name
WHERE w.grain = 'week'
  AND (getvariable('since') IS NULL OR w.day >= getvariable('since'))
ORDER BY w.slo_name, week_start
