-- core.vulnerabilities: one row per finding (one vulnerability in one place), with its lifecycle.
--
-- Rules (METRICS.md, "Vulnerability management"):
-- * "A finding is one vulnerability in one place, identified by its source and id: a GitHub
--   Dependabot or code-scanning alert (repository + number), or, for scanner reports (Trivy,
--   Grype), the target + package + vulnerability id (Trivy's target is ArtifactName)."
--   Alert findings come whole from raw.vulnerabilities (finding_id as the adapter wrote it);
--   scanner findings are rebuilt here from raw.vulnerability_scans and raw.vulnerability_observations.
-- * "Opened at: the alert's created_at; for scanner reports, the first scan that reported it.
--   Fixed at: fixed_at; for scanner reports, the first later scan of the same target that no
--   longer reports it." Scans of a target are numbered in time order; consecutive scans that list
--   the finding form one run (gaps and islands). A run opens at its first scan and is fixed at the
--   scan right after its last one; a run still listed by the target's latest scan is open.
-- * A finding that reappears (choice): listed again after a scan that no longer listed it, it is a
--   new finding (a regression), opened at the scan that lists it again; the earlier one stays
--   fixed. Its finding_id carries the occurrence: `trivy:<target>|<package>|<id>#2`.
-- * "Dismissed findings (dismissed_at, auto_dismissed_at) are closed but not fixed: counted,
--   never timed." state: fixed, dismissed or open.
-- * "Service from the repository (catalog, else its short name) or the scanned image's last path
--   segment without tag or digest (acme/search:1.4 -> search), unless the catalog maps it"
--   (a catalog repository entry naming the image without tag, e.g. acme/search, maps it).
-- * "Severity normalized to critical, high, medium, low" by the adapters; "a finding without one
--   is unknown and has no SLA". A scanner finding keeps the severity of its latest listing.
-- * "Patch SLA by severity (seed policy, configurable): critical 24 h, high 7 days, medium 30 days,
--   low 90 days" from the settings vulnerability_sla_<severity>_hours. "Time to remediate = fixed
--   at - opened at, in hours; within SLA when <= the SLA": remediation_hours, within_sla
--   (exactly the SLA is within it; one second more is not). sla_due_at = opened_at + SLA.
--
-- Incremental: a finding's row depends on its own raw rows, or on its target's scans, so a build
-- recomputes the findings opened at or after the earliest time new evidence can change: the
-- opening of a changed alert, and for a target with new scans, the earliest new scan and the
-- opening of every finding of that target still open at it.
-- incremental: key=opened_at
WITH scans AS (
    SELECT
        source,
        target,
        scanned_at,
        row_number() OVER (PARTITION BY source, target ORDER BY scanned_at) AS scan_no
    FROM raw.vulnerability_scans
),
listed AS (
    SELECT o.source, o.target, o.package, o.advisory_id, o.severity, o.title, o.scanned_at, s.scan_no
    FROM raw.vulnerability_observations AS o
    JOIN scans AS s ON s.source = o.source AND s.target = o.target AND s.scanned_at = o.scanned_at
),
islands AS (
    SELECT
        *,
        scan_no - row_number() OVER (PARTITION BY source, target, package, advisory_id ORDER BY scan_no) AS run
    FROM listed
),
runs AS (
    SELECT
        source, target, package, advisory_id, run,
        min(scanned_at) AS opened_at,
        max(scan_no) AS last_scan_no,
        arg_max(severity, scan_no) AS severity,
        arg_max(title, scan_no) AS title
    FROM islands
    GROUP BY source, target, package, advisory_id, run
),
scanner_findings AS (
    SELECT
        r.source || ':' || r.target || '|' || r.package || '|' || r.advisory_id
            || CASE WHEN r.occurrence = 1 THEN '' ELSE '#' || CAST(r.occurrence AS VARCHAR) END AS finding_id,
        r.source,
        CAST(NULL AS VARCHAR) AS repo,
        CAST(NULL AS VARCHAR) AS named_service,
        r.target,
        r.severity,
        r.package,
        r.advisory_id,
        r.title,
        r.opened_at,
        nxt.scanned_at AS fixed_at,
        CAST(NULL AS TIMESTAMPTZ) AS dismissed_at
    FROM (
        SELECT *, row_number() OVER (PARTITION BY source, target, package, advisory_id ORDER BY opened_at) AS occurrence
        FROM runs
    ) AS r
    LEFT JOIN scans AS nxt
      ON nxt.source = r.source AND nxt.target = r.target AND nxt.scan_no = r.last_scan_no + 1
),
alert_findings AS (
    SELECT
        finding_id,
        source,
        repo,
        service AS named_service,
        CAST(NULL AS VARCHAR) AS target,
        coalesce(severity, 'unknown') AS severity,
        package,
        advisory_id,
        title,
        opened_at,
        fixed_at,
        CASE WHEN fixed_at IS NULL THEN dismissed_at END AS dismissed_at
    FROM raw.vulnerabilities
),
findings AS (
    SELECT * FROM alert_findings
    UNION ALL
    SELECT * FROM scanner_findings
),
named AS (
    SELECT
        f.*,
        -- the image without digest (@sha256:...) and tag (:1.4): acme/search:1.4 -> acme/search
        regexp_replace(regexp_replace(f.target, '@.*$', ''), ':[^/:]*$', '') AS image
    FROM findings AS f
),
resolved AS (
    SELECT
        n.*,
        coalesce(
            n.named_service,
            (SELECT min(c.service) FROM catalog.repos AS c WHERE c.repo = n.repo),
            (SELECT min(c.service) FROM catalog.repos AS c WHERE c.repo = n.image),
            regexp_extract(coalesce(n.repo, n.image), '[^/]+$')
        ) AS service_name,
        CASE n.severity
            WHEN 'critical' THEN CAST(getvariable('vulnerability_sla_critical_hours') AS DOUBLE)
            WHEN 'high' THEN CAST(getvariable('vulnerability_sla_high_hours') AS DOUBLE)
            WHEN 'medium' THEN CAST(getvariable('vulnerability_sla_medium_hours') AS DOUBLE)
            WHEN 'low' THEN CAST(getvariable('vulnerability_sla_low_hours') AS DOUBLE)
        END AS sla_hours
    FROM named AS n
)
SELECT
    finding_id,
    service_name AS service,
    severity,
    package,
    advisory_id,
    opened_at,
    fixed_at,
    dismissed_at,
    CASE WHEN fixed_at IS NOT NULL THEN 'fixed' WHEN dismissed_at IS NOT NULL THEN 'dismissed' ELSE 'open' END AS state,
    source,
    repo,
    target,
    title,
    sla_hours,
    opened_at + to_microseconds(CAST(round(sla_hours * 3600e6) AS BIGINT)) AS sla_due_at,
    CASE WHEN fixed_at IS NOT NULL THEN epoch(fixed_at - opened_at) / 3600.0 END AS remediation_hours,
    CASE WHEN fixed_at IS NOT NULL AND sla_hours IS NOT NULL
         THEN fixed_at <= opened_at + to_microseconds(CAST(round(sla_hours * 3600e6) AS BIGINT)) END AS within_sla
FROM resolved
ORDER BY opened_at, finding_id
