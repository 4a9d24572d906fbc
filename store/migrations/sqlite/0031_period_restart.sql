-- Days a floating service's periods begin anew, its expiration moved by hand (Mango "Posun
-- expirace"): ISO dates separated by commas, oldest first; '' = none.
ALTER TABLE subscription ADD COLUMN restarts TEXT NOT NULL DEFAULT '';
