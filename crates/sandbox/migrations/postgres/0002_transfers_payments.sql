-- Transfers, payouts and the card vault (PostgreSQL). Same conventions as 0001.

-- A converted movement's line keeps the rate applied (exact decimal text, never a float) and the amount
-- on the other side of the conversion. The three are set together or not at all.
ALTER TABLE sbx_transactions ADD COLUMN fx_rate TEXT;
ALTER TABLE sbx_transactions ADD COLUMN fx_counter_minor BIGINT;
ALTER TABLE sbx_transactions ADD COLUMN fx_counter_currency TEXT;

-- Cards kept for push-to-card payouts. pan is written once and never selected: payouts only check that
-- a reference exists (and has not expired).
CREATE TABLE sbx_vault_cards (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    pan TEXT NOT NULL,
    expiry_year BIGINT NOT NULL,
    expiry_month BIGINT NOT NULL,
    holder_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Where each payout was sent: the instruction behind its statement line and its posting to the payouts
-- clearing account. payee_details is the rail's routing details as JSON (a card travels as its vault id).
CREATE TABLE sbx_payouts (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES sbx_accounts (id),
    transaction_id TEXT NOT NULL REFERENCES sbx_transactions (id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    rail TEXT NOT NULL,
    payee_name TEXT NOT NULL,
    payee_details TEXT NOT NULL,
    reference TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sbx_payouts_by_account ON sbx_payouts (account_id, created_at, seq);
