-- Span rule of core.sli_minutes: run before each span [since, until) of days (the variables
-- since and until are the span's). The span starts at its since; sli_samples_from is the earliest
-- sample the model must read to compute the span's minutes: one day before since, or further back
-- for a series with samples in the span but none in that day (its previous sample, a counter's
-- baseline, is older): then the earliest of the last samples before that day of the span's
-- series. NULL (a span open at its start) reads every sample.
-- (What a span query reads and returns: ops_warehouse/lake/incremental.py.)
WITH selected AS NOT MATERIALIZED (
    SELECT metric, labels, ts FROM raw.metric_samples
    WHERE metric IN (SELECT DISTINCT metric FROM core.slo_selectors)
),
bounds AS (
    SELECT
        CAST(getvariable('since') AS TIMESTAMPTZ) AS since,
        CAST(getvariable('until') AS TIMESTAMPTZ) AS until,
        CAST(getvariable('since') AS TIMESTAMPTZ) - INTERVAL 1 DAY AS lookback
),
in_span AS MATERIALIZED (
    SELECT DISTINCT s.metric, s.labels FROM selected AS s, bounds AS b
    WHERE s.ts >= b.since AND (b.until IS NULL OR s.ts < b.until)
),
missing AS MATERIALIZED (
    SELECT count(*) AS n
    FROM (
        SELECT metric, labels FROM in_span
        EXCEPT
        SELECT DISTINCT s.metric, s.labels FROM selected AS s, bounds AS b WHERE s.ts >= b.lookback AND s.ts < b.since
    )
),
deeper AS (
    -- only looked for when a series is missing from the day before (else no older sample is read)
    SELECT min(last) AS t
    FROM (
        SELECT max(s.ts) AS last
        FROM selected AS s
        JOIN in_span AS m ON m.metric = s.metric AND m.labels = s.labels
        WHERE s.ts < (SELECT lookback FROM bounds) AND (SELECT n FROM missing) > 0
        GROUP BY s.metric, s.labels
    )
)
SELECT
    b.since,
    CASE
        WHEN b.since IS NULL THEN NULL
        WHEN (SELECT n FROM missing) = 0 OR d.t IS NULL THEN b.lookback
        ELSE least(b.lookback, d.t)
    END AS sli_samples_from
FROM bounds AS b, deeper AS d
