-- Since rule of marts.dora_weekly (key week_start): the earliest week new data can change.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- The weeks of changed events; when the last week of the data moves, every service's empty
-- weeks after the earlier of the two last weeks.
SELECT min(t) AS since
FROM (
    SELECT CAST(week_start AS TIMESTAMP) AT TIME ZONE 'UTC' AS t FROM changed.marts_dora_events
    UNION ALL
    SELECT CAST(least(b, a) AS TIMESTAMP) AT TIME ZONE 'UTC' + INTERVAL 7 DAY AS t
    FROM (SELECT max(week_start) AS b FROM before.marts_dora_events),
         (SELECT max(week_start) AS a FROM marts.dora_events)
    WHERE b IS DISTINCT FROM a
)
