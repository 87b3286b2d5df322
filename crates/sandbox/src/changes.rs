//! The sandbox's change feed (`ChangesApi`): a numbered row per change a customer could see, written in
//! the transaction that makes it. Postings note their customer accounts (in `ledger`), a rename its
//! account (in `accounts`), a card issued or changed its card (in `cards`).

use crate::{Sandbox, SandboxError};
use async_trait::async_trait;
use bankgate_backoffice::{BackOfficeError, BoChange, ChangedObject, ChangesApi};
use bankgate_db::Conn;
use bankgate_domain::ids::BoRef;
use bankgate_domain::time_format::from_millis;
use sqlx::{query, query_as};

const ACCOUNT: &str = "account";
const CARD: &str = "card";

/// Notes that customer accounts `account_ids` changed, in one statement, in id order.
pub(crate) async fn accounts_changed(
    conn: &mut Conn,
    account_ids: &[&str],
    at_ms: i64,
) -> Result<(), SandboxError> {
    if account_ids.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (0..account_ids.len())
        .map(|i| format!("${}", i + 3))
        .collect();
    let sql = format!(
        "INSERT INTO sbx_changes (customer_id, kind, object_id, created_at) \
         SELECT customer_id, $1, id, $2 FROM sbx_accounts WHERE id IN ({}) ORDER BY id",
        placeholders.join(", ")
    );
    let mut insert = query(&sql).bind(ACCOUNT).bind(at_ms);
    for id in account_ids {
        insert = insert.bind(*id);
    }
    insert.execute(&mut *conn).await?;
    Ok(())
}

/// Notes that card `card_id` changed.
pub(crate) async fn card_changed(
    conn: &mut Conn,
    card_id: &str,
    at_ms: i64,
) -> Result<(), SandboxError> {
    query(
        "INSERT INTO sbx_changes (customer_id, kind, object_id, created_at) \
         SELECT a.customer_id, $1, c.id, $2 FROM sbx_cards c JOIN sbx_accounts a ON a.id = c.account_id \
         WHERE c.id = $3",
    )
    .bind(CARD)
    .bind(at_ms)
    .bind(card_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl ChangesApi for Sandbox {
    async fn changes_since(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<BoChange>, BackOfficeError> {
        let rows: Vec<(i64, String, String, String, i64)> = query_as(
            "SELECT seq, customer_id, kind, object_id, created_at FROM sbx_changes WHERE seq > $1 \
             ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit.min(1_000)))
        .fetch_all(self.db.read())
        .await
        .map_err(SandboxError::from)?;
        rows.into_iter()
            .map(|(seq, customer, kind, object, at)| {
                let object = match kind.as_str() {
                    ACCOUNT => ChangedObject::Account(BoRef(object)),
                    CARD => ChangedObject::Card(BoRef(object)),
                    other => {
                        return Err(SandboxError::Invariant(format!("change kind {other}")).into())
                    }
                };
                Ok(BoChange {
                    seq,
                    customer_id_bo: BoRef(customer),
                    object,
                    at: from_millis(at),
                })
            })
            .collect()
    }
}
