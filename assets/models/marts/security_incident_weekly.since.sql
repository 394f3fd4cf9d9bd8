-- Since rule of marts.security_incident_weekly (key week_start): the earliest week new data can
-- change. (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- The weeks of changed incidents, and the weeks after the earlier last week when the incidents'
-- last week moves (rows for the weeks in between, empty weeks of the backlog, are new).
SELECT min(t) AS since
FROM (
    SELECT created_at AS t FROM changed.core_incidents
    UNION ALL
    SELECT CAST(CAST(date_trunc('week', least(b, a)) AS DATE) AS TIMESTAMP) AT TIME ZONE 'UTC' + INTERVAL 7 DAY AS t
    FROM (SELECT max(created_at) AS b FROM before.core_incidents),
         (SELECT max(created_at) AS a FROM core.incidents)
    WHERE date_trunc('week', b) IS DISTINCT FROM date_trunc('week', a)
)
