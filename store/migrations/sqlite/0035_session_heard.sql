-- When ispd last heard of the session (the arrival of its last record that changed it), by
-- ispd's clock: what the stale-session sweep measures silence by. `updated_at` is the NAS's
-- time of that record (Event-Timestamp), and a NAS whose clock runs minutes slow, or that
-- replays a backlog, had its live sessions closed as stale over and over. NULL for the rows
-- from before: the sweep takes their updated_at.
ALTER TABLE session ADD COLUMN heard_at TEXT;
