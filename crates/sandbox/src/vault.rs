//! The card vault: card numbers kept for push-to-card payouts, paid to by reference (`vc_...`) so the
//! number never travels again. The PAN is written once and never selected; payouts only ask whether a
//! reference exists and its card is still valid.

use crate::error::SandboxError;
use crate::idempotency::{Begun, IdempotentCall};
use crate::numbers::new_id;
use crate::Sandbox;
use bankgate_backoffice::{CardToVault, IdempotencyKey};
use bankgate_db::Conn;
use bankgate_domain::card::luhn_valid;
use bankgate_domain::ids::BoRef;
use time::Date;

/// ISO/IEC 7812 card numbers are 12 to 19 digits long.
const PAN_LENGTHS: std::ops::RangeInclusive<usize> = 12..=19;

impl Sandbox {
    pub(crate) async fn vault_card_once(
        &self,
        card: &CardToVault,
        key: &IdempotencyKey,
    ) -> Result<BoRef, SandboxError> {
        check_card(card, self.today_utc())?;
        let call = IdempotentCall::new("vault_card", key);
        let mut tx = match call.begin(&self.db).await? {
            Begun::Replayed(reference) => return Ok(reference),
            Begun::Fresh(tx) => tx,
        };
        let id = new_id("vc");
        let now = self.now_ms();
        sqlx::query(
            "INSERT INTO sbx_vault_cards (id, pan, expiry_year, expiry_month, holder_name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(&card.pan)
        .bind(i64::from(card.expiry.year))
        .bind(i64::from(card.expiry.month))
        .bind(card.holder_name.trim())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        call.finish(&self.db, tx, BoRef(id), now).await
    }
}

/// A card worth keeping: a Luhn-valid number of a card's length, a real month not yet past, a holder.
fn check_card(card: &CardToVault, today: Date) -> Result<(), SandboxError> {
    let pan_ok = PAN_LENGTHS.contains(&card.pan.len()) && luhn_valid(&card.pan);
    if !pan_ok {
        let message = "the card number is not a valid card number";
        return Err(SandboxError::rejected("CARD_INVALID", message));
    }
    if !(1..=12).contains(&card.expiry.month) {
        let message = format!("expiry month {} does not exist", card.expiry.month);
        return Err(SandboxError::rejected("CARD_INVALID", message));
    }
    if card.holder_name.trim().is_empty() {
        let message = "a vaulted card needs its holder's name";
        return Err(SandboxError::rejected("CARD_INVALID", message));
    }
    if card.expiry.is_expired_on(today) {
        let message = format!("the card expired in {}", card.expiry.yyyymm());
        return Err(SandboxError::rejected("CARD_EXPIRED", message));
    }
    Ok(())
}

/// Refuses a push-to-card payee whose reference names no card in this bank's vault, or one expired by
/// now: the payment could not reach it.
pub(crate) async fn ensure_vaulted(
    conn: &mut Conn,
    card_ref: &str,
    today: Date,
) -> Result<(), SandboxError> {
    let found: Option<(i64, i64)> =
        sqlx::query_as("SELECT expiry_year, expiry_month FROM sbx_vault_cards WHERE id = $1")
            .bind(card_ref)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((year, month)) = found else {
        let message = format!("{card_ref} is not a card in this bank's vault");
        return Err(SandboxError::rejected("PAYEE_INVALID", message));
    };
    let expiry = bankgate_domain::card::Expiry {
        year: i32::try_from(year).map_err(SandboxError::corrupt)?,
        month: u8::try_from(month).map_err(SandboxError::corrupt)?,
    };
    if expiry.is_expired_on(today) {
        let message = format!("the vaulted card {card_ref} has expired");
        return Err(SandboxError::rejected("PAYEE_INVALID", message));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankgate_domain::card::Expiry;
    use time::macros::date;

    fn card(pan: &str, year: i32, month: u8) -> CardToVault {
        CardToVault {
            pan: pan.into(),
            expiry: Expiry { year, month },
            holder_name: "GRACE HOPPER".into(),
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
    fn only_valid_unexpired_cards_are_kept() {
        let today = date!(2024 - 01 - 03);
        assert_eq!(
            code(check_card(&card("4111111111111111", 2026, 5), today)),
            None
        );
        // Valid through the last day of its month.
        assert_eq!(
            code(check_card(&card("4111111111111111", 2024, 1), today)),
            None
        );
        let cases = [
            (card("4111111111111112", 2026, 5), "CARD_INVALID"),
            (card("4111 1111 1111 1111", 2026, 5), "CARD_INVALID"),
            (card("4242424242", 2026, 5), "CARD_INVALID"),
            (card("4111111111111111", 2026, 13), "CARD_INVALID"),
            (card("4111111111111111", 2023, 12), "CARD_EXPIRED"),
        ];
        for (request, expected) in cases {
            assert_eq!(
                code(check_card(&request, today)),
                Some(expected),
                "{request:?}"
            );
        }
        let nameless = CardToVault {
            holder_name: "".into(),
            ..card("4111111111111111", 2026, 5)
        };
        assert_eq!(code(check_card(&nameless, today)), Some("CARD_INVALID"));
    }
}
