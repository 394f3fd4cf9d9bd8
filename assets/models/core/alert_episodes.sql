-- core.alert_episodes: one row per alert episode (one firing of one alert), with its quality flags.
--
-- Rules (METRICS.md, "Alert quality"):
-- * "An alert episode is one firing of one alert: Alertmanager fingerprint (or the labels' hash)
--   and startsAt; re-sent notifications of the same firing are one episode; it ends at the endsAt
--   of its resolved notification (firing notifications carry a placeholder or future endsAt:
--   ignore it)." The adapters key raw.alerts on (source, fingerprint, started_at) and keep only a
--   resolved notification's end, so each raw row is one episode. An episode without an end is
--   still firing (or its resolution was never exported).
-- * "PagerDuty alerts are episodes of their own (created_at to resolved_at)." PagerDuty's alert
--   list has no resolved time: a resolved alert without one ends at its incident's resolution.
-- * "Service from labels service, then job, then the catalog": the label (or PagerDuty's service)
--   as the adapter wrote it, mapped through the catalog's incident_services when it names it
--   (by the tool's service id or name); team and time zone from the catalog.
-- * "severity from the severity label." "Paging episode: severity critical or page (PagerDuty:
--   high urgency)": the alert's own urgency, else its incident's.
-- * "Actionable: an incident of the same service was created in [start - 5 min, end]." An episode
--   still firing has no end yet: any incident created from start - 5 min on counts (choice).
--   The 5 minutes are the setting alert_incident_lead_minutes.
-- * "Noise: an episode that is not actionable and either lasted at most 5 minutes or started
--   within 60 minutes after the previous episode of the same fingerprint ended (that later
--   episode is the flapping one)." is_flapping: started at most alert_flap_window_minutes (60)
--   after the previous episode of the same source and fingerprint ended; is_short: lasted at most
--   alert_short_episode_minutes (5); is_noisy = NOT is_actionable AND (is_short OR is_flapping).
-- * After-hours page (for marts.alert_weekly): a paging episode "starting outside 09:00-18:00
--   Monday to Friday in the team's time zone from the catalog, default UTC" (settings
--   business_hours_start/end and default_time_zone; the catalog's per-service time_zone).
--
-- Incremental: an episode's row depends on its own raw row, the previous episode of its
-- fingerprint, and the incidents of its service around it, so a build recomputes from the earliest
-- start of a changed raw alert, and of every episode a changed incident can make actionable (or
-- end, or page).
-- incremental: key=started_at
WITH incidents AS (
    SELECT incident_id, service, created_at, resolved_at, urgency FROM core.incidents
),
base AS (
    SELECT
        a.source,
        a.fingerprint,
        a.started_at,
        a.alert_id,
        a.alertname,
        a.severity,
        a.urgency,
        a.status,
        a.incident_ref,
        a.summary,
        a.labels,
        coalesce(
            (SELECT min(c.service) FROM catalog.incident_services AS c WHERE c.ref = a.service_ref),
            (SELECT min(c.service) FROM catalog.incident_services AS c WHERE c.ref = a.service),
            a.service
        ) AS service,
        coalesce(a.ended_at, CASE WHEN a.status = 'resolved' THEN i.resolved_at END) AS ended_at,
        i.urgency AS incident_urgency
    FROM raw.alerts AS a
    LEFT JOIN incidents AS i ON i.incident_id = a.incident_ref
),
flagged AS (
    SELECT
        b.*,
        lag(b.ended_at) OVER (PARTITION BY b.source, b.fingerprint ORDER BY b.started_at) AS previous_ended_at,
        lag(b.started_at) OVER (PARTITION BY b.source, b.fingerprint ORDER BY b.started_at) AS previous_started_at,
        EXISTS (
            SELECT 1
            FROM incidents AS i
            WHERE i.service = b.service
              AND i.created_at >= b.started_at
                  - to_microseconds(CAST(round(CAST(getvariable('alert_incident_lead_minutes') AS DOUBLE) * 60e6) AS BIGINT))
              AND (b.ended_at IS NULL OR i.created_at <= b.ended_at)
        ) AS is_actionable
    FROM base AS b
),
timed AS (
    SELECT
        f.*,
        coalesce(cs.team, '(none)') AS team,
        coalesce(tz.time_zone, CAST(getvariable('default_time_zone') AS VARCHAR)) AS time_zone,
        CASE WHEN f.ended_at IS NOT NULL THEN epoch(f.ended_at - f.started_at) / 60.0 END AS duration_minutes,
        lower(coalesce(f.severity, '')) IN ('critical', 'page')
            OR lower(coalesce(f.urgency, f.incident_urgency, '')) = 'high' AS is_paging
    FROM flagged AS f
    LEFT JOIN catalog.services AS cs ON cs.service = f.service
    LEFT JOIN catalog.time_zones AS tz ON tz.service = f.service
),
rules AS (
    SELECT
        t.*,
        coalesce(t.duration_minutes <= CAST(getvariable('alert_short_episode_minutes') AS DOUBLE), false) AS is_short,
        coalesce(
            t.previous_ended_at IS NOT NULL
            AND t.started_at <= t.previous_ended_at
                + to_microseconds(CAST(round(CAST(getvariable('alert_flap_window_minutes') AS DOUBLE) * 60e6) AS BIGINT)),
            false
        ) AS is_flapping,
        t.started_at AT TIME ZONE t.time_zone AS started_local
    FROM timed AS t
)
SELECT
    coalesce(alert_id, source || ':' || fingerprint || '@' || CAST(CAST(round(epoch(started_at) * 1000) AS BIGINT) AS VARCHAR))
        AS episode_id,
    fingerprint,
    alertname,
    service,
    severity,
    started_at,
    ended_at,
    is_paging,
    is_actionable,
    NOT is_actionable AND (is_short OR is_flapping) AS is_noisy,
    source,
    is_short,
    is_flapping,
    duration_minutes,
    team,
    time_zone,
    is_paging AND (
        isodow(started_local) >= 6
        OR hour(started_local) < CAST(getvariable('business_hours_start') AS INTEGER)
        OR hour(started_local) >= CAST(getvariable('business_hours_end') AS INTEGER)
    ) AS is_after_hours_page,
    status,
    incident_ref,
    summary,
    labels
FROM rules
ORDER BY started_at, episode_id
