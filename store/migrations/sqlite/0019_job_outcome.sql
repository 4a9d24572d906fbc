-- What a daily job's run did (or which of its steps failed), for `ispctl system status`.
ALTER TABLE job_run ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
