//! The double-entry ledger. Money only moves here: every entry is a set of postings that sums to zero
//! per currency, and a customer account's materialized balances change in the same transaction as its
//! postings. Debits are guarded updates, so no interleaving of concurrent debits can overdraw an account.
//!
//! The counterparts of customer movements are the bank's internal accounts, one per purpose and currency,
//! created the first time they are needed.

use crate::error::SandboxError;
use crate::numbers::new_id;
use bankgate_domain::Money;
use sqlx::AnyConnection;

/// The bank's own side of a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InternalAccount {
    /// Where money arriving from outside the bank comes from (the counterpart of deposits).
    Funding,
    /// What the bank owes card networks for approved purchases.
    CardSettlement,
}

impl InternalAccount {
    fn purpose(self) -> &'static str {
        match self {
            InternalAccount::Funding => "funding",
            InternalAccount::CardSettlement => "card_settlement",
        }
    }

    /// Deterministic, so that finding or creating it needs no lookup: `int_funding_usd`.
    fn id(self, money: Money) -> String {
        format!(
            "int_{}_{}",
            self.purpose(),
            money.currency.as_str().to_ascii_lowercase()
        )
    }
}

/// What an entry is and why, as recorded in `sbx_entries`.
pub(crate) struct NewEntry<'a> {
    pub kind: &'static str,
    pub narrative: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub at_ms: i64,
}

/// Credits `amount` (positive) to a customer account from an internal account. Returns the entry id.
pub(crate) async fn credit_customer(
    conn: &mut AnyConnection,
    account_id: &str,
    from: InternalAccount,
    amount: Money,
    entry: &NewEntry<'_>,
) -> Result<String, SandboxError> {
    ensure_positive(amount)?;
    // The guard refuses a credit that would overflow the balance instead of letting SQLite turn it into
    // a float (PostgreSQL would raise an error).
    let updated = sqlx::query(
        "UPDATE sbx_accounts SET ledger_minor = ledger_minor + $1, available_minor = available_minor + $1, \
         updated_at = $2 WHERE id = $3 AND currency = $4 AND ledger_minor <= $5 AND available_minor <= $5",
    )
    .bind(amount.minor)
    .bind(entry.at_ms)
    .bind(account_id)
    .bind(amount.currency.as_str())
    .bind(i64::MAX.saturating_sub(amount.minor))
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(SandboxError::rejected(
            "AMOUNT_TOO_LARGE",
            "the balance would exceed what the account can hold",
        ));
    }
    post(conn, entry, amount, account_id, &from.id(amount), from).await
}

/// Debits `amount` (positive) from a customer account to an internal account, if the available balance
/// covers it. Returns the entry id, or `None` (having written nothing) when funds are short.
pub(crate) async fn debit_customer(
    conn: &mut AnyConnection,
    account_id: &str,
    to: InternalAccount,
    amount: Money,
    entry: &NewEntry<'_>,
) -> Result<Option<String>, SandboxError> {
    ensure_positive(amount)?;
    // Check and debit in one statement: the row lock (PostgreSQL) or the single writer (SQLite) makes
    // the comparison and the subtraction atomic.
    let updated = sqlx::query(
        "UPDATE sbx_accounts SET available_minor = available_minor - $1, ledger_minor = ledger_minor - $1, \
         updated_at = $2 WHERE id = $3 AND currency = $4 AND available_minor >= $1",
    )
    .bind(amount.minor)
    .bind(entry.at_ms)
    .bind(account_id)
    .bind(amount.currency.as_str())
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(None);
    }
    post(conn, entry, amount, &to.id(amount), account_id, to)
        .await
        .map(Some)
}

/// Writes the entry and its two postings: `amount` to `credit_account`, its negation to `debit_account`.
async fn post(
    conn: &mut AnyConnection,
    entry: &NewEntry<'_>,
    amount: Money,
    credit_account: &str,
    debit_account: &str,
    internal: InternalAccount,
) -> Result<String, SandboxError> {
    let debit = amount
        .checked_neg()
        .map_err(|e| SandboxError::Invariant(format!("cannot negate {amount}: {e}")))?;
    let postings = [(credit_account, amount), (debit_account, debit)];
    ensure_balanced(&postings)?;
    ensure_internal_account(conn, internal, amount, entry.at_ms).await?;
    let entry_id = new_id("ent");
    sqlx::query(
        "INSERT INTO sbx_entries (id, kind, narrative, idempotency_key, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&entry_id)
    .bind(entry.kind)
    .bind(entry.narrative)
    .bind(entry.idempotency_key)
    .bind(entry.at_ms)
    .execute(&mut *conn)
    .await?;
    for (account_id, money) in postings {
        sqlx::query("INSERT INTO sbx_postings (entry_id, account_id, amount_minor, currency) VALUES ($1, $2, $3, $4)")
            .bind(&entry_id)
            .bind(account_id)
            .bind(money.minor)
            .bind(money.currency.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(entry_id)
}

/// Callers validate amounts for the user's sake; this keeps a sign mistake from ever reaching the books.
fn ensure_positive(amount: Money) -> Result<(), SandboxError> {
    if amount.is_positive() {
        Ok(())
    } else {
        Err(SandboxError::Invariant(format!(
            "ledger movement of {amount} is not positive"
        )))
    }
}

/// The double-entry rule, checked before anything is written rather than trusted.
fn ensure_balanced(postings: &[(&str, Money)]) -> Result<(), SandboxError> {
    let mut totals: Vec<Money> = Vec::new();
    for (_, money) in postings {
        match totals.iter_mut().find(|t| t.currency == money.currency) {
            Some(total) => {
                *total = total
                    .checked_add(*money)
                    .map_err(|e| SandboxError::Invariant(e.to_string()))?;
            }
            None => totals.push(*money),
        }
    }
    match totals.iter().find(|t| t.minor != 0) {
        Some(off) => Err(SandboxError::Invariant(format!(
            "entry postings sum to {off}, not zero"
        ))),
        None => Ok(()),
    }
}

/// Creates the internal account on first use. `ON CONFLICT DO NOTHING` makes concurrent first uses safe
/// on both engines without a lookup.
async fn ensure_internal_account(
    conn: &mut AnyConnection,
    account: InternalAccount,
    money: Money,
    at_ms: i64,
) -> Result<(), SandboxError> {
    sqlx::query(
        "INSERT INTO sbx_internal_accounts (id, purpose, currency, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(account.id(money))
    .bind(account.purpose())
    .bind(money.currency.as_str())
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankgate_domain::Currency;

    #[test]
    fn balance_rule_is_per_currency() {
        let usd = |m| Money::new(m, Currency::USD);
        let eur = |m| Money::new(m, Currency::EUR);
        assert!(ensure_balanced(&[("a", usd(5)), ("b", usd(-5))]).is_ok());
        assert!(ensure_balanced(&[("a", usd(5)), ("b", usd(-4))]).is_err());
        assert!(ensure_balanced(&[("a", usd(5)), ("b", eur(-5))]).is_err());
    }

    #[test]
    fn internal_account_ids_are_per_currency() {
        let usd = Money::new(1, Currency::USD);
        assert_eq!(InternalAccount::Funding.id(usd), "int_funding_usd");
        assert_eq!(
            InternalAccount::CardSettlement.id(Money::new(1, Currency::EUR)),
            "int_card_settlement_eur"
        );
    }
}
