//! The numbers a bank hands out: object ids, account numbers, the ABA routing number and card PANs.
//! Generators are pure; [`draw_unused`] is the one place that checks a drawn number against the store.

use crate::error::SandboxError;
use bankgate_db::Conn;
use bankgate_domain::card::luhn_check_digit;
use bankgate_domain::ids::{random_base36, BackOfficeId};
use bankgate_domain::routing::aba_check_digit;
use rand::Rng;

/// The sandbox's card BIN: a Visa-style test range, so a sandbox PAN can never be a real card.
pub(crate) const CARD_BIN: &str = "400000";
const PAN_LEN: usize = 16;
const ACCOUNT_NUMBER_LEN: usize = 16;
/// How often to redraw a number that is already taken before giving up; with 10^9 or more numbers to
/// draw from, needing a second try is already rare.
const MAX_DRAWS: usize = 8;

/// A new object id such as `acc_3k9x...`: the prefix says what it is, 16 base36 characters make it unique.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base36(16))
}

/// `len` random decimal digits.
fn random_digits(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A 16-digit account number that never starts with 0 (some systems drop leading zeros).
pub(crate) fn random_account_number() -> String {
    let first = char::from(b'0' + rand::rng().random_range(1..10u8));
    format!("{first}{}", random_digits(ACCOUNT_NUMBER_LEN - 1))
}

/// A 16-digit, Luhn-valid card number in the sandbox BIN.
pub(crate) fn random_pan() -> String {
    let partial = format!("{CARD_BIN}{}", random_digits(PAN_LEN - CARD_BIN.len() - 1));
    let check = luhn_check_digit(&partial);
    format!("{partial}{check}")
}

/// The sandbox's ABA routing number, derived from its back-office id so that it is stable across restarts
/// and differs between sandboxes. The first two digits stay in the Federal Reserve's 01-12 range and the
/// ninth is the 3-7-1 checksum digit.
pub(crate) fn routing_number_for(id: &BackOfficeId) -> String {
    let hash = fnv1a(id.as_str().as_bytes());
    let district = 1 + hash % 12;
    let institution = (hash / 12) % 1_000_000;
    let first8 = format!("{district:02}{institution:06}");
    let check = aba_check_digit(&first8);
    format!("{first8}{check}")
}

/// FNV-1a: tiny, and unlike std's hasher guaranteed never to change between Rust releases.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Draws with `draw` until `taken_sql` (one `$1` parameter, selecting a row when the number is in use)
/// finds nothing. The unique index behind each column stays the final word under concurrency.
pub(crate) async fn draw_unused(
    conn: &mut Conn,
    taken_sql: &'static str,
    draw: fn() -> String,
) -> Result<String, SandboxError> {
    for _ in 0..MAX_DRAWS {
        let candidate = draw();
        let taken = sqlx::query(taken_sql)
            .bind(&candidate)
            .fetch_optional(&mut *conn)
            .await?;
        if taken.is_none() {
            return Ok(candidate);
        }
    }
    Err(SandboxError::Invariant(format!(
        "no free number after {MAX_DRAWS} draws for {taken_sql:?}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankgate_domain::card::luhn_valid;
    use bankgate_domain::routing::aba_routing_valid;

    #[test]
    fn routing_numbers_are_valid_and_stable_per_back_office() {
        let a = BackOfficeId::from_trusted("sandbox-a".into());
        let b = BackOfficeId::from_trusted("sandbox-b".into());
        assert_eq!(routing_number_for(&a), routing_number_for(&a));
        assert_ne!(routing_number_for(&a), routing_number_for(&b));
        for id in [
            "sandbox-a",
            "sandbox-b",
            "x",
            "a-much-longer-back-office-id",
        ] {
            let routing = routing_number_for(&BackOfficeId::from_trusted(id.into()));
            assert!(aba_routing_valid(&routing), "{routing}");
            let district: u32 = routing[..2].parse().unwrap_or(0);
            assert!((1..=12).contains(&district), "{routing}");
        }
    }

    #[test]
    fn pans_are_luhn_valid_in_the_sandbox_bin() {
        for _ in 0..200 {
            let pan = random_pan();
            assert_eq!(pan.len(), PAN_LEN);
            assert!(pan.starts_with(CARD_BIN));
            assert!(luhn_valid(&pan), "{pan}");
        }
    }

    #[test]
    fn account_numbers_have_sixteen_digits() {
        let n = random_account_number();
        assert_eq!(n.len(), ACCOUNT_NUMBER_LEN);
        assert!(n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0'));
        assert!(new_id("acc").starts_with("acc_"));
    }
}
