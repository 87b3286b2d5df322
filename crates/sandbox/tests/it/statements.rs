//! Listing an account's transactions: newest first, by count and since a time, or by UTC days.

use crate::common::{key, usd, Harness, START};
use bankgate_backoffice::{AccountsApi, BackOfficeError, BoAccount, Deposit, TransactionQuery};
use bankgate_db::testing::test_engines;
use bankgate_domain::ids::BoRef;
use time::macros::{date, datetime};
use time::OffsetDateTime;

async fn deposit_valued(h: &Harness, account: &BoAccount, minor: i64, value_at: OffsetDateTime) {
    let deposit = Deposit {
        amount: usd(minor),
        narrative: format!("deposit {minor}"),
        value_at,
    };
    h.sandbox
        .deposit(&account.id_bo, &deposit, &key())
        .await
        .unwrap();
}

async fn amounts(h: &Harness, account: &BoAccount, query: TransactionQuery) -> Vec<i64> {
    let lines = h
        .sandbox
        .list_transactions(&account.id_bo, &query)
        .await
        .unwrap();
    lines.into_iter().map(|t| t.amount.minor).collect()
}

#[tokio::test]
async fn latest_and_ranges_are_newest_first() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, _) = h.funded_card(0).await;
        // Recorded out of value order, and two with the same value time.
        deposit_valued(&h, &account, 2, datetime!(2024-01-02 23:59:59.999 UTC)).await;
        deposit_valued(&h, &account, 1, datetime!(2024-01-01 00:00 UTC)).await;
        deposit_valued(&h, &account, 4, datetime!(2024-01-03 10:00 UTC)).await;
        deposit_valued(&h, &account, 3, datetime!(2024-01-03 00:00 UTC)).await;
        deposit_valued(&h, &account, 5, datetime!(2024-01-03 10:00 UTC)).await;

        let all = TransactionQuery::Latest {
            limit: 100,
            since: datetime!(2023-01-01 00:00 UTC),
        };
        assert_eq!(
            amounts(&h, &account, all).await,
            vec![5, 4, 3, 2, 1],
            "same value time: newest recorded first"
        );
        let two = TransactionQuery::Latest {
            limit: 2,
            since: datetime!(2023-01-01 00:00 UTC),
        };
        assert_eq!(amounts(&h, &account, two).await, vec![5, 4]);
        let since = TransactionQuery::Latest {
            limit: 100,
            since: datetime!(2024-01-02 23:59:59.999 UTC),
        };
        assert_eq!(
            amounts(&h, &account, since).await,
            vec![5, 4, 3, 2],
            "since is inclusive"
        );
        let none = TransactionQuery::Latest {
            limit: 0,
            since: START,
        };
        assert!(amounts(&h, &account, none).await.is_empty());

        let jan_2 = TransactionQuery::Range {
            from: date!(2024 - 01 - 02),
            to: date!(2024 - 01 - 02),
        };
        assert_eq!(
            amounts(&h, &account, jan_2).await,
            vec![2],
            "a whole UTC day, both ends inclusive"
        );
        let jan_1_to_3 = TransactionQuery::Range {
            from: date!(2024 - 01 - 01),
            to: date!(2024 - 01 - 03),
        };
        assert_eq!(amounts(&h, &account, jan_1_to_3).await, vec![5, 4, 3, 2, 1]);
        let jan_3_on = TransactionQuery::Range {
            from: date!(2024 - 01 - 03),
            to: date!(2024 - 12 - 31),
        };
        assert_eq!(amounts(&h, &account, jan_3_on).await, vec![5, 4, 3]);
        let backwards = TransactionQuery::Range {
            from: date!(2024 - 01 - 03),
            to: date!(2024 - 01 - 01),
        };
        assert!(amounts(&h, &account, backwards).await.is_empty());

        // Another account's lines never show.
        let other = h
            .account(&account.customer_id_bo, bankgate_domain::Currency::USD)
            .await;
        assert!(amounts(&h, &other, all).await.is_empty());
        let missing = h
            .sandbox
            .list_transactions(&BoRef("acc_none".into()), &all)
            .await;
        assert_eq!(missing, Err(BackOfficeError::NotFound("account")));
    }
}
