-- Since rule of core.alert_episodes (key started_at): the earliest started_at new data can change.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- An episode's row depends on its raw row, the previous episode of its fingerprint (a later
-- start), and the incidents of its service created in its window (up to the lead minutes after
-- its start), or the incident it belongs to (its end, its urgency). Incidents are compared on the
-- columns the model reads of them:
-- compare: core.incidents(incident_id, service, created_at, resolved_at, urgency)
SELECT min(t) AS since
FROM (
    SELECT started_at AS t FROM touched.alerts
    UNION ALL
    SELECT e.started_at AS t
    FROM before.core_alert_episodes AS e
    JOIN changed.core_incidents AS i
      ON e.service = i.service
     AND e.started_at <= i.created_at
        + to_microseconds(
            CAST(round(coalesce(CAST(getvariable('alert_incident_lead_minutes') AS DOUBLE), 0) * 60e6) AS BIGINT)
        )
     AND (e.ended_at IS NULL OR e.ended_at >= i.created_at)
    UNION ALL
    SELECT started_at AS t FROM before.core_alert_episodes
    WHERE incident_ref IN (SELECT incident_id FROM changed.core_incidents)
    UNION ALL
    SELECT started_at AS t FROM versions.alerts
    WHERE incident_ref IN (SELECT incident_id FROM changed.core_incidents)
)
