-- The client card's language and relationship (BILLmanager): the language the client is
-- written to in, how the operator sees them, who referred them, where they heard of the
-- operator, their partner programme, and the IP address they registered from (set once).
ALTER TABLE client ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE client ADD COLUMN characteristic TEXT NOT NULL DEFAULT 'ordinary';
ALTER TABLE client ADD COLUMN referrer TEXT NOT NULL DEFAULT '';
ALTER TABLE client ADD COLUMN referral_source TEXT NOT NULL DEFAULT '';
ALTER TABLE client ADD COLUMN partner_programme TEXT NOT NULL DEFAULT '';
ALTER TABLE client ADD COLUMN registration_ip TEXT;
