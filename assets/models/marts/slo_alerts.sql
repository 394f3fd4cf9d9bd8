-- marts.slo_alerts: multi-window, multi-burn-rate alert firings over history, one row per firing.
--
-- Rules (METRICS.md, "SLOs and error budgets"):
-- * "Multi-window, multi-burn-rate alerts (SRE workbook; Sloth's four windows): page 1h/5m spending
--   2% of the budget, page 6h/30m 5%, ticket 1d/2h 10%, ticket 3d/6h 10%" -> the windows and budget
--   shares are data: catalog.slo_alert_windows (assets/slo/alert_windows.csv); windows are one of
--   5m, 30m, 1h, 2h, 6h, 1d, 3d.
-- * "factor = budget share x SLO period / long window (14.4, 6, 3, 1 for 30 days; 13.44, 5.6, 2.8,
--   0.933 for 28 days)" (period: core.slos.period_s, a month counting 30 days).
-- * Burn rate over a window = (1 - Occurrences attainment over it) / (1 - target), NULL without
--   events (the condition does not hold).
-- * "Evaluated each minute over history: an alert fires when the burn over both windows ending at
--   that minute is >= the factor, and resolves when it no longer holds." Evaluation instants are
--   minute boundaries t from the end of the SLO's first minute with data to the end of its last; a
--   window of length L ending at t is [t - L, t). fired_at is the first instant the condition holds
--   (>= factor with a 1e-9 tolerance), resolved_at the first later instant it does not (NULL: still
--   firing when the data ends).
--
-- How: running sums C over a dense per-minute grid (the SLO's minutes plus zero rows for the minutes
-- without data between its first and last), so a window's sum at t is C(t) - lag(C, L minutes); the
-- same at t - 1 minute gives each condition's previous value on the same row.
--
-- Incremental: firings from `since` on are recomputed. The rule (slo_alerts.since.sql, and
-- slo_alerts.span.sql per span) sets `since` no later than the
-- first instant new minutes can change (the minute after the earliest changed minute), no later
-- than the start of any firing still open then, and, for an SLO whose data resumes after a gap,
-- no later than the end of its old last minute; the grid starts the longest window earlier.
-- The table is kept by UTC day of fired_at and computed in spans of days, [since, until): a span
-- reads the minutes before `until` and evaluates the instants before it; an SLO whose data goes on
-- past `until` is evaluated up to it (its grid runs to the minute before `until`, from
-- core.sli_hours), and a firing still open at a span's end is recomputed by the next span.
-- incremental: key=fired_at partition=day chunks=core.sli_minutes
WITH windows AS (
    SELECT alert, long_window, short_window, CAST(budget_share AS DOUBLE) AS budget_share,
           CAST(regexp_extract(long_window, '^([0-9]+)', 1) AS INTEGER)
           * CASE regexp_extract(long_window, '([mhd])$', 1) WHEN 'm' THEN 1 WHEN 'h' THEN 60 WHEN 'd' THEN 1440 END
           AS long_minutes,
           CAST(regexp_extract(short_window, '^([0-9]+)', 1) AS INTEGER)
           * CASE regexp_extract(short_window, '([mhd])$', 1) WHEN 'm' THEN 1 WHEN 'h' THEN 60 WHEN 'd' THEN 1440 END
           AS short_minutes
    FROM catalog.slo_alert_windows
),
reach AS (
    -- the grid starts one longest window (plus the previous instant) before `since`
    SELECT CAST(getvariable('since') AS TIMESTAMPTZ) - (max(long_minutes) + 2) * INTERVAL 1 MINUTE AS grid_from
    FROM windows
),
minutes AS (
    SELECT m.slo_name, m.minute, m.good, m.total
    FROM core.sli_minutes AS m
    CROSS JOIN reach AS r
    WHERE (r.grid_from IS NULL OR m.minute >= r.grid_from)
      AND (getvariable('until') IS NULL OR m.minute < getvariable('until'))
),
hours AS (
    SELECT slo_name, make_timestamptz(epoch_us(minute) // 3600000000 * 3600000000) AS hour, count(*) AS n
    FROM minutes
    GROUP BY slo_name, make_timestamptz(epoch_us(minute) // 3600000000 * 3600000000)
),
span AS (
    -- the SLO's minutes in this span; with data on past `until`, the grid runs to until - 1 minute
    SELECT m.slo_name, min(m.minute) AS lo,
           CASE WHEN max(h.last_hour) >= getvariable('until')
                THEN CAST(getvariable('until') AS TIMESTAMPTZ) - INTERVAL 1 MINUTE
                ELSE max(m.minute) END AS hi
    FROM minutes AS m
    JOIN (SELECT slo_name, max(hour) AS last_hour FROM core.sli_hours GROUP BY slo_name) AS h
      ON h.slo_name = m.slo_name
    GROUP BY m.slo_name
),
gappy AS (
    -- the hours of each SLO's span that lack a minute: only there are zero rows generated
    SELECT a.slo_name, greatest(a.lo, a.hour) AS a, least(a.hi, a.hour + INTERVAL 59 MINUTE) AS b
    FROM (
        SELECT s.slo_name, s.lo, s.hi, CAST(h.hour AS TIMESTAMP) AT TIME ZONE 'UTC' AS hour
        FROM span AS s
        CROSS JOIN LATERAL unnest(generate_series(CAST(date_trunc('hour', s.lo) AS TIMESTAMP),
                                                  CAST(date_trunc('hour', s.hi) AS TIMESTAMP),
                                                  INTERVAL 1 HOUR)) AS h(hour)
    ) AS a
    LEFT JOIN hours AS c ON c.slo_name = a.slo_name AND c.hour = a.hour
    WHERE coalesce(c.n, 0) < (epoch(least(a.hi, a.hour + INTERVAL 59 MINUTE)) - epoch(greatest(a.lo, a.hour))) / 60 + 1
),
gaps AS (
    SELECT g.slo_name, CAST(x.minute AS TIMESTAMP) AT TIME ZONE 'UTC' AS minute
    FROM gappy AS g
    CROSS JOIN LATERAL unnest(generate_series(CAST(g.a AS TIMESTAMP), CAST(g.b AS TIMESTAMP), INTERVAL 1 MINUTE)) AS x(minute)
),
dense AS (
    SELECT slo_name, minute, coalesce(good, 0.0) AS good, coalesce(total, 0.0) AS total FROM minutes
    UNION ALL
    SELECT g.slo_name, g.minute, 0.0, 0.0
    FROM gaps AS g
    LEFT JOIN minutes AS m ON m.slo_name = g.slo_name AND m.minute = g.minute
    WHERE m.minute IS NULL
),
cum AS (
    SELECT slo_name, minute + INTERVAL 1 MINUTE AS t,
           sum(good) OVER (PARTITION BY slo_name ORDER BY minute ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS c_good,
           sum(total) OVER (PARTITION BY slo_name ORDER BY minute ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS c_total
    FROM dense
),
lagged AS (
    -- C at t - k minutes (g, t) and at t - 1 - k minutes (pg, pt: the previous instant's windows)
    SELECT slo_name, t, c_good, c_total,
           lag(c_good, 1, 0.0) OVER w AS p_good, lag(c_total, 1, 0.0) OVER w AS p_total,
           lag(c_good, 5, 0.0) OVER w AS g5, lag(c_total, 5, 0.0) OVER w AS t5, lag(c_good, 6, 0.0) OVER w AS pg5, lag(c_total, 6, 0.0) OVER w AS pt5,
           lag(c_good, 30, 0.0) OVER w AS g30, lag(c_total, 30, 0.0) OVER w AS t30, lag(c_good, 31, 0.0) OVER w AS pg30, lag(c_total, 31, 0.0) OVER w AS pt30,
           lag(c_good, 60, 0.0) OVER w AS g60, lag(c_total, 60, 0.0) OVER w AS t60, lag(c_good, 61, 0.0) OVER w AS pg60, lag(c_total, 61, 0.0) OVER w AS pt60,
           lag(c_good, 120, 0.0) OVER w AS g120, lag(c_total, 120, 0.0) OVER w AS t120, lag(c_good, 121, 0.0) OVER w AS pg120, lag(c_total, 121, 0.0) OVER w AS pt120,
           lag(c_good, 360, 0.0) OVER w AS g360, lag(c_total, 360, 0.0) OVER w AS t360, lag(c_good, 361, 0.0) OVER w AS pg360, lag(c_total, 361, 0.0) OVER w AS pt360,
           lag(c_good, 1440, 0.0) OVER w AS g1440, lag(c_total, 1440, 0.0) OVER w AS t1440, lag(c_good, 1441, 0.0) OVER w AS pg1440, lag(c_total, 1441, 0.0) OVER w AS pt1440,
           lag(c_good, 4320, 0.0) OVER w AS g4320, lag(c_total, 4320, 0.0) OVER w AS t4320, lag(c_good, 4321, 0.0) OVER w AS pg4320, lag(c_total, 4321, 0.0) OVER w AS pt4320
    FROM cum
    WINDOW w AS (PARTITION BY slo_name ORDER BY t)
),
sums AS (
    -- per instant and alert: good and total over the long and short windows, now and one minute before
    SELECT l.slo_name, l.t, w.alert, w.long_window, w.short_window, w.budget_share,
           w.budget_share * s.period_s / (w.long_minutes * 60.0) AS factor, s.target,
           l.c_good - CASE w.long_minutes WHEN 5 THEN g5 WHEN 30 THEN g30 WHEN 60 THEN g60 WHEN 120 THEN g120 WHEN 360 THEN g360 WHEN 1440 THEN g1440 WHEN 4320 THEN g4320 END AS lg, l.c_total - CASE w.long_minutes WHEN 5 THEN t5 WHEN 30 THEN t30 WHEN 60 THEN t60 WHEN 120 THEN t120 WHEN 360 THEN t360 WHEN 1440 THEN t1440 WHEN 4320 THEN t4320 END AS lt,
           l.c_good - CASE w.short_minutes WHEN 5 THEN g5 WHEN 30 THEN g30 WHEN 60 THEN g60 WHEN 120 THEN g120 WHEN 360 THEN g360 WHEN 1440 THEN g1440 WHEN 4320 THEN g4320 END AS sg, l.c_total - CASE w.short_minutes WHEN 5 THEN t5 WHEN 30 THEN t30 WHEN 60 THEN t60 WHEN 120 THEN t120 WHEN 360 THEN t360 WHEN 1440 THEN t1440 WHEN 4320 THEN t4320 END AS st,
           l.p_good - CASE w.long_minutes WHEN 5 THEN pg5 WHEN 30 THEN pg30 WHEN 60 THEN pg60 WHEN 120 THEN pg120 WHEN 360 THEN pg360 WHEN 1440 THEN pg1440 WHEN 4320 THEN pg4320 END AS plg, l.p_total - CASE w.long_minutes WHEN 5 THEN pt5 WHEN 30 THEN pt30 WHEN 60 THEN pt60 WHEN 120 THEN pt120 WHEN 360 THEN pt360 WHEN 1440 THEN pt1440 WHEN 4320 THEN pt4320 END AS plt,
           l.p_good - CASE w.short_minutes WHEN 5 THEN pg5 WHEN 30 THEN pg30 WHEN 60 THEN pg60 WHEN 120 THEN pg120 WHEN 360 THEN pg360 WHEN 1440 THEN pg1440 WHEN 4320 THEN pg4320 END AS psg, l.p_total - CASE w.short_minutes WHEN 5 THEN pt5 WHEN 30 THEN pt30 WHEN 60 THEN pt60 WHEN 120 THEN pt120 WHEN 360 THEN pt360 WHEN 1440 THEN pt1440 WHEN 4320 THEN pt4320 END AS pst
    FROM lagged AS l
    JOIN core.slos AS s ON s.slo_name = l.slo_name
    CROSS JOIN windows AS w
    WHERE getvariable('since') IS NULL OR l.t >= getvariable('since')
),
conditions AS (
    SELECT slo_name, t, alert, long_window, short_window, budget_share, factor, target,
           coalesce(lt > 0 AND (1.0 - lg / lt) / (1.0 - target) >= factor - 1e-9
                    AND st > 0 AND (1.0 - sg / st) / (1.0 - target) >= factor - 1e-9, false) AS firing,
           coalesce(plt > 0 AND (1.0 - plg / plt) / (1.0 - target) >= factor - 1e-9
                    AND pst > 0 AND (1.0 - psg / pst) / (1.0 - target) >= factor - 1e-9, false) AS was_firing
    FROM sums
),
transitions AS (
    SELECT slo_name, t, alert, long_window, short_window, budget_share, factor, target, firing,
           lead(t) OVER (PARTITION BY slo_name, long_window, short_window ORDER BY t) AS next_t
    FROM conditions
    WHERE firing <> was_firing
)
SELECT tr.slo_name, tr.alert, tr.long_window, tr.short_window, tr.factor,
       tr.t AS fired_at, tr.next_t AS resolved_at, tr.budget_share, tr.target, s.service
FROM transitions AS tr
JOIN core.slos AS s ON s.slo_name = tr.slo_name
WHERE tr.firing
ORDER BY tr.slo_name, fired_at, tr.long_window
