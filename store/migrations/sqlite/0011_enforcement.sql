-- Every CoA-Request and Disconnect-Request sent to a NAS (RFC 5176) and how it ended: the
-- support desk's answer to "did the change reach the router?". No foreign keys: the record
-- of a deleted login or a closed session stays readable.
CREATE TABLE enforcement_attempt (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    at                  TEXT NOT NULL,
    login_id            BIGINT,
    username            TEXT NOT NULL,
    session_id          BIGINT,
    acct_session_id     TEXT NOT NULL,
    nas_name            TEXT NOT NULL,
    kind                TEXT NOT NULL,
    reason              TEXT NOT NULL,
    sent                TEXT NOT NULL,
    outcome             TEXT NOT NULL,
    error_cause         BIGINT,
    tries               BIGINT NOT NULL
);
CREATE INDEX enforcement_attempt_by_username ON enforcement_attempt (username, id);
CREATE INDEX enforcement_attempt_by_at ON enforcement_attempt (at);
