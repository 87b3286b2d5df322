//! The store's contract, run against every engine available: SQLite always, PostgreSQL when
//! BANKGATE_TEST_POSTGRES_URL is set. Each test gets a database of its own.
// Helpers outside #[test] functions panic on setup failures too; that is what a test wants.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use bankgate_domain::ids::{BoRef, DeviceId, UserId};
use bankgate_domain::user::UserProfile;
use bankgate_store::*;
use time::Duration;

mod common;
use common::*;

#[tokio::test]
async fn users_are_unique_by_name_and_keep_their_profile() {
    with_each_store(|store| async move {
        let id = user(&store, "dana").await;
        let again = NewUser {
            id: UserId::generate(),
            user_name: "dana".into(),
            password_hash: "x".into(),
            profile: UserProfile::default(),
            created_at: T0,
        };
        assert!(matches!(
            store.create_user(&again).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            store.find_credentials("dana").await.unwrap(),
            Some((id.clone(), "hash".to_owned()))
        );
        assert_eq!(store.find_credentials("nobody").await.unwrap(), None);
        let profile = UserProfile {
            language_code: "fr".into(),
            ..UserProfile::default()
        };
        let updated = store
            .update_profile(&id, &profile, T0 + Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!(updated.profile.language_code, "fr");
        assert_eq!(updated.modified_at, T0 + Duration::minutes(1));
        assert_eq!(store.user_count().await.unwrap(), 1);

        store
            .link_back_office(&id, &office("b"), &BoRef("cus_b".into()), T0)
            .await
            .unwrap();
        store
            .link_back_office(&id, &office("a"), &BoRef("cus_a".into()), T0)
            .await
            .unwrap();
        let links = store.back_office_links(&id).await.unwrap();
        assert_eq!(
            links
                .iter()
                .map(|l| l.back_office_id.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
    })
    .await;
}

#[tokio::test]
async fn sessions_live_until_revoked_and_barring_a_device_ends_them() {
    with_each_store(|store| async move {
        let id = user(&store, "dana").await;
        let login = DeviceLogin {
            user_id: &id,
            channel: "internet",
            device_key: "phone",
            platform: Some("ios"),
            at: T0,
        };
        let device = store.record_device_login(&login).await.unwrap();
        let same = store
            .record_device_login(&DeviceLogin {
                at: T0 + Duration::hours(1),
                ..login.clone()
            })
            .await
            .unwrap();
        assert_eq!(device.id, same.id, "the same device key is the same device");
        assert!(same.is_active);

        let session = SessionRecord {
            token_hash: "h1".into(),
            user_id: id.clone(),
            device_id: device.id.clone(),
            created_at: T0,
            last_seen_at: T0,
            expires_at: T0 + Duration::hours(12),
            revoked_at: None,
        };
        store.create_session(&session).await.unwrap();
        store
            .touch_session("h1", T0 + Duration::minutes(5))
            .await
            .unwrap();
        let found = store.find_session("h1").await.unwrap().unwrap();
        assert_eq!(found.last_seen_at, T0 + Duration::minutes(5));
        let devices = store.list_devices(&id).await.unwrap();
        assert_eq!(
            devices[0].session_expires_at,
            Some(T0 + Duration::hours(12))
        );

        let other = user(&store, "sam").await;
        assert!(
            !store
                .set_device_active(&other, &device.id, false, T0)
                .await
                .unwrap(),
            "not sam's device"
        );
        assert!(store
            .set_device_active(&id, &device.id, false, T0)
            .await
            .unwrap());
        assert!(store
            .find_session("h1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some());
        assert!(!store.list_devices(&id).await.unwrap()[0].is_active);
        assert!(!store
            .set_device_active(&id, &DeviceId::generate(), true, T0)
            .await
            .unwrap());
    })
    .await;
}

#[tokio::test]
async fn login_failures_count_within_the_window() {
    with_each_store(|store| async move {
        for minute in 0..3 {
            store
                .record_login_failure(
                    &["user:dana", "addr:1.2.3.4"],
                    T0 + Duration::minutes(minute),
                )
                .await
                .unwrap();
        }
        let (count, oldest) = store
            .login_failures_since("user:dana", T0 + Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!((count, oldest), (2, Some(T0 + Duration::minutes(1))));
        store.clear_login_failures("user:dana", T0).await.unwrap();
        assert_eq!(
            store.login_failures_since("user:dana", T0).await.unwrap().0,
            0
        );
        assert_eq!(
            store
                .login_failures_since("addr:1.2.3.4", T0)
                .await
                .unwrap()
                .0,
            3
        );
    })
    .await;
}

#[tokio::test]
async fn accounts_keep_their_id_and_preferences_across_refreshes() {
    with_each_store(|store| async move {
        let dana = user(&store, "dana").await;
        let a = office("sandbox-a");
        let first = store
            .record_accounts(
                &dana,
                &a,
                &[bo_account("acc_1", 100), bo_account("acc_2", 5)],
                T0,
            )
            .await
            .unwrap();
        let again = store
            .record_accounts(
                &dana,
                &a,
                &[bo_account("acc_1", 250)],
                T0 + Duration::seconds(1),
            )
            .await
            .unwrap();
        assert_eq!(
            first[0].id, again[0].id,
            "a back-office account keeps its bankgate id"
        );
        let stored = store
            .get_account(&dana, &first[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.account.ledger.minor, 250,
            "a changed copy is written at once"
        );

        let prefs = AccountPrefs {
            is_main: true,
            is_hidden: false,
        };
        assert!(store
            .set_account_prefs(&dana, &first[0].id, &prefs, T0)
            .await
            .unwrap());
        assert!(store
            .set_account_prefs(&dana, &first[1].id, &prefs, T0)
            .await
            .unwrap());
        let all = store.list_accounts(&dana).await.unwrap();
        assert_eq!(
            all.iter().filter(|a| a.prefs.is_main).count(),
            1,
            "one main account"
        );
        let refreshed = store
            .record_accounts(
                &dana,
                &a,
                &[bo_account("acc_2", 5)],
                T0 + Duration::minutes(1),
            )
            .await
            .unwrap();
        assert!(refreshed[0].prefs.is_main, "preferences survive a refresh");
        assert_eq!(
            store
                .account_id_for(&a, &BoRef("acc_2".into()))
                .await
                .unwrap(),
            Some(first[1].id.clone())
        );

        let sam = user(&store, "sam").await;
        assert!(store
            .get_account(&sam, &first[0].id)
            .await
            .unwrap()
            .is_none());
        assert!(!store
            .set_account_prefs(&sam, &first[0].id, &prefs, T0)
            .await
            .unwrap());
    })
    .await;
}

#[tokio::test]
async fn unchanged_copies_are_not_rewritten_until_they_age() {
    with_each_store(|store| async move {
        let dana = user(&store, "dana").await;
        let a = office("sandbox-a");
        let first = store
            .record_accounts(&dana, &a, &[bo_account("acc_1", 100)], T0)
            .await
            .unwrap();
        store
            .record_accounts(
                &dana,
                &a,
                &[bo_account("acc_1", 100)],
                T0 + Duration::seconds(1),
            )
            .await
            .unwrap();
        let kept = store
            .get_account(&dana, &first[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            kept.refreshed_at, T0,
            "a recent unchanged copy is left alone"
        );
        let later = T0 + Duration::milliseconds(REFRESH_REWRITE_MS + 1);
        store
            .record_accounts(&dana, &a, &[bo_account("acc_1", 100)], later)
            .await
            .unwrap();
        assert_eq!(
            store
                .get_account(&dana, &first[0].id)
                .await
                .unwrap()
                .unwrap()
                .refreshed_at,
            later
        );
    })
    .await;
}

#[tokio::test]
async fn cards_and_transactions_are_recorded_with_their_account() {
    with_each_store(|store| async move {
        let (dana, account) = user_with_account(&store, "dana").await;
        let a = office("sandbox-a");
        let cards = store
            .record_cards(
                &dana,
                &a,
                &[(bo_card("cd_1", "acc_dana"), account.id.clone())],
                T0,
            )
            .await
            .unwrap();
        assert_eq!(cards[0].account_id, account.id);
        assert_eq!(
            store
                .find_card(&cards[0].id)
                .await
                .unwrap()
                .unwrap()
                .card
                .number_masked
                .as_str(),
            "4000********7899"
        );
        let prefs = CardPrefs {
            name: Some("Groceries".into()),
            is_main: true,
        };
        assert!(store
            .set_card_prefs(&dana, &cards[0].id, &prefs, T0)
            .await
            .unwrap());
        assert_eq!(store.list_cards(&dana).await.unwrap()[0].prefs, prefs);

        let days = [
            T0 - Duration::days(3),
            T0 - Duration::days(2),
            T0 - Duration::days(1),
        ];
        let txns: Vec<_> = days
            .iter()
            .enumerate()
            .map(|(i, d)| bo_transaction(&format!("tx_{i}"), "acc_dana", -100, *d))
            .collect();
        let recorded = store
            .record_transactions(&dana, &account.id, &a, &txns, T0)
            .await
            .unwrap();
        let notes = TransactionAnnotations {
            comment: Some("lunch".into()),
            labels: vec!["food".into()],
        };
        assert!(store
            .set_transaction_annotations(&dana, &recorded[1].id, &notes, T0)
            .await
            .unwrap());
        let again = store
            .record_transactions(&dana, &account.id, &a, &txns, T0 + Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!(again[1].annotations, notes, "annotations survive a refresh");

        let range = store
            .list_stored_transactions(&dana, &account.id, days[1], T0, 10)
            .await
            .unwrap();
        assert_eq!(
            range
                .iter()
                .map(|t| t.transaction.id_bo.0.as_str())
                .collect::<Vec<_>>(),
            ["tx_2", "tx_1"]
        );
        let sam = user(&store, "sam").await;
        assert!(store
            .get_transaction(&sam, &account.id, &recorded[0].id)
            .await
            .unwrap()
            .is_none());
        assert!(store
            .get_transaction(&dana, &account.id, &recorded[0].id)
            .await
            .unwrap()
            .is_some());
    })
    .await;
}
