//! Book transfers between two accounts of the sandbox: same-currency and converted, both statement lines
//! with the caller's reference and the conversion, every refusal writing nothing, and replays by key.

use crate::common::{code, eur, key, usd, Harness};
use bankgate_backoffice::{
    AccountsApi, BackOfficeError, BoAccount, BookTransfer, TransactionState, TransfersApi,
};
use bankgate_db::testing::test_engines;
use bankgate_domain::ids::BoRef;
use bankgate_domain::{Currency, Money, Rate};
use time::Duration;

fn transfer(from: &BoAccount, to: &BoAccount, debit: Money, credit: Money) -> BookTransfer {
    BookTransfer {
        from: from.id_bo.clone(),
        to: to.id_bo.clone(),
        debit,
        credit,
        rate: None,
        narrative_debit: "To savings".into(),
        narrative_credit: "From checking".into(),
        reference: "op_7f3k2".into(),
    }
}

fn rate(text: &str) -> Rate {
    Rate::parse(text).unwrap()
}

#[tokio::test]
async fn a_same_currency_transfer_moves_money_in_one_entry() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let from = h.funded(Currency::USD, 10_000).await;
        let to = h.funded(Currency::USD, 500).await;
        h.clock.advance(Duration::minutes(5));
        let entries_before = h.count("SELECT COUNT(*) FROM sbx_entries").await;

        let request = transfer(&from, &to, usd(2_550), usd(2_550));
        let legs = h.sandbox.book_transfer(&request, &key()).await.unwrap();

        assert_eq!(h.balance(&from).await, 7_450);
        assert_eq!(h.balance(&to).await, 3_050);
        let (debit, credit) = (&legs.debit, &legs.credit);
        assert_eq!((debit.amount, credit.amount), (usd(-2_550), usd(2_550)));
        assert_eq!(
            (&debit.account_id_bo, &credit.account_id_bo),
            (&from.id_bo, &to.id_bo)
        );
        for line in [debit, credit] {
            assert_eq!(
                (line.txn_type.as_str(), line.type_name.as_str()),
                ("transfer", "Transfer")
            );
            assert_eq!(
                line.reference, "op_7f3k2",
                "the request's, not a random one"
            );
            assert_eq!(line.fx, None);
            assert_eq!(line.state, TransactionState::Confirmed);
            assert_eq!(line.value_at, h.clock_now());
        }
        assert_eq!(debit.narrative, "To savings");
        assert_eq!(credit.narrative, "From checking");
        // The lines are what the statements show.
        assert_eq!(&h.lines(&from).await[0], debit);
        assert_eq!(&h.lines(&to).await[0], credit);
        assert_eq!(
            h.count("SELECT COUNT(*) FROM sbx_entries").await,
            entries_before + 1,
            "one entry for both sides"
        );
        h.assert_ledger_clean().await;
    }
}

#[tokio::test]
async fn a_converted_transfer_balances_per_currency_through_the_fx_positions() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let from = h.funded(Currency::USD, 10_000).await;
        let to = h.funded(Currency::EUR, 0).await;

        // 12.34 USD at 0.9235 is 11.395990 EUR: 11.40 after rounding half away from zero.
        let request = BookTransfer {
            rate: Some(rate("0.9235")),
            ..transfer(&from, &to, usd(1_234), eur(1_140))
        };
        let legs = h.sandbox.book_transfer(&request, &key()).await.unwrap();

        assert_eq!(h.balance(&from).await, 10_000 - 1_234);
        assert_eq!(h.balance(&to).await, 1_140);
        let debit_fx = legs
            .debit
            .fx
            .expect("the debit line records the conversion");
        assert_eq!(
            (debit_fx.rate, debit_fx.counter_amount),
            (rate("0.9235"), eur(1_140))
        );
        let credit_fx = legs
            .credit
            .fx
            .expect("the credit line records the conversion");
        assert_eq!(
            (credit_fx.rate, credit_fx.counter_amount),
            (rate("0.9235"), usd(1_234))
        );
        assert_eq!(
            (legs.debit.amount, legs.credit.amount),
            (usd(-1_234), eur(1_140))
        );
        // Stored and read back exactly, rate included.
        assert_eq!(h.lines(&from).await[0], legs.debit);
        assert_eq!(h.lines(&to).await[0], legs.credit);

        assert_eq!(h.posted_balance("int_fx_position_usd").await, 1_234);
        assert_eq!(h.posted_balance("int_fx_position_eur").await, -1_140);
        let report = h.sandbox.ledger_report().await.unwrap();
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.currency_totals.get(&Currency::EUR), Some(&0));

        // One cent off the conversion is refused.
        let off = BookTransfer {
            rate: Some(rate("0.9235")),
            ..transfer(&from, &to, usd(1_234), eur(1_139))
        };
        assert_eq!(
            code(h.sandbox.book_transfer(&off, &key()).await),
            "FX_MISMATCH"
        );
        assert_eq!(h.balance(&to).await, 1_140);
    }
}

