-- The back office's version of each stored copy (when the object last changed there, ms), so a snapshot
-- read earlier but written later cannot put an older state back over a newer one. 0: not yet known.
ALTER TABLE accounts ADD COLUMN bo_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN bo_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE transactions ADD COLUMN bo_version BIGINT NOT NULL DEFAULT 0;
