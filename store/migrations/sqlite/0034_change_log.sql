-- The change log on SQLite: every committed change that alters what a login should get,
-- written by triggers in the changing transaction itself, as on PostgreSQL (migration 0016;
-- the same tables and columns). One instance serves a SQLite database, so nothing follows
-- the log: a start reads it after a crash, for the changes the process before committed in
-- its last minutes and may not have told the online sessions (the enforcer's memory went
-- with it). The heartbeat prunes it.
CREATE TABLE change_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- login, subscription, client or tariff
    scope       TEXT NOT NULL,
    -- the login, subscription or tariff id, the client number
    key         TEXT NOT NULL,
    origin      TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX change_log_at ON change_log (at);

CREATE TRIGGER login_inserted AFTER INSERT ON login
BEGIN
    INSERT INTO change_log (scope, key) VALUES ('login', NEW.id);
END;
CREATE TRIGGER login_changed AFTER UPDATE ON login
BEGIN
    INSERT INTO change_log (scope, key) VALUES ('login', NEW.id);
END;
CREATE TRIGGER login_deleted AFTER DELETE ON login
BEGIN
    INSERT INTO change_log (scope, key) VALUES ('login', OLD.id);
END;
-- Only the columns an answer is built from: a billing run's billed_until is no change.
CREATE TRIGGER subscription_changed
    AFTER UPDATE OF state, tariff_id, client_id, period, alignment, billing_from ON subscription
BEGIN
    INSERT INTO change_log (scope, key) VALUES ('subscription', NEW.id);
END;
CREATE TRIGGER subscription_deleted AFTER DELETE ON subscription
BEGIN
    INSERT INTO change_log (scope, key) VALUES ('subscription', OLD.id);
END;
CREATE TRIGGER client_changed
    AFTER UPDATE OF number, never_suspend, debt_suspended, billing_day ON client
BEGIN
    INSERT INTO change_log (scope, key) VALUES ('client', OLD.number);
    INSERT INTO change_log (scope, key)
        SELECT 'client', NEW.number WHERE NEW.number <> OLD.number;
END;
CREATE TRIGGER tariff_changed
    AFTER UPDATE OF download_kbps, upload_kbps, burst_download_kbps, burst_upload_kbps,
        burst_threshold_download_kbps, burst_threshold_upload_kbps, burst_time_seconds,
        framed_pool, period, window_from, window_to, window_download_kbps,
        window_upload_kbps, cap_download_octets, cap_upload_octets, cap_download_kbps,
        cap_upload_kbps
    ON tariff
BEGIN
    INSERT INTO change_log (scope, key) VALUES ('tariff', NEW.id);
END;

-- Whether every change the instance committed is known to have reached enforcement's
-- queues: set by its clean stop (after the queued requests are recorded), or by the start
-- that caught up on its last minutes after it died.
ALTER TABLE instance ADD COLUMN told BIGINT NOT NULL DEFAULT 0;
