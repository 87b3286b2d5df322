//! Exchange rates as exact decimals, and currency conversion of money with them. A rate says how many
//! units of the destination currency one unit of the source currency buys; it is kept as an integer
//! count of 10^-8, so conversions are exact integer arithmetic with one explicit rounding.

use crate::money::{Currency, Money, MoneyError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Fractional digits a rate keeps.
const RATE_DECIMALS: u32 = 8;
const RATE_SCALE: i128 = 10i128.pow(RATE_DECIMALS);

/// A positive exchange rate with at most eight decimals.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rate {
    /// The rate times 10^8.
    scaled: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("rate {0:?} is not a positive decimal with at most eight decimals")]
    Invalid(String),
}

impl Rate {
    /// Parses a plain decimal such as `"0.92"` or `"1.0870"`.
    pub fn parse(text: &str) -> Result<Rate, RateError> {
        let invalid = || RateError::Invalid(text.to_owned());
        let (int_part, frac_part) = text.split_once('.').unwrap_or((text, ""));
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty()
            || !digits_ok(int_part)
            || !digits_ok(frac_part)
            || frac_part.len() > RATE_DECIMALS as usize
        {
            return Err(invalid());
        }
        let padded = format!("{frac_part:0<width$}", width = RATE_DECIMALS as usize);
        let scaled = int_part
            .parse::<i64>()
            .ok()
            .and_then(|i| i.checked_mul(RATE_SCALE as i64))
            .and_then(|i| i.checked_add(padded.parse::<i64>().ok()?))
            .ok_or_else(invalid)?;
        if scaled <= 0 {
            return Err(invalid());
        }
        Ok(Rate { scaled })
    }

    /// The rate as a decimal string without trailing zeros (`"0.92"`, `"1"`).
    pub fn to_decimal_string(&self) -> String {
        let int = self.scaled / RATE_SCALE as i64;
        let frac = self.scaled % RATE_SCALE as i64;
        if frac == 0 {
            return int.to_string();
        }
        let frac = format!("{frac:0width$}", width = RATE_DECIMALS as usize);
        format!("{int}.{}", frac.trim_end_matches('0'))
    }

    /// The rate as a float, for display in JSON only; conversions never use it.
    pub fn to_f64(&self) -> f64 {
        self.scaled as f64 / RATE_SCALE as f64
    }

    /// Converts `amount` into `to` at this rate, rounding half away from zero to `to`'s minor unit.
    pub fn convert(&self, amount: Money, to: Currency) -> Result<Money, MoneyError> {
        let exp_from = i32::from(amount.currency.exponent());
        let exp_to = i32::from(to.exponent());
        // minor_to = minor_from * scaled / 10^8 * 10^(exp_to - exp_from)
        let mut numerator = i128::from(amount.minor) * i128::from(self.scaled);
        let mut denominator = RATE_SCALE;
        let shift = exp_to - exp_from;
        let power = 10i128.pow(shift.unsigned_abs());
        if shift >= 0 {
            numerator *= power;
        } else {
            denominator *= power;
        }
        let quotient = numerator / denominator;
        let remainder = numerator % denominator;
        let rounded = if remainder.abs() * 2 >= denominator {
            quotient + numerator.signum()
        } else {
            quotient
        };
        let minor = i64::try_from(rounded).map_err(|_| MoneyError::Overflow)?;
        Ok(Money::new(minor, to))
    }

    /// The rate that converts back: 1 / self, rounded to eight decimals.
    pub fn inverse(&self) -> Rate {
        let scaled =
            (RATE_SCALE * RATE_SCALE + i128::from(self.scaled) / 2) / i128::from(self.scaled);
        Rate {
            scaled: i64::try_from(scaled.max(1)).unwrap_or(i64::MAX),
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rate({self})")
    }
}

impl TryFrom<String> for Rate {
    type Error = RateError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Rate::parse(&s)
    }
}

impl From<Rate> for String {
    fn from(r: Rate) -> String {
        r.to_decimal_string()
    }
}

/// On the wire a rate is its decimal string (`"0.92"`), never a float.
#[cfg(feature = "schema")]
impl utoipa::PartialSchema for Rate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]+(\.[0-9]{1,8})?$"))
            .description(Some(
                "A positive exchange rate as a decimal string with at most eight decimals",
            ))
            .examples([serde_json::json!("0.92")])
            .into()
    }
}

#[cfg(feature = "schema")]
impl utoipa::ToSchema for Rate {}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(s: &str) -> Rate {
        Rate::parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints_exactly() {
        assert_eq!(rate("0.92").to_decimal_string(), "0.92");
        assert_eq!(rate("1").to_decimal_string(), "1");
        assert_eq!(rate("1.08695652").to_decimal_string(), "1.08695652");
        for bad in [
            "",
            "-1",
            "0",
            "0.000000000",
            "1.123456789",
            "abc",
            ".5",
            "1e3",
        ] {
            assert!(Rate::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn converts_with_one_rounding_half_away_from_zero() {
        let usd = |m| Money::new(m, Currency::USD);
        assert_eq!(
            rate("0.92").convert(usd(10_000), Currency::EUR).unwrap(),
            Money::new(9_200, Currency::EUR)
        );
        // 0.01 USD * 0.925 = 0.00925 EUR -> 0.01
        assert_eq!(
            rate("0.925").convert(usd(1), Currency::EUR).unwrap(),
            Money::new(1, Currency::EUR)
        );
        // 0.01 * 0.92 = 0.0092 -> 0.01; 0.01 * 0.4 -> 0.00
        assert_eq!(rate("0.4").convert(usd(1), Currency::EUR).unwrap().minor, 0);
        assert_eq!(
            rate("0.5").convert(usd(-1), Currency::EUR).unwrap().minor,
            -1
        );
    }

    #[test]
    fn converts_across_exponents() {
        let jpy = Currency::parse("JPY").unwrap();
        // 1.00 USD at 150.5 = 150.5 JPY -> 151
        assert_eq!(
            rate("150.5")
                .convert(Money::new(100, Currency::USD), jpy)
                .unwrap(),
            Money::new(151, jpy)
        );
        // 151 JPY at 0.00664452 = 1.00332252 USD -> 1.00
        assert_eq!(
            rate("0.00664452")
                .convert(Money::new(151, jpy), Currency::USD)
                .unwrap(),
            Money::new(100, Currency::USD)
        );
    }

    #[test]
    fn inverse_round_trips_to_eight_decimals() {
        assert_eq!(rate("0.8").inverse(), rate("1.25"));
        assert_eq!(rate("0.92").inverse().to_decimal_string(), "1.08695652");
    }

    #[test]
    fn serializes_as_a_decimal_string() {
        assert_eq!(serde_json::to_string(&rate("0.92")).unwrap(), "\"0.92\"");
        let back: Rate = serde_json::from_str("\"0.92\"").unwrap();
        assert_eq!(back, rate("0.92"));
    }
}
