-- Since rule of marts.deployment_failures (key finished_at): the earliest finished_at new data can
-- change. (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- Reach: a changed deployment's own row; the deployment a changed rollback marks (per service
-- with a changed production success, the latest unchanged success before the earliest change);
-- for a changed incident, the deployments finishing within the attribution window before it
-- (lookback W hours), from its creation on (open incidents), and the deployment it names as
-- cause, however old. Incidents are compared on the columns the model reads of them:
-- compare: core.incidents(incident_id, service, created_at, resolved_at, caused_by_deploy_id)
WITH prod AS MATERIALIZED (
    -- successful production deployments that differ before/after (added, removed or changed)
    SELECT * FROM changed.core_deployments WHERE is_production AND status = 'success'
),
previous_success AS (
    SELECT max(p.finished_at) AS t
    FROM (SELECT service, min(finished_at) AS first_change FROM prod GROUP BY service) AS c
    JOIN before.core_deployments AS p
      ON p.service = c.service AND p.is_production AND p.status = 'success' AND p.finished_at < c.first_change
    GROUP BY c.service
)
SELECT min(t) AS since
FROM (
    SELECT finished_at AS t FROM prod
    UNION ALL
    SELECT t FROM previous_success
    UNION ALL
    SELECT created_at
        - to_microseconds(
            CAST(round(greatest(coalesce(getvariable('attribution_window_hours'), 0), 0) * 3600e6) AS BIGINT)
        ) AS t
    FROM changed.core_incidents
    UNION ALL
    SELECT finished_at AS t FROM before.core_deployments
    WHERE deploy_id IN (SELECT caused_by_deploy_id FROM changed.core_incidents)
    UNION ALL
    SELECT finished_at AS t FROM core.deployments
    WHERE deploy_id IN (SELECT caused_by_deploy_id FROM changed.core_incidents)
)
