//! Deposit accounts: opening, reading, renaming, statements, and deposits (money arriving from outside
//! the bank, booked against the funding account).

use crate::customers::ensure_customer;
use crate::error::SandboxError;
use crate::idempotency::{Begun, IdempotentCall};
use crate::ledger::{self, InternalAccount, NewEntry};
use crate::numbers::{draw_unused, new_id, random_account_number};
use crate::rows::AccountRow;
use crate::transactions::{self, NewTransaction};
use crate::Sandbox;
use async_trait::async_trait;
use bankgate_backoffice::{
    AccountStatus, AccountsApi, BackOfficeError, BoAccount, BoTransaction, Deposit, IdempotencyKey,
    OpenAccount, TransactionQuery,
};
use bankgate_db::Conn;
use bankgate_domain::ids::BoRef;
use bankgate_domain::time_format::to_millis;

#[async_trait]
impl AccountsApi for Sandbox {
    async fn list_accounts(&self, customer: &BoRef) -> Result<Vec<BoAccount>, BackOfficeError> {
        Ok(self.list_accounts_of(customer).await?)
    }

    async fn get_account(&self, account: &BoRef) -> Result<BoAccount, BackOfficeError> {
        let mut conn = self.db.read().acquire().await.map_err(SandboxError::from)?;
        Ok(fetch_account(&mut conn, account.as_str()).await?)
    }

    async fn open_account(
        &self,
        customer: &BoRef,
        request: &OpenAccount,
        key: &IdempotencyKey,
    ) -> Result<BoAccount, BackOfficeError> {
        Ok(self.open_account_once(customer, request, key).await?)
    }

    async fn rename_account(
        &self,
        account: &BoRef,
        name: &str,
    ) -> Result<BoAccount, BackOfficeError> {
        Ok(self.rename(account, name).await?)
    }

    async fn list_transactions(
        &self,
        account: &BoRef,
        query: &TransactionQuery,
    ) -> Result<Vec<BoTransaction>, BackOfficeError> {
        let mut conn = self.db.read().acquire().await.map_err(SandboxError::from)?;
        fetch_account(&mut conn, account.as_str()).await?;
        Ok(transactions::list(&mut conn, account.as_str(), query).await?)
    }

    async fn deposit(
        &self,
        account: &BoRef,
        deposit: &Deposit,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction, BackOfficeError> {
        Ok(self.deposit_once(account, deposit, key).await?)
    }
}

impl Sandbox {
    /// The customer's accounts: as last read while nothing was written since, or read now.
    async fn list_accounts_of(&self, customer: &BoRef) -> Result<Vec<BoAccount>, SandboxError> {
        let writes = self.db.write_generation();
        let before = writes.current();
        if let Some(accounts) = self.account_lists.get(customer, before) {
            return Ok(accounts);
        }
        let accounts = self.read_accounts_of(customer).await?;
        if writes.current() == before {
            self.account_lists.keep(customer, before, &accounts);
        }
        Ok(accounts)
    }

    async fn read_accounts_of(&self, customer: &BoRef) -> Result<Vec<BoAccount>, SandboxError> {
        let mut conn = self.db.read().acquire().await?;
        let sql = format!(
            "{} WHERE customer_id = $1 ORDER BY opened_at, seq",
            AccountRow::SELECT
        );
        let rows: Vec<AccountRow> = sqlx::query_as(&sql)
            .bind(customer.as_str())
            .fetch_all(&mut *conn)
            .await?;
        // A customer with accounts exists; only an empty answer needs telling apart from an unknown one.
        if rows.is_empty() {
            ensure_customer(&mut conn, customer).await?;
        }
        rows.into_iter().map(AccountRow::into_account).collect()
    }

