-- Since rule of marts.dora_events (key event_at): the earliest event_at new data can change.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- Deployments count by finish, changes by deployed_at, recoveries by recovery time. Every event
-- row is one row of deployment_failures or core.changes; a service's team comes from its latest
-- deployment, so a team change means a full rebuild. Changes are compared on the columns an
-- event reads of them:
-- compare: core.changes(change_id, deploy_id, deployed_at, lead_time_hours, lead_time_negative)
WITH team_before AS (
    SELECT service, coalesce(arg_max(team, finished_at) FILTER (WHERE team IS NOT NULL), '(none)') AS team
    FROM before.core_deployments GROUP BY service
),
team_after AS (
    SELECT service, coalesce(arg_max(team, finished_at) FILTER (WHERE team IS NOT NULL), '(none)') AS team
    FROM core.deployments GROUP BY service
),
team_moved AS (
    SELECT count(*) AS n
    FROM (
        (SELECT * FROM team_before EXCEPT SELECT * FROM team_after)
        UNION ALL
        (SELECT * FROM team_after EXCEPT SELECT * FROM team_before)
    )
)
SELECT CASE WHEN (SELECT n FROM team_moved) > 0 THEN TIMESTAMPTZ '-infinity' ELSE min(t) END AS since
FROM (
    SELECT least(finished_at, recovered_at) AS t FROM changed.marts_deployment_failures
    UNION ALL
    SELECT deployed_at AS t FROM changed.core_changes
)
