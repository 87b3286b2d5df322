//! Settlement legs: money leaving to and arriving from other back offices through the settlement
//! account, reversals, converted legs, and the same guarantees as every movement (refusals write
//! nothing, a key applies once).

use crate::common::{code, eur, key, usd, Harness};
use bankgate_backoffice::{BoAccount, FxDetail, LegKind, SettlementLeg, TransfersApi};
use bankgate_db::testing::test_engines;
use bankgate_domain::{Currency, Money, Rate};

fn leg(account: &BoAccount, amount: Money, kind: LegKind) -> SettlementLeg {
    SettlementLeg {
        account: account.id_bo.clone(),
        amount,
        kind,
        narrative: "To Bob at North Bank".into(),
        reference: "op_x9".into(),
        fx: None,
    }
}

#[tokio::test]
async fn a_debit_leg_and_its_reversal_pass_through_settlement() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let account = h.funded(Currency::USD, 10_000).await;

        let out = leg(&account, usd(3_000), LegKind::Transfer);
        let debit = h.sandbox.debit_to_settlement(&out, &key()).await.unwrap();
        assert_eq!(debit.amount, usd(-3_000));
        assert_eq!(
            (debit.txn_type.as_str(), debit.type_name.as_str()),
            ("transfer", "Transfer")
        );
        assert_eq!((debit.reference.as_str(), debit.fx), ("op_x9", None));
        assert_eq!(debit.narrative, "To Bob at North Bank");
        assert_eq!(h.balance(&account).await, 7_000);
        assert_eq!(h.posted_balance("int_settlement_usd").await, 3_000);
        h.assert_ledger_clean().await;

        let back = SettlementLeg {
            narrative: "Returned: North Bank refused".into(),
            ..leg(&account, usd(3_000), LegKind::Reversal)
        };
        let reversal = h
            .sandbox
            .credit_from_settlement(&back, &key())
            .await
            .unwrap();
        assert_eq!(reversal.amount, usd(3_000));
        assert_eq!(
            (reversal.txn_type.as_str(), reversal.type_name.as_str()),
            ("reversal", "Reversal")
        );
        assert_eq!(reversal.reference, "op_x9");
        assert_eq!(h.balance(&account).await, 10_000);
        assert_eq!(h.posted_balance("int_settlement_usd").await, 0);
        let lines = h.lines(&account).await;
        assert_eq!((&lines[0], &lines[1]), (&reversal, &debit));
        h.assert_ledger_clean().await;
    }
}

#[tokio::test]
async fn a_converted_credit_leg_records_its_conversion() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let account = h.funded(Currency::EUR, 0).await;
        let fx = FxDetail {
            rate: Rate::parse("0.92").unwrap(),
            counter_amount: usd(10_000),
        };
        let arriving = SettlementLeg {
            fx: Some(fx),
            ..leg(&account, eur(9_200), LegKind::Transfer)
        };
        let credit = h
            .sandbox
            .credit_from_settlement(&arriving, &key())
            .await
            .unwrap();
        assert_eq!((credit.amount, credit.fx), (eur(9_200), Some(fx)));
        assert_eq!(h.lines(&account).await, vec![credit]);
        assert_eq!(h.balance(&account).await, 9_200);
        assert_eq!(h.posted_balance("int_settlement_eur").await, -9_200);

        let wrong = SettlementLeg {
            fx: Some(FxDetail {
                counter_amount: usd(10_001),
                ..fx
            }),
            ..arriving.clone()
        };
        let refused = h.sandbox.credit_from_settlement(&wrong, &key()).await;
        assert_eq!(code(refused), "FX_MISMATCH");
        assert_eq!(h.balance(&account).await, 9_200);
        h.assert_ledger_clean().await;
    }
}

#[tokio::test]
async fn refused_legs_write_nothing() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let account = h.funded(Currency::USD, 1_000).await;
        let before = h.snapshot(&[&account]).await;

        let short = leg(&account, usd(1_001), LegKind::Transfer);
        assert_eq!(
            code(h.sandbox.debit_to_settlement(&short, &key()).await),
            "INSUFFICIENT_FUNDS"
        );
        let euros = leg(&account, eur(100), LegKind::Transfer);
        assert_eq!(
            code(h.sandbox.debit_to_settlement(&euros, &key()).await),
            "CURRENCY_MISMATCH"
        );
        assert_eq!(
            code(h.sandbox.credit_from_settlement(&euros, &key()).await),
            "CURRENCY_MISMATCH"
        );
        for amount in [usd(0), usd(-100)] {
            let bad = leg(&account, amount, LegKind::Transfer);
            assert_eq!(
                code(h.sandbox.debit_to_settlement(&bad, &key()).await),
                "INVALID_AMOUNT"
            );
            assert_eq!(
                code(h.sandbox.credit_from_settlement(&bad, &key()).await),
                "INVALID_AMOUNT"
            );
        }
        h.exec(
            "UPDATE sbx_accounts SET is_closed = 1 WHERE id = $1",
            account.id_bo.as_str(),
        )
        .await;
        let arriving = leg(&account, usd(100), LegKind::Transfer);
        assert_eq!(
            code(h.sandbox.credit_from_settlement(&arriving, &key()).await),
            "ACCOUNT_CLOSED"
        );
        h.exec(
            "UPDATE sbx_accounts SET is_closed = 0 WHERE id = $1",
            account.id_bo.as_str(),
        )
        .await;

        assert_eq!(h.snapshot(&[&account]).await, before);
    }
}

#[tokio::test]
async fn legs_apply_once_per_operation_and_key() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let account = h.funded(Currency::USD, 5_000).await;
        let shared = key();
        let out = leg(&account, usd(5_000), LegKind::Transfer);
        let first = h.sandbox.debit_to_settlement(&out, &shared).await.unwrap();
        let again = h.sandbox.debit_to_settlement(&out, &shared).await.unwrap();
        assert_eq!(first, again);
        assert_eq!(h.balance(&account).await, 0);

        // The same key on the other operation is that operation's own first use.
        let back = leg(&account, usd(5_000), LegKind::Reversal);
        let credit = h
            .sandbox
            .credit_from_settlement(&back, &shared)
            .await
            .unwrap();
        let credit_again = h
            .sandbox
            .credit_from_settlement(&back, &shared)
            .await
            .unwrap();
        assert_eq!(credit, credit_again);
        assert_ne!(credit.id_bo, first.id_bo);
        assert_eq!(h.balance(&account).await, 5_000);
        assert_eq!(h.lines(&account).await.len(), 3, "deposit, debit, reversal");
        h.assert_ledger_clean().await;
    }
}
