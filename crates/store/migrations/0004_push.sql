-- Push: every change to a user's data appends an event in the same transaction as the change. Events are
-- numbered per user by a counter row, updated by the appending transaction itself: two transactions of
-- one user take their numbers in commit order, so a reader that has seen event n never later finds an
-- n-1 it missed. An event names what changed (kind, subject); what is pushed is that object as it stands.
CREATE TABLE event_cursors (
    user_id  TEXT PRIMARY KEY REFERENCES users (id),
    last_seq BIGINT NOT NULL
);

CREATE TABLE events (
    user_id    TEXT NOT NULL REFERENCES users (id),
    seq        BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX events_by_age ON events (created_at);

-- Messages between a user and support (section 13). dedup_code makes a repeated send one message (per
-- sender, so the user and support cannot collide on a code); seq
-- is the number of the user's event that announced it, which orders a conversation exactly.
CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    seq           BIGINT NOT NULL,
    from_id       TEXT NOT NULL,
    to_id         TEXT NOT NULL,
    text          TEXT NOT NULL,
    title         TEXT,
    href          TEXT,
    category      TEXT,
    severity      TEXT,
    priority_code TEXT,
    dedup_code    TEXT NOT NULL,
    read_at       BIGINT,
    created_at    BIGINT NOT NULL,
    UNIQUE (user_id, from_id, dedup_code)
);
CREATE INDEX messages_by_user ON messages (user_id, seq);
