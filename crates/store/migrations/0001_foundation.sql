-- bankgate's own tables: users, their links to back-office customers, devices, sessions, login throttling,
-- and the middleware's copy of every back-office object it has seen (accounts, cards, transactions), each
-- with the JSON of the object as last confirmed and when (refreshed_at, unix milliseconds), and what the
-- user added to it (user_data: preferences, comments, labels), which the back office does not hold.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    profile       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    modified_at   BIGINT NOT NULL
);

CREATE TABLE user_back_offices (
    user_id        TEXT NOT NULL REFERENCES users (id),
    back_office_id TEXT NOT NULL,
    customer_id_bo TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (user_id, back_office_id)
);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    channel      TEXT NOT NULL,
    device_key   TEXT NOT NULL,
    platform     TEXT,
    is_active    BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    UNIQUE (user_id, channel, device_key)
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    device_id    TEXT NOT NULL REFERENCES devices (id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX sessions_by_device ON sessions (device_id);

CREATE TABLE login_failures (
    throttle_key TEXT NOT NULL,
    failed_at    BIGINT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (throttle_key, failed_at);

CREATE TABLE accounts (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    back_office_id TEXT NOT NULL,
    id_bo          TEXT NOT NULL,
    data           TEXT NOT NULL,
    user_data      TEXT NOT NULL,
    refreshed_at   BIGINT NOT NULL,
    UNIQUE (back_office_id, id_bo)
);
CREATE INDEX accounts_by_user ON accounts (user_id);

CREATE TABLE cards (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    back_office_id TEXT NOT NULL,
    id_bo          TEXT NOT NULL,
    data           TEXT NOT NULL,
    user_data      TEXT NOT NULL,
    refreshed_at   BIGINT NOT NULL,
    UNIQUE (back_office_id, id_bo)
);
CREATE INDEX cards_by_user ON cards (user_id);

CREATE TABLE transactions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    back_office_id TEXT NOT NULL,
    id_bo          TEXT NOT NULL,
    value_at       BIGINT NOT NULL,
    data           TEXT NOT NULL,
    user_data      TEXT NOT NULL,
    refreshed_at   BIGINT NOT NULL,
    UNIQUE (back_office_id, id_bo)
);
CREATE INDEX transactions_by_account ON transactions (account_id, value_at);
