-- marts.incident_weekly: incidents per ISO week (by created_at), per service and severity, with
-- rollups: rows with severity = '(all)' (per service), service = '(all)' (per severity) and both
-- '(all)' (everything). The `scope` column names the grouping: service_severity, service,
-- severity, overall. Filter on it before summing.
--
-- Rules (METRICS.md, "Incidents"):
-- * "Week assignment: an incident by created_at." Severity sev1..sev4 as normalized by core;
--   an incident without severity is grouped as 'unknown'. Service NULL is grouped as '(none)'.
-- * "MTTA = acknowledged_at - created_at over acknowledged incidents; MTTR = resolved_at -
--   created_at over resolved incidents; minutes; p50 and mean." acknowledged_at is the FIRST
--   acknowledgement (core.incidents). p50 interpolated (quantile_cont); NULL when nothing to measure.
--   Resolution counts whenever it happened (as of the build), in the incident's created week.
-- * "Open incidents are counted, not timed." Choice: open_incidents = incidents created that week
--   and not resolved by the week's end (resolved_at IS NULL or >= next Monday 00:00 UTC);
--   unresolved_incidents = those of the week still unresolved as of the build.
-- * "Repeat incident: same service and same dedup key (or normalized title) within 7 days of an
--   earlier one." Key = dedup_key, else the title lowercased with runs of non-alphanumerics
--   collapsed to one space and trimmed. An incident is a repeat when an earlier incident (created
--   strictly before it) of the same service with the same key was created within the window
--   [created_at - repeat_window_days, created_at). Window from the setting repeat_window_days.
-- * "Escalation rate = incidents escalated at least once / incidents."
-- * "Default targets: MTTA < 5 min, MTTR < 30 min, escalation < 10%, repeats < 5%" from settings;
--   mtta_target_met / mttr_target_met compare the week's means (strictly below the target).
-- * "MTBF per service at each week's end = 720 / sev1-or-sev2 incidents created in the trailing 30
--   days, in hours; NULL when there were none." The trailing 30 days are [week end - 30 days, week
--   end), the week's end being next Monday 00:00 UTC. On service rows (scope 'service') per service,
--   on the overall row over every service; NULL on severity rows. serious_incidents_30d is the count.
--   "Default target: > 720 h" from the setting mtbf_target_hours.
WITH inc AS (
    SELECT
        incident_id,
        coalesce(service, '(none)') AS service,
        coalesce(severity, 'unknown') AS severity,
        created_at,
        acknowledged_at,
        resolved_at,
        time_to_ack_minutes,
        time_to_resolve_minutes,
        escalated,
        CAST(date_trunc('week', timezone('UTC', created_at)) AS DATE) AS week_start,
        coalesce(
            dedup_key,
            nullif(trim(regexp_replace(lower(title), '[^a-z0-9]+', ' ', 'g')), '')
        ) AS repeat_key
    FROM core.incidents
),
repeats AS (
    -- an earlier incident of the same service and key within [created_at - window, created_at)
    SELECT DISTINCT i.incident_id
    FROM inc AS i
    JOIN inc AS e
      ON e.service = i.service
     AND e.repeat_key = i.repeat_key
     AND e.incident_id <> i.incident_id
     AND e.created_at < i.created_at
     AND e.created_at >= i.created_at - to_days(CAST(getvariable('repeat_window_days') AS INTEGER))
),
facts AS (
    SELECT
        i.*,
        r.incident_id IS NOT NULL AS is_repeat,
        i.time_to_ack_minutes AS mtta_minutes,
        i.time_to_resolve_minutes AS mttr_minutes,
        -- open at the week's end: not resolved before next Monday 00:00 UTC
        i.resolved_at IS NULL OR i.resolved_at >= CAST(i.week_start + 7 AS TIMESTAMP) AT TIME ZONE 'UTC' AS open_at_week_end
    FROM inc AS i
    LEFT JOIN repeats AS r USING (incident_id)
),
agg AS (
    SELECT
        week_start,
        CASE WHEN grouping(service) = 1 THEN '(all)' ELSE service END AS service,
        CASE WHEN grouping(severity) = 1 THEN '(all)' ELSE severity END AS severity,
        CASE
            WHEN grouping(service) = 0 AND grouping(severity) = 0 THEN 'service_severity'
            WHEN grouping(service) = 0 THEN 'service'
            WHEN grouping(severity) = 0 THEN 'severity'
            ELSE 'overall'
        END AS scope,
        count(*) AS incidents,
        count(acknowledged_at) AS acknowledged_incidents,
        count(resolved_at) AS resolved_incidents,
        quantile_cont(mtta_minutes, 0.5) AS mtta_minutes_p50,
        avg(mtta_minutes) AS mtta_minutes_mean,
        quantile_cont(mttr_minutes, 0.5) AS mttr_minutes_p50,
        avg(mttr_minutes) AS mttr_minutes_mean,
        count(*) FILTER (WHERE open_at_week_end) AS open_incidents,
        count(*) FILTER (WHERE resolved_at IS NULL) AS unresolved_incidents,
        count(*) FILTER (WHERE is_repeat) AS repeat_incidents,
        count(*) FILTER (WHERE escalated) AS escalated_incidents
    FROM facts
    GROUP BY GROUPING SETS ((week_start, service, severity), (week_start, service), (week_start, severity), (week_start))
),
weeks AS (
    SELECT CAST(w AS DATE) AS week_start
    FROM (SELECT unnest(generate_series(CAST(min(week_start) AS TIMESTAMP), CAST(max(week_start) AS TIMESTAMP),
                                        INTERVAL 7 DAY)) AS w FROM inc)
),
spine AS (
    -- "Weeks with no activity appear with zero counts and NULL rates": every week of the data's
    -- range for the overall row, each service and each severity; service x severity rows stay
    -- sparse (only combinations that occurred).
    SELECT week_start, '(all)' AS service, '(all)' AS severity, 'overall' AS scope FROM weeks
    UNION ALL
    SELECT w.week_start, s.service, '(all)', 'service' FROM weeks AS w, (SELECT DISTINCT service FROM inc) AS s
    UNION ALL
    SELECT w.week_start, '(all)', v.severity, 'severity' FROM weeks AS w, (SELECT DISTINCT severity FROM inc) AS v
    UNION ALL
    SELECT week_start, service, severity, scope FROM agg WHERE scope = 'service_severity'
),
serious AS (
    SELECT service, created_at FROM inc WHERE severity IN ('sev1', 'sev2')
),
mtbf AS (
    -- serious incidents created in [week end - 30 days, week end), per service and overall
    SELECT w.week_start,
           CASE WHEN grouping(s.service) = 1 THEN '(all)' ELSE s.service END AS service,
           CASE WHEN grouping(s.service) = 1 THEN 'overall' ELSE 'service' END AS scope,
           count(*) AS serious_incidents_30d
    FROM weeks AS w
    JOIN serious AS s
      ON s.created_at >= CAST(w.week_start + 7 AS TIMESTAMP) AT TIME ZONE 'UTC' - INTERVAL 30 DAY
     AND s.created_at < CAST(w.week_start + 7 AS TIMESTAMP) AT TIME ZONE 'UTC'
    GROUP BY GROUPING SETS ((w.week_start, s.service), (w.week_start))
),
filled AS (
    SELECT sp.week_start, sp.service, sp.severity, sp.scope,
           coalesce(a.incidents, 0) AS incidents,
           coalesce(a.acknowledged_incidents, 0) AS acknowledged_incidents,
           coalesce(a.resolved_incidents, 0) AS resolved_incidents,
           a.mtta_minutes_p50, a.mtta_minutes_mean, a.mttr_minutes_p50, a.mttr_minutes_mean,
           coalesce(a.open_incidents, 0) AS open_incidents,
           coalesce(a.unresolved_incidents, 0) AS unresolved_incidents,
           coalesce(a.repeat_incidents, 0) AS repeat_incidents,
           coalesce(a.escalated_incidents, 0) AS escalated_incidents,
           CASE WHEN sp.scope IN ('service', 'overall') THEN coalesce(m.serious_incidents_30d, 0) END
               AS serious_incidents_30d
    FROM spine AS sp
    LEFT JOIN agg AS a USING (week_start, service, severity, scope)
    LEFT JOIN mtbf AS m USING (week_start, service, scope)
)
SELECT
    week_start,
    service,
    severity,
    incidents,
    mtta_minutes_p50,
    mtta_minutes_mean,
    mttr_minutes_p50,
    mttr_minutes_mean,
    open_incidents,
    scope,
    acknowledged_incidents,
    resolved_incidents,
    unresolved_incidents,
    repeat_incidents,
    repeat_incidents / nullif(incidents, 0) AS repeat_rate,
    escalated_incidents,
    escalated_incidents / nullif(incidents, 0) AS escalation_rate,
    CAST(getvariable('mtta_target_minutes') AS DOUBLE) AS mtta_target_minutes,
    CAST(getvariable('mttr_target_minutes') AS DOUBLE) AS mttr_target_minutes,
    CAST(getvariable('escalation_rate_target') AS DOUBLE) AS escalation_rate_target,
    CAST(getvariable('repeat_rate_target') AS DOUBLE) AS repeat_rate_target,
    serious_incidents_30d,
    720.0 / nullif(serious_incidents_30d, 0) AS mtbf_hours,
    CAST(getvariable('mtbf_target_hours') AS DOUBLE) AS mtbf_target_hours,
    -- the targets met, as the report shows them (the means against "MTTA < 5 min, MTTR < 30 min");
    -- NULL without anything timed
    mtta_minutes_mean < CAST(getvariable('mtta_target_minutes') AS DOUBLE) AS mtta_target_met,
    mttr_minutes_mean < CAST(getvariable('mttr_target_minutes') AS DOUBLE) AS mttr_target_met,
    -- met when MTBF exceeds the target, or when there was no serious incident to measure
    CASE WHEN serious_incidents_30d IS NOT NULL
         THEN coalesce(720.0 / nullif(serious_incidents_30d, 0) > CAST(getvariable('mtbf_target_hours') AS DOUBLE),
                       true)
    END AS mtbf_target_met
FROM filled
ORDER BY week_start, scope, service, severity
