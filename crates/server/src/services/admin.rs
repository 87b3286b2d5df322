//! Operations staff tools: simulating a card purchase at a sandbox back office. The resulting
//! transaction is recorded like any other that passes through.

use super::{Entity, Result, ServiceError, Services};
use bankgate_backoffice::{AuthorizationOutcome, AuthorizationRequest};
use bankgate_domain::ids::{CardId, TransactionId};
use bankgate_domain::restrictions::DeclineReason;
use bankgate_domain::Money;
use time::{OffsetDateTime, PrimitiveDateTime};

/// A simulated purchase with a card.
#[derive(Debug, Clone)]
pub struct PurchaseSimulation {
    pub card_id: CardId,
    pub amount: Money,
    pub mcc: String,
    pub merchant: Option<String>,
    /// The merchant's local time, with its offset; now in UTC when absent.
    pub local_time: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurchaseResult {
    Approved { transaction_id: TransactionId },
    Declined { reason: DeclineReason },
}

impl Services {
    pub async fn simulate_purchase(&self, purchase: PurchaseSimulation) -> Result<PurchaseResult> {
        if purchase.mcc.len() != 4 || !purchase.mcc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ServiceError::invalid("INVALID_MCC", "mcc must be 4 digits"));
        }
        if !purchase.amount.is_positive() {
            return Err(ServiceError::invalid(
                "INVALID_AMOUNT",
                "amount must be positive",
            ));
        }
        let card = self
            .store
            .find_card(&purchase.card_id)
            .await?
            .ok_or(ServiceError::NotFound(Entity::Card))?;
        let now = self.clock.now();
        let local = purchase.local_time.unwrap_or(now);
        let request = AuthorizationRequest {
            card_id_bo: card.card.id_bo.clone(),
            amount: purchase.amount,
            mcc: purchase.mcc,
            merchant: purchase.merchant,
            local_time: PrimitiveDateTime::new(local.date(), local.time()),
            at: now,
        };
        let request = &request;
        let outcome = self
            .call_back_office(
                &card.back_office_id,
                "cards.authorize",
                Entity::Card,
                |bo| async move { bo.require_card_authorization()?.authorize(request).await },
            )
            .await?;
        match outcome {
            AuthorizationOutcome::Declined { reason } => Ok(PurchaseResult::Declined { reason }),
            AuthorizationOutcome::Approved { transaction } => {
                let recorded = self
                    .store
                    .record_transactions(
                        &card.user_id,
                        &card.account_id,
                        &card.back_office_id,
                        &[transaction],
                        now,
                    )
                    .await?;
                let id = recorded
                    .into_iter()
                    .next()
                    .map(|t| t.id)
                    .ok_or(ServiceError::NotFound(Entity::Transaction))?;
                Ok(PurchaseResult::Approved { transaction_id: id })
            }
        }
    }
}
