//! Repeating a keyed call answers with the first result and applies nothing again.

use crate::common::{key, usd, Harness, START};
use bankgate_backoffice::{
    AccountsApi, CardsApi, CustomersApi, Deposit, IssueCard, NewCustomer, OpenAccount,
    TransactionQuery,
};
use bankgate_db::testing::test_engines;
use bankgate_domain::Currency;
use std::sync::Arc;
use time::Duration;

#[tokio::test]
async fn a_repeated_deposit_is_applied_once() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, _) = h.funded_card(0).await;
        let deposit = Deposit {
            amount: usd(2_500),
            narrative: "Cash".into(),
            value_at: START,
        };
        let once = key();
        let first = h
            .sandbox
            .deposit(&account.id_bo, &deposit, &once)
            .await
            .unwrap();
        h.clock.advance(Duration::minutes(1));
        let again = h
            .sandbox
            .deposit(&account.id_bo, &deposit, &once)
            .await
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(h.balance(&account).await, 2_500);

        let other = h
            .sandbox
            .deposit(&account.id_bo, &deposit, &key())
            .await
            .unwrap();
        assert_ne!(other.id_bo, first.id_bo);
        assert_eq!(h.balance(&account).await, 5_000);
        let all = TransactionQuery::Latest {
            limit: 100,
            since: START - Duration::days(1),
        };
        assert_eq!(
            h.sandbox
                .list_transactions(&account.id_bo, &all)
                .await
                .unwrap()
                .len(),
            2
        );
        h.assert_ledger_clean().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_repeats_apply_once() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, _) = h.funded_card(0).await;
        let deposit = Arc::new(Deposit {
            amount: usd(700),
            narrative: "Cash".into(),
            value_at: START,
        });
        let once = key();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (sandbox, account, deposit, once) = (
                    h.sandbox.clone(),
                    account.id_bo.clone(),
                    deposit.clone(),
                    once.clone(),
                );
                tokio::spawn(async move { sandbox.deposit(&account, &deposit, &once).await })
            })
            .collect();
        let mut ids = Vec::new();
        for task in tasks {
            ids.push(task.await.unwrap().unwrap().id_bo);
        }
        ids.dedup();
        assert_eq!(
            ids.len(),
            1,
            "every repeat answers with the one transaction"
        );
        assert_eq!(h.balance(&account).await, 700);
        h.assert_ledger_clean().await;
    }
}

#[tokio::test]
async fn creating_calls_are_idempotent_per_operation() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let person = NewCustomer {
            first_name: "Grace".into(),
            last_name: "Hopper".into(),
        };
        let shared = key();
        let customer = h.sandbox.create_customer(&person, &shared).await.unwrap();
        assert_eq!(
            h.sandbox.create_customer(&person, &shared).await.unwrap(),
            customer
        );

        // The same key on another operation is that operation's own first use.
        let request = OpenAccount {
            name: "Main".into(),
            type_id: "checking".into(),
            currency: Currency::USD,
        };
        let account = h
            .sandbox
            .open_account(&customer, &request, &shared)
            .await
            .unwrap();
        h.clock.advance(Duration::minutes(1));
        assert_eq!(
            h.sandbox
                .open_account(&customer, &request, &shared)
                .await
                .unwrap(),
            account
        );
        assert_eq!(h.sandbox.list_accounts(&customer).await.unwrap().len(), 1);

        let issue = IssueCard {
            name_on_card: "GRACE HOPPER".into(),
            type_id: "debit".into(),
            activated: false,
        };
        let card = h
            .sandbox
            .issue_card(&account.id_bo, &issue, &shared)
            .await
            .unwrap();
        assert_eq!(
            h.sandbox
                .issue_card(&account.id_bo, &issue, &shared)
                .await
                .unwrap(),
            card
        );
        assert_eq!(h.sandbox.list_cards(&customer).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_refused_call_leaves_its_key_unused() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, _) = h.funded_card(0).await;
        let retry = key();
        let bad = Deposit {
            amount: bankgate_domain::Money::new(100, Currency::EUR),
            narrative: "x".into(),
            value_at: START,
        };
        assert!(h
            .sandbox
            .deposit(&account.id_bo, &bad, &retry)
            .await
            .is_err());
        let good = Deposit {
            amount: usd(100),
            ..bad
        };
        assert_eq!(
            h.sandbox
                .deposit(&account.id_bo, &good, &retry)
                .await
                .unwrap()
                .amount,
            usd(100)
        );
        assert_eq!(h.balance(&account).await, 100);
    }
}
