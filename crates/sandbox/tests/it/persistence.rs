//! The sandbox is a real store: closing it and opening the same SQLite file again shows the same state,
//! and the migrations run again harmlessly.

use crate::common::{open_sandbox, purchase, usd, Harness, START};
use bankgate_backoffice::{AccountsApi, CardsApi, TransactionQuery};
use bankgate_db::Engine;
use time::Duration;

#[tokio::test]
async fn state_survives_reopening_the_database() {
    let h = Harness::new(Engine::Sqlite).await;
    let (account, card) = h.funded_card(3_000).await;
    h.authorize(&purchase(&card, usd(1_000))).await.unwrap();
    let all = TransactionQuery::Latest {
        limit: 100,
        since: START - Duration::days(1),
    };
    let before_account = h.sandbox.get_account(&account.id_bo).await.unwrap();
    let before_cards = h.sandbox.list_cards(&account.customer_id_bo).await.unwrap();
    let before_lines = h
        .sandbox
        .list_transactions(&account.id_bo, &all)
        .await
        .unwrap();
    let before_report = h.sandbox.ledger_report().await.unwrap();

    let url = h.database.url.clone();
    drop(h.sandbox);
    let reopened = open_sandbox(&url, &h.clock).await;
    assert_eq!(
        reopened.get_account(&account.id_bo).await.unwrap(),
        before_account
    );
    assert_eq!(before_account.available, usd(2_000));
    assert_eq!(
        reopened.list_cards(&account.customer_id_bo).await.unwrap(),
        before_cards
    );
    assert_eq!(
        reopened
            .list_transactions(&account.id_bo, &all)
            .await
            .unwrap(),
        before_lines
    );
    assert_eq!(reopened.ledger_report().await.unwrap(), before_report);
    assert!(before_report.is_clean());
}
