-- Per-NAS switch for the BlastRADIUS Proxy-State rule (RFC 2865 §5.33, FreeRADIUS
-- limit_proxy_state): 1 = drop Access-Requests carrying Proxy-State without a
-- Message-Authenticator. On for every existing NAS, as it was before the switch.
ALTER TABLE nas ADD COLUMN limit_proxy_state BIGINT NOT NULL DEFAULT 1;
