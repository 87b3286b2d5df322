//! The double-entry ledger. Money only moves here: every entry is a set of postings that sums to zero
//! per currency, and a customer account's materialized balances change in the same transaction as its
//! postings. Debits are guarded updates, so no interleaving of concurrent debits can overdraw an account.
//!
//! The counterparts of customer movements are the bank's internal accounts, one per purpose and currency,
//! created the first time they are needed. A conversion passes through the FX position accounts of both
//! currencies, so even an entry that changes currency balances in each currency on its own.

use crate::error::SandboxError;
use crate::numbers::new_id;
use bankgate_db::Conn;
use bankgate_domain::{Currency, Money};

/// The bank's own side of a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InternalAccount {
    /// Where money arriving from outside the bank comes from (the counterpart of deposits).
    Funding,
    /// What the bank owes card networks for approved purchases.
    CardSettlement,
    /// What the bank owes, or is owed by, other back offices for transfers whose other leg is there.
    Settlement,
    /// Payments sent out of the bank and not yet cleared by their rail.
    Payouts,
    /// The bank's position from conversions: it holds the currency it bought and owes the one it sold.
    FxPosition,
}

impl InternalAccount {
    fn purpose(self) -> &'static str {
        match self {
            InternalAccount::Funding => "funding",
            InternalAccount::CardSettlement => "card_settlement",
            InternalAccount::Settlement => "settlement",
            InternalAccount::Payouts => "payouts",
            InternalAccount::FxPosition => "fx_position",
        }
    }

    /// Deterministic, so that finding or creating it needs no lookup: `int_funding_usd`.
    fn id(self, currency: Currency) -> String {
        format!(
            "int_{}_{}",
            self.purpose(),
            currency.as_str().to_ascii_lowercase()
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

/// Whose books a posting is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Book<'a> {
    /// A customer account (`sbx_accounts`), whose stored balances move with the posting.
    Customer(&'a str),
    /// The bank's internal account for the posting's currency.
    Internal(InternalAccount),
}

/// One line of an entry: `amount` is signed, positive for a credit to `book`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Posting<'a> {
    pub book: Book<'a>,
    pub amount: Money,
}

/// Why an entry was not posted, as opposed to a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unposted {
    /// A customer debit was not covered by the available balance.
    InsufficientFunds,
}

/// Credits `amount` (positive) to a customer account from an internal account. Returns the entry id.
pub(crate) async fn credit_customer(
    conn: &mut Conn,
    account_id: &str,
    from: InternalAccount,
    amount: Money,
    entry: &NewEntry<'_>,
) -> Result<String, SandboxError> {
    ensure_positive(amount)?;
    let postings = [
        Posting {
            book: Book::Customer(account_id),
            amount,
        },
        Posting {
            book: Book::Internal(from),
            amount: negated(amount)?,
        },
    ];
    // Nothing here debits a customer, so the only way not to post is an error.
    post(conn, entry, &postings).await?.map_err(|unposted| {
        SandboxError::Invariant(format!("a credit was not posted: {unposted:?}"))
    })
}

/// Debits `amount` (positive) from a customer account to an internal account, if the available balance
/// covers it. Returns the entry id, or `None` when funds are short (the caller must then not commit).
pub(crate) async fn debit_customer(
    conn: &mut Conn,
    account_id: &str,
    to: InternalAccount,
    amount: Money,
    entry: &NewEntry<'_>,
) -> Result<Option<String>, SandboxError> {
    ensure_positive(amount)?;
    let postings = [
        Posting {
            book: Book::Customer(account_id),
            amount: negated(amount)?,
        },
        Posting {
            book: Book::Internal(to),
            amount,
        },
    ];
    Ok(post(conn, entry, &postings).await?.ok())
}

/// Posts one balanced entry: moves every customer account's stored balances (debits guarded), creates
/// the internal accounts it names, and writes the entry with its postings. Returns the entry id, or
/// [`Unposted`] when a debit is not covered; earlier updates may then stand in the transaction, so the
/// caller must roll it back (every refusal returns before its commit).
pub(crate) async fn post(
    conn: &mut Conn,
    entry: &NewEntry<'_>,
    postings: &[Posting<'_>],
) -> Result<Result<String, Unposted>, SandboxError> {
    let mut rows: Vec<(String, Money)> = Vec::with_capacity(postings.len());
    for posting in postings {
        if posting.amount.minor == 0 {
            return Err(SandboxError::Invariant("a posting of zero".into()));
        }
        let account_id = match posting.book {
            Book::Customer(id) => id.to_owned(),
            Book::Internal(internal) => internal.id(posting.amount.currency),
        };
        rows.push((account_id, posting.amount));
    }
    ensure_balanced(&rows)?;
    // Rows are locked in one global order (customer accounts by id, then internal accounts by id), so
    // two entries touching the same accounts in opposite directions wait for each other on PostgreSQL
    // instead of deadlocking.
    let mut customers: Vec<(&str, Money)> = postings
        .iter()
        .filter_map(|p| match p.book {
            Book::Customer(id) => Some((id, p.amount)),
            Book::Internal(_) => None,
        })
        .collect();
    customers.sort_by(|a, b| a.0.cmp(b.0));
    for &(account_id, amount) in &customers {
        if let Err(unposted) = move_customer_balance(conn, account_id, amount, entry.at_ms).await? {
            return Ok(Err(unposted));
        }
    }
    let mut internals: Vec<(String, InternalAccount, Currency)> = postings
        .iter()
        .filter_map(|p| match p.book {
            Book::Internal(internal) => {
                Some((internal.id(p.amount.currency), internal, p.amount.currency))
            }
            Book::Customer(_) => None,
        })
        .collect();
    internals.sort_by(|a, b| a.0.cmp(&b.0));
    internals.dedup_by(|a, b| a.0 == b.0);
    for (id, internal, currency) in &internals {
        ensure_internal_account(conn, id, *internal, *currency, entry.at_ms).await?;
    }
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
    // All postings in one statement: each statement is a round trip to the database.
    let values = (0..rows.len())
        .map(|i| format!("($1, ${}, ${}, ${})", 3 * i + 2, 3 * i + 3, 3 * i + 4))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO sbx_postings (entry_id, account_id, amount_minor, currency) VALUES {values}"
    );
    let mut insert = sqlx::query(&sql).bind(&entry_id);
    for (account_id, money) in &rows {
        insert = insert
            .bind(account_id)
            .bind(money.minor)
            .bind(money.currency.as_str());
    }
    insert.execute(&mut *conn).await?;
    let changed: Vec<&str> = customers.iter().map(|(id, _)| *id).collect();
    crate::changes::accounts_changed(conn, &changed, entry.at_ms).await?;
    Ok(Ok(entry_id))
}

