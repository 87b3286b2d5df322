-- The sum of an account's holds released after execution, ever. An acceptance counts what was released
-- since it read the account's hold position as still held (the back office may not show those debits in
-- the balance it read), so only one that this leaves uncovered reads the balance again.
ALTER TABLE account_holds ADD COLUMN released_minor BIGINT NOT NULL DEFAULT 0;
