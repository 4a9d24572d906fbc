-- Mango's "Poznámka na fakturu": what a service's invoice lines say instead of the tariff's
-- name (at most 50 characters), followed by the period as always.
ALTER TABLE subscription ADD COLUMN invoice_note TEXT NOT NULL DEFAULT '';
