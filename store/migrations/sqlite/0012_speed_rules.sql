-- Speeds that depend on the time. A tariff's daily window with another rate (a night boost),
-- local wall-clock 'HH:MM:SS', all four NULL = none.
ALTER TABLE tariff ADD COLUMN window_from TEXT;
ALTER TABLE tariff ADD COLUMN window_to TEXT;
ALTER TABLE tariff ADD COLUMN window_download_kbps BIGINT;
ALTER TABLE tariff ADD COLUMN window_upload_kbps BIGINT;
-- A login's temporary speed until a moment (RFC 3339 UTC), all three NULL = none.
ALTER TABLE login ADD COLUMN temporary_download_kbps BIGINT;
ALTER TABLE login ADD COLUMN temporary_upload_kbps BIGINT;
ALTER TABLE login ADD COLUMN temporary_until TEXT;
