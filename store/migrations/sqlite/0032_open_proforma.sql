-- The clients with an open pro-forma, found without reading every invoice: a bank statement
-- that pays one of them is recorded where the pro-forma's tax invoice can be issued.
CREATE INDEX invoice_open_proforma ON invoice (client_id)
    WHERE kind = 'proforma' AND state IN ('unpaid', 'partially_paid');
