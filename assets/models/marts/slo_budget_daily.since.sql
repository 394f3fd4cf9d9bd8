-- Since rule of marts.slo_budget_daily (key window_end): the days whose end is a recomputed
-- instant of core.slo_windows. A changed SLO definition (any column of core.slos) rebuilds the
-- table.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
SELECT CASE
        WHEN EXISTS (SELECT 1 FROM changed.core_slos) THEN TIMESTAMPTZ '-infinity'
        ELSE (SELECT since FROM plan.upstream_since WHERE model = 'core.slo_windows')
    END AS since
