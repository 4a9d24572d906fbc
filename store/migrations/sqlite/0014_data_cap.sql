-- A tariff's monthly data cap (FUP) and the reduced rate past it; all four NULL = none.
ALTER TABLE tariff ADD COLUMN cap_download_octets BIGINT;
ALTER TABLE tariff ADD COLUMN cap_upload_octets BIGINT;
ALTER TABLE tariff ADD COLUMN cap_download_kbps BIGINT;
ALTER TABLE tariff ADD COLUMN cap_upload_kbps BIGINT;
