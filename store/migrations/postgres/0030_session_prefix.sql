-- A session's delegated IPv6 prefix (Delegated-IPv6-Prefix, else Framed-IPv6-Prefix), so the
-- address pools hold it again for its login after a restart, as they do its Framed-IP-Address.
ALTER TABLE session ADD COLUMN delegated_prefix TEXT;