/// Applies one signed posting to a customer account's stored balances.
async fn move_customer_balance(
    conn: &mut Conn,
    account_id: &str,
    amount: Money,
    at_ms: i64,
) -> Result<Result<(), Unposted>, SandboxError> {
    if amount.minor < 0 {
        let debit = negated(amount)?;
        // Check and debit in one statement: the row lock (PostgreSQL) or the single writer (SQLite)
        // makes the comparison and the subtraction atomic.
        let updated = sqlx::query(
            "UPDATE sbx_accounts SET available_minor = available_minor - $1, ledger_minor = ledger_minor - $1, \
             updated_at = $2 WHERE id = $3 AND currency = $4 AND available_minor >= $1",
        )
        .bind(debit.minor)
        .bind(at_ms)
        .bind(account_id)
        .bind(debit.currency.as_str())
        .execute(&mut *conn)
        .await?;
        return Ok(if updated.rows_affected() == 1 {
            Ok(())
        } else {
            Err(Unposted::InsufficientFunds)
        });
    }
    // The guard refuses a credit that would overflow the balance instead of letting SQLite turn it into
    // a float (PostgreSQL would raise an error).
    let updated = sqlx::query(
        "UPDATE sbx_accounts SET ledger_minor = ledger_minor + $1, available_minor = available_minor + $1, \
         updated_at = $2 WHERE id = $3 AND currency = $4 AND ledger_minor <= $5 AND available_minor <= $5",
    )
    .bind(amount.minor)
    .bind(at_ms)
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
    Ok(Ok(()))
}

/// `-amount`, which only fails for `i64::MIN` minor units.
pub(crate) fn negated(amount: Money) -> Result<Money, SandboxError> {
    amount
        .checked_neg()
        .map_err(|e| SandboxError::Invariant(format!("cannot negate {amount}: {e}")))
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
fn ensure_balanced(postings: &[(String, Money)]) -> Result<(), SandboxError> {
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
    conn: &mut Conn,
    id: &str,
    account: InternalAccount,
    currency: Currency,
    at_ms: i64,
) -> Result<(), SandboxError> {
    sqlx::query(
        "INSERT INTO sbx_internal_accounts (id, purpose, currency, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(account.purpose())
    .bind(currency.as_str())
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(postings: &[(&str, Money)]) -> Vec<(String, Money)> {
        postings
            .iter()
            .map(|(a, m)| ((*a).to_owned(), *m))
            .collect()
    }

    #[test]
    fn balance_rule_is_per_currency() {
        let usd = |m| Money::new(m, Currency::USD);
        let eur = |m| Money::new(m, Currency::EUR);
        assert!(ensure_balanced(&rows(&[("a", usd(5)), ("b", usd(-5))])).is_ok());
        assert!(ensure_balanced(&rows(&[("a", usd(5)), ("b", usd(-4))])).is_err());
        assert!(ensure_balanced(&rows(&[("a", usd(5)), ("b", eur(-5))])).is_err());
        // A conversion through the FX positions balances in each currency on its own.
        let converted = [
            ("from", usd(-100)),
            ("fx_usd", usd(100)),
            ("fx_eur", eur(-92)),
            ("to", eur(92)),
        ];
        assert!(ensure_balanced(&rows(&converted)).is_ok());
        let leaky = [("from", usd(-100)), ("to", eur(92))];
        assert!(ensure_balanced(&rows(&leaky)).is_err());
    }

    #[test]
    fn internal_account_ids_are_per_currency() {
        assert_eq!(
            InternalAccount::Funding.id(Currency::USD),
            "int_funding_usd"
        );
        assert_eq!(
            InternalAccount::CardSettlement.id(Currency::EUR),
            "int_card_settlement_eur"
        );
        assert_eq!(
            InternalAccount::FxPosition.id(Currency::EUR),
            "int_fx_position_eur"
        );
    }
}
