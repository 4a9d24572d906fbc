-- A transfer scheduled for a later day names the client it goes to (the tariff has its own
-- column already); NULL for every other scheduled change.
ALTER TABLE scheduled_action ADD COLUMN client TEXT;
