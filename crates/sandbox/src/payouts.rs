//! Payments out of the bank: the account is debited into the payouts clearing account for the currency,
//! the statement line records the payment, and `sbx_payouts` keeps where it was sent. A payee whose rail
//! lacks the details it needs is refused before any money moves; a push-to-card payee must name a card
//! in this bank's vault (see `vault`).

use crate::error::SandboxError;
use crate::idempotency::{Begun, IdempotentCall};
use crate::ledger::{self, negated, Book, InternalAccount, NewEntry, Posting};
use crate::movement::{posted, require_positive, usable_account, Side};
use crate::numbers::new_id;
use crate::transactions::{self, NewTransaction};
use crate::vault::ensure_vaulted;
use crate::Sandbox;
use async_trait::async_trait;
use bankgate_backoffice::{
    BackOfficeError, BoTransaction, CardToVault, IdempotencyKey, Payee, PaymentsApi, Payout, Rail,
};
use bankgate_db::Conn;
use bankgate_domain::ids::BoRef;
use time::Date;

/// The `details` key of a push-to-card payee's vault reference.
const CARD_REF: &str = "cardRef";

#[async_trait]
impl PaymentsApi for Sandbox {
    async fn pay_out(
        &self,
        payout: &Payout,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction, BackOfficeError> {
        Ok(self.pay_out_once(payout, key).await?)
    }

    async fn vault_card(
        &self,
        card: &CardToVault,
        key: &IdempotencyKey,
    ) -> Result<BoRef, BackOfficeError> {
        Ok(self.vault_card_once(card, key).await?)
    }
}

impl Sandbox {
    async fn pay_out_once(
        &self,
        payout: &Payout,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction, SandboxError> {
        require_positive(payout.amount, "a payout")?;
        check_payee(&payout.payee)?;
        let call = IdempotentCall::new("pay_out", key);
        let mut tx = match call.begin(&self.db).await? {
            Begun::Replayed(line) => return Ok(line),
            Begun::Fresh(tx) => tx,
        };
        let now = self.now_ms();
        let outcome = send(&mut tx, payout, call.key(), now, self.today_utc()).await;
        call.conclude(&self.db, tx, outcome, now).await
    }
}

/// The `details` a rail cannot route a payment without.
fn required_details(rail: Rail) -> &'static [&'static str] {
    match rail {
        Rail::Ach | Rail::Wire => &["routingNumber", "accountNumber"],
        Rail::Swift => &["iban", "bic"],
        Rail::Paypal => &["paypalId"],
        Rail::PushToCard => &[CARD_REF],
        Rail::Cheque => &["addressLine1", "city", "postalCode"],
    }
}

/// The rail as `sbx_payouts` stores it.
fn rail_name(rail: Rail) -> &'static str {
    match rail {
        Rail::Ach => "ach",
        Rail::Wire => "wire",
        Rail::Swift => "swift",
        Rail::Paypal => "paypal",
        Rail::PushToCard => "push_to_card",
        Rail::Cheque => "cheque",
    }
}

/// A payee has a name and every detail its rail needs, none of them blank. The details' formats (an ABA
/// checksum, an IBAN) are the edge's to validate when the beneficiary is registered.
fn check_payee(payee: &Payee) -> Result<(), SandboxError> {
    let blank = |value: Option<&String>| value.is_none_or(|v| v.trim().is_empty());
    let missing: Vec<&str> = required_details(payee.rail)
        .iter()
        .copied()
        .filter(|key| blank(payee.details.get(*key)))
        .collect();
    if !missing.is_empty() {
        let message = format!(
            "a {} payee needs {}",
            rail_name(payee.rail),
            missing.join(", ")
        );
        return Err(SandboxError::rejected("PAYEE_INVALID", message));
    }
    if payee.name.trim().is_empty() {
        let message = "a payee needs a name";
        return Err(SandboxError::rejected("PAYEE_INVALID", message));
    }
    Ok(())
}

