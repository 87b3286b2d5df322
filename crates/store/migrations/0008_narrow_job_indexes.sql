-- The job queue's indexes hold only the rows their queries look for. Every state change rewrites a job's
-- row into each index whose rows it belongs to, and a job changes state three times or more; an ended job
-- now stays only in the primary key and its undo id's index, and a job without a client reference is in no
-- reference index. A saga's log saves change no indexed column, so PostgreSQL can keep them out of the
-- indexes altogether (heap-only updates).
--
-- jobs_due: claims of due jobs, read in due order so a claim stops at its limit however long the queue;
-- jobs_leased: claims of jobs whose runner's lease ran out; jobs_open_by_user: a user's open undo entries.
DROP INDEX jobs_due;
DROP INDEX jobs_by_user;
DROP INDEX jobs_by_client_ref;
CREATE INDEX jobs_due ON jobs (due_at, queued_at) WHERE state IN ('waiting', 'retrying');
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_open_by_user ON jobs (user_id) WHERE state IN ('waiting', 'running', 'retrying');
CREATE UNIQUE INDEX jobs_by_client_ref ON jobs (user_id, kind, client_ref) WHERE client_ref IS NOT NULL;
