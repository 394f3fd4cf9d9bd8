-- marts.postmortem_weekly: postmortem timeliness per ISO week of the due date and team, with a
-- rollup team = '(all)' (`scope` column: team, overall). Filter on scope before summing.
--
-- Rules (METRICS.md, "Postmortems"):
-- * "Required for every resolved sev1 and sev2 incident." One required postmortem per such incident
--   in core.incidents; "the team is the incident's team" ('(none)' when unknown).
-- * "Draft on time: the postmortem was created within 5 days of the incident's resolution":
--   the earliest created_at of its postmortems <= resolved_at + 5 days (settings
--   postmortem_draft_days); a draft started before the resolution is on time.
-- * "Published on time: published (canonical published_at, GitHub closed_at, Jira resolutiondate)
--   within 14 days of it": the earliest published_at of its published postmortems <= resolved_at +
--   14 days (setting postmortem_publish_days). Cancelled postmortems (closed as not planned, Won't Do)
--   are no postmortem at all.
-- * "Weekly, by the week the 14 days end (the due week)": week_start = the ISO week (UTC) of
--   resolved_at + 14 days.
-- * "missing (no postmortem at all by the due date)": no postmortem created at or before the due
--   date, counted once the due date has passed (as of the build), like open action items.
-- * late = required postmortems whose due date has passed without a publication on time (what the
--   report counts as late).
-- * "on_time_rate = published_on_time / required (NULL when none required)." Choice, as for action
--   items: only postmortems already due when the warehouse is built count in the rate
--   (required_due), so a due week still in progress shows the rate over what is due so far (NULL when
--   nothing is) instead of counting postmortems that still have time as late. For past weeks
--   required_due = required.
WITH required AS (
    SELECT
        incident_id,
        coalesce(team, '(none)') AS team,
        resolved_at,
        resolved_at + to_days(CAST(getvariable('postmortem_draft_days') AS INTEGER)) AS draft_due_at,
        resolved_at + to_days(CAST(getvariable('postmortem_publish_days') AS INTEGER)) AS due_at
    FROM core.incidents
    WHERE severity IN ('sev1', 'sev2') AND resolved_at IS NOT NULL
),
pm AS (
    SELECT
        incident_id,
        min(created_at) AS drafted_at,
        min(published_at) FILTER (WHERE status = 'published') AS published_at
    FROM core.postmortems
    WHERE incident_id IS NOT NULL AND status <> 'cancelled'
    GROUP BY incident_id
),
facts AS (
    SELECT
        r.team,
        CAST(date_trunc('week', timezone('UTC', r.due_at)) AS DATE) AS week_start,
        coalesce(p.drafted_at <= r.draft_due_at, false) AS drafted_on_time,
        coalesce(p.published_at <= r.due_at, false) AS published_on_time,
        r.due_at <= now() AS due_passed,
        p.drafted_at IS NOT NULL AND p.drafted_at <= r.due_at AS drafted_by_due
    FROM required AS r
    LEFT JOIN pm AS p ON p.incident_id = r.incident_id
),
agg AS (
    SELECT
        week_start,
        CASE WHEN grouping(team) = 1 THEN '(all)' ELSE team END AS team,
        CASE WHEN grouping(team) = 1 THEN 'overall' ELSE 'team' END AS scope,
        count(*) AS required,
        count(*) FILTER (WHERE drafted_on_time) AS drafted_on_time,
        count(*) FILTER (WHERE published_on_time) AS published_on_time,
        count(*) FILTER (WHERE due_passed) AS required_due,
        count(*) FILTER (WHERE due_passed AND published_on_time) AS published_on_time_due,
        count(*) FILTER (WHERE due_passed AND NOT drafted_by_due) AS missing,
        count(*) FILTER (WHERE due_passed AND NOT published_on_time) AS late
    FROM facts
    GROUP BY GROUPING SETS ((week_start, team), (week_start))
),
weeks AS (
    SELECT CAST(w AS DATE) AS week_start
    FROM (SELECT unnest(generate_series(CAST(min(week_start) AS TIMESTAMP), CAST(max(week_start) AS TIMESTAMP),
                                        INTERVAL 7 DAY)) AS w FROM facts)
),
spine AS (
    -- every week of the range for the overall row and each team, with zero counts and NULL rates
    SELECT week_start, '(all)' AS team, 'overall' AS scope FROM weeks
    UNION ALL
    SELECT w.week_start, t.team, 'team' FROM weeks AS w, (SELECT DISTINCT team FROM facts) AS t
)
SELECT
    sp.week_start,
    sp.team,
    coalesce(a.required, 0) AS required,
    coalesce(a.drafted_on_time, 0) AS drafted_on_time,
    coalesce(a.published_on_time, 0) AS published_on_time,
    coalesce(a.missing, 0) AS missing,
    a.published_on_time_due / nullif(a.required_due, 0) AS on_time_rate,
    sp.scope,
    coalesce(a.late, 0) AS late,
    coalesce(a.required_due, 0) AS required_due
FROM spine AS sp
LEFT JOIN agg AS a USING (week_start, team, scope)
ORDER BY sp.week_start, sp.scope, sp.team
