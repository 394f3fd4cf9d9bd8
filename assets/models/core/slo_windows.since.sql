-- Since rule of core.slo_windows (key window_end): an instant's sums cover the hours before it,
-- so instants from the first recomputed hour of core.sli_hours on (new instants at the end of the
-- data come after it). A changed SLO definition (any column of core.slos) rebuilds the table.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
SELECT CASE
        WHEN EXISTS (SELECT 1 FROM changed.core_slos) THEN TIMESTAMPTZ '-infinity'
        ELSE (SELECT since FROM plan.upstream_since WHERE model = 'core.sli_hours')
    END AS since
