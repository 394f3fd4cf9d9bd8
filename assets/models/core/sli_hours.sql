-- core.sli_hours: per SLO and UTC hour, the sums of core.sli_minutes that windows add up. The SLO
-- marts compute every window (weeks, rolling and calendar budget windows, burn-rate lookbacks) from
-- these rows, so each window costs a few hundred rows, not its minutes.
--
-- Additive quantities (METRICS.md, "Budgeting methods over a set of minutes": "Occurrences =
-- sum(good) / sum(total); Timeslices = good slices / slices with data; RatioTimeslices = mean of
-- slice ratios. Minutes and slices with no events count neither way."):
-- * good, total: event sums (Occurrences, and the burn rates of every method);
-- * slices, good_slices, ratio_sum: slices with data, good slices and the sum of slice ratios,
--   each slice counted once, in the hour of its first minute with data (slice_first).
-- * minutes: minutes with a row; first_minute, last_minute: the hour's first and last of them.
--
-- Sums are taken as DECIMAL(38, 18), exact, so they do not depend on the order the engine adds
-- rows in: a rebuild, full or incremental, gives the same bits.
--
-- Incremental: hours at or after `since` (the hour of the earliest changed minute) are recomputed.
-- incremental: key=hour
SELECT slo_name,
       make_timestamptz(epoch_us(minute) // 3600000000 * 3600000000) AS hour,
       CAST(sum(CAST(good AS DECIMAL(38, 18))) AS DOUBLE) AS good,
       CAST(sum(CAST(total AS DECIMAL(38, 18))) AS DOUBLE) AS total,
       count(*) FILTER (WHERE slice_first AND slice_ratio IS NOT NULL) AS slices,
       count(*) FILTER (WHERE slice_first AND slice_is_good) AS good_slices,
       coalesce(CAST(sum(CAST(slice_ratio AS DECIMAL(38, 18))) FILTER (WHERE slice_first) AS DOUBLE), 0.0) AS ratio_sum,
       count(*) AS minutes,
       min(minute) AS first_minute,
       max(minute) AS last_minute
FROM core.sli_minutes
WHERE getvariable('since') IS NULL OR minute >= getvariable('since')
GROUP BY slo_name, make_timestamptz(epoch_us(minute) // 3600000000 * 3600000000)
