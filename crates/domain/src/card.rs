//! Card vocabulary shared by the middleware and the back offices: the PIN carried in the contract's
//! 8-character envelope, Luhn check digits, expiry, and reissue reasons.

use std::fmt;
use time::{Date, Month};

/// A 4-digit card PIN. Its `Debug` never shows the digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

/// Why a PIN envelope was refused; the contract answers these with different status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinError {
    /// The envelope is not exactly 8 characters (the contract's 401).
    WrongLength,
    /// Characters 3 to 6 are not all digits (the contract's 404 "Invalid PIN").
    NotDigits,
}

impl Pin {
    /// Takes the PIN out of the contract's envelope: 8 characters whose 3rd to 6th are the PIN. The two
    /// dummy characters on each side are deliberately not validated.
    pub fn from_envelope(envelope: &str) -> Result<Pin, PinError> {
        let chars: Vec<char> = envelope.chars().collect();
        if chars.len() != 8 {
            return Err(PinError::WrongLength);
        }
        let pin: String = chars[2..6].iter().collect();
        if pin.bytes().all(|b| b.is_ascii_digit()) && pin.len() == 4 {
            Ok(Pin(pin))
        } else {
            Err(PinError::NotDigits)
        }
    }

    /// A PIN the back office received over its own API, already unwrapped.
    pub fn parse_digits(digits: &str) -> Option<Pin> {
        (digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Pin(digits.to_owned()))
    }

    /// The four digits, for the one place that hashes them.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// Whether a digit string passes the Luhn (mod 10) check.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    luhn_sum(digits, false).is_multiple_of(10)
}

/// The check digit that makes `partial` followed by it Luhn-valid.
pub fn luhn_check_digit(partial: &str) -> u8 {
    let sum = luhn_sum(partial, true);
    ((10 - sum % 10) % 10) as u8
}

fn luhn_sum(digits: &str, double_last: bool) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            let double = (i % 2 == 0) == double_last;
            if double {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum()
}

/// A card's expiry month. The card is valid through the last day of that month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Expiry {
    pub year: i32,
    pub month: u8,
}

impl Expiry {
    /// The expiry `years` after `from`'s month.
    pub fn years_after(from: Date, years: i32) -> Expiry {
        Expiry {
            year: from.year() + years,
            month: u8::from(from.month()),
        }
    }

    pub fn is_expired_on(&self, day: Date) -> bool {
        (day.year(), u8::from(day.month())) > (self.year, self.month)
    }

    /// `YYYYMM`, the contract's `expiryYYYYMM` style.
    pub fn yyyymm(&self) -> String {
        format!("{:04}{:02}", self.year, self.month)
    }

    pub fn month(&self) -> Month {
        Month::try_from(self.month).unwrap_or(Month::January)
    }
}

/// Why a card is reissued: `lost` keeps the number, `stolen` replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ReissueReason {
    Lost,
    Stolen,
}

impl ReissueReason {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "lost" => Some(ReissueReason::Lost),
            "stolen" => Some(ReissueReason::Stolen),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn pin_envelope_rules() {
        assert_eq!(
            Pin::from_envelope("12345678").map(|p| p.digits().to_owned()),
            Ok("3456".into())
        );
        assert_eq!(
            Pin::from_envelope("f23456t8").map(|p| p.digits().to_owned()),
            Ok("3456".into())
        );
        assert_eq!(Pin::from_envelope("123f5678"), Err(PinError::NotDigits));
        assert_eq!(Pin::from_envelope("1234567"), Err(PinError::WrongLength));
        assert_eq!(Pin::from_envelope("123456789"), Err(PinError::WrongLength));
        assert_eq!(
            format!("{:?}", Pin::from_envelope("12345678").unwrap()),
            "Pin(****)"
        );
    }

    #[test]
    fn luhn() {
        assert!(luhn_valid("4111111111111111"));
        assert!(!luhn_valid("4111111111111112"));
        assert_eq!(luhn_check_digit("411111111111111"), 1);
        assert_eq!(luhn_check_digit("7992739871"), 3);
    }

    #[test]
    fn expiry_is_inclusive_of_its_month() {
        let e = Expiry {
            year: 2025,
            month: 3,
        };
        assert!(!e.is_expired_on(date!(2025 - 03 - 31)));
        assert!(e.is_expired_on(date!(2025 - 04 - 01)));
        assert_eq!(e.yyyymm(), "202503");
    }
}
