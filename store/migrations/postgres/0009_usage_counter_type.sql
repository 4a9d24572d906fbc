-- SQLite only (a usage sum beyond BIGINT turned values into REAL there); PostgreSQL refused
-- such a sum instead, so it has nothing to repair. Kept so both backends number alike.
SELECT 1;
