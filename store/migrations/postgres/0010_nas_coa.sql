-- How changes reach a NAS's online sessions (RFC 5176): 'coa', 'disconnect' or 'none';
-- NULL = the vendor's default (CoA for MikroTik, accel-ppp and Cisco, Disconnect otherwise).
ALTER TABLE nas ADD COLUMN coa TEXT;
