-- The job queue's indexes hold only the rows their queries look for. Every change of a job's state writes
-- a new entry for the row into each index whose rows it belongs to, and a job changes state three times or
-- more: an ended job now stays only in the primary key and its undo id's index (and the reference index
-- when it has a client reference), where before it was in all five.
--
-- jobs_due: claims of due jobs, read in due order so that a claim stops at its limit however long the queue;
-- jobs_leased: claims of jobs whose runner's lease ran out; jobs_open_by_user: a user's open jobs (the undo
-- list). SQLite uses a partial index only for a query that states the index's condition as written, so the
-- queries repeat it where it is implied. The indexes are built inside the migration's transaction, which
-- holds job writes back while they are built on a large table.
DROP INDEX jobs_due;
DROP INDEX jobs_by_user;
DROP INDEX jobs_by_client_ref;
CREATE INDEX jobs_due ON jobs (due_at, queued_at) WHERE state IN ('waiting', 'retrying');
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_open_by_user ON jobs (user_id, state) WHERE state IN ('waiting', 'running', 'retrying');
CREATE UNIQUE INDEX jobs_by_client_ref ON jobs (user_id, kind, client_ref) WHERE client_ref IS NOT NULL;
