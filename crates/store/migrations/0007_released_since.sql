-- The sum of an account's holds released after execution, ever, and how many they were. An acceptance
-- counts what was released since it read the account's hold position as still held (the back office may not
-- show those debits in the balance it read), so only one that this leaves uncovered reads the balance again.
-- `version` counts the same releases, also those of a node of an older build that does not keep these two
-- columns: an acceptance whose releases since do not all appear here reads the balance again.
ALTER TABLE account_holds ADD COLUMN released_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE account_holds ADD COLUMN released_count BIGINT NOT NULL DEFAULT 0;
