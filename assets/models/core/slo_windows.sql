-- core.slo_windows: the SLO figures at every evaluation instant, written once for the marts that
-- show them: each ISO week's end (grain 'week', read by marts.slo_weekly) and each day's end in the
-- SLO's time zone (grain 'day', read by marts.slo_budget_daily). One row per SLO, grain and
-- window_end.
--
-- Rules (METRICS.md, "SLOs and error budgets"):
-- * Rows: "Every SLO has a row in marts.slo_weekly for every week from its first week with data
--   through the last complete week of the warehouse (the latest week any source has data for)" ->
--   week rows from the SLO's first week with SLI data through the week of the latest SLI minute of
--   any SLO; "An SLO whose queries match no series at all still has rows (all NULL)" -> for those,
--   week rows over the same span from the warehouse's first SLI week. Day rows: every day (in the
--   SLO's time zone) from the SLO's first day with data through the day of the latest SLI minute.
-- * good, total, attainment: over the row's own period [period_start, window_end) (the ISO week, or
--   the local day), by the SLO's budgeting method: "Occurrences = sum(good) / sum(total);
--   Timeslices = good slices / slices with data; RatioTimeslices = mean of slice ratios. Minutes and
--   slices with no events count neither way." NULL when the period has no events.
-- * window_attainment: over the SLO's own window ending at window_end, [window_start, window_end):
--   "rolling: the last duration; calendar: the calendar period to date, in the SLO's time zone"
--   (the calendar period holding the last instant before window_end; months, quarters and years as
--   on the calendar, ISO weeks, other units as periods of their length from start_local).
-- * "budget_consumed = (1 - window_attainment) / (1 - target) x elapsed, where elapsed is 1 for
--   rolling windows and, for calendar windows, the share of the calendar period elapsed at that
--   moment (the period's budget is spread over the whole period)": elapsed_fraction =
--   (window_end - window_start) / (period_end - window_start). "budget_remaining = 1 -
--   budget_consumed (may go negative; clamp only when drawing)." A 99.9% calendar-month SLO at
--   99.0% on day 1 of a 30-day month has spent 1/3 of the month's budget.
-- * "Burn rate over a lookback L ending at the week's end = (1 - Occurrences attainment over L) /
--   (1 - target), for L in 1h, 6h, 1d, 3d" (NULL without events in L).
-- * "Error-budget policy stage, by budget consumed": the stages and their lower bounds are data,
--   catalog.slo_policy_stages (assets/slo/policy_stages.csv), compared with a 1e-9 tolerance
--   ("Floating point: 100 - 99.9 is not 0.1").
-- * "Forecast: budget exhausted at week end + budget_remaining x period / burn_rate_1d, when both are
--   positive" (period: period_s, a month counting 30 days).
--
-- How: C(x) = an SLO's sums over the minutes before instant x. A window's sums are C(end) -
-- C(start): C at whole hours from running sums over a dense grid of core.sli_hours, plus the
-- minutes of x's hour before x when x is not on the hour (time zones with half-hour offsets).
--
-- Incremental: instants at or after `since` (the earliest changed SLI hour) are recomputed; a
-- changed SLO definition recomputes the table.
-- incremental: key=window_end
WITH slos AS (
    SELECT * FROM core.slos
),
span AS (
    SELECT min(hour) AS first_hour, max(hour) AS last_hour, max(last_minute) AS last_minute FROM core.sli_hours
),
first_data AS (
    SELECT slo_name, min(hour) AS first_hour, min(first_minute) AS first_minute
    FROM core.sli_hours
    GROUP BY slo_name
),
instants AS (
    -- week ends (UTC Mondays), from the SLO's first week with data (or the warehouse's first)
    SELECT s.slo_name, 'week' AS grain, CAST(w.week AS DATE) AS day,
           CAST(w.week AS TIMESTAMP) AT TIME ZONE 'UTC' AS period_start,
           (CAST(w.week AS TIMESTAMP) + INTERVAL 7 DAY) AT TIME ZONE 'UTC' AS window_end
    FROM slos AS s
    CROSS JOIN span AS sp
    LEFT JOIN first_data AS f ON f.slo_name = s.slo_name
    CROSS JOIN LATERAL unnest(generate_series(
        CAST(date_trunc('week', coalesce(f.first_hour, sp.first_hour)) AS TIMESTAMP),
        CAST(date_trunc('week', sp.last_minute) AS TIMESTAMP), INTERVAL 7 DAY)) AS w(week)
    UNION ALL
    -- day ends (local midnights), from the SLO's first day with data
    SELECT s.slo_name, 'day', CAST(d.day AS DATE),
           timezone(s.time_zone, CAST(d.day AS TIMESTAMP)),
           timezone(s.time_zone, CAST(d.day AS TIMESTAMP) + INTERVAL 1 DAY)
    FROM slos AS s
    JOIN first_data AS f ON f.slo_name = s.slo_name
    CROSS JOIN span AS sp
    CROSS JOIN LATERAL unnest(generate_series(
        CAST(CAST(timezone(s.time_zone, f.first_minute) AS DATE) AS TIMESTAMP),
        CAST(CAST(timezone(s.time_zone, sp.last_minute) AS DATE) AS TIMESTAMP), INTERVAL 1 DAY)) AS d(day)
),
points AS (
    SELECT i.*, s.time_zone, s.is_rolling, s.period_s, s.cal_unit, s.cal_n,
           timezone(s.time_zone, i.window_end - INTERVAL 1 MICROSECOND) AS local_last,
           coalesce(s.start_local, CASE s.cal_unit WHEN 'w' THEN TIMESTAMP '1970-01-05 00:00:00'
                                                   ELSE TIMESTAMP '1970-01-01 00:00:00' END) AS anchor
    FROM instants AS i
    JOIN slos AS s ON s.slo_name = i.slo_name
    WHERE getvariable('since') IS NULL OR i.window_end >= getvariable('since')
),
periods AS (
    -- the calendar period (local time) holding the window's last instant
    SELECT *,
           CASE cal_unit
               WHEN 'Y' THEN date_trunc('year', local_last)
               WHEN 'Q' THEN date_trunc('year', local_last)
                             + CAST(floor((month(local_last) - 1) / (3 * cal_n)) * 3 * cal_n AS INTEGER) * INTERVAL 1 MONTH
               WHEN 'M' THEN date_trunc('year', local_last)
                             + CAST(floor((month(local_last) - 1) / cal_n) * cal_n AS INTEGER) * INTERVAL 1 MONTH
               ELSE anchor + CAST(floor((epoch(local_last) - epoch(anchor)) / period_s) * period_s AS BIGINT)
                             * INTERVAL 1 SECOND
           END AS local_start
    FROM points
),
bounds AS (
    SELECT slo_name, grain, day, period_start, window_end,
           CASE WHEN is_rolling THEN window_end - period_s * INTERVAL 1 SECOND
                ELSE timezone(time_zone, local_start) END AS window_start,
           CASE WHEN is_rolling THEN window_end
                ELSE timezone(time_zone, CASE cal_unit
                    WHEN 'Y' THEN local_start + INTERVAL 1 YEAR
                    WHEN 'Q' THEN local_start + 3 * cal_n * INTERVAL 1 MONTH
                    WHEN 'M' THEN local_start + cal_n * INTERVAL 1 MONTH
                    ELSE local_start + period_s * INTERVAL 1 SECOND END) END AS period_end
    FROM periods
),
lookups AS (
    -- every instant x whose C(x) a row needs, tagged
    SELECT slo_name, grain, window_end, 'end' AS tag, window_end AS x FROM bounds
    UNION ALL SELECT slo_name, grain, window_end, 'period', period_start FROM bounds
    UNION ALL SELECT slo_name, grain, window_end, 'window', window_start FROM bounds
    UNION ALL SELECT slo_name, grain, window_end, 'l1h', window_end - INTERVAL 1 HOUR FROM bounds
    UNION ALL SELECT slo_name, grain, window_end, 'l6h', window_end - INTERVAL 6 HOUR FROM bounds
    UNION ALL SELECT slo_name, grain, window_end, 'l1d', window_end - INTERVAL 1 DAY FROM bounds
    UNION ALL SELECT slo_name, grain, window_end, 'l3d', window_end - INTERVAL 3 DAY FROM bounds
),
grid AS (
    -- every hour of each SLO from its first hour to the warehouse's last, with running sums
    SELECT f.slo_name, CAST(g.hour AS TIMESTAMP) AT TIME ZONE 'UTC' AS hour
    FROM first_data AS f
    CROSS JOIN span AS sp
    CROSS JOIN LATERAL unnest(generate_series(CAST(f.first_hour AS TIMESTAMP), CAST(sp.last_hour AS TIMESTAMP),
                                              INTERVAL 1 HOUR)) AS g(hour)
),
cum AS (
    SELECT g.slo_name, g.hour,
           sum(coalesce(h.good, 0.0)) OVER w AS c_good,
           sum(coalesce(h.total, 0.0)) OVER w AS c_total,
           sum(coalesce(h.slices, 0)) OVER w AS c_slices,
           sum(coalesce(h.good_slices, 0)) OVER w AS c_good_slices,
           sum(coalesce(h.ratio_sum, 0.0)) OVER w AS c_ratio
    FROM grid AS g
    LEFT JOIN core.sli_hours AS h ON h.slo_name = g.slo_name AND h.hour = g.hour
    WINDOW w AS (PARTITION BY g.slo_name ORDER BY g.hour ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
keyed AS (
    -- C(x) = running sums through the hour before x's hour (clamped to the data) + the minutes of
    -- x's own hour before x
    SELECT l.*, date_trunc('hour', l.x) AS x_hour,
           least(date_trunc('hour', l.x) - INTERVAL 1 HOUR, sp.last_hour) AS k
    FROM lookups AS l CROSS JOIN span AS sp
),
partial_hour AS (
    SELECT k.slo_name, k.grain, k.window_end, k.tag,
           sum(m.good) AS good, sum(m.total) AS total,
           count(*) FILTER (WHERE m.slice_first AND m.slice_ratio IS NOT NULL) AS slices,
           count(*) FILTER (WHERE m.slice_first AND m.slice_is_good) AS good_slices,
           coalesce(sum(m.slice_ratio) FILTER (WHERE m.slice_first), 0.0) AS ratio_sum
    FROM keyed AS k
    JOIN core.sli_minutes AS m
      ON m.slo_name = k.slo_name AND make_timestamptz(epoch_us(m.minute) // 3600000000 * 3600000000) = k.x_hour AND m.minute < k.x
    WHERE k.x > k.x_hour
    GROUP BY k.slo_name, k.grain, k.window_end, k.tag
),
c AS (
    SELECT k.slo_name, k.grain, k.window_end, k.tag,
           coalesce(cu.c_good, 0.0) + coalesce(p.good, 0.0) AS c_good,
           coalesce(cu.c_total, 0.0) + coalesce(p.total, 0.0) AS c_total,
           coalesce(cu.c_slices, 0) + coalesce(p.slices, 0) AS c_slices,
           coalesce(cu.c_good_slices, 0) + coalesce(p.good_slices, 0) AS c_good_slices,
           coalesce(cu.c_ratio, 0.0) + coalesce(p.ratio_sum, 0.0) AS c_ratio
    FROM keyed AS k
    LEFT JOIN cum AS cu ON cu.slo_name = k.slo_name AND cu.hour = k.k
    LEFT JOIN partial_hour AS p
      ON p.slo_name = k.slo_name AND p.grain = k.grain AND p.window_end = k.window_end AND p.tag = k.tag
),
sums AS (
    -- per row: sums over [x, window_end) for each tagged x
    SELECT e.slo_name, e.grain, e.window_end, o.tag,
           e.c_good - o.c_good AS good, e.c_total - o.c_total AS total,
           e.c_slices - o.c_slices AS slices, e.c_good_slices - o.c_good_slices AS good_slices,
           e.c_ratio - o.c_ratio AS ratio_sum
    FROM c AS e
    JOIN c AS o ON o.slo_name = e.slo_name AND o.grain = e.grain AND o.window_end = e.window_end AND o.tag <> 'end'
    WHERE e.tag = 'end'
),
att AS (
    -- attainment by budgeting method over each tagged span; burn rates from Occurrences
    SELECT u.*, s.budgeting_method, s.target,
           CASE s.budgeting_method
               WHEN 'Occurrences' THEN CASE WHEN u.total > 0 THEN u.good / u.total END
               WHEN 'Timeslices' THEN CASE WHEN u.slices > 0 THEN CAST(u.good_slices AS DOUBLE) / u.slices END
               WHEN 'RatioTimeslices' THEN CASE WHEN u.slices > 0 THEN u.ratio_sum / u.slices END
           END AS attainment,
           CASE WHEN u.total > 0 THEN (1.0 - u.good / u.total) / (1.0 - s.target) END AS burn_rate
    FROM sums AS u
    JOIN slos AS s ON s.slo_name = u.slo_name
),
wide AS (
    SELECT b.slo_name, b.grain, b.day, b.period_start, b.window_end, b.window_start, b.period_end,
           max(a.good) FILTER (WHERE a.tag = 'period') AS good,
           max(a.total) FILTER (WHERE a.tag = 'period') AS total,
           max(a.attainment) FILTER (WHERE a.tag = 'period') AS attainment,
           max(a.good) FILTER (WHERE a.tag = 'window') AS window_good,
           max(a.total) FILTER (WHERE a.tag = 'window') AS window_total,
           max(a.attainment) FILTER (WHERE a.tag = 'window') AS window_attainment,
           max(a.burn_rate) FILTER (WHERE a.tag = 'l1h') AS burn_rate_1h,
           max(a.burn_rate) FILTER (WHERE a.tag = 'l6h') AS burn_rate_6h,
           max(a.burn_rate) FILTER (WHERE a.tag = 'l1d') AS burn_rate_1d,
           max(a.burn_rate) FILTER (WHERE a.tag = 'l3d') AS burn_rate_3d
    FROM bounds AS b
    JOIN att AS a ON a.slo_name = b.slo_name AND a.grain = b.grain AND a.window_end = b.window_end
    GROUP BY b.slo_name, b.grain, b.day, b.period_start, b.window_end, b.window_start, b.period_end
),
budget AS (
    SELECT w.*, s.service, s.target, s.budgeting_method, s.time_window, s.is_rolling, s.period_s,
           CASE WHEN s.is_rolling THEN 1.0
                ELSE (epoch(w.window_end) - epoch(w.window_start)) / (epoch(w.period_end) - epoch(w.window_start))
           END AS elapsed_fraction,
           (1.0 - w.window_attainment) / (1.0 - s.target)
           * CASE WHEN s.is_rolling THEN 1.0
                  ELSE (epoch(w.window_end) - epoch(w.window_start)) / (epoch(w.period_end) - epoch(w.window_start))
             END AS budget_consumed
    FROM wide AS w
    JOIN slos AS s ON s.slo_name = w.slo_name
),
staged AS (
    SELECT b.slo_name, b.grain, b.window_end, arg_max(p.stage, p.min_consumed) AS policy_stage
    FROM budget AS b
    JOIN catalog.slo_policy_stages AS p ON b.budget_consumed >= p.min_consumed - 1e-9
    GROUP BY b.slo_name, b.grain, b.window_end
)
SELECT b.slo_name, b.service, b.grain, b.day, b.period_start, b.window_end,
       b.good, b.total, b.attainment, b.target,
       b.window_start, b.period_end, b.window_good, b.window_total, b.window_attainment,
       b.elapsed_fraction, b.budget_consumed, 1.0 - b.budget_consumed AS budget_remaining,
       b.burn_rate_1h, b.burn_rate_6h, b.burn_rate_1d, b.burn_rate_3d,
       st.policy_stage,
       CASE WHEN 1.0 - b.budget_consumed > 1e-9 AND b.burn_rate_1d > 1e-9
            THEN b.window_end
                 + CAST(floor((1.0 - b.budget_consumed) * b.period_s / b.burn_rate_1d) AS BIGINT) * INTERVAL 1 SECOND
                 + CAST(round(((1.0 - b.budget_consumed) * b.period_s / b.burn_rate_1d
                               - floor((1.0 - b.budget_consumed) * b.period_s / b.burn_rate_1d)) * 1e6) AS BIGINT)
                   * INTERVAL 1 MICROSECOND END AS exhausted_at,
       b.budgeting_method, b.time_window, b.is_rolling, b.period_s / 86400.0 AS period_days
FROM budget AS b
LEFT JOIN staged AS st ON st.slo_name = b.slo_name AND st.grain = b.grain AND st.window_end = b.window_end
