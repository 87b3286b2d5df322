//! Currency conversion quotes. The sandbox's board is configuration ([`SandboxOptions`]), not a market
//! feed: it quotes the same rates until it is opened with others.

use crate::error::SandboxError;
use crate::Sandbox;
use async_trait::async_trait;
use bankgate_backoffice::{BackOfficeError, RateBoard, RateQuote, RatesApi};
use bankgate_domain::{Currency, Rate};

/// How a sandbox is set up beyond its id, database and clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxOptions {
    /// The currency the bank keeps its books in, reported on the rate board.
    pub base_currency: Currency,
    /// The pairs the bank converts between; one quote per ordered pair.
    pub quotes: Vec<RateQuote>,
}

impl Default for SandboxOptions {
    /// USD-based, quoting USD->EUR (buy 0.92, sell 0.94) and EUR->USD (buy 1.06, sell 1.08).
    fn default() -> Self {
        let quotes = [
            (Currency::USD, Currency::EUR, "0.92", "0.94"),
            (Currency::EUR, Currency::USD, "1.06", "1.08"),
        ]
        .into_iter()
        // The literals all parse (a unit test holds them to it); `filter_map` only keeps the lint-free
        // path from needing an `unwrap`.
        .filter_map(|(src, dst, buy, sell)| {
            Some(RateQuote {
                src,
                dst,
                buy: Rate::parse(buy).ok()?,
                sell: Rate::parse(sell).ok()?,
            })
        })
        .collect();
        SandboxOptions {
            base_currency: Currency::USD,
            quotes,
        }
    }
}

impl SandboxOptions {
    /// Refuses a board that could not be read one way: a pair quoted twice, or a currency into itself.
    pub(crate) fn validate(&self) -> Result<(), SandboxError> {
        for (i, quote) in self.quotes.iter().enumerate() {
            if quote.src == quote.dst {
                return Err(SandboxError::InvalidOptions(format!(
                    "a quote converts {} into itself",
                    quote.src
                )));
            }
            let repeated = self.quotes[..i]
                .iter()
                .any(|q| q.src == quote.src && q.dst == quote.dst);
            if repeated {
                return Err(SandboxError::InvalidOptions(format!(
                    "{}->{} is quoted twice",
                    quote.src, quote.dst
                )));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl RatesApi for Sandbox {
    async fn rate_board(&self) -> Result<RateBoard, BackOfficeError> {
        Ok(RateBoard {
            base_currency: self.options.base_currency,
            quotes: self.options.quotes.clone(),
            refreshed_at: self.clock.now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_quote_both_directions() {
        let options = SandboxOptions::default();
        assert_eq!(options.base_currency, Currency::USD);
        assert_eq!(options.quotes.len(), 2, "every default literal parses");
        assert!(options.validate().is_ok());
        let usd_eur = &options.quotes[0];
        assert_eq!(
            (
                usd_eur.src,
                usd_eur.dst,
                usd_eur.buy.to_string(),
                usd_eur.sell.to_string()
            ),
            (Currency::USD, Currency::EUR, "0.92".into(), "0.94".into())
        );
    }

    #[test]
    fn ambiguous_boards_are_refused() {
        let mut twice = SandboxOptions::default();
        twice.quotes.push(twice.quotes[0].clone());
        assert!(twice.validate().is_err());
        let mut into_itself = SandboxOptions::default();
        into_itself.quotes[0].dst = Currency::USD;
        assert!(into_itself.validate().is_err());
    }
}
