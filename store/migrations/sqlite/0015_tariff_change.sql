-- A tariff changed from a date: the days before `valid_from` are charged at the price kept
-- here (what the subscription was charged at until then: its override or its old tariff's
-- price, with that tariff's name, VAT basis and rate); the days from it at the subscription's
-- price of the time after, i.e. the next change's kept price or the current one.
CREATE TABLE tariff_change (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id     BIGINT NOT NULL REFERENCES subscription (id) ON DELETE CASCADE,
    valid_from          TEXT NOT NULL,
    before_tariff_id    BIGINT NOT NULL,
    before_name         TEXT NOT NULL,
    before_price_minor  BIGINT NOT NULL,
    before_includes_vat BIGINT NOT NULL,
    before_vat_rate     TEXT NOT NULL,
    after_tariff_id     BIGINT NOT NULL,
    created_at          TEXT NOT NULL,
    created_by          TEXT NOT NULL
);
CREATE INDEX tariff_change_by_subscription ON tariff_change (subscription_id, valid_from);
-- A scheduled tariff change names its tariff (NULL for lifecycle transitions).
ALTER TABLE scheduled_action ADD COLUMN tariff TEXT;
