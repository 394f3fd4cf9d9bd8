-- Since rule of core.sli_hours (key hour): the hours of the minutes core.sli_minutes recomputed
-- (nothing when it kept its table, everything when it was rebuilt whole).
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
SELECT date_trunc('hour', since) AS since FROM plan.upstream_since WHERE model = 'core.sli_minutes'
