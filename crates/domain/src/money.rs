//! Money as an exact count of minor units with its currency. Wire decimals are converted here, exactly,
//! by the currency's exponent; no floating point ever touches an amount.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why an amount or currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency must be three capital letters (ISO 4217), got {0:?}")]
    BadCurrency(String),
    #[error("amount {0:?} is not a decimal number")]
    NotANumber(String),
    #[error("amount {amount:?} has more decimals than {currency} allows ({exponent})")]
    TooPrecise {
        amount: String,
        currency: Currency,
        exponent: u8,
    },
    #[error("amount is too large")]
    Overflow,
    #[error("currencies differ: {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
}

/// An ISO 4217 alphabetic currency code, always three ASCII capital letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(utoipa::ToSchema),
    schema(value_type = String, example = "USD", pattern = "^[A-Z]{3}$")
)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let bytes = code.as_bytes();
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_uppercase) => Ok(Currency([*a, *b, *c])),
            _ => Err(MoneyError::BadCurrency(code.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        // Built only from three ASCII capitals, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Number of decimal places of the currency's minor unit (ISO 4217).
    pub fn exponent(&self) -> u8 {
        match self.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF"
            | "UGX" | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

/// An amount of one currency, in minor units (cents for USD). Arithmetic is checked.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Money {
    /// The amount in the currency's minor unit (cents for USD), signed.
    #[cfg_attr(feature = "schema", schema(example = 1250))]
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Parses a decimal such as `"12.5"`, `"-0.01"` or `"1e2"` exactly into minor units. More decimals
    /// than the currency has (other than trailing zeros) are refused, never rounded.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let not_a_number = || MoneyError::NotANumber(text.to_owned());
        let (mantissa, exp10) = match text.find(['e', 'E']) {
            Some(i) => {
                let exp: i32 = text[i + 1..].parse().map_err(|_| not_a_number())?;
                (&text[..i], exp)
            }
            None => (text, 0),
        };
        let (negative, unsigned) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
        };
        let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int_part.is_empty() && frac_part.is_empty())
            || !digits_ok(int_part)
            || !digits_ok(frac_part)
        {
            return Err(not_a_number());
        }
        // value = digits * 10^(exp10 - frac_len); minor = value * 10^exponent.
        let digits: String = [int_part, frac_part].concat();
        let digits = digits.trim_start_matches('0');
        let scale = exp10 - frac_part.len() as i32 + i32::from(currency.exponent());
        let minor = scale_digits(digits, scale).ok_or_else(|| {
            if scale < 0 {
                MoneyError::TooPrecise {
                    amount: text.to_owned(),
                    currency,
                    exponent: currency.exponent(),
                }
            } else {
                MoneyError::Overflow
            }
        })?;
        Ok(Money::new(if negative { -minor } else { minor }, currency))
    }

    /// The amount as a plain decimal string with exactly the currency's number of decimals.
    pub fn to_decimal_string(&self) -> String {
        let exponent = u32::from(self.currency.exponent());
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{abs}");
        }
        let unit = 10u64.pow(exponent);
        format!(
            "{sign}{}.{:0width$}",
            abs / unit,
            abs % unit,
            width = exponent as usize
        )
    }

    pub fn is_positive(&self) -> bool {
        self.minor > 0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.checked_add(other.checked_neg()?)
    }

    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_neg().ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    fn same_currency(&self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

/// `digits * 10^scale` as an i64, or None when it overflows or would drop non-zero digits.
fn scale_digits(digits: &str, scale: i32) -> Option<i64> {
    let (kept, dropped) = if scale < 0 {
        let cut = digits.len().saturating_sub(scale.unsigned_abs() as usize);
        (&digits[..cut], &digits[cut..])
    } else {
        (digits, "")
    };
    if dropped.bytes().any(|b| b != b'0') {
        return None;
    }
    let mut value: i64 = 0;
    for b in kept.bytes() {
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    if scale > 0 {
        value = value.checked_mul(10i64.checked_pow(scale.unsigned_abs())?)?;
    }
    Some(value)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(text: &str) -> Result<i64, MoneyError> {
        Money::parse_decimal(text, Currency::USD).map(|m| m.minor)
    }

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(usd("0.01"), Ok(1));
        assert_eq!(usd("12.5"), Ok(1250));
        assert_eq!(usd("-3"), Ok(-300));
        assert_eq!(usd("1000.00"), Ok(100_000));
        assert_eq!(usd("1.230"), Ok(123));
        assert_eq!(usd("1e2"), Ok(10_000));
        assert_eq!(usd("1.5E-1"), Ok(15));
        assert_eq!(usd(".5"), Ok(50));
    }

    #[test]
    fn refuses_too_many_decimals_and_garbage() {
        assert!(matches!(usd("0.001"), Err(MoneyError::TooPrecise { .. })));
        assert!(matches!(usd("1e-3"), Err(MoneyError::TooPrecise { .. })));
        assert!(matches!(usd("abc"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(usd(""), Err(MoneyError::NotANumber(_))));
        assert!(matches!(usd("1.2.3"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(
            usd("99999999999999999999"),
            Err(MoneyError::Overflow)
        ));
    }

    #[test]
    fn respects_currency_exponent() {
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse_decimal("150", jpy).unwrap().minor, 150);
        assert!(Money::parse_decimal("1.5", jpy).is_err());
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::parse_decimal("1.234", kwd).unwrap().minor, 1234);
    }

    #[test]
    fn formats_with_currency_decimals() {
        assert_eq!(
            Money::new(100_000, Currency::USD).to_decimal_string(),
            "1000.00"
        );
        assert_eq!(Money::new(-1, Currency::USD).to_decimal_string(), "-0.01");
        assert_eq!(
            Money::new(5, Currency::parse("JPY").unwrap()).to_decimal_string(),
            "5"
        );
    }

    #[test]
    fn arithmetic_is_checked_and_currency_safe() {
        let a = Money::new(i64::MAX, Currency::USD);
        assert_eq!(
            a.checked_add(Money::new(1, Currency::USD)),
            Err(MoneyError::Overflow)
        );
        let e = Money::new(1, Currency::EUR);
        assert!(matches!(
            Money::new(1, Currency::USD).checked_add(e),
            Err(MoneyError::CurrencyMismatch(..))
        ));
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("US").is_err());
    }
}
