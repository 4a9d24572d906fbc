-- Invoices issued by the billing run. Issued invoices are immutable: corrections will be
-- credit notes referencing them. Numbers are gap-free per invoice group and year: the series
-- row is advanced in the same transaction that stores the invoice.
CREATE TABLE invoice_series (
    invoice_group   TEXT NOT NULL,
    year            BIGINT NOT NULL,
    last_seq        BIGINT NOT NULL,
    PRIMARY KEY (invoice_group, year)
);

CREATE TABLE invoice (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    number                  TEXT NOT NULL UNIQUE,
    invoice_group           TEXT NOT NULL,
    client_id               BIGINT NOT NULL REFERENCES client (id),
    -- The client as of issuing: editing the client later does not change the document.
    client_snapshot_json    TEXT NOT NULL,
    issue_date              TEXT NOT NULL,
    taxable_supply_date     TEXT NOT NULL,
    due_date                TEXT NOT NULL,
    variable_symbol         TEXT NOT NULL,
    currency                TEXT NOT NULL,
    net_minor               BIGINT NOT NULL,
    vat_minor               BIGINT NOT NULL,
    gross_minor             BIGINT NOT NULL,
    paid_minor              BIGINT NOT NULL DEFAULT 0,
    state                   TEXT NOT NULL,
    created_at              TEXT NOT NULL
);
CREATE INDEX invoice_client ON invoice (client_id, issue_date);

CREATE TABLE invoice_line (
    invoice_id          BIGINT NOT NULL REFERENCES invoice (id),
    position            BIGINT NOT NULL,
    description         TEXT NOT NULL,
    -- Exact decimal text: prorated periods have fractional quantities (6 places).
    quantity            TEXT NOT NULL,
    unit_price_minor    BIGINT NOT NULL,
    vat_rate            TEXT NOT NULL,
    net_minor           BIGINT NOT NULL,
    vat_minor           BIGINT NOT NULL,
    gross_minor         BIGINT NOT NULL,
    subscription_id     BIGINT,
    period_from         TEXT,
    period_to           TEXT,
    PRIMARY KEY (invoice_id, position)
);

-- The last day already invoiced for each subscription: the next run starts after it.
ALTER TABLE subscription ADD COLUMN billed_until TEXT;
