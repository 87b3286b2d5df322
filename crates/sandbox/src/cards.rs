//! Payment cards: issuing, reading, and the controls a cardholder has (activation, the on/off switch,
//! PIN, reissue, restrictions). The full PAN is written when a card number is drawn and never read back;
//! every card leaves the sandbox masked.

use crate::accounts::fetch_account;
use crate::customers::ensure_customer;
use crate::error::SandboxError;
use crate::idempotency::{Begun, IdempotentCall};
use crate::numbers::{draw_unused, new_id, random_pan};
use crate::pin::hash_pin;
use crate::rows::CardRow;
use crate::Sandbox;
use async_trait::async_trait;
use bankgate_backoffice::{BackOfficeError, BoCard, CardsApi, IdempotencyKey, IssueCard};
use bankgate_db::Conn;
use bankgate_domain::card::{Expiry, Pin, ReissueReason};
use bankgate_domain::ids::BoRef;
use bankgate_domain::mask::MaskedPan;
use bankgate_domain::restrictions::{CardRestrictions, RestrictionUpdate};

/// How long a newly issued or reissued card is valid.
const CARD_VALIDITY_YEARS: i32 = 3;
const PAN_TAKEN_SQL: &str = "SELECT id FROM sbx_cards WHERE pan = $1";

/// A bound single-row `UPDATE sbx_cards` statement.
type CardUpdate<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

#[async_trait]
impl CardsApi for Sandbox {
    async fn list_cards(&self, customer: &BoRef) -> Result<Vec<BoCard>, BackOfficeError> {
        Ok(self.list_cards_of(customer).await?)
    }

    async fn get_card(&self, card: &BoRef) -> Result<BoCard, BackOfficeError> {
        let mut conn = self.db.read().acquire().await.map_err(SandboxError::from)?;
        Ok(fetch_card(&mut conn, card.as_str()).await?)
    }

    async fn issue_card(
        &self,
        account: &BoRef,
        request: &IssueCard,
        key: &IdempotencyKey,
    ) -> Result<BoCard, BackOfficeError> {
        Ok(self.issue_card_once(account, request, key).await?)
    }

    async fn activate_card(&self, card: &BoRef) -> Result<BoCard, BackOfficeError> {
        // Only a card not yet activated changes, so activating twice keeps the first activation time.
        let sql = "UPDATE sbx_cards SET activated = 1, activated_at = $1, updated_at = $1 \
                   WHERE id = $2 AND activated = 0";
        let query = sqlx::query(sql).bind(self.now_ms()).bind(card.as_str());
        Ok(self.update_card(card, query).await?)
    }

    async fn set_card_enabled(
        &self,
        card: &BoRef,
        enabled: bool,
    ) -> Result<BoCard, BackOfficeError> {
        let sql = "UPDATE sbx_cards SET enabled = $1, updated_at = $2 WHERE id = $3";
        let query = sqlx::query(sql)
            .bind(i64::from(enabled))
            .bind(self.now_ms())
            .bind(card.as_str());
        Ok(self.update_card(card, query).await?)
    }

    async fn set_pin(&self, card: &BoRef, pin: &Pin) -> Result<(), BackOfficeError> {
        let hash = hash_pin(pin).await?;
        let sql = "UPDATE sbx_cards SET pin_hash = $1, updated_at = $2 WHERE id = $3";
        let query = sqlx::query(sql)
            .bind(hash)
            .bind(self.now_ms())
            .bind(card.as_str());
        self.update_card(card, query).await?;
        Ok(())
    }

    async fn reissue_card(
        &self,
        card: &BoRef,
        reason: ReissueReason,
    ) -> Result<BoCard, BackOfficeError> {
        Ok(self.reissue(card, reason).await?)
    }

    async fn update_restrictions(
        &self,
        card: &BoRef,
        update: &RestrictionUpdate,
    ) -> Result<BoCard, BackOfficeError> {
        Ok(self.restrict(card, update).await?)
    }
}

impl Sandbox {
    async fn list_cards_of(&self, customer: &BoRef) -> Result<Vec<BoCard>, SandboxError> {
        let mut conn = self.db.read().acquire().await?;
        let sql = format!(
            "{} WHERE a.customer_id = $1 ORDER BY c.issued_at, c.seq",
            CardRow::SELECT
        );
        let rows: Vec<CardRow> = sqlx::query_as(&sql)
            .bind(customer.as_str())
            .fetch_all(&mut *conn)
            .await?;
        // Only an empty answer needs telling apart from an unknown customer.
        if rows.is_empty() {
            ensure_customer(&mut conn, customer).await?;
        }
        rows.into_iter().map(CardRow::into_card).collect()
    }

