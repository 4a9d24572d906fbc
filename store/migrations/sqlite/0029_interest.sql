-- Interest on overdue invoices (net47 "Odsetki ustawowe"): each run of days an invoice's
-- interest was charged on an interest note (note_id) or waived for good (note_id NULL). A day
-- is charged or waived once: the next interest starts after the latest until_date.
CREATE TABLE interest_charge (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_id    BIGINT NOT NULL REFERENCES invoice (id),
    from_date     TEXT NOT NULL,
    until_date    TEXT NOT NULL,
    amount_minor  BIGINT NOT NULL,
    note_id       BIGINT REFERENCES invoice (id),
    created_at    TEXT NOT NULL
);
CREATE INDEX interest_charge_by_invoice ON interest_charge (invoice_id, until_date);
