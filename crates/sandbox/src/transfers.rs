//! Book transfers: money moving between two accounts of this bank in one ledger entry, converted
//! through the FX position accounts when the accounts hold different currencies. Both statement lines
//! carry the caller's reference, and a converted one its rate and the other side's amount. The
//! settlement legs of transfers with other back offices are in `settlement`.

use crate::error::SandboxError;
use crate::idempotency::{Begun, IdempotentCall};
use crate::ledger::{self, negated, Book, InternalAccount, NewEntry, Posting};
use crate::movement::{posted, require_positive, usable_account, Side};
use crate::transactions::{self, NewTransaction};
use crate::Sandbox;
use async_trait::async_trait;
use bankgate_backoffice::{
    BackOfficeError, BoTransaction, BookTransfer, FxDetail, IdempotencyKey, SettlementLeg,
    TransferLegs, TransfersApi,
};
use bankgate_db::Conn;

#[async_trait]
impl TransfersApi for Sandbox {
    async fn book_transfer(
        &self,
        transfer: &BookTransfer,
        key: &IdempotencyKey,
    ) -> Result<TransferLegs, BackOfficeError> {
        Ok(self.book_transfer_once(transfer, key).await?)
    }

    async fn debit_to_settlement(
        &self,
        leg: &SettlementLeg,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction, BackOfficeError> {
        Ok(self.settlement_leg_once(leg, Side::Debit, key).await?)
    }

    async fn credit_from_settlement(
        &self,
        leg: &SettlementLeg,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction, BackOfficeError> {
        Ok(self.settlement_leg_once(leg, Side::Credit, key).await?)
    }
}

impl Sandbox {
    async fn book_transfer_once(
        &self,
        transfer: &BookTransfer,
        key: &IdempotencyKey,
    ) -> Result<TransferLegs, SandboxError> {
        check_transfer(transfer)?;
        let call = IdempotentCall::new("book_transfer", key);
        let mut tx = match call.begin(&self.db).await? {
            Begun::Replayed(legs) => return Ok(legs),
            Begun::Fresh(tx) => tx,
        };
        let now = self.now_ms();
        let outcome = book(&mut tx, transfer, call.key(), now).await;
        call.conclude(&self.db, tx, outcome, now).await
    }
}

/// The checks a transfer passes before any account is read: positive amounts, two different accounts,
/// and a conversion exactly when the currencies differ, whose credit is the debit converted at its rate.
fn check_transfer(transfer: &BookTransfer) -> Result<(), SandboxError> {
    require_positive(transfer.debit, "the debit")?;
    require_positive(transfer.credit, "the credit")?;
    if transfer.from == transfer.to {
        let message = "a transfer needs two different accounts";
        return Err(SandboxError::rejected("SAME_ACCOUNT", message));
    }
    let (debit, credit) = (transfer.debit, transfer.credit);
    let converted = debit.currency != credit.currency;
    let message = match transfer.rate {
        None if converted => {
            format!(
                "converting {} into {} needs a rate",
                debit.currency, credit.currency
            )
        }
        None if debit != credit => {
            format!(
                "without a conversion the credit must equal the debit, not {debit} and {credit}"
            )
        }
        None => return Ok(()),
        Some(rate) if !converted => format!("a rate ({rate}) for a transfer in one currency"),
        Some(rate) => {
            // Out of range is the only way to fail, and then the credit cannot be the conversion.
            let expected = rate.convert(debit, credit.currency).ok();
            if expected == Some(credit) {
                return Ok(());
            }
            let expected = expected.map_or_else(|| "out of range".to_owned(), |m| m.to_string());
            format!("{debit} at {rate} is {expected}, not {credit}")
        }
    };
    Err(SandboxError::rejected("FX_MISMATCH", message))
}

/// Moves the money in one entry and records both statement lines.
async fn book(
    conn: &mut Conn,
    transfer: &BookTransfer,
    key: &str,
    now: i64,
) -> Result<TransferLegs, SandboxError> {
    let (from, to) = (transfer.from.as_str(), transfer.to.as_str());
    usable_account(conn, from, transfer.debit, Side::Debit).await?;
    usable_account(conn, to, transfer.credit, Side::Credit).await?;
    let mut postings = vec![
        Posting {
            book: Book::Customer(from),
            amount: negated(transfer.debit)?,
        },
        Posting {
            book: Book::Customer(to),
            amount: transfer.credit,
        },
    ];
    if transfer.rate.is_some() {
        // The bank buys the debited currency and sells the credited one: each currency balances on
        // its own through its FX position.
        let fx = Book::Internal(InternalAccount::FxPosition);
        postings.push(Posting {
            book: fx,
            amount: transfer.debit,
        });
        postings.push(Posting {
            book: fx,
            amount: negated(transfer.credit)?,
        });
    }
    let entry = NewEntry {
        kind: "transfer",
        narrative: &transfer.narrative_debit,
        idempotency_key: Some(key),
        at_ms: now,
    };
    let entry_id = posted(ledger::post(conn, &entry, &postings).await?)?;
    let line = |account_id, amount, narrative, fx| NewTransaction {
        account_id,
        entry_id: &entry_id,
        amount,
        txn_type: "transfer",
        type_name: "Transfer",
        narrative,
        card_id: None,
        mcc: None,
        reference: Some(&transfer.reference),
        fx,
        recorded_at_ms: now,
        value_at_ms: now,
    };
    // Each line's counter amount is the other side of the conversion.
    let fx = |counter_amount| {
        transfer.rate.map(|rate| FxDetail {
            rate,
            counter_amount,
        })
    };
    let debit_line = line(
        from,
        negated(transfer.debit)?,
        &transfer.narrative_debit,
        fx(transfer.credit),
    );
    let credit_line = line(
        to,
        transfer.credit,
        &transfer.narrative_credit,
        fx(transfer.debit),
    );
    Ok(TransferLegs {
        debit: transactions::record(conn, &debit_line).await?,
        credit: transactions::record(conn, &credit_line).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankgate_domain::ids::BoRef;
    use bankgate_domain::{Currency, Money, Rate};

    fn transfer(debit: Money, credit: Money, rate: Option<&str>) -> BookTransfer {
        BookTransfer {
            from: BoRef("acc_a".into()),
            to: BoRef("acc_b".into()),
            debit,
            credit,
            rate: rate.map(|r| Rate::parse(r).unwrap()),
            narrative_debit: "to B".into(),
            narrative_credit: "from A".into(),
            reference: "op_1".into(),
        }
    }

    fn code(result: Result<(), SandboxError>) -> Option<&'static str> {
        match result {
            Ok(()) => None,
            Err(SandboxError::Rejected { code, .. }) => Some(code),
            Err(other) => panic!("not a refusal: {other}"),
        }
    }

    #[test]
    fn requests_are_checked_before_any_account() {
        let usd = |m| Money::new(m, Currency::USD);
        let eur = |m| Money::new(m, Currency::EUR);
        assert_eq!(
            code(check_transfer(&transfer(usd(100), usd(100), None))),
            None
        );
        assert_eq!(
            code(check_transfer(&transfer(
                usd(10_000),
                eur(9_200),
                Some("0.92")
            ))),
            None
        );
        let cases = [
            (transfer(usd(0), usd(0), None), "INVALID_AMOUNT"),
            (transfer(usd(-5), usd(-5), None), "INVALID_AMOUNT"),
            (transfer(usd(100), usd(99), None), "FX_MISMATCH"),
            (transfer(usd(100), usd(100), Some("1")), "FX_MISMATCH"),
            (transfer(usd(100), eur(92), None), "FX_MISMATCH"),
            (
                transfer(usd(10_000), eur(9_201), Some("0.92")),
                "FX_MISMATCH",
            ),
            // 0.01 USD at 0.4 rounds to nothing: no positive credit can match it.
            (transfer(usd(1), eur(1), Some("0.4")), "FX_MISMATCH"),
        ];
        for (request, expected) in cases {
            assert_eq!(
                code(check_transfer(&request)),
                Some(expected),
                "{request:?}"
            );
        }
        let same = BookTransfer {
            to: BoRef("acc_a".into()),
            ..transfer(usd(100), usd(100), None)
        };
        assert_eq!(code(check_transfer(&same)), Some("SAME_ACCOUNT"));
    }
}
