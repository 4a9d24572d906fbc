-- Every payment carries its currency: money in a currency other than the client's invoice
-- group's is never allocated to its documents or credit (it is recorded unmatched instead).
-- NULL only for payments recorded before this migration whose currency cannot be told from
-- what they paid or their client's invoice group: they are in the [billing] currency.
ALTER TABLE payment ADD COLUMN currency TEXT;
UPDATE payment SET currency = COALESCE(
    (SELECT MIN(i.currency) FROM payment_allocation a JOIN invoice i ON i.id = a.invoice_id
     WHERE a.payment_id = payment.id),
    (SELECT g.currency FROM client c JOIN invoice_group g ON g.code = c.invoice_group
     WHERE c.id = payment.client_id));
