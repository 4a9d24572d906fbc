-- Units (Mango "jednotka"): the places services are delivered to. A tariff's service class
-- says what kind of service it is; one unit holds at most one service of a class that has
-- not ended.
CREATE TABLE unit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
ALTER TABLE tariff ADD COLUMN service_class TEXT NOT NULL DEFAULT '';
ALTER TABLE subscription ADD COLUMN unit_id BIGINT REFERENCES unit (id);
CREATE INDEX subscription_by_unit ON subscription (unit_id);
