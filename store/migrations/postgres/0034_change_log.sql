-- Whether every change the instance committed is known to have reached enforcement's
-- queues: set by its clean stop (after the queued requests are recorded), or by the start
-- that caught up on its last minutes after it died (a kill -9, a crash, power loss): that
-- start reads what the dead instance logged (migration 0016) since shortly before its last
-- heartbeat, and tells those logins' sessions their answers again. SQLite gets the change log
-- itself in its migration of this number.
ALTER TABLE instance ADD COLUMN told BIGINT NOT NULL DEFAULT 0;
