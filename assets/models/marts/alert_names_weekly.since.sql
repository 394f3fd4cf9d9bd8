-- Since rule of marts.alert_names_weekly (key week_start): the earliest week new data can change.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- The weeks of changed episodes.
SELECT min(started_at) AS since FROM changed.core_alert_episodes
