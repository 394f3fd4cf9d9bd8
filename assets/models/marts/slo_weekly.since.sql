-- Since rule of marts.slo_weekly (key week_start): the weeks whose end is a recomputed instant of
-- core.slo_windows (the week starting 7 days before it on). A changed SLO definition (any column
-- of core.slos) rebuilds the table.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
SELECT CASE
        WHEN EXISTS (SELECT 1 FROM changed.core_slos) THEN TIMESTAMPTZ '-infinity'
        ELSE (SELECT since - INTERVAL 7 DAY FROM plan.upstream_since WHERE model = 'core.slo_windows')
    END AS since
