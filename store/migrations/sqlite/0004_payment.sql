-- Payments and what they paid. Money is conserved: a client's payments equal their
-- allocations to invoices plus their credit.
CREATE TABLE payment (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id               BIGINT REFERENCES client (id),
    subscription_id         BIGINT,
    amount_minor            BIGINT NOT NULL,
    received_on             TEXT NOT NULL,
    variable_symbol         TEXT,
    payer_account           TEXT,
    payer_name              TEXT,
    message                 TEXT,
    -- The bank's id of the movement: importing a statement twice records nothing new.
    bank_transaction_id     TEXT UNIQUE,
    source                  TEXT NOT NULL,
    matched_by              TEXT,
    -- What the allocation did to the client's credit, so it can be undone exactly.
    to_credit_minor         BIGINT NOT NULL DEFAULT 0,
    from_credit_minor       BIGINT NOT NULL DEFAULT 0,
    created_at              TEXT NOT NULL
);
CREATE INDEX payment_client ON payment (client_id);

CREATE TABLE payment_allocation (
    payment_id      BIGINT NOT NULL REFERENCES payment (id),
    invoice_id      BIGINT NOT NULL REFERENCES invoice (id),
    amount_minor    BIGINT NOT NULL
);
CREATE INDEX payment_allocation_invoice ON payment_allocation (invoice_id);

-- Credit paid back to a client (a recorded refund, not a bank order).
CREATE TABLE refund (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id       BIGINT NOT NULL REFERENCES client (id),
    amount_minor    BIGINT NOT NULL,
    refunded_on     TEXT NOT NULL,
    note            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

-- Reminders sent by the dunning run: each level once per invoice.
CREATE TABLE reminder (
    invoice_id      BIGINT NOT NULL REFERENCES invoice (id),
    level           BIGINT NOT NULL,
    sent_on         TEXT NOT NULL,
    deadline        TEXT NOT NULL,
    fee_minor       BIGINT,
    PRIMARY KEY (invoice_id, level)
);

-- Unallocated money the client has paid (an overpayment), spent on the next invoices.
ALTER TABLE client ADD COLUMN credit_minor BIGINT NOT NULL DEFAULT 0;
-- Set by the dunning run (billing::dunning::access_decision); RADIUS serves the walled garden.
ALTER TABLE client ADD COLUMN debt_suspended BIGINT NOT NULL DEFAULT 0;
