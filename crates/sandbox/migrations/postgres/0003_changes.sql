-- The change feed: every change a customer could see (a balance or a card), numbered. bankgate reads it
-- with changes_since and refreshes what it names. Written in the same transaction as the change. A
-- sequence number is taken at insert, not at commit, so a reader may briefly see a gap (see changes.rs).
CREATE TABLE sbx_changes (
    seq         BIGSERIAL PRIMARY KEY,
    customer_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
