//! The card network's side of a purchase: screen the card, then debit the account if the money is there.
//! An approval is one database transaction (guarded debit, ledger entry against card settlement,
//! statement line); a decline writes nothing.

use crate::cards::fetch_card;
use crate::error::SandboxError;
use crate::ledger::{self, InternalAccount, NewEntry};
use crate::transactions::{self, NewTransaction};
use crate::Sandbox;
use async_trait::async_trait;
use bankgate_backoffice::{
    AuthorizationOutcome, AuthorizationRequest, BackOfficeError, BoCard, BoTransaction,
    CardAuthorizationApi,
};
use bankgate_db::Conn;
use bankgate_domain::restrictions::DeclineReason;
use bankgate_domain::time_format::to_millis;

const DEFAULT_NARRATIVE: &str = "Card purchase";

#[async_trait]
impl CardAuthorizationApi for Sandbox {
    async fn authorize(
        &self,
        request: &AuthorizationRequest,
    ) -> Result<AuthorizationOutcome, BackOfficeError> {
        Ok(self.decide(request).await?)
    }
}

impl Sandbox {
    async fn decide(
        &self,
        request: &AuthorizationRequest,
    ) -> Result<AuthorizationOutcome, SandboxError> {
        // The card is read inside the write transaction so the decision and the debit see one state.
        // Returning before the commit rolls back, which is how a decline records nothing.
        let mut tx = self.db.write().begin().await?;
        let card = fetch_card(&mut tx, request.card_id_bo.as_str()).await?;
        if let Err(reason) = screen(&card, request) {
            return Ok(AuthorizationOutcome::Declined { reason });
        }
        if !request.amount.is_positive() {
            let message = "an authorization must be a positive amount";
            return Err(SandboxError::rejected("INVALID_AMOUNT", message));
        }
        let Some(transaction) = self.settle(&mut tx, &card, request).await? else {
            return Ok(AuthorizationOutcome::Declined {
                reason: DeclineReason::InsufficientFunds,
            });
        };
        tx.commit().await?;
        Ok(AuthorizationOutcome::Approved { transaction })
    }

    /// Debits the purchase against card settlement and records its statement line, or returns `None`
    /// when the available balance does not cover it.
    async fn settle(
        &self,
        conn: &mut Conn,
        card: &BoCard,
        request: &AuthorizationRequest,
    ) -> Result<Option<BoTransaction>, SandboxError> {
        let narrative = request.merchant.as_deref().unwrap_or(DEFAULT_NARRATIVE);
        let now = self.now_ms();
        let entry = NewEntry {
            kind: "card_purchase",
            narrative,
            idempotency_key: None,
            at_ms: now,
        };
        let account_id = card.account_id_bo.as_str();
        let settlement = InternalAccount::CardSettlement;
        let Some(entry_id) =
            ledger::debit_customer(conn, account_id, settlement, request.amount, &entry).await?
        else {
            return Ok(None);
        };
        let line = NewTransaction {
            account_id,
            entry_id: &entry_id,
            amount: request
                .amount
                .checked_neg()
                .map_err(|e| SandboxError::Invariant(e.to_string()))?,
            txn_type: "card_purchase",
            type_name: DEFAULT_NARRATIVE,
            narrative,
            card_id: Some(card.id_bo.as_str()),
            mcc: Some(&request.mcc),
            reference: None,
            fx: None,
            recorded_at_ms: now,
            value_at_ms: to_millis(request.at),
        };
        transactions::record(conn, &line).await.map(Some)
    }
}

/// The checks before money, in the order the contract reports them: the first that fails is the reason.
fn screen(card: &BoCard, request: &AuthorizationRequest) -> Result<(), DeclineReason> {
    if card.closed {
        return Err(DeclineReason::CardClosed);
    }
    if !card.activated {
        return Err(DeclineReason::CardNotActivated);
    }
    if !card.enabled {
        return Err(DeclineReason::CardOff);
    }
    // Judged by the merchant's calendar, like the restrictions below.
    if card.expiry.is_expired_on(request.local_time.date()) {
        return Err(DeclineReason::CardExpired);
    }
    card.restrictions.check(request.local_time, &request.mcc)?;
    if request.amount.currency != card.currency {
        return Err(DeclineReason::CurrencyMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankgate_domain::card::Expiry;
    use bankgate_domain::ids::BoRef;
    use bankgate_domain::mask::MaskedPan;
    use bankgate_domain::restrictions::CardRestrictions;
    use bankgate_domain::{Currency, Money};
    use time::macros::datetime;

    fn card() -> BoCard {
        let at = datetime!(2024-01-03 12:00 UTC);
        BoCard {
            id_bo: BoRef("cd_1".into()),
            account_id_bo: BoRef("acc_1".into()),
            customer_id_bo: BoRef("cus_1".into()),
            name_on_card: "A B".into(),
            type_id: "debit".into(),
            number_masked: MaskedPan::mask("4000001234567899"),
            currency: Currency::USD,
            expiry: Expiry {
                year: 2026,
                month: 1,
            },
            enabled: true,
            activated: true,
            closed: false,
            restrictions: CardRestrictions::default(),
            issued_at: at,
            updated_at: at,
            activated_at: Some(at),
        }
    }

    fn request(amount: Money) -> AuthorizationRequest {
        AuthorizationRequest {
            card_id_bo: BoRef("cd_1".into()),
            amount,
            mcc: "5411".into(),
            merchant: None,
            local_time: datetime!(2024-01-03 12:00),
            at: datetime!(2024-01-03 12:00 UTC),
        }
    }

    #[test]
    fn the_first_failing_check_is_the_reason() {
        let usd = request(Money::new(100, Currency::USD));
        let everything_wrong = BoCard {
            closed: true,
            activated: false,
            enabled: false,
            ..card()
        };
        assert_eq!(
            screen(&everything_wrong, &usd),
            Err(DeclineReason::CardClosed)
        );
        let not_activated_and_off = BoCard {
            activated: false,
            enabled: false,
            ..card()
        };
        assert_eq!(
            screen(&not_activated_and_off, &usd),
            Err(DeclineReason::CardNotActivated)
        );
        let off_and_expired = BoCard {
            enabled: false,
            expiry: Expiry {
                year: 2023,
                month: 12,
            },
            ..card()
        };
        assert_eq!(screen(&off_and_expired, &usd), Err(DeclineReason::CardOff));
        let expired = BoCard {
            expiry: Expiry {
                year: 2023,
                month: 12,
            },
            ..card()
        };
        assert_eq!(
            screen(&expired, &request(Money::new(100, Currency::EUR))),
            Err(DeclineReason::CardExpired)
        );
        assert_eq!(
            screen(&card(), &request(Money::new(100, Currency::EUR))),
            Err(DeclineReason::CurrencyMismatch)
        );
        assert_eq!(screen(&card(), &usd), Ok(()));
    }
}
