-- The change feed: every change a customer could see (a balance or a card), numbered. bankgate reads it
-- with changes_since and refreshes what it names. Written in the same transaction as the change.
CREATE TABLE sbx_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
