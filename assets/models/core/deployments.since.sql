-- Since rule of core.deployments (key finished_at): the earliest finished_at new data can change.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- A deployment's row depends only on its own raw row and its statuses: the earliest of every
-- time those (all stored versions) and its old row carry.
WITH ids AS MATERIALIZED (
    SELECT deploy_id FROM touched.deployments
    UNION
    SELECT deploy_id FROM touched.deployment_statuses
)
SELECT min(t) AS since
FROM (
    SELECT least(started_at, finished_at) AS t FROM versions.deployments WHERE deploy_id IN (SELECT deploy_id FROM ids)
    UNION ALL
    SELECT created_at AS t FROM versions.deployment_statuses WHERE deploy_id IN (SELECT deploy_id FROM ids)
    UNION ALL
    SELECT finished_at AS t FROM before.core_deployments WHERE deploy_id IN (SELECT deploy_id FROM ids)
)
