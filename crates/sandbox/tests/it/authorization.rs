//! Card authorization: every decline reason in its place, what an approval records, and that concurrent
//! purchases can never overdraw an account.

use crate::common::{purchase, purchase_at, usd, Harness, START};
use bankgate_backoffice::{
    AccountsApi, AuthorizationOutcome, BackOfficeError, CardsApi, TransactionQuery,
    TransactionState,
};
use bankgate_db::testing::test_engines;
use bankgate_domain::ids::BoRef;
use bankgate_domain::restrictions::DeclineReason;
use bankgate_domain::{Currency, Money};
use time::macros::datetime;
use time::Duration;

fn declined(outcome: Result<AuthorizationOutcome, BackOfficeError>) -> DeclineReason {
    match outcome {
        Ok(AuthorizationOutcome::Declined { reason }) => reason,
        other => panic!("expected a decline, got {other:?}"),
    }
}

#[tokio::test]
async fn an_approval_debits_the_account_and_records_the_purchase() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, card) = h.funded_card(5_000).await;
        h.clock.advance(Duration::seconds(30));
        let outcome = h.authorize(&purchase(&card, usd(1_234))).await.unwrap();
        let AuthorizationOutcome::Approved { transaction } = outcome else {
            panic!("declined: {outcome:?}")
        };
        assert_eq!(transaction.amount, usd(-1_234));
        assert_eq!(transaction.account_id_bo, account.id_bo);
        assert_eq!(
            (
                transaction.txn_type.as_str(),
                transaction.type_name.as_str()
            ),
            ("card_purchase", "Card purchase")
        );
        assert_eq!(transaction.narrative, "Corner Grocery");
        assert_eq!(transaction.mcc.as_deref(), Some("5411"));
        assert_eq!(transaction.card_id_bo, Some(card.id_bo.clone()));
        assert_eq!(transaction.state, TransactionState::Confirmed);
        assert_eq!(
            (transaction.value_at, transaction.recorded_at),
            (START, START + Duration::seconds(30))
        );
        assert_eq!(h.balance(&account).await, 5_000 - 1_234);

        let anonymous = bankgate_backoffice::AuthorizationRequest {
            merchant: None,
            ..purchase(&card, usd(1))
        };
        let AuthorizationOutcome::Approved { transaction } = h.authorize(&anonymous).await.unwrap()
        else {
            panic!()
        };
        assert_eq!(transaction.narrative, "Card purchase");
        h.assert_ledger_clean().await;
    }
}

#[tokio::test]
async fn each_decline_reason_in_order_and_declines_record_nothing() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, card) = h.funded_card(1_000).await;
        let id = card.id_bo.as_str();
        let small = purchase(&card, usd(100));

        h.exec("UPDATE sbx_cards SET activated = 0 WHERE id = $1", id)
            .await;
        h.sandbox
            .set_card_enabled(&card.id_bo, false)
            .await
            .unwrap();
        h.exec("UPDATE sbx_cards SET closed = 1 WHERE id = $1", id)
            .await;
        assert_eq!(
            declined(h.authorize(&small).await),
            DeclineReason::CardClosed
        );
        h.exec("UPDATE sbx_cards SET closed = 0 WHERE id = $1", id)
            .await;
        assert_eq!(
            declined(h.authorize(&small).await),
            DeclineReason::CardNotActivated
        );
        h.sandbox.activate_card(&card.id_bo).await.unwrap();
        assert_eq!(declined(h.authorize(&small).await), DeclineReason::CardOff);
        h.sandbox.set_card_enabled(&card.id_bo, true).await.unwrap();

        // Valid through January 2027 by the merchant's calendar.
        let last_day = purchase_at(&card, usd(100), datetime!(2027-01-31 23:59));
        let first_day_after = purchase_at(&card, usd(100), datetime!(2027-02-01 00:01));
        assert_eq!(
            declined(h.authorize(&first_day_after).await),
            DeclineReason::CardExpired
        );
        assert!(matches!(
            h.authorize(&last_day).await,
            Ok(AuthorizationOutcome::Approved { .. })
        ));

        let euros = purchase(&card, Money::new(100, Currency::EUR));
        assert_eq!(
            declined(h.authorize(&euros).await),
            DeclineReason::CurrencyMismatch
        );
        for amount in [0, -100] {
            let refused = h.authorize(&purchase(&card, usd(amount))).await;
            assert!(
                matches!(
                    refused,
                    Err(BackOfficeError::Rejected {
                        code: "INVALID_AMOUNT",
                        ..
                    })
                ),
                "{refused:?}"
            );
        }
        assert_eq!(
            declined(h.authorize(&purchase(&card, usd(901))).await),
            DeclineReason::InsufficientFunds
        );
        assert!(matches!(
            h.authorize(&purchase(&card, usd(900))).await,
            Ok(AuthorizationOutcome::Approved { .. })
        ));
        assert_eq!(
            declined(h.authorize(&purchase(&card, usd(1))).await),
            DeclineReason::InsufficientFunds
        );

        let everything = TransactionQuery::Latest {
            limit: 100,
            since: START - Duration::days(1),
        };
        let lines = h
            .sandbox
            .list_transactions(&account.id_bo, &everything)
            .await
            .unwrap();
        assert_eq!(
            lines.len(),
            3,
            "the deposit and the two approvals, no declines: {lines:?}"
        );
        assert_eq!(h.balance(&account).await, 0);
        h.assert_ledger_clean().await;

        let unknown = bankgate_backoffice::AuthorizationRequest {
            card_id_bo: BoRef("cd_none".into()),
            ..small
        };
        assert_eq!(
            h.authorize(&unknown).await,
            Err(BackOfficeError::NotFound("card"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_purchases_never_overdraw() {
    const BALANCE: i64 = 1_000;
    const PRICE: i64 = 70;
    const PURCHASES: i64 = 50;
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, card) = h.funded_card(BALANCE).await;
        let tasks: Vec<_> = (0..PURCHASES)
            .map(|_| {
                let (sandbox, request) = (h.sandbox.clone(), purchase(&card, usd(PRICE)));
                tokio::spawn(async move {
                    bankgate_backoffice::CardAuthorizationApi::authorize(&*sandbox, &request).await
                })
            })
            .collect();
        let (mut approved, mut short) = (0, 0);
        for task in tasks {
            match task.await.unwrap().unwrap() {
                AuthorizationOutcome::Approved { .. } => approved += 1,
                AuthorizationOutcome::Declined {
                    reason: DeclineReason::InsufficientFunds,
                } => short += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(
            (approved, short),
            (BALANCE / PRICE, PURCHASES - BALANCE / PRICE)
        );
        let after = h.sandbox.get_account(&account.id_bo).await.unwrap();
        assert_eq!(after.available, usd(BALANCE % PRICE));
        assert_eq!(after.ledger, after.available);
        h.assert_ledger_clean().await;
        let report = h.sandbox.ledger_report().await.unwrap();
        assert_eq!(report.currency_totals.get(&Currency::USD), Some(&0));
    }
}
