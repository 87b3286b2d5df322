//! The ledger's self-check: does every currency's books sum to zero, does every entry balance, and does
//! every customer account's stored balance equal the sum of its postings? Tests and operators read it;
//! nothing in the sandbox acts on it.

use crate::error::SandboxError;
use bankgate_db::{Db, Engine};
use bankgate_domain::ids::BoRef;
use bankgate_domain::Currency;
use std::collections::BTreeMap;

/// A snapshot of the ledger's invariants. A healthy ledger has all totals at zero and both lists empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerReport {
    /// The sum of every posting, per currency. Double entry makes each one 0.
    pub currency_totals: BTreeMap<Currency, i64>,
    /// Entries whose own postings do not sum to zero in some currency.
    pub unbalanced_entries: Vec<String>,
    /// Customer accounts whose stored balances differ from the sum of their postings.
    pub mismatched_accounts: Vec<AccountMismatch>,
}

/// One customer account whose materialized balances disagree with its postings. The sandbox settles card
/// purchases at once (it places no holds), so both the ledger and the available balance must equal the
/// postings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountMismatch {
    pub account: BoRef,
    pub ledger_minor: i64,
    pub available_minor: i64,
    pub postings_minor: i64,
}

impl LedgerReport {
    /// Whether every invariant holds.
    pub fn is_clean(&self) -> bool {
        self.currency_totals.values().all(|total| *total == 0)
            && self.unbalanced_entries.is_empty()
            && self.mismatched_accounts.is_empty()
    }
}

/// Reads all three checks from one snapshot, so a report taken while payments flow is still coherent.
pub(crate) async fn ledger_report(db: &Db) -> Result<LedgerReport, SandboxError> {
    let mut tx = db.read().begin().await?;
    if db.engine() == Engine::Postgres {
        // PostgreSQL's default gives each statement its own snapshot; SQLite's WAL readers already keep one.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *tx)
            .await?;
    }
    let report = LedgerReport {
        currency_totals: currency_totals(&mut tx).await?,
        unbalanced_entries: unbalanced_entries(&mut tx).await?,
        mismatched_accounts: mismatched_accounts(&mut tx).await?,
    };
    tx.rollback().await?;
    Ok(report)
}

async fn currency_totals(
    conn: &mut bankgate_db::Conn,
) -> Result<BTreeMap<Currency, i64>, SandboxError> {
    // PostgreSQL's SUM(bigint) is NUMERIC, which the Any driver cannot decode: hence the CAST.
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT currency, COALESCE(CAST(SUM(amount_minor) AS BIGINT), 0) FROM sbx_postings GROUP BY currency",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(code, total)| {
            Ok((
                Currency::parse(&code).map_err(SandboxError::corrupt)?,
                total,
            ))
        })
        .collect()
}

async fn unbalanced_entries(conn: &mut bankgate_db::Conn) -> Result<Vec<String>, SandboxError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT entry_id FROM sbx_postings GROUP BY entry_id, currency HAVING SUM(amount_minor) <> 0 \
         ORDER BY entry_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

async fn mismatched_accounts(
    conn: &mut bankgate_db::Conn,
) -> Result<Vec<AccountMismatch>, SandboxError> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT a.id, a.ledger_minor, a.available_minor, COALESCE(CAST(SUM(p.amount_minor) AS BIGINT), 0) \
         FROM sbx_accounts a LEFT JOIN sbx_postings p ON p.account_id = a.id \
         GROUP BY a.id, a.ledger_minor, a.available_minor ORDER BY a.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, ledger, available, postings)| ledger != postings || available != postings)
        .map(
            |(id, ledger_minor, available_minor, postings_minor)| AccountMismatch {
                account: BoRef(id),
                ledger_minor,
                available_minor,
                postings_minor,
            },
        )
        .collect())
}
