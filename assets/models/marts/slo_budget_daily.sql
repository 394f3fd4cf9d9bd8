-- marts.slo_budget_daily: the error-budget burn-down, one row per SLO and day (in the SLO's time
-- zone) from its first day with data through the warehouse's last day with SLI data.
--
-- Every figure is core.slo_windows at the day's end (grain 'day', local midnight), the same
-- definition marts.slo_weekly shows (METRICS.md: "The daily budget series and the weekly mart use
-- this one definition; the report shows no other"):
-- * the window ends at the day's end: rolling, the last duration; calendar, the period to date;
-- * "budget_consumed = (1 - window_attainment) / (1 - target) x elapsed", elapsed_fraction = (day
--   end - window_start) / (period_end - window_start) for calendar windows, 1 for rolling ones;
--   budget_remaining = 1 - budget_consumed (not clamped); policy_stage from budget_consumed.
--
-- Incremental: days ending at or after `since` are recomputed.
-- incremental: key=window_end
SELECT slo_name, service, day, window_start, window_end, period_end, window_good, window_total,
       window_attainment, target, elapsed_fraction, budget_consumed, budget_remaining, policy_stage
FROM core.slo_windows
WHERE grain = 'day'
  AND (getvariable('since') IS NULL OR window_end >= getvariable('since'))
ORDER BY slo_name, day
