-- The period the days before a tariff change were billed by (its old tariff's): a change
-- between tariffs of different periods charges those days as a share of the old period
-- (found probing from outside: they were a share of the new one, and a quarter invoiced
-- before a change to a monthly tariff was credited beyond what it charged). Recorded changes
-- take their old tariff's period; NULL (that tariff deleted) reads as the service's own.
ALTER TABLE tariff_change ADD COLUMN before_period TEXT;
UPDATE tariff_change SET before_period =
    (SELECT period FROM tariff WHERE tariff.id = tariff_change.before_tariff_id);
