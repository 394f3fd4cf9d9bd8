-- core.deployments: one row per finished deployment of one service to one environment.
--
-- Rules (METRICS.md, "Deployments"):
-- * A deployment is identified by its source and id (deploy_id); re-delivered events of the same
--   deploy were already merged into one raw row by the lake's natural key.
-- * GitHub: status is the LAST TERMINAL status (success, failure, error) of the deployment, and
--   finished_at is the time of that status. `inactive` (superseded) is not terminal, so it never
--   changes an earlier success. Sources that state status and finish directly (GitLab, workflow
--   runs, canonical files) keep them.
-- * started_at is the deployment's creation time.
-- * Workflow runs count as deployments only when their name or path matches the service's deploy
--   pattern (catalog `deploy_pattern`, default setting: contains "deploy", case-insensitive).
-- * service: the source's own service name, else the catalog entry of the repository, else the
--   repository's short name (acme/checkout -> checkout).
-- * is_production: the catalog's production environments for the service when it lists any, else
--   an environment named production or prod (any case).
-- * Deployments with no terminal status yet (queued, in progress) are left out until they finish.
--
-- Incremental: a deployment's row depends only on its own raw row and its statuses, so a build
-- recomputes the deployments finishing at or after the earliest time any new raw row (or older
-- version of it, or the deployment's previous row) carries; lookback 0.
-- incremental: key=finished_at
WITH terminal AS (
    SELECT deploy_id, state, created_at
    FROM raw.deployment_statuses
    WHERE state IN ('success', 'failure', 'error', 'cancelled')
    QUALIFY row_number() OVER (PARTITION BY deploy_id ORDER BY created_at DESC, status_id DESC) = 1
),
last_env AS (
    -- a status may move the deployment to another environment name (GitHub environment_url cases)
    SELECT deploy_id, environment
    FROM raw.deployment_statuses
    WHERE environment IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY deploy_id ORDER BY created_at DESC, status_id DESC) = 1
),
named AS (
    SELECT
        d.*,
        coalesce(d.service, cr.service, regexp_extract(d.repo, '[^/]+$')) AS service_name
    FROM raw.deployments AS d
    LEFT JOIN catalog.repos AS cr ON cr.repo = d.repo
),
resolved AS (
    SELECT
        n.deploy_id,
        n.service_name AS service,
        coalesce(n.team, cs.team) AS team,
        coalesce(n.environment, le.environment) AS environment,
        n.sha,
        n.started_at,
        CASE WHEN t.state IS NOT NULL THEN t.created_at ELSE n.finished_at END AS finished_at,
        coalesce(t.state, n.status) AS status,
        coalesce(n.is_rollback, false) AS is_rollback,
        coalesce(n.is_hotfix, false) AS is_hotfix,
        n.source,
        n.repo,
        n.ref,
        n.task,
        n.workflow
    FROM named AS n
    LEFT JOIN terminal AS t ON t.deploy_id = n.deploy_id
    LEFT JOIN last_env AS le ON le.deploy_id = n.deploy_id
    LEFT JOIN catalog.services AS cs ON cs.service = n.service_name
)
SELECT
    r.deploy_id,
    r.service,
    r.team,
    r.environment,
    CASE
        WHEN EXISTS (SELECT 1 FROM catalog.production_environments AS pe WHERE pe.service = r.service)
            THEN EXISTS (
                SELECT 1 FROM catalog.production_environments AS pe
                WHERE pe.service = r.service AND pe.environment = lower(r.environment)
            )
        ELSE lower(r.environment) IN ('production', 'prod')
    END AS is_production,
    r.sha,
    r.started_at,
    r.finished_at,
    r.status,
    r.is_rollback,
    r.is_hotfix,
    r.source,
    r.repo,
    r.ref,
    r.task,
    r.workflow,
    epoch(r.finished_at - r.started_at) / 60.0 AS duration_minutes
FROM resolved AS r
WHERE r.status IN ('success', 'failure', 'error', 'cancelled')
  AND r.finished_at IS NOT NULL
  AND (getvariable('since') IS NULL OR r.finished_at >= getvariable('since'))
  AND (
      r.source <> 'github-actions'
      OR regexp_matches(
          lower(coalesce(r.workflow, '')),
          lower(coalesce(
              (SELECT dp.pattern FROM catalog.deploy_patterns AS dp WHERE dp.service = r.service),
              getvariable('deploy_pattern')
          ))
      )
  )
ORDER BY r.finished_at, r.deploy_id
