-- Lifecycle changes asked for a future day (Mango: a pause from next Monday, an end at the
-- end of the month): kept until the daily job applies them on their day, or an operator
-- withdraws them. Applied, failed and withdrawn actions stay, with what became of them.
CREATE TABLE scheduled_action (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id     BIGINT NOT NULL REFERENCES subscription (id) ON DELETE CASCADE,
    transition          TEXT NOT NULL,
    -- The day the daily job applies it.
    effective           TEXT NOT NULL,
    -- The request's own day: the first paused day, the last charged day of an end.
    date                TEXT NOT NULL,
    billing_suspended   BIGINT NOT NULL,
    note                TEXT NOT NULL,
    -- pending, done, failed, withdrawn
    state               TEXT NOT NULL,
    result              TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    created_by          TEXT NOT NULL
);
CREATE INDEX scheduled_action_due ON scheduled_action (state, effective);
CREATE INDEX scheduled_action_by_subscription ON scheduled_action (subscription_id, id);
