//! Customer-visible transactions: the statement lines of an account, each recorded in the same database
//! transaction as the ledger entry it describes, and the two ways of listing them.

use crate::error::SandboxError;
use crate::numbers::new_id;
use crate::rows::TransactionRow;
use bankgate_backoffice::{BoTransaction, FxDetail, TransactionQuery, TransactionState};
use bankgate_db::Conn;
use bankgate_domain::ids::random_base36;
use bankgate_domain::time_format::to_millis;
use bankgate_domain::Money;
use time::{Date, OffsetDateTime, Time};

/// A statement line to record. `amount` is signed from the customer's side: negative for a debit.
pub(crate) struct NewTransaction<'a> {
    pub account_id: &'a str,
    pub entry_id: &'a str,
    pub amount: Money,
    pub txn_type: &'static str,
    pub type_name: &'static str,
    pub narrative: &'a str,
    pub card_id: Option<&'a str>,
    pub mcc: Option<&'a str>,
    /// The caller's end-to-end reference; movements nobody asked for by reference get a random one.
    pub reference: Option<&'a str>,
    /// The conversion, for a line whose movement changed currency.
    pub fx: Option<FxDetail>,
    pub recorded_at_ms: i64,
    pub value_at_ms: i64,
}

/// Records a settled (confirmed) transaction and returns it as stored.
pub(crate) async fn record(
    conn: &mut Conn,
    new: &NewTransaction<'_>,
) -> Result<BoTransaction, SandboxError> {
    let id = new_id("tx");
    let reference = new
        .reference
        .map_or_else(|| random_base36(12), str::to_owned);
    let sql = format!(
        "INSERT INTO sbx_transactions (id, account_id, entry_id, amount_minor, currency, txn_type, type_name, \
         narrative, state, card_id, mcc, reference, recorded_at, value_at, completed_at, fx_rate, \
         fx_counter_minor, fx_counter_currency) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         RETURNING {}",
        TransactionRow::COLUMNS
    );
    let row: TransactionRow = sqlx::query_as(&sql)
        .bind(&id)
        .bind(new.account_id)
        .bind(new.entry_id)
        .bind(new.amount.minor)
        .bind(new.amount.currency.as_str())
        .bind(new.txn_type)
        .bind(new.type_name)
        .bind(new.narrative)
        .bind(TransactionState::Confirmed.as_str())
        .bind(new.card_id)
        .bind(new.mcc)
        .bind(reference)
        .bind(new.recorded_at_ms)
        .bind(new.value_at_ms)
        // Everything the sandbox records settles at once.
        .bind(new.recorded_at_ms)
        // The rate as its exact decimal text: a float column would not give back the rate that was applied.
        .bind(new.fx.map(|fx| fx.rate.to_decimal_string()))
        .bind(new.fx.map(|fx| fx.counter_amount.minor))
        .bind(
            new.fx
                .map(|fx| fx.counter_amount.currency.as_str().to_owned()),
        )
        .fetch_one(&mut *conn)
        .await?;
    row.into_transaction()
}

/// An account's transactions, newest value time first (ties: newest recorded first).
pub(crate) async fn list(
    conn: &mut Conn,
    account_id: &str,
    query: &TransactionQuery,
) -> Result<Vec<BoTransaction>, SandboxError> {
    let rows: Vec<TransactionRow> = match *query {
        TransactionQuery::Latest { limit, since } => {
            let sql = format!(
                "{} WHERE account_id = $1 AND value_at >= $2 ORDER BY value_at DESC, seq DESC LIMIT $3",
                TransactionRow::SELECT
            );
            sqlx::query_as(&sql)
                .bind(account_id)
                .bind(to_millis(since))
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?
        }
        TransactionQuery::Range { from, to } => {
            let sql = format!(
                "{} WHERE account_id = $1 AND value_at >= $2 AND value_at < $3 ORDER BY value_at DESC, seq DESC",
                TransactionRow::SELECT
            );
            sqlx::query_as(&sql)
                .bind(account_id)
                .bind(start_of_day_ms(from))
                .bind(end_of_day_ms(to))
                .fetch_all(&mut *conn)
                .await?
        }
    };
    rows.into_iter()
        .map(TransactionRow::into_transaction)
        .collect()
}

fn start_of_day_ms(day: Date) -> i64 {
    to_millis(OffsetDateTime::new_utc(day, Time::MIDNIGHT))
}

/// The exclusive end of `day` (UTC): the next midnight, or the end of time on the calendar's last day.
fn end_of_day_ms(day: Date) -> i64 {
    day.next_day().map_or(i64::MAX, start_of_day_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn days_are_utc_and_end_exclusive() {
        assert_eq!(
            start_of_day_ms(date!(2024 - 03 - 05)),
            to_millis(datetime!(2024-03-05 00:00 UTC))
        );
        assert_eq!(
            end_of_day_ms(date!(2024 - 03 - 05)),
            to_millis(datetime!(2024-03-06 00:00 UTC))
        );
        assert_eq!(end_of_day_ms(Date::MAX), i64::MAX);
    }
}
