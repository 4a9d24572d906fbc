-- A payment assigned to one invoice (`payment assign --invoice`) used to stay whole on it,
-- past what it asks; the client's overpayment then sat on the invoice, where refunds,
-- `client list --owing`, "only up to the debt" and the next invoices did not see it. It is
-- credit now (`AssignMode::InvoiceFirst`): what such a document holds beyond what it asks
-- moves to its client's credit. Unassigning such a payment takes that part back from the
-- credit (`allocation::unassign` takes back from a document only what still lies on it).
UPDATE client SET credit_minor = credit_minor + (
    SELECT COALESCE(SUM(invoice.paid_minor - (invoice.gross_minor - invoice.credited_minor)), 0)
    FROM invoice
    WHERE invoice.client_id = client.id
      AND invoice.paid_minor > invoice.gross_minor - invoice.credited_minor
);
UPDATE invoice SET paid_minor = gross_minor - credited_minor
WHERE paid_minor > gross_minor - credited_minor;
