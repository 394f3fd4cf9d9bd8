-- Since rule of marts.alert_weekly (key week_start): the earliest week new data can change.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- The weeks of changed episodes and incidents, and the weeks after the earlier last week when the
-- data's last week moves (rows for the weeks in between, empty weeks of the spine, are new).
-- Incidents are compared on the columns the model reads of them:
-- compare: core.incidents(incident_id, service, created_at)
SELECT min(t) AS since
FROM (
    SELECT started_at AS t FROM changed.core_alert_episodes
    UNION ALL
    SELECT created_at AS t FROM changed.core_incidents
    UNION ALL
    SELECT CAST(CAST(date_trunc('week', least(b, a)) AS DATE) AS TIMESTAMP) AT TIME ZONE 'UTC' + INTERVAL 7 DAY AS t
    FROM (SELECT max(started_at) AS b FROM before.core_alert_episodes),
         (SELECT max(started_at) AS a FROM core.alert_episodes)
    WHERE date_trunc('week', b) IS DISTINCT FROM date_trunc('week', a)
)
