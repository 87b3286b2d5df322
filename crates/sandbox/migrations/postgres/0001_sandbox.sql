-- The sandbox core-banking schema (PostgreSQL). Amounts are signed minor units, times unix milliseconds,
-- booleans 0/1 and structured values JSON text, so that the same queries read both engines.
-- `seq` columns only order rows created in the same millisecond.

CREATE TABLE sbx_customers (
    id TEXT PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Customer accounts. ledger_minor/available_minor are materialized from sbx_postings in the same
-- transaction as the postings; the CHECK backs up the guarded debit.
CREATE TABLE sbx_accounts (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL REFERENCES sbx_customers (id),
    name TEXT NOT NULL,
    type_id TEXT NOT NULL,
    number TEXT NOT NULL UNIQUE,
    routing_number TEXT NOT NULL,
    currency TEXT NOT NULL,
    ledger_minor BIGINT NOT NULL,
    available_minor BIGINT NOT NULL CHECK (available_minor >= 0),
    status TEXT NOT NULL,
    is_closed BIGINT NOT NULL,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sbx_accounts_by_customer ON sbx_accounts (customer_id, opened_at, seq);

-- The bank's own accounts (funding/clearing, card settlement), one per purpose and currency. Their
-- balance is only ever the sum of their postings: no materialized row every payment would contend on.
CREATE TABLE sbx_internal_accounts (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (purpose, currency)
);

CREATE TABLE sbx_entries (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    narrative TEXT NOT NULL,
    idempotency_key TEXT,
    created_at BIGINT NOT NULL
);

-- account_id names either a customer or an internal account. An entry's postings sum to zero per currency.
CREATE TABLE sbx_postings (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id TEXT NOT NULL REFERENCES sbx_entries (id),
    account_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL
);
CREATE INDEX sbx_postings_by_account ON sbx_postings (account_id);
CREATE INDEX sbx_postings_by_entry ON sbx_postings (entry_id);

-- What a customer sees on their statement, each line backed by a ledger entry.
CREATE TABLE sbx_transactions (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES sbx_accounts (id),
    entry_id TEXT NOT NULL REFERENCES sbx_entries (id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    txn_type TEXT NOT NULL,
    type_name TEXT NOT NULL,
    narrative TEXT NOT NULL,
    state TEXT NOT NULL,
    card_id TEXT,
    mcc TEXT,
    reference TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    value_at BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE INDEX sbx_transactions_by_value ON sbx_transactions (account_id, value_at, seq);

-- pan is written once and never selected: reads use pan_masked. pin_hash is an argon2 PHC string.
CREATE TABLE sbx_cards (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES sbx_accounts (id),
    name_on_card TEXT NOT NULL,
    type_id TEXT NOT NULL,
    pan TEXT NOT NULL UNIQUE,
    pan_masked TEXT NOT NULL,
    expiry_year BIGINT NOT NULL,
    expiry_month BIGINT NOT NULL,
    enabled BIGINT NOT NULL,
    activated BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    restrictions TEXT NOT NULL,
    pin_hash TEXT,
    issued_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    activated_at BIGINT
);
CREATE INDEX sbx_cards_by_account ON sbx_cards (account_id, issued_at, seq);

-- The first result of every idempotent call, per operation and key.
CREATE TABLE sbx_idempotency (
    operation TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (operation, idempotency_key)
);
