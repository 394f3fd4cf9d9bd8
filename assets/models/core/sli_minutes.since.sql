-- Since rule of core.sli_minutes (key minute): the earliest minute new samples can change.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- A changed SLO definition (any column of core.slos) rebuilds the table: a new or changed
-- definition is computed over all its history. New samples of the queried metrics change their
-- own minute and the next sample's increase (later): since = the start of the time slice holding
-- the earliest new sample (slices divide a day and are aligned to the epoch). What the SQL must
-- read before `since` (each series' previous sample) is set per span by sli_minutes.span.sql.
WITH first_sample AS (
    SELECT min(ts) AS t0 FROM touched.metric_samples
    WHERE metric IN (SELECT DISTINCT metric FROM core.slo_selectors)
),
slice AS (
    SELECT coalesce(max(slice_s), 60) AS s FROM core.slos
)
SELECT CASE
        WHEN EXISTS (SELECT 1 FROM changed.core_slos) THEN TIMESTAMPTZ '-infinity'
        ELSE to_timestamp(floor(epoch(date_trunc('minute', CAST(t0 AS TIMESTAMPTZ))) / s) * s)
    END AS since
FROM first_sample, slice
