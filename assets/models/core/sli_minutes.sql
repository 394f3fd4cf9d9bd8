-- core.sli_minutes: per SLO and minute, the good and total events its queries count (and, for
-- time-slice SLOs, the slice the minute belongs to and the slice's verdict).
--
-- Rules (METRICS.md, "SLOs and error budgets"):
-- * Series: a series (metric + labels of raw.metric_samples) is selected by a query of
--   core.slo_selectors when its metric is the query's and every label matcher holds: `=` / `!=`
--   compare the label's value, `=~` / `!~` match the anchored regex; "a label the series lacks is
--   the empty string", as in Prometheus (code!~"5.." selects a series without code).
-- * "Matching series are summed per minute: counters by their reset-aware increase (a drop is a
--   reset), other series by their values; the increase between two consecutive samples belongs to
--   the minute of the later one." The first sample of a series has no baseline and adds 0. NaN and
--   infinite samples (staleness markers, broken exports) are skipped.
-- * "The series' kind decides, not the wrapper: a kind stated by the export (OpenMetrics/text TYPE,
--   OTLP, canonical kind) is used; a Prometheus range series inside rate()/increase() is a counter
--   (PromQL treats it so); Datadog points, OTLP delta or non-monotonic sums and gauges are
--   per-interval values, summed as they are." -> a sample is read as a counter when its kind is
--   `counter`; or `histogram`/`summary` and the series is a cumulative _bucket, _count or _sum;
--   or its kind is `unknown` (no type stated: Prometheus range exports, untyped text, canonical
--   `unknown`), the query is wrapped in rate()/increase() and the source is not datadog or otlp
--   (whose `unknown` are per-interval values). Everything else is summed by value.
-- * Ratio SLOs: total = the total query's sum; good = the good query's sum, or "bad/total means
--   good = total - bad"; good is clamped to [0, total] (bad and total scraped at other instants).
-- * Threshold SLOs: every sample of the series is one event, good when `value op threshold` holds
--   (op lt, lte, gt, gte); `value` is the minute's mean sample value.
-- * Time slices (Timeslices, RatioTimeslices): slices of time_slice_window aligned to the Unix epoch
--   (windows divide a day). Each minute carries its slice's start, its ratio (good / total events of
--   the slice, NULL without events) and, for Timeslices, its verdict: "a slice (timeSliceWindow)
--   good when its ratio >= timeSliceTarget" (with a 1e-9 tolerance; a threshold SLO without a
--   target: every sample of the slice good). slice_first marks the slice's first minute with data,
--   the one row that counts the slice in window sums.
--
-- Incremental: minutes at or after `since` are recomputed. The rule (sli_minutes.since.sql,
-- beside this file) starts `since` at the first minute new samples can change
-- (the slice holding the earliest new sample). A changed SLO definition recomputes the table.
-- The table is kept by UTC day and computed in spans of days, [since, until), of about a fixed
-- number of raw samples; before each span `sli_samples_from` is set early enough that every
-- series' previous sample (the baseline of a counter's increase) is read. Spans start at
-- midnight, and slices divide a day, so no slice is split between spans.
-- incremental: key=minute partition=day chunks=raw.metric_samples
WITH sel AS (
    SELECT DISTINCT slo_name, selector_index, role, metric, wrapped FROM core.slo_selectors
),
series AS (
    -- the distinct series of the queried metrics, numbered: matched once, joined once; with
    -- whether any of their samples has a counter kind, or no stated kind (see "The series' kind")
    SELECT CAST(row_number() OVER (ORDER BY metric, labels) AS INTEGER) AS sid, metric, labels,
           counter_series, unstated_series
    FROM (
        SELECT metric, labels,
               bool_or(kind = 'counter'
                       OR (kind IN ('histogram', 'summary') AND (ends_with(metric, '_bucket') OR ends_with(metric, '_count') OR ends_with(metric, '_sum'))))
               AS counter_series,
               bool_or(kind = 'unknown' AND source NOT IN ('datadog', 'otlp')) AS unstated_series
        FROM raw.metric_samples
        WHERE metric IN (SELECT metric FROM sel)
          AND (getvariable('sli_samples_from') IS NULL OR ts >= getvariable('sli_samples_from'))
          AND (getvariable('until') IS NULL OR ts < getvariable('until'))
        GROUP BY metric, labels
    ) AS d
),
labelled AS (
    -- each series with the value of every label its queries match on ('' when the series lacks it)
    SELECT se.sid, x.slo_name, x.selector_index, x.role, x.wrapped, m.label, m.op, m.value, m.pattern,
           coalesce(json_extract_string(se.labels, '$."' || m.label || '"'), '') AS v
    FROM series AS se
    JOIN sel AS x ON x.metric = se.metric
    LEFT JOIN core.slo_selectors AS m
      ON m.slo_name = x.slo_name AND m.selector_index = x.selector_index AND m.label IS NOT NULL
),
matched AS (
    -- (series, SLO, role) where every label matcher of the query holds; le and quantile bounds
    -- compare as numbers (le="1" is the bucket stored as "1.0")
    SELECT sid, slo_name, role, wrapped
    FROM labelled
    GROUP BY sid, slo_name, selector_index, role, wrapped
    HAVING bool_and(
        label IS NULL
        OR CASE op
            WHEN '=' THEN CASE WHEN label IN ('le', 'quantile') AND TRY_CAST(v AS DOUBLE) IS NOT NULL
                               THEN TRY_CAST(v AS DOUBLE) = TRY_CAST(value AS DOUBLE) ELSE v = value END
            WHEN '!=' THEN CASE WHEN label IN ('le', 'quantile') AND TRY_CAST(v AS DOUBLE) IS NOT NULL
                                THEN TRY_CAST(v AS DOUBLE) IS DISTINCT FROM TRY_CAST(value AS DOUBLE)
                                ELSE v <> value END
            WHEN '=~' THEN regexp_matches(v, pattern)
            WHEN '!~' THEN NOT regexp_matches(v, pattern)
        END
    )
),
reads AS (
    -- the matched series, and whether some query reads one as a counter: only those series need
    -- each sample's previous one (the window below); the others are summed by value
    SELECT se.sid, se.metric, se.labels,
           se.counter_series OR (se.unstated_series AND bool_or(k.wrapped)) AS needs_increase
    FROM series AS se
    JOIN matched AS k ON k.sid = se.sid
    GROUP BY se.sid, se.metric, se.labels, se.counter_series, se.unstated_series
),
samples AS (
    -- each finite sample of a matched series with its kind; NaN and +/-Inf are not events
    SELECT r.sid, r.needs_increase, s.ts, s.value,
           s.kind = 'counter'
           OR (s.kind IN ('histogram', 'summary') AND (ends_with(s.metric, '_bucket') OR ends_with(s.metric, '_count') OR ends_with(s.metric, '_sum')))
           AS counter_kind,
           s.kind = 'unknown' AND s.source NOT IN ('datadog', 'otlp') AS unstated_kind
    FROM raw.metric_samples AS s
    JOIN reads AS r ON r.metric = s.metric AND r.labels = s.labels
    WHERE abs(s.value) <= 1.7976931348623157e308
      AND (getvariable('sli_samples_from') IS NULL OR s.ts >= getvariable('sli_samples_from'))
      AND (getvariable('until') IS NULL OR s.ts < getvariable('until'))
),
points AS (
    -- each sample with its counter increase (reset-aware, first 0) where a query reads it as one
    SELECT sid, ts, value, counter_kind, unstated_kind,
           CASE WHEN prev IS NULL THEN 0.0          -- first sample: no baseline
                WHEN value < prev THEN value        -- a drop is a reset
                ELSE value - prev END AS increase
    FROM (
        SELECT sid, ts, value, counter_kind, unstated_kind, lag(value) OVER (PARTITION BY sid ORDER BY ts) AS prev
        FROM samples
        WHERE needs_increase
    ) AS c
    UNION ALL
    SELECT sid, ts, value, counter_kind, unstated_kind, CAST(NULL AS DOUBLE) AS increase
    FROM samples
    WHERE NOT needs_increase
),
contrib AS (
    SELECT k.slo_name, k.role, make_timestamptz(epoch_us(p.ts) // 60000000 * 60000000) AS minute, p.value,
           CASE WHEN p.counter_kind OR (p.unstated_kind AND k.wrapped) THEN p.increase ELSE p.value END AS v
    FROM points AS p
    JOIN matched AS k ON k.sid = p.sid
    WHERE getvariable('since') IS NULL OR p.ts >= getvariable('since')
),
per_minute AS (
    -- exact sums, so a minute's sum does not depend on the order the engine adds its samples in
    -- (a rebuild gives the same bits): whole numbers below 2^32 are summed as DOUBLE, exact in any
    -- order below 2^53 (2^21 of them); any other value as DECIMAL(38, 18), and a minute with
    -- such values adds its whole part into that exact sum before the one rounding to DOUBLE
    -- (the same result as summing every value as DECIMAL, without its cost where it is not needed)
    SELECT slo_name, minute,
           CASE WHEN g_f IS NULL THEN g_w ELSE CAST(CAST(coalesce(g_w, 0.0) AS DECIMAL(38, 18)) + g_f AS DOUBLE) END AS g,
           CASE WHEN b_f IS NULL THEN b_w ELSE CAST(CAST(coalesce(b_w, 0.0) AS DECIMAL(38, 18)) + b_f AS DOUBLE) END AS b,
           coalesce(CASE WHEN t_f IS NULL THEN t_w ELSE CAST(CAST(coalesce(t_w, 0.0) AS DECIMAL(38, 18)) + t_f AS DOUBLE) END,
                    0.0) AS t,
           th_events, th_good,
           CASE WHEN th_f IS NULL THEN th_w ELSE CAST(CAST(coalesce(th_w, 0.0) AS DECIMAL(38, 18)) + th_f AS DOUBLE) END
           / th_events AS th_value
    FROM (
        SELECT c.slo_name, c.minute,
               sum(c.v_whole) FILTER (WHERE c.role = 'good') AS g_w,
               sum(c.v_exact) FILTER (WHERE c.role = 'good') AS g_f,
               sum(c.v_whole) FILTER (WHERE c.role = 'bad') AS b_w,
               sum(c.v_exact) FILTER (WHERE c.role = 'bad') AS b_f,
               sum(c.v_whole) FILTER (WHERE c.role = 'total') AS t_w,
               sum(c.v_exact) FILTER (WHERE c.role = 'total') AS t_f,
               count(*) FILTER (WHERE c.role = 'threshold') AS th_events,
               count(*) FILTER (WHERE c.role = 'threshold' AND CASE s.threshold_op
                    WHEN 'lt' THEN c.value < s.threshold_value
                    WHEN 'lte' THEN c.value <= s.threshold_value
                    WHEN 'gt' THEN c.value > s.threshold_value
                    WHEN 'gte' THEN c.value >= s.threshold_value END) AS th_good,
               sum(c.value_whole) FILTER (WHERE c.role = 'threshold') AS th_w,
               sum(c.value_exact) FILTER (WHERE c.role = 'threshold') AS th_f
        FROM (
            SELECT slo_name, role, minute, value,
                   CASE WHEN v = floor(v) AND abs(v) < 4294967296 THEN v END AS v_whole,
                   CASE WHEN NOT (v = floor(v) AND abs(v) < 4294967296) THEN CAST(v AS DECIMAL(38, 18)) END AS v_exact,
                   CASE WHEN role = 'threshold' AND value = floor(value) AND abs(value) < 4294967296 THEN value END
                   AS value_whole,
                   CASE WHEN role = 'threshold' AND NOT (value = floor(value) AND abs(value) < 4294967296)
                        THEN CAST(value AS DECIMAL(38, 18)) END AS value_exact
            FROM contrib
        ) AS c
        JOIN core.slos AS s ON s.slo_name = c.slo_name
        GROUP BY c.slo_name, c.minute
    ) AS a
),
minutes AS (
    SELECT m.slo_name, m.minute, s.budgeting_method, s.time_slice_target, s.slice_s,
           CASE WHEN s.indicator_kind = 'threshold' THEN CAST(m.th_good AS DOUBLE)
                ELSE least(greatest(CASE WHEN s.has_good THEN coalesce(m.g, 0.0) ELSE m.t - coalesce(m.b, 0.0) END,
                                    0.0), greatest(m.t, 0.0)) END AS good,
           CASE WHEN s.indicator_kind = 'threshold' THEN CAST(m.th_events AS DOUBLE)
                ELSE greatest(m.t, 0.0) END AS total,
           CASE WHEN s.indicator_kind = 'threshold' THEN m.th_value END AS value,
           CASE WHEN s.slice_s IS NOT NULL
                THEN m.minute - CAST(epoch(m.minute) % s.slice_s AS BIGINT) * INTERVAL 1 SECOND END AS slice_start
    FROM per_minute AS m
    JOIN core.slos AS s ON s.slo_name = m.slo_name
),
slices AS (
    SELECT slo_name, slice_start, CAST(sum(CAST(good AS DECIMAL(38, 18))) AS DOUBLE) AS slice_good,
           CAST(sum(CAST(total AS DECIMAL(38, 18))) AS DOUBLE) AS slice_total, min(minute) AS first_minute
    FROM minutes
    WHERE slice_start IS NOT NULL
    GROUP BY slo_name, slice_start
)
SELECT m.slo_name, m.minute, m.good, m.total, m.value, m.slice_start,
       CASE WHEN sl.slice_total > 0 THEN sl.slice_good / sl.slice_total END AS slice_ratio,
       CASE WHEN m.budgeting_method <> 'Timeslices' OR NOT sl.slice_total > 0 THEN NULL
            ELSE sl.slice_good / sl.slice_total >= coalesce(m.time_slice_target, 1.0) - 1e-9 END AS slice_is_good,
       CASE WHEN m.slice_start IS NOT NULL THEN m.minute = sl.first_minute END AS slice_first
FROM minutes AS m
LEFT JOIN slices AS sl ON sl.slo_name = m.slo_name AND sl.slice_start = m.slice_start
