-- Since rule of marts.dora_tier (key last_week_start): the earliest period new data can change.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- A period holds its week and the 11 before, so a changed week w changes the periods ending at
-- w .. w + 11 weeks: since = the earliest changed week (of dora_weekly, or of a change or
-- recovery event).
SELECT min(t) AS since
FROM (
    SELECT CAST(week_start AS TIMESTAMP) AT TIME ZONE 'UTC' AS t FROM changed.marts_dora_weekly
    UNION ALL
    SELECT CAST(week_start AS TIMESTAMP) AT TIME ZONE 'UTC' AS t FROM changed.marts_dora_events
    WHERE kind IN ('change', 'recovery')
)
