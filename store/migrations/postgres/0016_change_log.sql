-- The change log: every committed change that alters what a login should get (or the NAS
-- table), for the other ispd instances on this database. Written by the triggers below in
-- the same transaction as the change itself, so no write path can forget it and nothing is
-- announced that did not commit; `origin` is the writing connection's application_name,
-- which each instance sets to its own id. A NOTIFY on `ispd_change` wakes the listeners;
-- after a lost connection an instance reads on from the last id it applied.
--
-- Ids must become visible in order, or a reader could pass an id whose transaction has not
-- committed yet: a transaction-scoped advisory lock, taken before the row is written and held
-- to commit, serializes the (rare) transactions that change access. A gap left in the ids is
-- then a rollback, never a change still to come.
CREATE TABLE change_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- login, subscription, client, tariff or nas
    scope       TEXT NOT NULL,
    -- the login, subscription or tariff id, the client number; '' for nas
    key         TEXT NOT NULL,
    origin      TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX change_log_at ON change_log (at);

CREATE FUNCTION ispd_log_change(scope TEXT, key TEXT) RETURNS void AS $$
DECLARE
    new_id BIGINT;
BEGIN
    -- 0x69737064 = 'ispd': the change log's lock.
    PERFORM pg_advisory_xact_lock(1769172068);
    INSERT INTO change_log (scope, key, origin)
    VALUES (scope, key, current_setting('application_name'))
    RETURNING id INTO new_id;
    PERFORM pg_notify('ispd_change', new_id::text);
END
$$ LANGUAGE plpgsql;

-- A login, subscription or tariff row: the scope is the table's name, the key its id.
CREATE FUNCTION ispd_row_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM ispd_log_change(TG_TABLE_NAME, OLD.id::text);
    ELSE
        PERFORM ispd_log_change(TG_TABLE_NAME, NEW.id::text);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER login_changed AFTER INSERT OR UPDATE OR DELETE ON login
    FOR EACH ROW EXECUTE FUNCTION ispd_row_changed();
-- Only the columns an answer is built from: a billing run's billed_until is no change.
CREATE TRIGGER subscription_changed
    AFTER DELETE OR UPDATE OF state, tariff_id, client_id, period, alignment, billing_from
    ON subscription FOR EACH ROW EXECUTE FUNCTION ispd_row_changed();

CREATE FUNCTION ispd_client_changed() RETURNS trigger AS $$
BEGIN
    PERFORM ispd_log_change('client', OLD.number);
    IF NEW.number <> OLD.number THEN
        PERFORM ispd_log_change('client', NEW.number);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER client_changed
    AFTER UPDATE OF number, never_suspend, debt_suspended, billing_day
    ON client FOR EACH ROW EXECUTE FUNCTION ispd_client_changed();

CREATE TRIGGER tariff_changed
    AFTER UPDATE OF download_kbps, upload_kbps, burst_download_kbps, burst_upload_kbps,
        burst_threshold_download_kbps, burst_threshold_upload_kbps, burst_time_seconds,
        framed_pool, period, window_from, window_to, window_download_kbps,
        window_upload_kbps, cap_download_octets, cap_upload_octets, cap_download_kbps,
        cap_upload_kbps
    ON tariff FOR EACH ROW EXECUTE FUNCTION ispd_row_changed();

CREATE FUNCTION ispd_nas_changed() RETURNS trigger AS $$
BEGIN
    PERFORM ispd_log_change('nas', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER nas_changed AFTER INSERT OR UPDATE OR DELETE ON nas
    FOR EACH STATEMENT EXECUTE FUNCTION ispd_nas_changed();

-- The instances working on this database, each row kept fresh by its own heartbeat:
-- `ispctl system instances` shows them with the last change-log id each applied.
CREATE TABLE instance (
    id              TEXT PRIMARY KEY,
    version         TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    heartbeat_at    TEXT NOT NULL,
    applied_change  BIGINT NOT NULL
);
