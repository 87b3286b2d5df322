//! Customers: the people who hold accounts and cards. The sandbox keeps only what it needs to know who
//! owns what.

use crate::error::SandboxError;
use crate::idempotency::{Begun, IdempotentCall};
use crate::numbers::new_id;
use crate::Sandbox;
use async_trait::async_trait;
use bankgate_backoffice::{BackOfficeError, CustomersApi, IdempotencyKey, NewCustomer};
use bankgate_db::Conn;
use bankgate_domain::ids::BoRef;

#[async_trait]
impl CustomersApi for Sandbox {
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        key: &IdempotencyKey,
    ) -> Result<BoRef, BackOfficeError> {
        Ok(self.create_customer_once(customer, key).await?)
    }
}

impl Sandbox {
    async fn create_customer_once(
        &self,
        customer: &NewCustomer,
        key: &IdempotencyKey,
    ) -> Result<BoRef, SandboxError> {
        let call = IdempotentCall::new("create_customer", key);
        let mut tx = match call.begin(&self.db).await? {
            Begun::Replayed(id) => return Ok(id),
            Begun::Fresh(tx) => tx,
        };
        let id = new_id("cus");
        let now = self.now_ms();
        sqlx::query("INSERT INTO sbx_customers (id, first_name, last_name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(&customer.first_name)
            .bind(&customer.last_name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        call.finish(&self.db, tx, BoRef(id), now).await
    }
}

/// Fails with `NotFound("customer")` unless the customer exists.
pub(crate) async fn ensure_customer(conn: &mut Conn, customer: &BoRef) -> Result<(), SandboxError> {
    let found: Option<(String,)> = sqlx::query_as("SELECT id FROM sbx_customers WHERE id = $1")
        .bind(customer.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    found.map(|_| ()).ok_or(SandboxError::NotFound("customer"))
}
