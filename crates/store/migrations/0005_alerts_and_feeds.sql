-- Alerts (section 17): the catalogue's alert types each user has set, on or off, with their parameters
-- (a JSON object). A type the user never set has no row and is off.
CREATE TABLE alert_settings (
    user_id       TEXT NOT NULL REFERENCES users (id),
    alert_type_id TEXT NOT NULL,
    is_enabled    BIGINT NOT NULL,
    parameters    TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (user_id, alert_type_id)
);

-- How far bankgate has followed each back office's change feed (last_seq: every entry up to it is
-- applied), or, for a back office without one, when its customers were last refreshed on schedule. One
-- node at a time follows a back office: the one holding the lease.
CREATE TABLE back_office_feeds (
    back_office_id TEXT PRIMARY KEY,
    last_seq       BIGINT NOT NULL,
    refreshed_at   BIGINT,
    leased_by      TEXT,
    lease_until    BIGINT
);

-- Finding the user behind a back office's customer (its changes name customers).
CREATE INDEX user_back_offices_by_customer ON user_back_offices (back_office_id, customer_id_bo);
