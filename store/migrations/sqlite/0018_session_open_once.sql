-- A NAS's session is open at most once (issue 13): two instances that each receive a record
-- of a session neither has stored yet cannot both create it; the second insert is refused,
-- and its writer reads the session and applies its record to it instead.
-- Any open duplicates from before are closed first, keeping the newest.
UPDATE session SET stopped_at = updated_at,
    terminate_cause = COALESCE(terminate_cause, 'Lost-Carrier'),
    revision = revision + 1
WHERE stopped_at IS NULL
  AND id NOT IN (SELECT MAX(id) FROM session WHERE stopped_at IS NULL
                 GROUP BY nas_name, acct_session_id);
CREATE UNIQUE INDEX session_open_once ON session (nas_name, acct_session_id)
    WHERE stopped_at IS NULL;
