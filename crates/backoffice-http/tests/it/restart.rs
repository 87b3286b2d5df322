//! The server keeps its state in its store: a new server on the same database carries on.

use crate::common::{all_lines, key, Remote};
use bankgate_backoffice::{AccountsApi, CardsApi, IssueCard};
use bankgate_db::testing::test_engines;
use bankgate_domain::Currency;

#[tokio::test]
async fn a_restarted_server_keeps_everything() {
    for engine in test_engines() {
        let mut r = Remote::start(engine).await;
        let account = r.funded(Currency::USD, 4_200).await;
        let request = IssueCard {
            name_on_card: "ADA LOVELACE".into(),
            type_id: "debit".into(),
            activated: true,
        };
        let card_key = key();
        let card = r
            .client
            .issue_card(&account.id_bo, &request, &card_key)
            .await
            .unwrap();
        let lines = r
            .client
            .list_transactions(&account.id_bo, &all_lines())
            .await
            .unwrap();
        let old_url = r.url("");

        r.restart().await;
        assert_ne!(r.url(""), old_url, "a new server, on a new port");
        let customer = &account.customer_id_bo;
        assert_eq!(
            r.client
                .get_account(&account.id_bo)
                .await
                .unwrap()
                .available
                .minor,
            4_200
        );
        assert_eq!(r.client.list_accounts(customer).await.unwrap().len(), 1);
        assert_eq!(
            r.client.list_cards(customer).await.unwrap(),
            vec![card.clone()]
        );
        assert_eq!(
            r.client
                .list_transactions(&account.id_bo, &all_lines())
                .await
                .unwrap(),
            lines
        );
        // Its idempotency records too: the same key still names the same card.
        let again = r
            .client
            .issue_card(&account.id_bo, &request, &card_key)
            .await
            .unwrap();
        assert_eq!(again, card);
        assert!(r.client.ledger_report().await.unwrap().is_clean());
    }
}
