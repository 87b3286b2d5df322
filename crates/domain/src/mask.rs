//! Masking of sensitive numbers. A [`MaskedPan`] can only be built by masking, so a value of that type is
//! safe to store, log and return; full card numbers never leave the back office that issued them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A card number with everything but the first 4 and last 4 digits replaced: `1234********5678`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(utoipa::ToSchema),
    schema(example = "4000********1234")
)]
#[serde(transparent)]
pub struct MaskedPan(String);

impl MaskedPan {
    /// Masks a full card number. Shorter inputs are masked entirely but for the last 4 digits.
    pub fn mask(pan: &str) -> Self {
        let digits: Vec<char> = pan.chars().filter(|c| !c.is_whitespace()).collect();
        let n = digits.len();
        let masked = digits
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if (n >= 12 && i < 4) || i + 4 >= n {
                    *c
                } else {
                    '*'
                }
            })
            .collect();
        MaskedPan(masked)
    }

    /// Reads back a value that was masked before it was stored.
    pub fn from_masked(masked: String) -> Self {
        MaskedPan(masked)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn last4(&self) -> &str {
        let start = self.0.len().saturating_sub(4);
        &self.0[start..]
    }
}

impl fmt::Debug for MaskedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Masks an account number in the middle as the reference does (`100000******9622`): the first 6 digits
/// stay for numbers of 14 or more, the last 4 always.
pub fn mask_account_number(num: &str) -> String {
    let n = num.chars().count();
    num.chars()
        .enumerate()
        .map(|(i, c)| {
            if (n >= 14 && i < 6) || i + 4 >= n {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Masks a social security number to its last 4 digits (`*****6789`).
pub fn mask_ssn(ssn: &str) -> String {
    let n = ssn.chars().count();
    ssn.chars()
        .enumerate()
        .map(|(i, c)| if i + 4 >= n { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pan_keeps_first_and_last_four() {
        assert_eq!(
            MaskedPan::mask("4111111111111111").as_str(),
            "4111********1111"
        );
        assert_eq!(MaskedPan::mask("1234").as_str(), "1234");
        assert_eq!(MaskedPan::mask("12345678").as_str(), "****5678");
    }

    #[test]
    fn account_and_ssn_masks() {
        assert_eq!(mask_account_number("1000001234569622"), "100000******9622");
        assert_eq!(mask_account_number("12345678"), "****5678");
        assert_eq!(mask_ssn("123456789"), "*****6789");
    }
}