#[tokio::test]
async fn every_refusal_writes_nothing() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let from = h.funded(Currency::USD, 1_000).await;
        let to = h.funded(Currency::USD, 0).await;
        let euros = h.funded(Currency::EUR, 0).await;
        let before = h.snapshot(&[&from, &to, &euros]).await;

        let converted = |debit, credit, r: &str| BookTransfer {
            rate: Some(rate(r)),
            ..transfer(&from, &euros, debit, credit)
        };
        let cases = [
            (
                transfer(&from, &to, usd(1_001), usd(1_001)),
                "INSUFFICIENT_FUNDS",
            ),
            (transfer(&from, &to, usd(0), usd(0)), "INVALID_AMOUNT"),
            (transfer(&from, &to, usd(-100), usd(-100)), "INVALID_AMOUNT"),
            (transfer(&from, &from, usd(100), usd(100)), "SAME_ACCOUNT"),
            (transfer(&from, &to, usd(100), usd(90)), "FX_MISMATCH"),
            (transfer(&from, &euros, usd(100), eur(92)), "FX_MISMATCH"),
            (converted(usd(100), eur(93), "0.92"), "FX_MISMATCH"),
            (
                transfer(&from, &to, eur(100), eur(100)),
                "CURRENCY_MISMATCH",
            ),
            (
                transfer(&from, &euros, usd(100), usd(100)),
                "CURRENCY_MISMATCH",
            ),
            (
                BookTransfer {
                    rate: Some(rate("1")),
                    ..transfer(&from, &to, usd(100), usd(100))
                },
                "FX_MISMATCH",
            ),
            // A conversion the bank would make, but out of an account that is short.
            (
                converted(usd(1_087), eur(1_000), "0.92"),
                "INSUFFICIENT_FUNDS",
            ),
        ];
        for (request, expected) in &cases {
            let refused = h.sandbox.book_transfer(request, &key()).await;
            assert_eq!(code(refused), *expected, "{request:?}");
        }
        let nowhere = BookTransfer {
            to: BoRef("acc_nowhere".into()),
            ..transfer(&from, &to, usd(100), usd(100))
        };
        assert_eq!(
            h.sandbox.book_transfer(&nowhere, &key()).await,
            Err(BackOfficeError::NotFound("account"))
        );

        h.exec(
            "UPDATE sbx_accounts SET is_closed = 1 WHERE id = $1",
            to.id_bo.as_str(),
        )
        .await;
        let to_closed = transfer(&from, &to, usd(100), usd(100));
        assert_eq!(
            code(h.sandbox.book_transfer(&to_closed, &key()).await),
            "ACCOUNT_CLOSED"
        );
        let from_closed = transfer(&to, &from, usd(100), usd(100));
        assert_eq!(
            code(h.sandbox.book_transfer(&from_closed, &key()).await),
            "ACCOUNT_CLOSED"
        );
        h.exec(
            "UPDATE sbx_accounts SET is_closed = 0 WHERE id = $1",
            to.id_bo.as_str(),
        )
        .await;
        h.exec(
            "UPDATE sbx_accounts SET status = 'blocked' WHERE id = $1",
            from.id_bo.as_str(),
        )
        .await;
        let from_blocked = transfer(&from, &to, usd(100), usd(100));
        assert_eq!(
            code(h.sandbox.book_transfer(&from_blocked, &key()).await),
            "ACCOUNT_BLOCKED"
        );

        assert_eq!(h.snapshot(&[&from, &to, &euros]).await, before);
        assert!(before.report.is_clean(), "{:?}", before.report);
    }
}

#[tokio::test]
async fn a_repeated_transfer_moves_money_once() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let from = h.funded(Currency::USD, 3_000).await;
        let to = h.funded(Currency::USD, 0).await;
        let request = transfer(&from, &to, usd(3_000), usd(3_000));
        let once = key();
        let first = h.sandbox.book_transfer(&request, &once).await.unwrap();
        h.clock.advance(Duration::minutes(1));
        // The account is empty now, yet the repeat is the first call's answer, not a refusal.
        let again = h.sandbox.book_transfer(&request, &once).await.unwrap();
        assert_eq!(first, again);
        assert_eq!((h.balance(&from).await, h.balance(&to).await), (0, 3_000));
        assert_eq!(h.lines(&to).await.len(), 1);

        // A refused call leaves its key unused: once funded, the same key goes through.
        let retry = key();
        let refused = h.sandbox.book_transfer(&request, &retry).await;
        assert_eq!(code(refused), "INSUFFICIENT_FUNDS");
        h.deposit(&from, 3_000).await;
        let later = h.sandbox.book_transfer(&request, &retry).await.unwrap();
        assert_ne!(later.debit.id_bo, first.debit.id_bo);
        assert_eq!((h.balance(&from).await, h.balance(&to).await), (0, 6_000));
        assert_eq!(
            h.sandbox.get_account(&to.id_bo).await.unwrap().ledger,
            usd(6_000)
        );
        h.assert_ledger_clean().await;
    }
}
