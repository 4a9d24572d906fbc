-- The closing of the books (ISPadmin "účetní uzávěrka"): nothing dated on or before
-- `closed_until` is created, changed or deleted. One row at most; it only moves forward.
CREATE TABLE books_closing (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    closed_until    TEXT NOT NULL,
    closed_at       TEXT NOT NULL,
    closed_by       TEXT NOT NULL
);