    async fn open_account_once(
        &self,
        customer: &BoRef,
        request: &OpenAccount,
        key: &IdempotencyKey,
    ) -> Result<BoAccount, SandboxError> {
        let call = IdempotentCall::new("open_account", key);
        let mut tx = match call.begin(&self.db).await? {
            Begun::Replayed(account) => return Ok(account),
            Begun::Fresh(tx) => tx,
        };
        ensure_customer(&mut tx, customer).await?;
        let number = draw_unused(
            &mut tx,
            "SELECT id FROM sbx_accounts WHERE number = $1",
            random_account_number,
        )
        .await?;
        let id = new_id("acc");
        let now = self.now_ms();
        sqlx::query(
            "INSERT INTO sbx_accounts (id, customer_id, name, type_id, number, routing_number, currency, \
             ledger_minor, available_minor, status, is_closed, opened_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8, 0, $9, $9)",
        )
        .bind(&id)
        .bind(customer.as_str())
        .bind(&request.name)
        .bind(&request.type_id)
        .bind(&number)
        .bind(&self.routing_number)
        .bind(request.currency.as_str())
        .bind(AccountStatus::Active.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let account = fetch_account(&mut tx, &id).await?;
        call.finish(&self.db, tx, account, now).await
    }

    async fn rename(&self, account: &BoRef, name: &str) -> Result<BoAccount, SandboxError> {
        let mut tx = self.db.write().begin().await?;
        let updated =
            sqlx::query("UPDATE sbx_accounts SET name = $1, updated_at = $2 WHERE id = $3")
                .bind(name)
                .bind(self.now_ms())
                .bind(account.as_str())
                .execute(&mut *tx)
                .await?;
        if updated.rows_affected() == 0 {
            return Err(SandboxError::NotFound("account"));
        }
        crate::changes::accounts_changed(&mut tx, &[account.as_str()], self.now_ms()).await?;
        let renamed = fetch_account(&mut tx, account.as_str()).await?;
        tx.commit().await?;
        Ok(renamed)
    }

    async fn deposit_once(
        &self,
        account: &BoRef,
        deposit: &Deposit,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction, SandboxError> {
        if !deposit.amount.is_positive() {
            let message = "a deposit must be a positive amount";
            return Err(SandboxError::rejected("INVALID_AMOUNT", message));
        }
        let call = IdempotentCall::new("deposit", key);
        let mut tx = match call.begin(&self.db).await? {
            Begun::Replayed(transaction) => return Ok(transaction),
            Begun::Fresh(tx) => tx,
        };
        let now = self.now_ms();
        let transaction = book_deposit(&mut tx, account, deposit, call.key(), now).await?;
        call.finish(&self.db, tx, transaction, now).await
    }
}

/// Credits the account from the funding account and records the statement line.
async fn book_deposit(
    conn: &mut Conn,
    account: &BoRef,
    deposit: &Deposit,
    key: &str,
    now: i64,
) -> Result<BoTransaction, SandboxError> {
    let target = fetch_account(conn, account.as_str()).await?;
    if target.ledger.currency != deposit.amount.currency {
        let message = format!(
            "the account holds {}, not {}",
            target.ledger.currency, deposit.amount.currency
        );
        return Err(SandboxError::rejected("CURRENCY_MISMATCH", message));
    }
    let entry = NewEntry {
        kind: "deposit",
        narrative: &deposit.narrative,
        idempotency_key: Some(key),
        at_ms: now,
    };
    let funding = InternalAccount::Funding;
    let entry_id =
        ledger::credit_customer(conn, account.as_str(), funding, deposit.amount, &entry).await?;
    let line = NewTransaction {
        account_id: account.as_str(),
        entry_id: &entry_id,
        amount: deposit.amount,
        txn_type: "deposit",
        type_name: "Deposit",
        narrative: &deposit.narrative,
        card_id: None,
        mcc: None,
        reference: None,
        fx: None,
        recorded_at_ms: now,
        value_at_ms: to_millis(deposit.value_at),
    };
    transactions::record(conn, &line).await
}

/// One customer account, or `NotFound("account")`. Internal accounts live elsewhere and are never found.
pub(crate) async fn fetch_account(conn: &mut Conn, id: &str) -> Result<BoAccount, SandboxError> {
    let sql = format!("{} WHERE id = $1", AccountRow::SELECT);
    let row: Option<AccountRow> = sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.ok_or(SandboxError::NotFound("account"))?.into_account()
}
