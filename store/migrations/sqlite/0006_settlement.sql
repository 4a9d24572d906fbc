-- How documents are settled besides payments, so every document's paid amount is explained:
--   invoice.paid = its payment allocations + its credit applications.
-- A positive amount is client credit spent on the document (an overpayment or a credit note
-- settling the next invoice, applied when the document is issued); a negative amount is money
-- the document gave back to the client's credit when a credit note cancelled a paid part.
CREATE TABLE credit_application (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id           BIGINT NOT NULL REFERENCES client (id),
    invoice_id          BIGINT NOT NULL REFERENCES invoice (id),
    amount_minor        BIGINT NOT NULL,
    -- The credit note that caused it, if any.
    credit_note_id      BIGINT REFERENCES invoice (id),
    applied_on          TEXT NOT NULL,
    created_at          TEXT NOT NULL
);
CREATE INDEX credit_application_invoice ON credit_application (invoice_id);
CREATE INDEX credit_application_client ON credit_application (client_id);

-- A line reversed by a credit note (cancellation or correction) no longer counts as charged;
-- the billing run corrects only lines that are still live.
ALTER TABLE invoice_line ADD COLUMN reversed_by BIGINT;

-- Corrections and "paid until" read a subscription's lines.
CREATE INDEX invoice_line_subscription ON invoice_line (subscription_id, period_to);
