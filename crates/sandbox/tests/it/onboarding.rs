//! Opening a relationship end to end: customer, accounts, a deposit, a card; and what unknown ids answer.

use crate::common::{key, purchase, usd, Harness, START};
use bankgate_backoffice::{
    AccountStatus, AccountsApi, BackOffice, BackOfficeError, CardsApi, Deposit, TransactionQuery,
    TransactionState,
};
use bankgate_db::testing::test_engines;
use bankgate_domain::ids::BoRef;
use bankgate_domain::routing::aba_routing_valid;
use bankgate_domain::Currency;
use time::Duration;

#[tokio::test]
async fn onboarding_flow() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let customer = h.customer().await;
        assert!(customer.as_str().starts_with("cus_"));

        let account = h.account(&customer, Currency::USD).await;
        assert!(account.id_bo.as_str().starts_with("acc_"));
        assert_eq!(account.customer_id_bo, customer);
        assert_eq!((account.ledger, account.available), (usd(0), usd(0)));
        assert_eq!(account.status, AccountStatus::Active);
        assert!(!account.is_closed);
        assert_eq!(account.opened_at, START);
        assert_eq!(account.number_masked.len(), 16);
        assert_eq!(
            &account.number_masked[6..12],
            "******",
            "{}",
            account.number_masked
        );
        let routing = account.routing_number.clone().unwrap();
        assert!(aba_routing_valid(&routing), "{routing}");

        h.clock.advance(Duration::minutes(5));
        let deposit = Deposit {
            amount: usd(10_000),
            narrative: "Payroll".into(),
            value_at: START,
        };
        let credit = h
            .sandbox
            .deposit(&account.id_bo, &deposit, &key())
            .await
            .unwrap();
        assert!(credit.id_bo.as_str().starts_with("tx_"));
        assert_eq!(credit.amount, usd(10_000));
        assert_eq!(
            (credit.txn_type.as_str(), credit.narrative.as_str()),
            ("deposit", "Payroll")
        );
        assert_eq!(credit.state, TransactionState::Confirmed);
        assert_eq!(
            (credit.value_at, credit.recorded_at),
            (START, START + Duration::minutes(5))
        );

        let funded = h.sandbox.get_account(&account.id_bo).await.unwrap();
        assert_eq!(
            (funded.ledger, funded.available),
            (usd(10_000), usd(10_000))
        );
        assert_eq!(funded.updated_at, START + Duration::minutes(5));

        let card = h.card(&account, false).await;
        assert!(card.id_bo.as_str().starts_with("cd_"));
        assert_eq!(
            (card.account_id_bo.clone(), card.customer_id_bo.clone()),
            (account.id_bo.clone(), customer.clone())
        );
        assert_eq!(card.currency, Currency::USD);
        assert!(card.enabled && !card.activated && !card.closed);
        assert_eq!((card.expiry.year, card.expiry.month), (2027, 1));
        let activated = h.sandbox.activate_card(&card.id_bo).await.unwrap();
        assert!(activated.activated);
        assert_eq!(activated.activated_at, Some(START + Duration::minutes(5)));
        assert_eq!(
            h.sandbox.list_cards(&customer).await.unwrap(),
            vec![activated]
        );

        let statement = TransactionQuery::Latest {
            limit: 10,
            since: START - Duration::days(1),
        };
        assert_eq!(
            h.sandbox
                .list_transactions(&account.id_bo, &statement)
                .await
                .unwrap(),
            vec![credit]
        );
        h.assert_ledger_clean().await;
    }
}

