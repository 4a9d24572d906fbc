-- The change log keeps several instances on one PostgreSQL in step (see the PostgreSQL
-- migration of the same number). A SQLite database serves one instance: nothing to log,
-- and its one instance keeps its heartbeat here.
CREATE TABLE instance (
    id              TEXT PRIMARY KEY,
    version         TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    heartbeat_at    TEXT NOT NULL,
    applied_change  BIGINT NOT NULL
);
