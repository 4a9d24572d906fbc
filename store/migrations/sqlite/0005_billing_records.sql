-- Billing records beyond the plain invoice: the provider's companies (invoice groups) as full
-- records, document kinds (credit notes, debit notes, pro-formas, opening balances),
-- discounts, one-off charges, pauses with billing suspended, floating periods and per-client
-- dunning controls. The PostgreSQL twin differs only in identity columns.

-- Invoice groups: the provider's companies. The supplier block of every document comes
-- from here (snapshotted on issue). NULL settings fall back to the [billing] section.
CREATE TABLE invoice_group (
    code                    TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    street                  TEXT NOT NULL,
    postcode                TEXT NOT NULL,
    city                    TEXT NOT NULL,
    country                 TEXT NOT NULL,
    company_id              TEXT NOT NULL,
    vat_id                  TEXT NOT NULL,
    bank_account            TEXT NOT NULL,
    iban                    TEXT NOT NULL,
    bic                     TEXT NOT NULL,
    email                   TEXT NOT NULL,
    phone                   TEXT NOT NULL,
    currency                TEXT,
    due_days                BIGINT,
    -- Number patterns per document kind; NULL = the default for the kind.
    invoice_number_format   TEXT,
    credit_note_number_format TEXT,
    proforma_number_format  TEXT,
    debit_note_number_format TEXT,
    -- 'issue_date' | 'end_of_period' | 'days_before_issue' (with taxable_days_before).
    taxable_date_rule       TEXT NOT NULL,
    taxable_days_before     BIGINT NOT NULL,
    version                 BIGINT NOT NULL
);
INSERT INTO invoice_group (code, name, street, postcode, city, country, company_id, vat_id,
    bank_account, iban, bic, email, phone, taxable_date_rule, taxable_days_before, version)
SELECT code, label, '', '', '', '', '', '', '', '', '', '', '', 'issue_date', 0, 1
FROM code_list WHERE list = 'invoice_group';
DELETE FROM code_list WHERE list = 'invoice_group';

-- Gap-free numbering per invoice group, document kind and year; advanced in the issuing
-- transaction. Replaces invoice_series (which had no kind).
CREATE TABLE document_series (
    invoice_group   TEXT NOT NULL,
    kind            TEXT NOT NULL,
    year            BIGINT NOT NULL,
    last_seq        BIGINT NOT NULL,
    PRIMARY KEY (invoice_group, kind, year)
);
INSERT INTO document_series (invoice_group, kind, year, last_seq)
SELECT invoice_group, 'invoice', year, last_seq FROM invoice_series;
DROP TABLE invoice_series;

-- 'invoice' | 'credit_note' | 'debit_note' | 'proforma' | 'opening_balance'.
ALTER TABLE invoice ADD COLUMN kind TEXT NOT NULL DEFAULT 'invoice';
-- Credit note -> the invoice it corrects; tax invoice -> the pro-forma it settles;
-- debit note -> the invoice whose reminder charged the fee.
ALTER TABLE invoice ADD COLUMN related_invoice_id BIGINT;
-- The invoice group (supplier) as of issuing.
ALTER TABLE invoice ADD COLUMN supplier_snapshot_json TEXT NOT NULL DEFAULT '{}';
-- Part of the total cancelled by credit notes: open = gross - paid - credited.
ALTER TABLE invoice ADD COLUMN credited_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoice ADD COLUMN note TEXT NOT NULL DEFAULT '';
CREATE INDEX invoice_related ON invoice (related_invoice_id);

-- Discounts on a subscription (Mango "slevová kampaň"); each is its own invoice line.
CREATE TABLE discount (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id     BIGINT NOT NULL REFERENCES subscription (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    -- 'percent' | 'amount' | 'resulting_price'; value is exact decimal text.
    kind                TEXT NOT NULL,
    value               TEXT NOT NULL,
    valid_from          TEXT NOT NULL,
    valid_to            TEXT,
    created_at          TEXT NOT NULL
);
CREATE INDEX discount_subscription ON discount (subscription_id);

-- One-off charges (installation, equipment): billed by the first run on or after charge_on,
-- then linked to that invoice and immutable.
CREATE TABLE one_off_charge (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id           BIGINT NOT NULL REFERENCES client (id),
    subscription_id     BIGINT REFERENCES subscription (id),
    description         TEXT NOT NULL,
    quantity            TEXT NOT NULL,
    unit_price_minor    BIGINT NOT NULL,
    price_includes_vat  BIGINT NOT NULL,
    vat_rate            TEXT NOT NULL,
    charge_on           TEXT NOT NULL,
    invoice_id          BIGINT REFERENCES invoice (id),
    created_at          TEXT NOT NULL
);
CREATE INDEX one_off_charge_client ON one_off_charge (client_id);
CREATE INDEX one_off_charge_unbilled ON one_off_charge (invoice_id, charge_on);

-- 'billing_day' (aligned to the client's billing day) | 'floating' (to billing_from).
ALTER TABLE subscription ADD COLUMN alignment TEXT NOT NULL DEFAULT 'billing_day';
-- Last charged day (Mango "Platba do"); set when the service is ended.
ALTER TABLE subscription ADD COLUMN end_date TEXT;

-- Days not charged: pauses and blocks "with billing suspended". to_date NULL = still running.
CREATE TABLE subscription_unbilled (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id     BIGINT NOT NULL REFERENCES subscription (id) ON DELETE CASCADE,
    from_date           TEXT NOT NULL,
    to_date             TEXT
);
CREATE INDEX subscription_unbilled_subscription ON subscription_unbilled (subscription_id);

-- Per-client dunning controls (Mango req_stop / pause; ISPadmin per-client grace days).
ALTER TABLE client ADD COLUMN dunning_stopped BIGINT NOT NULL DEFAULT 0;
ALTER TABLE client ADD COLUMN dunning_paused_until TEXT;
ALTER TABLE client ADD COLUMN suspend_after_days BIGINT;
