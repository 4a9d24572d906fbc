-- Every Access-Request's outcome: the support desk's answer to "why can't this subscriber
-- connect?". Written in batches off the RADIUS path, pruned after [auth_log] keep_days. One
-- row holds the same outcome repeated within one batch (a router retrying a wrong password):
-- from `at` to `last_at`, `count` times. No foreign keys: attempts by unknown users are the
-- interesting ones, and the record of a deleted login stays readable.
CREATE TABLE auth_log (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    at                  TEXT NOT NULL,
    last_at             TEXT NOT NULL,
    count               BIGINT NOT NULL,
    -- The login's name when it was found (for a MAC login its name, whatever the
    -- User-Name), else the User-Name as sent.
    login               TEXT NOT NULL,
    nas_name            TEXT NOT NULL,
    calling_station     TEXT NOT NULL,
    -- pap | chap | mschapv2 | none | conflicting
    method              TEXT NOT NULL,
    -- accept | reject
    result              TEXT NOT NULL,
    -- A reject's reason (bad_credential, mac_mismatch, …); an accept's access state
    -- (active, or the restricted state served from the walled garden).
    reason              TEXT NOT NULL
);
CREATE INDEX auth_log_by_login ON auth_log (login, id);
CREATE INDEX auth_log_by_at ON auth_log (at);
