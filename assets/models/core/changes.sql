-- core.changes: one row per commit, with the deployment that shipped it and its lead time.
--
-- Rules (METRICS.md, "Lead time for changes"):
-- * A commit is counted once (one row per change_id), however many exports or deployments name it.
--   Its authored_at is the earliest seen; merged_at is when its pull request merged, else when it
--   was pushed to the default branch.
-- * The commit is shipped by the first SUCCESSFUL PRODUCTION deployment of its service that
--   contains it: the deployment whose sha is the commit itself or the merge commit of the pull
--   request holding it; failing that, the first such deployment that finished at or after the
--   merge (or push). An explicit deploy_id in a canonical file wins over both when it names a
--   successful production deployment.
-- * lead_time_hours = deployed_at - authored_at in hours (fractional, never truncated).
-- * A negative span (clock skew, rebase) is excluded: lead_time_hours is NULL and
--   lead_time_negative is true, counted as a data-quality finding.
--
-- Incremental: commits authored at or after `since` are recomputed. since = the earliest authored_at
-- of the commits new data can touch: new raw rows of the commit or of its pull request, a changed
-- successful production deployment naming it (sha, merge commit, explicit or current link), and
-- every commit of that deployment's service merged since the service's latest unchanged deployment
-- before it (those are the commits the new deployment may ship, however long ago authored).
-- incremental: key=authored_at
WITH commits AS (
    SELECT
        change_id,
        min(authored_at) AS authored_at,
        min(merged_at) AS pushed_or_merged_at,
        max(pr_number) AS pr_number,
        max(repo) AS repo,
        max(service) AS service,
        max(deploy_id) AS explicit_deploy_id
    FROM raw.changes
    GROUP BY change_id
    HAVING getvariable('since') IS NULL OR min(authored_at) >= getvariable('since')
),
with_pr AS (
    SELECT
        c.*,
        pr.merge_commit_sha,
        coalesce(pr.merged_at, c.pushed_or_merged_at) AS merged_at,
        coalesce(c.service, cr.service, regexp_extract(c.repo, '[^/]+$')) AS service_name
    FROM commits AS c
    LEFT JOIN raw.pull_requests AS pr ON pr.repo = c.repo AND pr.pr_number = c.pr_number
    LEFT JOIN catalog.repos AS cr ON cr.repo = c.repo
),
prod AS (
    SELECT deploy_id, service, sha, finished_at
    FROM core.deployments
    WHERE is_production AND status = 'success'
),
by_sha AS (
    -- the commit itself, or the merge commit of its pull request (two equi-joins: fast at scale)
    SELECT change_id, deploy_id, finished_at
    FROM (
        SELECT w.change_id, p.deploy_id, p.finished_at
        FROM with_pr AS w JOIN prod AS p ON p.service = w.service_name AND p.sha = w.change_id
        UNION ALL
        SELECT w.change_id, p.deploy_id, p.finished_at
        FROM with_pr AS w JOIN prod AS p ON p.service = w.service_name AND p.sha = w.merge_commit_sha
    )
    QUALIFY row_number() OVER (PARTITION BY change_id ORDER BY finished_at, deploy_id) = 1
),
timeline AS (
    -- commits (by merge) and successful production deployments (by finish) on one timeline per
    -- service; at the same instant a commit sorts before a deployment, so one finishing at the
    -- merge ships it, and of deployments finishing together the smallest deploy_id comes first
    SELECT service_name AS service, merged_at AS event_at, 0 AS side, change_id,
           CAST(NULL AS VARCHAR) AS deploy_id, CAST(NULL AS TIMESTAMPTZ) AS finished_at
    FROM with_pr
    WHERE merged_at IS NOT NULL AND service_name IS NOT NULL
    UNION ALL
    SELECT service, finished_at, 1, NULL, deploy_id, finished_at
    FROM prod
    WHERE service IS NOT NULL AND finished_at IS NOT NULL
),
by_time AS (
    -- the first production success of the service finishing at or after the merge: the next
    -- deployment on the timeline (a window, not an ASOF join, so every engine runs it)
    SELECT change_id, deploy_id, finished_at
    FROM (
        SELECT
            side,
            change_id,
            first_value(deploy_id IGNORE NULLS) OVER (
                PARTITION BY service ORDER BY event_at, side, deploy_id
                ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
            ) AS deploy_id,
            first_value(finished_at IGNORE NULLS) OVER (
                PARTITION BY service ORDER BY event_at, side, deploy_id
                ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
            ) AS finished_at
        FROM timeline
    ) AS next_deploy
    WHERE side = 0 AND deploy_id IS NOT NULL
),
explicit AS (
    -- an explicit link counts only when it names a successful production deployment
    SELECT w.change_id, p.deploy_id, p.finished_at
    FROM with_pr AS w
    JOIN prod AS p ON p.deploy_id = w.explicit_deploy_id
),
shipped AS (
    SELECT
        w.change_id,
        w.service_name AS service,
        w.authored_at,
        w.merged_at,
        w.pr_number,
        w.repo,
        coalesce(e.deploy_id, s.deploy_id, t.deploy_id) AS deploy_id,
        coalesce(e.finished_at, s.finished_at, t.finished_at) AS deployed_at
    FROM with_pr AS w
    LEFT JOIN explicit AS e USING (change_id)
    LEFT JOIN by_sha AS s USING (change_id)
    LEFT JOIN by_time AS t USING (change_id)
)
SELECT
    change_id,
    service,
    authored_at,
    merged_at,
    deploy_id,
    deployed_at,
    CASE WHEN deployed_at >= authored_at THEN epoch(deployed_at - authored_at) / 3600.0 END AS lead_time_hours,
    coalesce(deployed_at < authored_at, false) AS lead_time_negative,
    pr_number,
    repo
FROM shipped
ORDER BY authored_at, change_id
