//! Settlement legs: one side of a transfer whose other side is at another back office. Money leaves or
//! reaches a customer account through this bank's settlement account for the currency; a reversal gives
//! back a leg whose transfer could not be completed. Each leg is one entry and one statement line.

use crate::error::SandboxError;
use crate::idempotency::{Begun, IdempotentCall};
use crate::ledger::{self, negated, Book, InternalAccount, NewEntry, Posting};
use crate::movement::{posted, require_positive, usable_account, Side};
use crate::transactions::{self, NewTransaction};
use crate::Sandbox;
use bankgate_backoffice::{BoTransaction, IdempotencyKey, LegKind, SettlementLeg};
use bankgate_db::Conn;

impl Sandbox {
    pub(crate) async fn settlement_leg_once(
        &self,
        leg: &SettlementLeg,
        side: Side,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction, SandboxError> {
        require_positive(leg.amount, "a settlement leg")?;
        check_leg_fx(leg, side)?;
        let operation = match side {
            Side::Debit => "debit_to_settlement",
            Side::Credit => "credit_from_settlement",
        };
        let call = IdempotentCall::new(operation, key);
        let mut tx = match call.begin(&self.db).await? {
            Begun::Replayed(line) => return Ok(line),
            Begun::Fresh(tx) => tx,
        };
        let now = self.now_ms();
        let outcome = settle(&mut tx, leg, side, call.key(), now).await;
        call.conclude(&self.db, tx, outcome, now).await
    }
}

/// A converted leg's detail must describe a conversion: a positive amount in another currency. For a
/// transfer leg it must also be the one applied: the credited amount is the debited one converted at
/// the rate (on a debit leg the counter amount is the credit, on a credit leg the debit). A reversal
/// repeats the detail of the leg it gives back, whose direction is the other way, so only its shape is
/// checked.
fn check_leg_fx(leg: &SettlementLeg, side: Side) -> Result<(), SandboxError> {
    let Some(fx) = leg.fx else {
        return Ok(());
    };
    let counter = fx.counter_amount;
    if !counter.is_positive() || counter.currency == leg.amount.currency {
        let message = format!(
            "the counter amount of a conversion must be positive and not in {}, not {counter}",
            leg.amount.currency
        );
        return Err(SandboxError::rejected("FX_MISMATCH", message));
    }
    if leg.kind == LegKind::Reversal {
        return Ok(());
    }
    let (debited, credited) = match side {
        Side::Debit => (leg.amount, counter),
        Side::Credit => (counter, leg.amount),
    };
    if fx.rate.convert(debited, credited.currency).ok() == Some(credited) {
        return Ok(());
    }
    let message = format!("{debited} at {} is not {credited}", fx.rate);
    Err(SandboxError::rejected("FX_MISMATCH", message))
}

/// Moves the leg's money between the account and the settlement account and records its line.
async fn settle(
    conn: &mut Conn,
    leg: &SettlementLeg,
    side: Side,
    key: &str,
    now: i64,
) -> Result<BoTransaction, SandboxError> {
    let account_id = leg.account.as_str();
    usable_account(conn, account_id, leg.amount, side).await?;
    let on_account = match side {
        Side::Debit => negated(leg.amount)?,
        Side::Credit => leg.amount,
    };
    let postings = [
        Posting {
            book: Book::Customer(account_id),
            amount: on_account,
        },
        Posting {
            book: Book::Internal(InternalAccount::Settlement),
            amount: negated(on_account)?,
        },
    ];
    let (txn_type, type_name) = match leg.kind {
        LegKind::Transfer => ("transfer", "Transfer"),
        LegKind::Reversal => ("reversal", "Reversal"),
    };
    let entry = NewEntry {
        kind: txn_type,
        narrative: &leg.narrative,
        idempotency_key: Some(key),
        at_ms: now,
    };
    let entry_id = posted(ledger::post(conn, &entry, &postings).await?)?;
    let line = NewTransaction {
        account_id,
        entry_id: &entry_id,
        amount: on_account,
        txn_type,
        type_name,
        narrative: &leg.narrative,
        card_id: None,
        mcc: None,
        reference: Some(&leg.reference),
        fx: leg.fx,
        recorded_at_ms: now,
        value_at_ms: now,
    };
    transactions::record(conn, &line).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankgate_backoffice::FxDetail;
    use bankgate_domain::ids::BoRef;
    use bankgate_domain::{Currency, Money, Rate};

    fn leg(amount: Money, kind: LegKind, fx: Option<(&str, Money)>) -> SettlementLeg {
        SettlementLeg {
            account: BoRef("acc_a".into()),
            amount,
            kind,
            narrative: "x".into(),
            reference: "op_1".into(),
            fx: fx.map(|(rate, counter_amount)| FxDetail {
                rate: Rate::parse(rate).unwrap(),
                counter_amount,
            }),
        }
    }

    #[test]
    fn a_transfer_legs_conversion_must_be_the_one_applied() {
        let usd = |m| Money::new(m, Currency::USD);
        let eur = |m| Money::new(m, Currency::EUR);
        let transfer = LegKind::Transfer;
        let debit_leg = leg(usd(10_000), transfer, Some(("0.92", eur(9_200))));
        let credit_leg = leg(eur(9_200), transfer, Some(("0.92", usd(10_000))));
        assert!(check_leg_fx(&debit_leg, Side::Debit).is_ok());
        assert!(check_leg_fx(&credit_leg, Side::Credit).is_ok());
        // Each the other way round reads as a different conversion.
        assert!(check_leg_fx(&debit_leg, Side::Credit).is_err());
        assert!(check_leg_fx(&credit_leg, Side::Debit).is_err());
        let off = leg(usd(10_000), transfer, Some(("0.92", eur(9_199))));
        assert!(check_leg_fx(&off, Side::Debit).is_err());
        let same_currency = leg(usd(10_000), transfer, Some(("1", usd(10_000))));
        assert!(check_leg_fx(&same_currency, Side::Debit).is_err());
        // A reversal credit gives back the debit leg, carrying its detail.
        let reversal = leg(usd(10_000), LegKind::Reversal, Some(("0.92", eur(9_200))));
        assert!(check_leg_fx(&reversal, Side::Credit).is_ok());
        assert!(check_leg_fx(&leg(usd(1), transfer, None), Side::Debit).is_ok());
    }
}
