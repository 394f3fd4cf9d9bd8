-- marts.deployment_failures: one row per DORA deployment (successful production deployment), with
-- whether it counts as failed, why, when it recovered, and whether it is rework. Analysts read this
-- table to see why a deployment counts in the change failure rate; marts.dora_weekly aggregates it.
--
-- Rules (METRICS.md, "Deployments" and "DORA"):
-- * "Only successful production deployments count as deployments in DORA metrics."
--   -> rows: core.deployments with is_production AND status = 'success'.
-- * "A deployment is failed, once however many incidents point at it, when
--   (a) an incident names it as cause (canonical caused_by_deploy_id, or `root cause: <sha>` in a
--       GitHub incident issue body)" -> core.incidents.caused_by_deploy_id = deploy_id
--       (core already resolved `root cause: <sha>` into caused_by_deploy_id);
--   "(b) it was rolled back" -> "A rollback marks the latest earlier successful production deployment
--       of the same service as failed." The rollback is itself a successful production deployment
--       with is_rollback; "earlier" = finished strictly before the rollback finished (ties broken by
--       deploy_id); a failed rollback attempt rolls nothing back.
--   "(c) an incident of its service without an explicit cause was created within the attribution
--       window (default 24 h, configurable, 0 disables) after it finished; the incident is
--       attributed to the latest such deployment."
--       Window, half-open: a deployment finishing in [created_at - W, created_at) is a candidate,
--       i.e. an incident created exactly W hours after the finish IS attributed, one created a
--       microsecond later is not, and one created at the very instant of the finish is not "after".
--       W = getvariable('attribution_window_hours'); W <= 0 disables rule (c).
-- * A deployment is counted failed ONCE (one row per deployment; linked_incidents counts the
--   incidents, reasons lists every rule that applied; reason is the first of
--   cause > rollback > window).
-- * "Failed deployment recovery time: from the failed deployment's finished_at to the earlier of the
--   rollback's finish and the latest resolution of its linked incidents. Unrecovered ones are
--   excluded and counted."
--   Linked incidents = those naming it (a) plus those attributed to it (c). Their "latest
--   resolution" exists only when every linked incident is resolved (an open one resolves later).
--   recovered_at = least(rollback finish, latest resolution) ignoring the missing one; NULL when
--   neither exists: recovered = false, counted as unrecovered by marts.dora_weekly.
-- * "Deployment rework rate (DORA 2024): a rework deployment is a rollback, a hotfix, or a
--   deployment that finished while an incident of its service was open."
--   Open, half-open: created_at <= finished_at < resolved_at (an unresolved incident is open forever).
--
-- Incremental: deployments finishing at or after `since` are recomputed. since reaches back from
-- every changed deployment and incident: the deployment a changed rollback marks (the latest
-- unchanged success before it), the attribution window (lookback W hours before an incident), the
-- deployments finishing after an incident opened, and the deployment an incident names as cause.
-- incremental: key=finished_at
WITH deploys AS (
    -- only successful production deployments count in DORA
    SELECT deploy_id, service, team, sha, started_at, finished_at, is_rollback, is_hotfix
    FROM core.deployments
    WHERE is_production AND status = 'success'
),
recompute AS (
    -- the deployments this build computes (all of them unless incremental)
    SELECT * FROM deploys WHERE getvariable('since') IS NULL OR finished_at >= getvariable('since')
),
rolled_back AS (
    -- (b) each rollback marks the latest EARLIER successful production deployment of its service
    SELECT d.deploy_id, min(r.finished_at) AS rollback_finished_at, min(r.deploy_id) AS rollback_deploy_id
    FROM deploys AS r
    JOIN LATERAL (
        SELECT e.deploy_id
        FROM deploys AS e
        WHERE e.service = r.service
          AND (e.finished_at < r.finished_at OR (e.finished_at = r.finished_at AND e.deploy_id < r.deploy_id))
        ORDER BY e.finished_at DESC, e.deploy_id DESC
        LIMIT 1
    ) AS d ON true
    WHERE r.is_rollback
      -- a rollback marks an earlier deployment, so one marking a recomputed one finished after since
      AND (getvariable('since') IS NULL OR r.finished_at >= getvariable('since'))
    GROUP BY d.deploy_id
),
explicit AS (
    -- (a) incidents naming the deployment as cause
    SELECT i.caused_by_deploy_id AS deploy_id, i.incident_id, i.resolved_at
    FROM core.incidents AS i
    WHERE i.caused_by_deploy_id IS NOT NULL
),
windowed AS (
    -- (c) incidents without explicit cause -> the latest deployment of their service that finished
    -- in [created_at - W, created_at); W = 0 (or less) disables the rule
    SELECT d.deploy_id, i.incident_id, i.resolved_at
    FROM core.incidents AS i
    JOIN deploys AS d
      ON d.service = i.service
     AND d.finished_at >= i.created_at - to_microseconds(CAST(round(getvariable('attribution_window_hours') * 3600e6) AS BIGINT))
     AND d.finished_at < i.created_at
    WHERE i.caused_by_deploy_id IS NULL
      AND getvariable('attribution_window_hours') > 0
    QUALIFY row_number() OVER (PARTITION BY i.incident_id ORDER BY d.finished_at DESC, d.deploy_id DESC) = 1
),
linked AS (
    SELECT deploy_id, incident_id, resolved_at, 'cause' AS rule FROM explicit
    UNION ALL
    SELECT deploy_id, incident_id, resolved_at, 'window' AS rule FROM windowed
),
linked_agg AS (
    SELECT
        deploy_id,
        count(DISTINCT incident_id) AS linked_incidents,
        bool_or(rule = 'cause') AS by_cause,
        bool_or(rule = 'window') AS by_window,
        -- the latest resolution exists only when every linked incident is resolved
        CASE WHEN count(*) = count(resolved_at) THEN max(resolved_at) END AS incidents_resolved_at
    FROM linked
    GROUP BY deploy_id
),
open_during AS (
    -- rework: finished while an incident of its service was open, [created_at, resolved_at)
    SELECT d.deploy_id, count(*) AS open_incidents_at_finish
    FROM recompute AS d
    JOIN core.incidents AS i
      ON i.service = d.service
     AND i.created_at <= d.finished_at
     AND (i.resolved_at IS NULL OR d.finished_at < i.resolved_at)
    GROUP BY d.deploy_id
),
flags AS (
    SELECT
        d.*,
        coalesce(la.by_cause, false) AS failed_by_cause,
        rb.deploy_id IS NOT NULL AS failed_by_rollback,
        coalesce(la.by_window, false) AS failed_by_window,
        coalesce(la.linked_incidents, 0) AS linked_incidents,
        rb.rollback_deploy_id,
        rb.rollback_finished_at,
        la.incidents_resolved_at,
        coalesce(od.open_incidents_at_finish, 0) AS open_incidents_at_finish
    FROM recompute AS d
    LEFT JOIN linked_agg AS la USING (deploy_id)
    LEFT JOIN rolled_back AS rb USING (deploy_id)
    LEFT JOIN open_during AS od USING (deploy_id)
),
recovered AS (
    SELECT
        f.*,
        f.failed_by_cause OR f.failed_by_rollback OR f.failed_by_window AS failed,
        -- recovery: the earlier of the rollback's finish and the latest resolution (NULLs ignored)
        CASE WHEN f.failed_by_cause OR f.failed_by_rollback OR f.failed_by_window
             THEN least(f.rollback_finished_at, f.incidents_resolved_at) END AS recovered_at
    FROM flags AS f
)
SELECT
    deploy_id,
    service,
    team,
    sha,
    started_at,
    finished_at,
    CAST(date_trunc('week', timezone('UTC', finished_at)) AS DATE) AS week_start,
    is_rollback,
    is_hotfix,
    failed,
    CASE
        WHEN failed_by_cause THEN 'incident_cause'
        WHEN failed_by_rollback THEN 'rolled_back'
        WHEN failed_by_window THEN 'incident_in_window'
    END AS reason,
    -- every rule that applied, comma-separated (concat_ws skips NULLs)
    concat_ws(',',
        CASE WHEN failed_by_cause THEN 'incident_cause' END,
        CASE WHEN failed_by_rollback THEN 'rolled_back' END,
        CASE WHEN failed_by_window THEN 'incident_in_window' END) AS reasons,
    failed_by_cause,
    failed_by_rollback,
    failed_by_window,
    linked_incidents,
    rollback_deploy_id,
    rollback_finished_at,
    incidents_resolved_at,
    recovered_at,
    failed AND recovered_at IS NOT NULL AS recovered,
    epoch(recovered_at - finished_at) / 3600.0 AS recovery_hours,
    CAST(date_trunc('week', timezone('UTC', recovered_at)) AS DATE) AS recovery_week_start,
    -- rework: a rollback, a hotfix, or finished while an incident of its service was open
    is_rollback OR is_hotfix OR open_incidents_at_finish > 0 AS is_rework,
    open_incidents_at_finish
FROM recovered
ORDER BY finished_at, deploy_id