#[tokio::test]
async fn accounts_list_in_opening_order_and_rename() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let customer = h.customer().await;
        let first = h.account(&customer, Currency::USD).await;
        // Same millisecond: the order must still be the opening order.
        let second = h.account(&customer, Currency::EUR).await;
        h.clock.advance(Duration::seconds(1));
        let third = h.account(&customer, Currency::USD).await;
        let ids: Vec<BoRef> = h
            .sandbox
            .list_accounts(&customer)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id_bo)
            .collect();
        assert_eq!(ids, vec![first.id_bo.clone(), second.id_bo, third.id_bo]);

        h.clock.advance(Duration::seconds(1));
        let renamed = h
            .sandbox
            .rename_account(&first.id_bo, "Rainy day")
            .await
            .unwrap();
        assert_eq!(renamed.name, "Rainy day");
        assert_eq!(renamed.updated_at, START + Duration::seconds(2));
        assert_eq!(h.sandbox.get_account(&first.id_bo).await.unwrap(), renamed);

        let other = h.customer().await;
        assert!(h.sandbox.list_accounts(&other).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let nobody = BoRef("cus_nobody".into());
        let nothing = BoRef("acc_nothing".into());
        let no_card = BoRef("cd_none".into());
        assert_eq!(
            h.sandbox.get_account(&nothing).await,
            Err(BackOfficeError::NotFound("account"))
        );
        assert_eq!(
            h.sandbox.rename_account(&nothing, "x").await,
            Err(BackOfficeError::NotFound("account"))
        );
        assert_eq!(
            h.sandbox.list_accounts(&nobody).await,
            Err(BackOfficeError::NotFound("customer"))
        );
        assert_eq!(
            h.sandbox.list_cards(&nobody).await,
            Err(BackOfficeError::NotFound("customer"))
        );
        let deposit = Deposit {
            amount: usd(1),
            narrative: "x".into(),
            value_at: START,
        };
        assert_eq!(
            h.sandbox.deposit(&nothing, &deposit, &key()).await,
            Err(BackOfficeError::NotFound("account"))
        );
        assert_eq!(
            h.sandbox.get_card(&no_card).await,
            Err(BackOfficeError::NotFound("card"))
        );
        assert_eq!(
            h.sandbox.activate_card(&no_card).await,
            Err(BackOfficeError::NotFound("card"))
        );
        assert_eq!(
            h.sandbox.set_card_enabled(&no_card, false).await,
            Err(BackOfficeError::NotFound("card"))
        );
        // Internal ledger accounts exist but are not customer accounts.
        let (account, _) = h.funded_card(100).await;
        assert_eq!(
            h.sandbox
                .get_account(&BoRef("int_funding_usd".into()))
                .await,
            Err(BackOfficeError::NotFound("account"))
        );
        assert!(h.sandbox.get_account(&account.id_bo).await.is_ok());
        assert_eq!(h.sandbox.health().await, Ok(()));
    }
}

#[tokio::test]
async fn deposits_are_validated() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, _) = h.funded_card(0).await;
        for (amount, code) in [(usd(0), "INVALID_AMOUNT"), (usd(-5), "INVALID_AMOUNT")] {
            let deposit = Deposit {
                amount,
                narrative: "x".into(),
                value_at: START,
            };
            let refused = h.sandbox.deposit(&account.id_bo, &deposit, &key()).await;
            assert!(
                matches!(refused, Err(BackOfficeError::Rejected { code: c, .. }) if c == code),
                "{refused:?}"
            );
        }
        let euros = Deposit {
            amount: bankgate_domain::Money::new(100, Currency::EUR),
            narrative: "x".into(),
            value_at: START,
        };
        let refused = h.sandbox.deposit(&account.id_bo, &euros, &key()).await;
        assert!(
            matches!(
                refused,
                Err(BackOfficeError::Rejected {
                    code: "CURRENCY_MISMATCH",
                    ..
                })
            ),
            "{refused:?}"
        );
        assert_eq!(h.balance(&account).await, 0);
        h.assert_ledger_clean().await;
    }
}

#[tokio::test]
async fn a_customers_account_list_shows_every_write_made_since_it_was_last_read() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, card) = h.funded_card(10_000).await;
        let customer = account.customer_id_bo.clone();
        let listed = |h: &Harness| {
            let sandbox = h.sandbox.clone();
            let customer = customer.clone();
            async move { sandbox.list_accounts(&customer).await.unwrap() }
        };
        assert_eq!(listed(&h).await[0].available.minor, 10_000);
        // Read twice with nothing written between: the same answer.
        assert_eq!(listed(&h).await, listed(&h).await);

        h.deposit(&account, 500).await;
        assert_eq!(listed(&h).await[0].available.minor, 10_500);

        h.authorize(&purchase(&card, usd(2_000))).await.unwrap();
        assert_eq!(listed(&h).await[0].available.minor, 8_500);

        h.sandbox
            .rename_account(&account.id_bo, "Groceries")
            .await
            .unwrap();
        assert_eq!(listed(&h).await[0].name, "Groceries");

        let second = h.account(&customer, Currency::EUR).await;
        let ids: Vec<BoRef> = listed(&h).await.into_iter().map(|a| a.id_bo).collect();
        assert_eq!(ids, vec![account.id_bo.clone(), second.id_bo]);
    }
}
