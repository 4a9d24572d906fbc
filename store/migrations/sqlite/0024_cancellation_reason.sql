-- Why a service was cancelled (Mango: the reason of a termination), a code of the editable
-- cancellation-reason list, kept on the ended subscription and on an end scheduled ahead.
ALTER TABLE subscription ADD COLUMN end_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE scheduled_action ADD COLUMN reason TEXT NOT NULL DEFAULT '';
INSERT INTO code_list (list, code, label) VALUES
    ('cancellation_reason', 'moved', 'Moved away'),
    ('cancellation_reason', 'price', 'Price'),
    ('cancellation_reason', 'competitor', 'Went to a competitor'),
    ('cancellation_reason', 'quality', 'Service quality'),
    ('cancellation_reason', 'non_payment', 'Did not pay'),
    ('cancellation_reason', 'other', 'Other');
