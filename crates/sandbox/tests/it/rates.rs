//! The rate board and the capabilities a sandbox offers.

use crate::common::{open_sandbox, Harness};
use bankgate_backoffice::{BackOffice, RateQuote, RatesApi};
use bankgate_db::testing::test_engines;
use bankgate_db::{Db, DbOptions};
use bankgate_domain::ids::BackOfficeId;
use bankgate_domain::{Currency, Rate};
use bankgate_sandbox::{Sandbox, SandboxError, SandboxOptions};
use std::sync::Arc;
use time::Duration;

fn rate(text: &str) -> Rate {
    Rate::parse(text).unwrap()
}

#[tokio::test]
async fn the_default_board_quotes_usd_and_eur_as_of_now() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let board = h.sandbox.rate_board().await.unwrap();
        assert_eq!(board.base_currency, Currency::USD);
        assert_eq!(
            board.quotes,
            vec![
                RateQuote {
                    src: Currency::USD,
                    dst: Currency::EUR,
                    buy: rate("0.92"),
                    sell: rate("0.94"),
                },
                RateQuote {
                    src: Currency::EUR,
                    dst: Currency::USD,
                    buy: rate("1.06"),
                    sell: rate("1.08"),
                },
            ]
        );
        assert_eq!(board.refreshed_at, h.clock_now());
        assert_eq!(
            board.conversion_rate(Currency::EUR, Currency::USD),
            Some(rate("1.06"))
        );
        h.clock.advance(Duration::hours(1));
        assert_eq!(
            h.sandbox.as_ref().rate_board().await.unwrap().refreshed_at,
            h.clock_now()
        );
    }
}

#[tokio::test]
async fn a_sandbox_opened_with_options_quotes_them() {
    let h = Harness::new(bankgate_db::Engine::Sqlite).await;
    let gbp = Currency::parse("GBP").unwrap();
    let quote = RateQuote {
        src: Currency::EUR,
        dst: gbp,
        buy: rate("0.85"),
        sell: rate("0.86"),
    };
    let options = SandboxOptions {
        base_currency: Currency::EUR,
        quotes: vec![quote.clone()],
    };
    let db = || async {
        Db::connect(&h.database.url, &DbOptions::default())
            .await
            .unwrap()
    };
    let id = BackOfficeId::parse("sandbox-eu").unwrap();
    let clock = Arc::new(h.clock.clone());
    let eu = Sandbox::open_with(id.clone(), db().await, clock.clone(), options.clone())
        .await
        .unwrap();
    let board = eu.rate_board().await.unwrap();
    assert_eq!(
        (board.base_currency, board.quotes),
        (Currency::EUR, vec![quote.clone()])
    );

    let twice = SandboxOptions {
        quotes: vec![quote.clone(), quote],
        ..options
    };
    let refused = Sandbox::open_with(id, db().await, clock, twice).await;
    assert!(
        matches!(refused, Err(SandboxError::InvalidOptions(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_sandbox_offers_every_capability() {
    let h = Harness::new(bankgate_db::Engine::Sqlite).await;
    let back_office: Arc<dyn BackOffice> = Arc::new(open_sandbox(&h.database.url, &h.clock).await);
    assert!(back_office.require_transfers().is_ok());
    assert!(back_office.require_payments().is_ok());
    let rates = back_office.require_rates().unwrap();
    assert_eq!(
        rates.rate_board().await.unwrap().base_currency,
        Currency::USD
    );
    assert!(back_office.customers().is_some() && back_office.card_authorization().is_some());
}
