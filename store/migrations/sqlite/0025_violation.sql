-- Violation notices (BILLmanager "Нарушение"): a breach of the terms told to a client with a
-- deadline and penalty points; one that stops services and is still open after its deadline
-- blocks the client's active services (their ids kept to give them back on resolution).
CREATE TABLE violation (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id      BIGINT NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    reason         TEXT NOT NULL,
    issued_on      TEXT NOT NULL,
    deadline       TEXT NOT NULL,
    points         BIGINT NOT NULL,
    stop_services  BIGINT NOT NULL,
    state          TEXT NOT NULL,
    state_on       TEXT,
    resolution     TEXT NOT NULL DEFAULT '',
    blocked_json   TEXT NOT NULL DEFAULT '[]',
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL
);
CREATE INDEX violation_by_client ON violation (client_id);
CREATE INDEX violation_open ON violation (state, deadline);
