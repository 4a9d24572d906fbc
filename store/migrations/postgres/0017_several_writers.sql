-- Several instances write accounting into one database (issue 13).
-- A session's revision grows with every update, so a writer that remembers a session
-- updates it only if nobody else has since (the database is the arbiter).
ALTER TABLE session ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

-- A daily job that finished for a day, so an instance that takes the job over after the
-- holder died runs it, and one that finds it done does not run it again.
CREATE TABLE job_run (
    job         TEXT NOT NULL,
    day         TEXT NOT NULL,
    instance    TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (job, day)
);