/// Debits the account into payouts clearing, records the line and the payout instruction.
async fn send(
    conn: &mut Conn,
    payout: &Payout,
    key: &str,
    now: i64,
    today: Date,
) -> Result<BoTransaction, SandboxError> {
    let account_id = payout.account.as_str();
    usable_account(conn, account_id, payout.amount, Side::Debit).await?;
    if payout.payee.rail == Rail::PushToCard {
        // `check_payee` made sure the reference is there.
        let card_ref = payout
            .payee
            .details
            .get(CARD_REF)
            .map_or("", String::as_str);
        ensure_vaulted(conn, card_ref.trim(), today).await?;
    }
    let postings = [
        Posting {
            book: Book::Customer(account_id),
            amount: negated(payout.amount)?,
        },
        Posting {
            book: Book::Internal(InternalAccount::Payouts),
            amount: payout.amount,
        },
    ];
    let entry = NewEntry {
        kind: "payout",
        narrative: &payout.narrative,
        idempotency_key: Some(key),
        at_ms: now,
    };
    let entry_id = posted(ledger::post(conn, &entry, &postings).await?)?;
    let line = NewTransaction {
        account_id,
        entry_id: &entry_id,
        amount: negated(payout.amount)?,
        txn_type: "payment",
        type_name: "Payment",
        narrative: &payout.narrative,
        card_id: None,
        mcc: None,
        reference: Some(&payout.reference),
        fx: None,
        recorded_at_ms: now,
        value_at_ms: now,
    };
    let transaction = transactions::record(conn, &line).await?;
    sqlx::query(
        "INSERT INTO sbx_payouts (id, account_id, transaction_id, amount_minor, currency, rail, payee_name, \
         payee_details, reference, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new_id("po"))
    .bind(account_id)
    .bind(transaction.id_bo.as_str())
    .bind(payout.amount.minor)
    .bind(payout.amount.currency.as_str())
    .bind(rail_name(payout.payee.rail))
    .bind(&payout.payee.name)
    .bind(serde_json::to_string(&payout.payee.details)?)
    .bind(&payout.reference)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(transaction)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payee(rail: Rail, details: &[(&str, &str)]) -> Payee {
        Payee {
            rail,
            name: "Grace Hopper".into(),
            details: details
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn each_rail_needs_its_details() {
        let ach = [
            ("routingNumber", "011000015"),
            ("accountNumber", "12345678"),
        ];
        assert!(check_payee(&payee(Rail::Ach, &ach)).is_ok());
        assert!(check_payee(&payee(Rail::Wire, &ach)).is_ok());
        assert!(check_payee(&payee(Rail::Swift, &ach)).is_err());
        assert!(check_payee(&payee(Rail::Ach, &ach[..1])).is_err());
        let blank = [("routingNumber", "011000015"), ("accountNumber", "  ")];
        assert!(check_payee(&payee(Rail::Ach, &blank)).is_err());
        let swift = [("iban", "DE89370400440532013000"), ("bic", "COBADEFFXXX")];
        assert!(check_payee(&payee(Rail::Swift, &swift)).is_ok());
        assert!(check_payee(&payee(Rail::Paypal, &[("paypalId", "g@example.com")])).is_ok());
        assert!(check_payee(&payee(Rail::PushToCard, &[("cardRef", "vc_1")])).is_ok());
        assert!(check_payee(&payee(Rail::PushToCard, &[])).is_err());
        let post = [
            ("addressLine1", "1 Main St"),
            ("city", "Arlington"),
            ("postalCode", "22201"),
        ];
        assert!(check_payee(&payee(Rail::Cheque, &post)).is_ok());
        assert!(check_payee(&payee(Rail::Cheque, &post[1..])).is_err());
        let nameless = Payee {
            name: " ".into(),
            ..payee(Rail::Paypal, &[("paypalId", "g@example.com")])
        };
        assert!(check_payee(&nameless).is_err());
    }
}
