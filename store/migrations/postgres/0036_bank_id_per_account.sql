-- A bank transaction id is the bank's on one account: two of the ISP's accounts may use the
-- same id for two payments, and the second was taken for a repeat and never recorded. The
-- payment keeps the statement's account, and the id is unique on it (an unknown account is
-- the empty one; `ispd_billing::payment::receipt::RecordedIds` decides what repeats).
ALTER TABLE payment ADD COLUMN statement_account TEXT;
ALTER TABLE payment DROP CONSTRAINT payment_bank_transaction_id_key;
-- The id first: an import looks the ids it reads up by them alone.
CREATE UNIQUE INDEX payment_bank_id ON payment (bank_transaction_id, (COALESCE(statement_account, '')));
