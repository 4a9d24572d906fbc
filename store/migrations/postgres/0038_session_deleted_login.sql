-- Deleting a login sets its sessions' login_id to NULL (the sessions stay: their NAS ends
-- them), and the reconcile then took such a session for one of a user ispd never knew and
-- left it alone — a login deleted while its NAS missed the Disconnect stayed online for good
-- (found probing from outside). The deleted login's id stays on its open sessions here, so
-- the reconcile knows them as a login's that would now be refused, and disconnects them.
ALTER TABLE session ADD COLUMN deleted_login_id BIGINT;
