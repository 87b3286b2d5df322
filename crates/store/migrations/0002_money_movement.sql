-- Money movement: the durable job queue (outbox) that carries out queued and undoable operations, the
-- holds that keep accepted-but-unexecuted money from being spent twice, beneficiaries, and the
-- responses kept for Idempotency-Key replays. Times are unix milliseconds.

-- One row per operation (transfer, remittance, card payment, payment to a beneficiary, beneficiary
-- deletion). state: waiting (undoable until claimed) -> running -> retrying <-> running -> done | failed;
-- waiting -> cancelled. A running job whose lease_until has passed belongs to a node that died and may be
-- claimed again. progress is the saga log of steps already taken, so a resumed job never repeats one.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL,
    undo_id      TEXT,
    client_ref   TEXT,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL,
    queued_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    due_at       BIGINT NOT NULL,
    attempts     BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    claimed_by   TEXT,
    lease_until  BIGINT,
    progress     TEXT,
    result       TEXT,
    failure      TEXT,
    finished_at  BIGINT,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX jobs_by_undo_id ON jobs (user_id, undo_id);
CREATE UNIQUE INDEX jobs_by_client_ref ON jobs (user_id, kind, client_ref);
CREATE INDEX jobs_due ON jobs (state, due_at);
CREATE INDEX jobs_by_user ON jobs (user_id, state);

-- The money each accepted operation keeps from its source account until it executes or ends.
CREATE TABLE holds (
    job_id       TEXT PRIMARY KEY REFERENCES jobs (id),
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    placed_at    BIGINT NOT NULL,
    released_at  BIGINT
);

-- Per account, the sum of its live holds, kept in the same transactions as the holds so one guarded
-- UPDATE decides a new hold. version counts releases after execution, when the back office's own
-- balance has moved: an acceptance that read the balance before such a release must read it again.
CREATE TABLE account_holds (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    currency    TEXT NOT NULL,
    held_minor  BIGINT NOT NULL CHECK (held_minor >= 0),
    version     BIGINT NOT NULL
);
CREATE INDEX account_holds_by_user ON account_holds (user_id);

-- Payment destinations the user registered. data is the validated destination and the user's settings
-- as JSON; deleted_at is set when a queued deletion executes.
CREATE TABLE beneficiaries (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX beneficiaries_by_user ON beneficiaries (user_id, created_at);

-- Idempotency-Key records: status and body are null while the first request is still running.
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       BIGINT,
    body         TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
