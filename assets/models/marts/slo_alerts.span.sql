-- Span rule of marts.slo_alerts: run before each span [since, until) of days (the variables since
-- and until are the span's). A firing written before since and still open at it (or resolved at
-- or after it) may resolve elsewhere, so the span starts at its start instead. The table reads as
-- it stands (the days earlier spans wrote); before it exists the span starts at its since.
-- (What a span query reads and returns: ops_warehouse/lake/incremental.py.)
SELECT least(
        CAST(getvariable('since') AS TIMESTAMPTZ),
        (
            SELECT min(fired_at) FROM marts.slo_alerts
            WHERE fired_at < getvariable('since') AND (resolved_at IS NULL OR resolved_at >= getvariable('since'))
        )
    ) AS since
