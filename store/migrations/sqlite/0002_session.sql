-- Sessions as the NAS reports them (RADIUS accounting). Authentication reads the open ones
-- into memory for Simultaneous-Use; accounting writes them.
CREATE TABLE session (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    nas_name            TEXT NOT NULL,
    acct_session_id     TEXT NOT NULL,
    -- NAS + Acct-Session-Id + start: unique even when a NAS reuses session ids.
    session_key         TEXT NOT NULL UNIQUE,
    login_id            BIGINT REFERENCES login (id) ON DELETE SET NULL,
    username            TEXT NOT NULL,
    framed_ip           TEXT,
    calling_station     TEXT,
    nas_port            TEXT,
    started_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    stopped_at          TEXT,
    terminate_cause     TEXT,
    session_seconds     BIGINT NOT NULL DEFAULT 0,
    input_octets        BIGINT NOT NULL DEFAULT 0,
    output_octets       BIGINT NOT NULL DEFAULT 0,
    input_packets       BIGINT NOT NULL DEFAULT 0,
    output_packets      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX session_open_by_login ON session (login_id) WHERE stopped_at IS NULL;
CREATE INDEX session_by_nas ON session (nas_name, acct_session_id);
CREATE INDEX session_history ON session (login_id, started_at);

-- Traffic and time per login and day: the input for statistics and data caps (FUP).
CREATE TABLE usage_daily (
    login_id            BIGINT NOT NULL REFERENCES login (id) ON DELETE CASCADE,
    day                 TEXT NOT NULL,
    input_octets        BIGINT NOT NULL DEFAULT 0,
    output_octets       BIGINT NOT NULL DEFAULT 0,
    session_seconds     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (login_id, day)
);
