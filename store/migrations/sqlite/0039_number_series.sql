-- A document number series is its pattern: every document numbered with one pattern takes
-- the next number of that pattern's series (per year, or one series for all years when the
-- pattern names no year ({year}, {yy})). Keyed by invoice group and kind, two groups on the built-in
-- patterns — a group added without its own — numbered alike, and the second one's first
-- document failed the whole billing run on the unique number (found probing from outside);
-- a pattern without {year} began again at 1 each January.
CREATE TABLE number_series (
    pattern     TEXT NOT NULL,
    year        BIGINT NOT NULL,
    last_seq    BIGINT NOT NULL,
    PRIMARY KEY (pattern, year)
);
-- Each series as far as any group numbered with its pattern got (its group's pattern now,
-- or the built-in one).
INSERT INTO number_series (pattern, year, last_seq)
SELECT pattern, CASE WHEN pattern LIKE '%{year}%' OR pattern LIKE '%{yy}%' THEN year ELSE 0 END, MAX(last_seq)
FROM (
    SELECT s.year, s.last_seq, COALESCE(
        (SELECT NULLIF(CASE s.kind
                WHEN 'invoice' THEN g.invoice_number_format
                WHEN 'credit_note' THEN g.credit_note_number_format
                WHEN 'proforma' THEN g.proforma_number_format
                WHEN 'debit_note' THEN g.debit_note_number_format
            END, '')
         FROM invoice_group g WHERE g.code = s.invoice_group),
        CASE s.kind
            WHEN 'invoice' THEN '{year}{seq:05}'
            WHEN 'credit_note' THEN 'CN{year}{seq:05}'
            WHEN 'proforma' THEN 'PF{year}{seq:05}'
            WHEN 'debit_note' THEN 'DN{year}{seq:05}'
        END) AS pattern
    FROM document_series s
) AS effective
WHERE pattern IS NOT NULL
GROUP BY pattern, CASE WHEN pattern LIKE '%{year}%' OR pattern LIKE '%{yy}%' THEN year ELSE 0 END;
