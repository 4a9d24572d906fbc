-- Mango's "only up to the debt": a payment paired only up to its client's debt leaves the rest
-- unpaired, recorded as a payment of its own that names the one it came from. Unassigning
-- the first takes a rest still unpaired back into it.
ALTER TABLE payment ADD COLUMN split_from BIGINT REFERENCES payment (id);
