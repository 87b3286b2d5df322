//! The middleware's copy of account transactions, and the comments and labels users add to them.

use crate::cache::{refreshed, CacheTable, Extra, Incoming, OnNew};
use crate::events::EventKind;
use crate::json::{from_text, to_text};
use crate::{Result, Store, StoredTransaction, TransactionAnnotations};
use bankgate_backoffice::BoTransaction;
use bankgate_domain::ids::{AccountId, BackOfficeId, TransactionId, UserId};
use bankgate_domain::time_format::to_millis;
use sqlx::{query, query_as};
use time::OffsetDateTime;

const TRANSACTIONS: CacheTable = CacheTable {
    name: "transactions",
    extra_columns: &["account_id", "value_at"],
    new_id: || TransactionId::generate().into_string(),
    changed_event: EventKind::Transactions,
    new_event: EventKind::Transactions,
    on_new: OnNew::SendTransactionAlerts,
};

type TransactionRow = (String, String, String, String, String, String, i64);
const TRANSACTION_COLUMNS: &str =
    "id, user_id, account_id, back_office_id, data, user_data, refreshed_at";

fn transaction_from_row(row: TransactionRow) -> Result<StoredTransaction> {
    let (id, user, account, bo, data, annotations, refreshed_at) = row;
    Ok(StoredTransaction {
        id: TransactionId::from_trusted(id),
        user_id: UserId::from_trusted(user),
        account_id: AccountId::from_trusted(account),
        back_office_id: BackOfficeId::from_trusted(bo),
        transaction: from_text(&data)?,
        annotations: from_text(&annotations)?,
        refreshed_at: refreshed(refreshed_at),
    })
}

impl Store {
    /// Records transactions of one of the user's accounts as its back office just reported them.
    pub async fn record_transactions(
        &self,
        user: &UserId,
        account: &AccountId,
        back_office: &BackOfficeId,
        transactions: &[BoTransaction],
        at: OffsetDateTime,
    ) -> Result<Vec<StoredTransaction>> {
        let incoming = transactions
            .iter()
            .map(|t| {
                Ok(Incoming {
                    id_bo: t.id_bo.0.clone(),
                    data: to_text(t)?,
                    version: to_millis(t.completed_at.unwrap_or(t.recorded_at)),
                    extras: vec![
                        Extra::Text(account.as_str().to_owned()),
                        Extra::Int(to_millis(t.value_at)),
                    ],
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let recorded = self
            .record_objects(&TRANSACTIONS, user, back_office, &incoming, at)
            .await?;
        transactions
            .iter()
            .zip(recorded)
            .map(|(transaction, row)| {
                let object = row.object(transaction)?;
                let refreshed_at = row.refreshed_at(at);
                Ok(StoredTransaction {
                    id: TransactionId::from_trusted(row.id),
                    user_id: user.clone(),
                    account_id: account.clone(),
                    back_office_id: back_office.clone(),
                    transaction: object,
                    annotations: from_text(&row.user_data)?,
                    refreshed_at,
                })
            })
            .collect()
    }

    /// bankgate's id of the user's transaction `id_bo` at `back_office`, if it has been recorded.
    pub async fn transaction_id_by_bo(
        &self,
        user: &UserId,
        back_office: &BackOfficeId,
        id_bo: &str,
    ) -> Result<Option<TransactionId>> {
        let row: Option<(String,)> = query_as(
            "SELECT id FROM transactions WHERE back_office_id = $1 AND id_bo = $2 AND user_id = $3",
        )
        .bind(back_office.as_str())
        .bind(id_bo)
        .bind(user.as_str())
        .fetch_optional(self.db.read())
        .await?;
        Ok(row.map(|(id,)| TransactionId::from_trusted(id)))
    }

    /// One transaction of one of the user's accounts; None if it is not there.
    pub async fn get_transaction(
        &self,
        user: &UserId,
        account: &AccountId,
        id: &TransactionId,
    ) -> Result<Option<StoredTransaction>> {
        let sql = format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE id = $1 AND account_id = $2 AND user_id = $3"
        );
        let row: Option<TransactionRow> = query_as(&sql)
            .bind(id.as_str())
            .bind(account.as_str())
            .bind(user.as_str())
            .fetch_optional(self.db().read())
            .await?;
        row.map(transaction_from_row).transpose()
    }

    /// One of the user's transactions, whichever account it is on.
    pub async fn find_user_transaction(
        &self,
        user: &UserId,
        id: &TransactionId,
    ) -> Result<Option<StoredTransaction>> {
        let sql = format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE id = $1 AND user_id = $2"
        );
        let row: Option<TransactionRow> = query_as(&sql)
            .bind(id.as_str())
            .bind(user.as_str())
            .fetch_optional(self.db().read())
            .await?;
        row.map(transaction_from_row).transpose()
    }

    /// Stored transactions of an account valued in `[from, to]`, newest first, at most `limit`.
    pub async fn list_stored_transactions(
        &self,
        user: &UserId,
        account: &AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<StoredTransaction>> {
        let sql = format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE account_id = $1 AND user_id = $2 \
             AND value_at >= $3 AND value_at <= $4 ORDER BY value_at DESC, id LIMIT $5"
        );
        let rows: Vec<TransactionRow> = query_as(&sql)
            .bind(account.as_str())
            .bind(user.as_str())
            .bind(to_millis(from))
            .bind(to_millis(to))
            .bind(limit)
            .fetch_all(self.db().read())
            .await?;
        rows.into_iter().map(transaction_from_row).collect()
    }

    /// Saves the user's comment and labels on a transaction; false if it is not the user's.
    pub async fn set_transaction_annotations(
        &self,
        user: &UserId,
        id: &TransactionId,
        annotations: &TransactionAnnotations,
        at: OffsetDateTime,
    ) -> Result<bool> {
        let mut tx = self.db().write().begin().await?;
        let done = query("UPDATE transactions SET user_data = $3 WHERE id = $1 AND user_id = $2")
            .bind(id.as_str())
            .bind(user.as_str())
            .bind(to_text(annotations)?)
            .execute(&mut *tx)
            .await?;
        let found = done.rows_affected() == 1;
        let subjects: &[&str] = if found { &[id.as_str()] } else { &[] };
        self.commit_with_events(tx, user, EventKind::Transactions, subjects, at)
            .await?;
        self.forget_copies(&TRANSACTIONS);
        Ok(found)
    }
}
