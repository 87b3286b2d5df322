//! The change feed: every posting on a customer account, a rename, and every card issued or changed is
//! reported, in order, naming the customer; a refused operation (a declined purchase) reports nothing.

use crate::common::{purchase_at, usd, Harness, START};
use bankgate_backoffice::{AuthorizationOutcome, BoChange, CardsApi, ChangedObject, ChangesApi};
use bankgate_db::testing::test_engines;
use time::PrimitiveDateTime;

async fn feed(h: &Harness, after: i64) -> Vec<BoChange> {
    h.sandbox.changes_since(after, 100).await.unwrap()
}

#[tokio::test]
async fn postings_and_card_changes_are_reported_in_order() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, card) = h.funded_card(10_000).await;
        let customer = account.customer_id_bo.clone();
        let start = feed(&h, 0).await;
        let opened: Vec<&ChangedObject> = start.iter().map(|c| &c.object).collect();
        assert_eq!(
            opened,
            [
                &ChangedObject::Account(account.id_bo.clone()),
                &ChangedObject::Card(card.id_bo.clone())
            ],
            "the opening deposit, then the card's issue"
        );
        assert!(start.iter().all(|c| c.customer_id_bo == customer));
        let after = start[1].seq;

        let noon = PrimitiveDateTime::new(START.date(), START.time());
        let approved = h
            .authorize(&purchase_at(&card, usd(25), noon))
            .await
            .unwrap();
        assert!(matches!(approved, AuthorizationOutcome::Approved { .. }));
        let declined = h
            .authorize(&purchase_at(&card, usd(20_000), noon))
            .await
            .unwrap();
        assert!(matches!(declined, AuthorizationOutcome::Declined { .. }));
        h.sandbox
            .set_card_enabled(&card.id_bo, false)
            .await
            .unwrap();

        let next = feed(&h, after).await;
        let objects: Vec<&ChangedObject> = next.iter().map(|c| &c.object).collect();
        assert_eq!(
            objects,
            [
                &ChangedObject::Account(account.id_bo.clone()),
                &ChangedObject::Card(card.id_bo.clone())
            ],
            "the purchase, then the switch; the decline reports nothing"
        );
        assert!(next.windows(2).all(|w| w[0].seq < w[1].seq));
        assert!(next.iter().all(|c| c.customer_id_bo == customer));
        assert!(feed(&h, next[1].seq).await.is_empty());
    }
}
