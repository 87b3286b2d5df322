//! Following back offices (one node at a time, by lease; the position only moves forward, and only for
//! the lease holder) and alert settings (whole catalogue, changes evented once), on every engine.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use bankgate_domain::alerts::AlertType;
use bankgate_domain::ids::{BackOfficeId, BoRef};
use bankgate_store::*;
use time::Duration;

mod common;
use common::*;

#[tokio::test]
async fn one_node_at_a_time_follows_a_back_office_and_its_position_only_advances() {
    with_each_store(|store| async move {
        let office = BackOfficeId::from_trusted("sandbox-a".into());
        let until = T0 + Duration::seconds(60);
        let first = store
            .lease_feed(&office, "node-a", T0, until)
            .await
            .unwrap();
        assert_eq!(first.map(|p| p.last_seq), Some(0));
        assert!(store
            .lease_feed(&office, "node-b", T0, until)
            .await
            .unwrap()
            .is_none());
        assert!(store.advance_feed(&office, "node-a", 7, T0).await.unwrap());
        let not_its_lease = store.advance_feed(&office, "node-b", 9, T0).await.unwrap();
        assert!(!not_its_lease);
        let backwards = store.advance_feed(&office, "node-a", 5, T0).await.unwrap();
        assert!(!backwards);
        let lapsed = until + Duration::seconds(1);
        let after_lapse = store
            .advance_feed(&office, "node-a", 8, lapsed)
            .await
            .unwrap();
        assert!(!after_lapse, "a lapsed lease saves nothing");

        // node-a's lease runs out: node-b takes over where node-a got to, and node-a is out.
        let later = until + Duration::seconds(1);
        let taken = store
            .lease_feed(&office, "node-b", later, later + Duration::seconds(60))
            .await
            .unwrap();
        assert_eq!(taken.map(|p| p.last_seq), Some(7));
        assert!(!store
            .advance_feed(&office, "node-a", 8, later)
            .await
            .unwrap());
        store
            .feed_refreshed(&office, "node-b", later)
            .await
            .unwrap();
        let again = store
            .lease_feed(&office, "node-b", later, later)
            .await
            .unwrap();
        assert_eq!(again.and_then(|p| p.refreshed_at), Some(later));

        // Customers map back to their users.
        let dana = user(&store, "dana").await;
        store
            .link_back_office(&dana, &office, &BoRef("cus_9".into()), T0)
            .await
            .unwrap();
        let found = store
            .user_of_customer(&office, &BoRef("cus_9".into()))
            .await
            .unwrap();
        assert_eq!(found, Some(dana.clone()));
        assert_eq!(
            store.customers_of(&office, None, 10).await.unwrap(),
            vec![dana.clone()]
        );
        assert!(store
            .customers_of(&office, Some(&dana), 10)
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn alert_settings_cover_the_catalogue_and_only_real_changes_are_evented() {
    with_each_store(|store| async move {
        let dana = user(&store, "dana").await;
        let settings = store.alert_settings(&dana).await.unwrap();
        assert_eq!(settings.len(), AlertType::ALL.len());
        assert!(settings
            .iter()
            .all(|s| !s.is_enabled && s.updated_at.is_none()));

        let parameters = serde_json::json!({ "minAmount": "10" });
        let turn_on = AlertSettingChange {
            alert: AlertType::Credit,
            is_enabled: Some(true),
            parameters: None,
        };
        let set_minimum = AlertSettingChange {
            alert: AlertType::Credit,
            is_enabled: None,
            parameters: Some(parameters.clone()),
        };
        // Two changes of different fields, as two requests: both stand, one event each.
        store
            .change_alert_settings(&dana, std::slice::from_ref(&turn_on), T0)
            .await
            .unwrap();
        let after = store
            .change_alert_settings(&dana, &[set_minimum], T0)
            .await
            .unwrap();
        let credit = AlertSetting {
            alert: AlertType::Credit,
            is_enabled: true,
            parameters,
            updated_at: Some(T0),
        };
        assert_eq!(after[0], credit);
        let after_both = store.last_event(&dana).await.unwrap();
        assert_eq!(after_both, 2);
        // The same change again changes nothing and adds no event.
        store
            .change_alert_settings(&dana, &[turn_on], T0)
            .await
            .unwrap();
        assert_eq!(store.last_event(&dana).await.unwrap(), after_both);
        let events = store.events_after(&dana, 0, 10).await.unwrap();
        assert_eq!(events[0].kind, Some(EventKind::Alerts));
        assert_eq!(events[0].subject, "alert1");

        let saved = store.alert_settings(&dana).await.unwrap();
        assert_eq!(saved[0], credit);
    })
    .await;
}
