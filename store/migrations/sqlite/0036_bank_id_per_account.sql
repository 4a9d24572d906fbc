-- no-transaction
-- A bank transaction id is the bank's on one account: two of the ISP's accounts may use the
-- same id for two payments, and the second was taken for a repeat and never recorded. The
-- payment keeps the statement's account, and the id is unique on it (an unknown account is
-- the empty one; `ispd_billing::payment::receipt::RecordedIds` decides what repeats).
--
-- SQLite cannot drop the column's UNIQUE constraint: the table is rebuilt, the documented
-- way (https://sqlite.org/lang_altertable.html#otheralter). Foreign keys must be off while
-- the old table is dropped, and that pragma does nothing inside a transaction, hence
-- no-transaction and the explicit one. Run again after a crash before sqlx recorded it, the
-- rebuild only copies the table once more.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE payment_rebuilt (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id               BIGINT REFERENCES client (id),
    subscription_id         BIGINT,
    amount_minor            BIGINT NOT NULL,
    received_on             TEXT NOT NULL,
    variable_symbol         TEXT,
    payer_account           TEXT,
    payer_name              TEXT,
    message                 TEXT,
    -- The bank's id of the movement on `statement_account`.
    bank_transaction_id     TEXT,
    source                  TEXT NOT NULL,
    matched_by              TEXT,
    to_credit_minor         BIGINT NOT NULL DEFAULT 0,
    from_credit_minor       BIGINT NOT NULL DEFAULT 0,
    created_at              TEXT NOT NULL,
    currency                TEXT,
    split_from              BIGINT REFERENCES payment (id),
    -- The ISP's account the statement was of (normalised); NULL when it did not say.
    statement_account       TEXT
);
INSERT INTO payment_rebuilt (id, client_id, subscription_id, amount_minor, received_on,
    variable_symbol, payer_account, payer_name, message, bank_transaction_id, source,
    matched_by, to_credit_minor, from_credit_minor, created_at, currency, split_from)
SELECT id, client_id, subscription_id, amount_minor, received_on,
    variable_symbol, payer_account, payer_name, message, bank_transaction_id, source,
    matched_by, to_credit_minor, from_credit_minor, created_at, currency, split_from
FROM payment;
DROP TABLE payment;
ALTER TABLE payment_rebuilt RENAME TO payment;
CREATE INDEX payment_client ON payment (client_id);
-- The id first: an import looks the ids it reads up by them alone.
CREATE UNIQUE INDEX payment_bank_id ON payment (bank_transaction_id, COALESCE(statement_account, ''));
COMMIT;
PRAGMA foreign_keys = ON;