    async fn issue_card_once(
        &self,
        account: &BoRef,
        request: &IssueCard,
        key: &IdempotencyKey,
    ) -> Result<BoCard, SandboxError> {
        let call = IdempotentCall::new("issue_card", key);
        let mut tx = match call.begin(&self.db).await? {
            Begun::Replayed(card) => return Ok(card),
            Begun::Fresh(tx) => tx,
        };
        fetch_account(&mut tx, account.as_str()).await?;
        let pan = draw_unused(&mut tx, PAN_TAKEN_SQL, random_pan).await?;
        let id = new_id("cd");
        let now = self.now_ms();
        let expiry = self.new_expiry();
        sqlx::query(
            "INSERT INTO sbx_cards (id, account_id, name_on_card, type_id, pan, pan_masked, expiry_year, \
             expiry_month, enabled, activated, closed, restrictions, pin_hash, issued_at, updated_at, activated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, 0, $10, NULL, $11, $11, $12)",
        )
        .bind(&id)
        .bind(account.as_str())
        .bind(&request.name_on_card)
        .bind(&request.type_id)
        .bind(&pan)
        .bind(MaskedPan::mask(&pan).as_str())
        .bind(i64::from(expiry.year))
        .bind(i64::from(expiry.month))
        .bind(i64::from(request.activated))
        .bind(serde_json::to_string(&CardRestrictions::default())?)
        .bind(now)
        .bind(request.activated.then_some(now))
        .execute(&mut *tx)
        .await?;
        crate::changes::card_changed(&mut tx, &id, now).await?;
        let card = fetch_card(&mut tx, &id).await?;
        call.finish(&self.db, tx, card, now).await
    }

    /// Lost keeps the number, stolen draws a new one; either way the card gets a fresh expiry and must
    /// be activated again. The card keeps its id, PIN, switch and restrictions.
    async fn reissue(&self, card: &BoRef, reason: ReissueReason) -> Result<BoCard, SandboxError> {
        let mut tx = self.db.write().begin().await?;
        let now = self.now_ms();
        let expiry = self.new_expiry();
        let updated = sqlx::query(
            "UPDATE sbx_cards SET expiry_year = $1, expiry_month = $2, activated = 0, activated_at = NULL, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(i64::from(expiry.year))
        .bind(i64::from(expiry.month))
        .bind(now)
        .bind(card.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(SandboxError::NotFound("card"));
        }
        if reason == ReissueReason::Stolen {
            replace_pan(&mut tx, card.as_str()).await?;
        }
        crate::changes::card_changed(&mut tx, card.as_str(), now).await?;
        let reissued = fetch_card(&mut tx, card.as_str()).await?;
        tx.commit().await?;
        Ok(reissued)
    }

    async fn restrict(
        &self,
        card: &BoRef,
        update: &RestrictionUpdate,
    ) -> Result<BoCard, SandboxError> {
        let mut tx = self.db.write().begin().await?;
        let now = self.now_ms();
        // Touching the row first takes its lock (PostgreSQL), so concurrent updates apply one after the
        // other instead of the later overwriting the earlier from a stale read.
        let touched = sqlx::query("UPDATE sbx_cards SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(card.as_str())
            .execute(&mut *tx)
            .await?;
        if touched.rows_affected() == 0 {
            return Err(SandboxError::NotFound("card"));
        }
        let current = fetch_card(&mut tx, card.as_str()).await?;
        let next = update.clone().apply_to(&current.restrictions)?;
        sqlx::query("UPDATE sbx_cards SET restrictions = $1 WHERE id = $2")
            .bind(serde_json::to_string(&next)?)
            .bind(card.as_str())
            .execute(&mut *tx)
            .await?;
        crate::changes::card_changed(&mut tx, card.as_str(), now).await?;
        let updated = fetch_card(&mut tx, card.as_str()).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Runs a single-row card update and returns the card afterwards, or `NotFound("card")`. An update
    /// that matched no row because it had nothing to change (activation) still finds the card.
    async fn update_card(
        &self,
        card: &BoRef,
        query: CardUpdate<'_>,
    ) -> Result<BoCard, SandboxError> {
        let mut tx = self.db.write().begin().await?;
        if query.execute(&mut *tx).await?.rows_affected() == 1 {
            crate::changes::card_changed(&mut tx, card.as_str(), self.now_ms()).await?;
        }
        let updated = fetch_card(&mut tx, card.as_str()).await?;
        tx.commit().await?;
        Ok(updated)
    }

    fn new_expiry(&self) -> Expiry {
        Expiry::years_after(self.today_utc(), CARD_VALIDITY_YEARS)
    }
}

/// Gives a card a new number (after theft). The old number is gone from the sandbox, so nothing can use it.
async fn replace_pan(conn: &mut Conn, card_id: &str) -> Result<(), SandboxError> {
    let pan = draw_unused(conn, PAN_TAKEN_SQL, random_pan).await?;
    sqlx::query("UPDATE sbx_cards SET pan = $1, pan_masked = $2 WHERE id = $3")
        .bind(&pan)
        .bind(MaskedPan::mask(&pan).as_str())
        .bind(card_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One card with its account's customer and currency, or `NotFound("card")`.
pub(crate) async fn fetch_card(conn: &mut Conn, id: &str) -> Result<BoCard, SandboxError> {
    let sql = format!("{} WHERE c.id = $1", CardRow::SELECT);
    let row: Option<CardRow> = sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.ok_or(SandboxError::NotFound("card"))?.into_card()
}
